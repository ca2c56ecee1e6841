// Package policy answers the questions Postfix and Dovecot ask an outside
// service before they let a client in: Postfix's policy delegation
// protocol (check_policy_service, SMTPD_POLICY_README: name=value lines,
// an empty line ends a request, several requests per connection, an
// action=... answer) and Dovecot's authentication policy (auth-policy.c:
// an HTTP POST of a JSON object to ?command=allow before authentication
// and ?command=report after it, answered {"status":N,"msg":...}).
//
// The decisions come from a Decider (pkg/suspend). This package only
// speaks the protocols, and it fails open: a request it cannot read, a
// decider that is slow or a refusal that cannot be journaled all get
// DUNNO or allow, with a log line, never a crash or a hang.
package policy

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The protocols, the values of the metrics' protocol label.
const (
	ProtocolPostfix = "postfix"
	ProtocolDovecot = "dovecot"
)

// Query is what one request asks about.
type Query struct {
	// Protocol is ProtocolPostfix or ProtocolDovecot.
	Protocol string
	// Stage is Postfix's protocol_state in lower case (connect, helo,
	// mail, rcpt, data, end-of-message, ...) or "auth" for Dovecot.
	Stage    string
	ClientIP string
	// User is the SASL user name (Postfix's sasl_username, empty before
	// AUTH) or the login name Dovecot was asked for.
	User string
	// Service is Dovecot's protocol (imap, pop3, smtp, ...) or Postfix's
	// policy_context, for the record.
	Service string
}

// Decision is the answer to a Query.
type Decision struct {
	// Refuse says the client is refused. In dry run Refuse is set and
	// DryRun too: the answer lets it through.
	Refuse bool
	DryRun bool
	// Response is how a refusal is given to Postfix: reject,
	// defer_if_permit or hold. Dovecot denies all three.
	Response string
	// Reason is a closed word (the metrics' reason label): none,
	// allowlisted, suspended, brute_force, send_volume, compromised,
	// unrecorded (a refusal the journal could not take, so not given).
	Reason string
	// Text is what the client is told.
	Text string
}

// Report is Dovecot's account of one finished authentication.
type Report struct {
	ClientIP, User, Service, Session string
	Success, PolicyReject            bool
}

// Decider decides and takes reports. Decide must answer quickly (it runs
// while the mail server waits) and never block on the journal.
type Decider interface {
	Decide(q Query) Decision
	Report(r Report)
}

// Reasons every Decision.Reason is one of, with the protocol layer's own.
const (
	ReasonNone        = "none"
	ReasonAllowlisted = "allowlisted"
	ReasonSuspended   = "suspended"
	ReasonBruteForce  = "brute_force"
	ReasonSendVolume  = "send_volume"
	ReasonCompromised = "compromised"
	ReasonUnrecorded  = "unrecorded"
	// ReasonMalformed: a request the protocol layer could not read, let
	// through.
	ReasonMalformed = "malformed"
)

// Reasons lists the reason label's values.
func Reasons() []string {
	return []string{ReasonNone, ReasonAllowlisted, ReasonSuspended, ReasonBruteForce, ReasonSendVolume, ReasonCompromised, ReasonUnrecorded, ReasonMalformed}
}

// The decision label's values.
const (
	DecisionAllow       = "allow"
	DecisionRefuse      = "refuse"
	DecisionWouldRefuse = "would_refuse"
)

// Metrics counts the answers of both protocols.
type Metrics struct {
	decisions *prometheus.CounterVec
	seconds   *prometheus.HistogramVec
}

// NewMetrics registers the policy services' metrics on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_policy_decisions_total",
			Help: "Answers of the Postfix policy and Dovecot auth-policy services, by protocol, decision (allow, refuse, would_refuse in dry run) and reason.",
		}, []string{"protocol", "decision", "reason"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mailtrail_policy_request_seconds",
			Help:    "Time from a policy request read to its answer ready to send.",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .05},
		}, []string{"protocol"}),
	}
	// Every series exists from the start, so a rate over it is defined
	// before the first refusal.
	for _, p := range []string{ProtocolPostfix, ProtocolDovecot} {
		m.seconds.WithLabelValues(p)
		m.decisions.WithLabelValues(p, DecisionAllow, ReasonNone)
		for _, r := range []string{ReasonSuspended, ReasonBruteForce} {
			m.decisions.WithLabelValues(p, DecisionRefuse, r)
			m.decisions.WithLabelValues(p, DecisionWouldRefuse, r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.decisions, m.seconds)
	}
	return m
}

func (m *Metrics) count(protocol string, d Decision, took time.Duration) {
	if m == nil {
		return
	}
	dec := DecisionAllow
	switch {
	case d.Refuse && d.DryRun:
		dec = DecisionWouldRefuse
	case d.Refuse:
		dec = DecisionRefuse
	}
	reason := d.Reason
	if reason == "" {
		reason = ReasonNone
	}
	m.decisions.WithLabelValues(protocol, dec, reason).Inc()
	m.seconds.WithLabelValues(protocol).Observe(took.Seconds())
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
