package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// PostfixConfig configures the mail metrics.
type PostfixConfig struct {
	// TenantDomains are the sender domains that get their own
	// sender_domain label value; every other domain is "other". A sender
	// matches a tenant domain case-insensitively, and so does a sender in
	// one of its subdomains (bounce.example.com counts as example.com); the
	// most specific listed domain wins.
	TenantDomains []string
	// MaxServices caps the distinct service (syslog_name) label values;
	// events of further services count under "other". 0 means 16. Services
	// come from configuration (postfix, postfix/submission, postfix-out,
	// dovecot, ...), but every line names its own, so a foreign or hostile
	// log must not be able to create series at will.
	MaxServices int
}

// DefaultMaxServices is PostfixConfig.MaxServices when zero.
const DefaultMaxServices = 16

// Histogram buckets. Delays run from a local delivery (well under a second)
// to a message deferred for two days; sizes from a one-line notification
// to the largest message_size_limit anyone sets.
var (
	delayBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
		3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400}
	sizeBuckets = prometheus.ExponentialBuckets(1024, 4, 9) // 1 KiB … 64 MiB
)

// Postfix holds the mail metrics: what Prometheus sees of connections,
// authentication, rejects, messages, deliveries, TLS, postscreen and policy
// checks. Label values come from closed sets only.
//
// Observe is not safe for concurrent use (ingest calls it from its one
// goroutine, after the correlator); scrapes may run concurrently with it.
type Postfix struct {
	connects, disconnects, lost         *prometheus.CounterVec
	authFailures, logins, rejects       *prometheus.CounterVec
	received, deliveries, tls, verdicts *prometheus.CounterVec
	policy                              *prometheus.CounterVec
	delay, size                         *prometheus.HistogramVec

	tenantIdx   map[string]int // normalised domain → index into tenantNames
	tenantNames []string       // the tenants, then "other"

	services    map[string]*service
	maxServices int
	other       *service

	// policyC is indexed [check][result]; the label set has no service.
	policyC [len(checkNames) * len(resultNames)]prometheus.Counter
}

// service holds one service's series, resolved from the vectors on first
// use so that Observe does no label hashing and no allocation once warm,
// and so that only series that occurred are exported.
type service struct {
	name                  string
	connects, disconnects prometheus.Counter
	lost                  [len(afterNames)]prometheus.Counter
	authFailures, logins  [len(authProgramNames) * len(methodNames)]prometheus.Counter
	rejects               [len(stageNames) * len(classNames)]prometheus.Counter
	tls                   [len(directionNames) * len(protocolNames) * len(trustNames)]prometheus.Counter
	verdicts              [len(verdictNames)]prometheus.Counter
	delay                 [len(transportNames) * len(delayStageNames)]prometheus.Observer
	size                  prometheus.Observer
	received              []prometheus.Counter // [origin][sender domain]
	deliveries            []prometheus.Counter // [transport][status][sender domain]
}

// NewPostfix registers the mail metrics with reg.
func NewPostfix(reg prometheus.Registerer, cfg PostfixConfig) *Postfix {
	m := &Postfix{
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_smtpd_connects_total", Help: "Connections smtpd accepted (postscreen's CONNECT lines are not counted).",
		}, []string{"service"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_smtpd_disconnects_total", Help: "smtpd sessions that ended with a disconnect line.",
		}, []string{"service"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_smtpd_lost_connections_total", Help: "smtpd sessions lost or timed out, by the SMTP command after which they ended.",
		}, []string{"service", "after"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_auth_failures_total", Help: "Failed authentication attempts taken by smtpd (SASL) and Dovecot's login processes; back-end verdicts are not counted.",
		}, []string{"service", "program", "method"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_logins_total", Help: "Successful logins: SASL-authenticated submissions and IMAP/POP logins.",
		}, []string{"service", "program", "method"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_rejects_total", Help: "Mail refused by smtpd restrictions, postscreen and milters, by stage and reply class.",
		}, []string{"service", "stage", "class"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_messages_received_total", Help: "Messages that reached the queue manager, by how they entered Postfix.",
		}, []string{"service", "origin", "sender_domain"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_deliveries_total", Help: "Delivery attempts per recipient, by transport and status (expired: returned to sender by the queue manager).",
		}, []string{"service", "transport", "status", "sender_domain"}),
		delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "postfix_delivery_delay_seconds", Help: "Delivery delays, by Postfix's delays= stage (total is delay=).",
			Buckets: delayBuckets,
		}, []string{"service", "transport", "stage"}),
		size: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "postfix_message_size_bytes", Help: "Sizes of received messages.", Buckets: sizeBuckets,
		}, []string{"service"}),
		tls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_tls_connections_total", Help: "TLS sessions established, inbound (smtpd, postscreen, Dovecot) and outbound (smtp, lmtp).",
		}, []string{"service", "direction", "protocol", "trust"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_postscreen_verdicts_total", Help: "postscreen verdicts as Postfix writes them (CONNECT and DISCONNECT are not verdicts).",
		}, []string{"service", "verdict"}),
		policy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postfix_policy_results_total", Help: "DKIM, SPF and DMARC verdicts.",
		}, []string{"check", "result"}),
		tenantIdx:   map[string]int{},
		services:    map[string]*service{},
		maxServices: cfg.MaxServices,
	}
	if m.maxServices <= 0 {
		m.maxServices = DefaultMaxServices
	}
	for _, d := range cfg.TenantDomains {
		d = normalizeDomain(d)
		if d == "" {
			continue
		}
		if _, dup := m.tenantIdx[d]; !dup {
			m.tenantIdx[d] = len(m.tenantNames)
			m.tenantNames = append(m.tenantNames, d)
		}
	}
	m.tenantNames = append(m.tenantNames, "other")
	m.other = m.newService("other")
	reg.MustRegister(m.connects, m.disconnects, m.lost, m.authFailures, m.logins, m.rejects, m.received,
		m.deliveries, m.delay, m.size, m.tls, m.verdicts, m.policy)
	return m
}

// normalizeDomain turns a configured tenant domain into the form senders
// are compared in: lower case, without "@", a leading "." or a trailing
// root dot.
func normalizeDomain(d string) string {
	d = strings.TrimSpace(d)
	d = strings.TrimPrefix(d, "@")
	d = strings.TrimPrefix(d, ".")
	d = strings.TrimSuffix(d, ".")
	return strings.ToLower(d)
}

func (m *Postfix) newService(name string) *service {
	nt := len(m.tenantNames)
	return &service{
		name:       name,
		received:   make([]prometheus.Counter, len(originNames)*nt),
		deliveries: make([]prometheus.Counter, len(transportNames)*len(statusNames)*nt),
	}
}

// service returns the series of a syslog_name, or those of "other" once the
// cap is reached. Event strings may point into a reused read buffer, so a
// name is copied before it is kept.
func (m *Postfix) service(name string) *service {
	if s, ok := m.services[name]; ok {
		return s
	}
	if len(m.services) >= m.maxServices || !validService(name) {
		return m.other
	}
	s := m.newService(strings.Clone(name))
	m.services[s.name] = s
	return s
}

// maxDomainLen is the longest domain name DNS allows.
const maxDomainLen = 253

// senderDomain returns the index into tenantNames for a sender address:
// its domain or the nearest parent domain that is a tenant, else other.
// The null sender (bounces) and senders the correlator could not fill are
// both empty and both other: the two cannot be told apart here, and
// notifications are visible as messages_received{origin="bounce"}.
func (m *Postfix) senderDomain(sender string) int {
	other := len(m.tenantNames) - 1
	if other == 0 {
		return 0
	}
	at := strings.LastIndexByte(sender, '@')
	if at < 0 {
		return other
	}
	d := strings.TrimSuffix(sender[at+1:], ".")
	if d == "" || len(d) > maxDomainLen {
		return other
	}
	var buf [maxDomainLen]byte
	for i := 0; i < len(d); i++ {
		c := d[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	b := buf[:len(d)]
	for {
		// The compiler turns m[string(b)] into a lookup without a copy.
		if i, ok := m.tenantIdx[string(b)]; ok {
			return i
		}
		dot := -1
		for i, c := range b {
			if c == '.' {
				dot = i
				break
			}
		}
		if dot < 0 {
			return other
		}
		b = b[dot+1:]
	}
}

// Observe counts one (correlated) event.
func (m *Postfix) Observe(e *event.Event, n correlate.Note) {
	if n.NewMessage {
		m.observeReceived(e)
	}
	// A repeat line stands for Weight() occurrences of its event.
	w := float64(e.Weight())
	switch e.Kind {
	case event.KindConnect:
		if e.Program == "smtpd" {
			s := m.service(e.Service)
			if s.connects == nil {
				s.connects = m.connects.WithLabelValues(s.name)
			}
			s.connects.Add(w)
		}
	case event.KindDisconnect:
		if e.Program == "smtpd" {
			s := m.service(e.Service)
			if s.disconnects == nil {
				s.disconnects = m.disconnects.WithLabelValues(s.name)
			}
			s.disconnects.Add(w)
		}
	case event.KindLostConnection:
		if e.Program == "smtpd" {
			s := m.service(e.Service)
			i := afterIndex(e.After)
			if s.lost[i] == nil {
				s.lost[i] = m.lost.WithLabelValues(s.name, afterNames[i])
			}
			s.lost[i].Add(w)
		}
	case event.KindAuthFailure:
		// smtp's failures are a relay refusing our own credentials, not
		// someone guessing ours. Back-end verdicts (auth_backend: Dovecot's
		// auth process, saslauthd, PAM) never reach here: the front end's
		// line counts the attempt, Dovecot's "auth failed, N attempts" N.
		if e.Program == "smtpd" || isDovecot(e) {
			s := m.service(e.Service)
			m.countAuth(s, &s.authFailures, m.authFailures, e, e.FailedAttempts())
		}
	case event.KindLogin:
		s := m.service(e.Service)
		m.countAuth(s, &s.logins, m.logins, e, e.Weight())
	case event.KindClient:
		if e.Program == "smtpd" && e.SASLUsername != "" {
			s := m.service(e.Service)
			m.countAuth(s, &s.logins, m.logins, e, e.Weight())
		}
	case event.KindReject:
		if isReject(e.Action) {
			s := m.service(e.Service)
			st, cl := stageIndex(e), classIndex(e.DSN, e.Response)
			i := st*len(classNames) + cl
			if s.rejects[i] == nil {
				s.rejects[i] = m.rejects.WithLabelValues(s.name, stageNames[st], classNames[cl])
			}
			s.rejects[i].Add(w)
		}
	case event.KindDelivery:
		st := statusIndex(e.Status)
		if st < 0 || st == statusExpired || e.Service == "dovecot" {
			// Dovecot's "saved mail to INBOX" is the far side of a
			// Postfix lmtp delivery already counted from Postfix's line.
			return
		}
		s := m.service(e.Service)
		tr := transportIndex(e.Program)
		m.countDelivery(s, tr, st, e.Sender, w)
		d := &e.Delays
		m.observeDelay(s, tr, 0, d.BeforeQmgr)
		m.observeDelay(s, tr, 1, d.InQmgr)
		m.observeDelay(s, tr, 2, d.ConnSetup)
		m.observeDelay(s, tr, 3, d.Transmission)
		m.observeDelay(s, tr, 4, e.Delay)
	case event.KindExpired:
		m.countDelivery(m.service(e.Service), transportOther, statusExpired, e.Sender, w)
	case event.KindTLS:
		s := m.service(e.Service)
		d, p, t := directionIndex(e), protocolIndex(e.TLSProtocol), trustIndex(e.TLSTrust)
		i := (d*len(protocolNames)+p)*len(trustNames) + t
		if s.tls[i] == nil {
			s.tls[i] = m.tls.WithLabelValues(s.name, directionNames[d], protocolNames[p], trustNames[t])
		}
		s.tls[i].Add(w)
	case event.KindPostscreen:
		v := verdictIndex(e.Verdict)
		if v < 0 {
			return
		}
		s := m.service(e.Service)
		if s.verdicts[v] == nil {
			s.verdicts[v] = m.verdicts.WithLabelValues(s.name, verdictNames[v])
		}
		s.verdicts[v].Add(w)
	case event.KindPolicy:
		c := checkIndex(e.Check)
		if c < 0 {
			return
		}
		r := resultIndex(e.Result)
		i := c*len(resultNames) + r
		if m.policyC[i] == nil {
			m.policyC[i] = m.policy.WithLabelValues(checkNames[c], resultNames[r])
		}
		m.policyC[i].Add(w)
	}
}

func (m *Postfix) countAuth(s *service, slots *[len(authProgramNames) * len(methodNames)]prometheus.Counter, vec *prometheus.CounterVec, e *event.Event, n int) {
	p, me := authProgramIndex(e.Program), methodIndex(e.SASLMethod)
	i := p*len(methodNames) + me
	if slots[i] == nil {
		slots[i] = vec.WithLabelValues(s.name, authProgramNames[p], methodNames[me])
	}
	slots[i].Add(float64(n))
}

func (m *Postfix) observeReceived(e *event.Event) {
	s := m.service(e.Service)
	o, d := originIndex(e.Origin), m.senderDomain(e.Sender)
	i := o*len(m.tenantNames) + d
	if s.received[i] == nil {
		s.received[i] = m.received.WithLabelValues(s.name, originNames[o], m.tenantNames[d])
	}
	s.received[i].Inc()
	if s.size == nil {
		s.size = m.size.WithLabelValues(s.name)
	}
	s.size.Observe(float64(e.Size))
}

func (m *Postfix) countDelivery(s *service, tr, st int, sender string, w float64) {
	d := m.senderDomain(sender)
	i := (tr*len(statusNames)+st)*len(m.tenantNames) + d
	if s.deliveries[i] == nil {
		s.deliveries[i] = m.deliveries.WithLabelValues(s.name, transportNames[tr], statusNames[st], m.tenantNames[d])
	}
	s.deliveries[i].Add(w)
}

func (m *Postfix) observeDelay(s *service, tr, stage int, v float64) {
	i := tr*len(delayStageNames) + stage
	if s.delay[i] == nil {
		s.delay[i] = m.delay.WithLabelValues(s.name, transportNames[tr], delayStageNames[stage])
	}
	s.delay[i].Observe(v)
}
