package metrics

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// testCorrelator does the part of correlation the metrics depend on (a
// message's origin and sender on its deliveries, NewMessage on its first
// queued event), so these tests do not depend on pkg/correlate's state
// machine.
type testCorrelator struct {
	origin, sender map[string]string
	queued         map[string]bool
}

func newTestCorrelator() *testCorrelator {
	return &testCorrelator{origin: map[string]string{}, sender: map[string]string{}, queued: map[string]bool{}}
}

func (c *testCorrelator) observe(e *event.Event) correlate.Note {
	if e.QueueID == "" {
		return correlate.Note{}
	}
	// Queue ids are per instance: postfix/submission's smtpd shares
	// postfix's queue.
	inst, _, _ := strings.Cut(e.Service, "/")
	k := inst + " " + e.QueueID
	var n correlate.Note
	switch e.Kind {
	case event.KindClient:
		c.origin[k] = "smtpd"
		if e.SASLUsername != "" {
			c.origin[k] = "submission"
		}
	case event.KindPickup:
		c.origin[k] = "pickup"
	case event.KindBounceNotice:
		if e.NextQueueID != "" {
			c.origin[inst+" "+e.NextQueueID] = "bounce"
		}
	case event.KindQueued:
		if !c.queued[k] {
			c.queued[k] = true
			n.NewMessage = true
		}
		c.sender[k] = e.Sender
		e.Origin = c.origin[k]
	case event.KindDelivery, event.KindExpired:
		if e.Sender == "" {
			e.Sender = c.sender[k]
		}
		e.Origin = c.origin[k]
	case event.KindRemoved:
		delete(c.origin, k)
		delete(c.sender, k)
		delete(c.queued, k)
	}
	return n
}

// feed parses lines as ingest does and observes them.
func feed(m *Postfix, c *testCorrelator, p *parser.Parser, line string) event.Event {
	e := p.Parse(line, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	n := c.observe(&e)
	m.Observe(&e, n)
	return e
}

func TestLabelMappings(t *testing.T) {
	type tc struct{ in, want string }
	check := func(t *testing.T, name string, f func(string) string, cases []tc) {
		t.Helper()
		for _, c := range cases {
			if got := f(c.in); got != c.want {
				t.Errorf("%s(%q) = %q, want %q", name, c.in, got, c.want)
			}
		}
	}
	check(t, "after", func(s string) string { return afterNames[afterIndex(s)] }, []tc{
		{"CONNECT", "CONNECT"}, {"EHLO", "EHLO"}, {"HELO", "HELO"}, {"STARTTLS", "STARTTLS"}, {"AUTH", "AUTH"},
		{"MAIL", "MAIL"}, {"RCPT", "RCPT"}, {"DATA", "DATA"}, {"BDAT", "BDAT"}, {"END-OF-MESSAGE", "END-OF-MESSAGE"},
		{"RSET", "RSET"}, {"QUIT", "QUIT"}, {"NOOP", "NOOP"}, {"VRFY", "VRFY"}, {"ETRN", "ETRN"},
		{"XCLIENT", "XCLIENT"}, {"XFORWARD", "XFORWARD"}, {"UNKNOWN", "UNKNOWN"},
		{"", "other"}, {"\\000\\000", "other"}, {"GET", "other"}, {"rcpt", "other"},
	})
	check(t, "method", func(s string) string { return methodNames[methodIndex(s)] }, []tc{
		{"PLAIN", "PLAIN"}, {"plain", "PLAIN"}, {"LOGIN", "LOGIN"}, {"CRAM-MD5", "CRAM-MD5"}, {"DIGEST-MD5", "DIGEST-MD5"},
		{"XOAUTH2", "XOAUTH2"}, {"OAUTHBEARER", "OAUTHBEARER"}, {"SCRAM-SHA-1", "SCRAM-SHA-1"},
		{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1-PLUS"}, {"SCRAM-SHA-256", "SCRAM-SHA-256"},
		{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS"}, {"EXTERNAL", "EXTERNAL"}, {"GSSAPI", "GSSAPI"},
		{"", "none"}, {"NTLM", "other"}, {"SCRAM-SHA-512", "other"}, {"alice@example.com", "other"},
	})
	check(t, "authProgram", func(s string) string { return authProgramNames[authProgramIndex(s)] }, []tc{
		{"smtpd", "smtpd"}, {"imap-login", "imap-login"}, {"pop3-login", "pop3-login"},
		{"submission-login", "submission-login"}, {"managesieve-login", "managesieve-login"}, {"auth", "auth"},
		{"auth-worker", "auth-worker"}, {"saslauthd", "saslauthd"}, {"imap", "other"}, {"smtp", "other"}, {"", "other"},
	})
	check(t, "stage", func(s string) string {
		program, action, stage, _ := strings.Split(s, "|")[0], strings.Split(s, "|")[1], strings.Split(s, "|")[2], 0
		return stageNames[stageIndex(&event.Event{Program: program, Action: action, RejectStage: stage})]
	}, []tc{
		{"smtpd|reject|connect", "connect"}, {"smtpd|reject|helo", "helo"}, {"smtpd|reject|mail", "mail"},
		{"smtpd|reject|rcpt", "rcpt"}, {"smtpd|reject|data", "data"}, {"smtpd|reject|eom", "eom"},
		{"postscreen|reject|rcpt", "postscreen"}, {"postscreen|reject|connect", "postscreen"},
		{"cleanup|milter-reject|eom", "milter"}, {"smtpd|milter-reject|data", "milter"},
		{"smtpd|reject|vrfy", "other"}, {"smtpd|reject|etrn", "other"}, {"cleanup|reject|", "other"},
	})
	check(t, "isReject", func(s string) string {
		if isReject(s) {
			return "yes"
		}
		return "no"
	}, []tc{
		{"reject", "yes"}, {"milter-reject", "yes"}, {"proxy-reject", "yes"}, {"milter-header-reject", "yes"},
		{"reject_warning", "no"}, {"filter", "no"}, {"hold", "no"}, {"discard", "no"}, {"milter-discard", "no"},
		{"redirect", "no"}, {"", "no"},
	})
	check(t, "class", func(s string) string {
		dsn, resp, _ := strings.Cut(s, "|")
		return classNames[classIndex(dsn, resp)]
	}, []tc{
		{"5.1.1|550 5.1.1 <x>: User unknown", "5xx"}, {"4.7.1|450 4.7.1 greylisted", "4xx"},
		{"|554 Service unavailable", "5xx"}, {"|421 too busy", "4xx"}, {"5.7.1|", "5xx"},
		{"|too many connections", "other"}, {"|", "other"}, {"1.2.3|123 1.2.3 Reasons", "other"}, {"|55", "other"},
	})
	check(t, "origin", func(s string) string { return originNames[originIndex(s)] }, []tc{
		{"smtpd", "smtpd"}, {"submission", "submission"}, {"pickup", "pickup"}, {"bounce", "bounce"},
		{"", "other"}, {"relay", "other"}, {"10.0.0.1", "other"},
	})
	check(t, "transport", func(s string) string { return transportNames[transportIndex(s)] }, []tc{
		{"smtp", "smtp"}, {"lmtp", "lmtp"}, {"local", "local"}, {"virtual", "virtual"}, {"pipe", "pipe"},
		{"error", "other"}, {"discard", "other"}, {"retry", "other"}, {"relay", "other"}, {"dovecot", "other"}, {"", "other"},
	})
	check(t, "status", func(s string) string {
		if i := statusIndex(s); i >= 0 {
			return statusNames[i]
		}
		return "-"
	}, []tc{
		{"sent", "sent"}, {"deferred", "deferred"}, {"bounced", "bounced"}, {"expired", "expired"},
		{"force-expired", "expired"}, {"deliverable", "-"}, {"undeliverable", "-"}, {"", "-"},
	})
	check(t, "direction", func(s string) string {
		service, program, _ := strings.Cut(s, "|")
		return directionNames[directionIndex(&event.Event{Service: service, Program: program})]
	}, []tc{
		{"postfix|smtpd", "inbound"}, {"postfix/submission|smtpd", "inbound"}, {"postfix|postscreen", "inbound"},
		{"postfix|tlsproxy", "inbound"}, {"dovecot|imap-login", "inbound"}, {"imap-login|imap-login", "inbound"},
		{"lmtp|lmtp", "inbound"}, {"postfix|smtp", "outbound"}, {"postfix-out|smtp", "outbound"},
		{"postfix|lmtp", "outbound"}, {"postfix|tlsmgr", "other"}, {"|", "other"},
	})
	check(t, "protocol", func(s string) string { return protocolNames[protocolIndex(s)] }, []tc{
		{"TLSv1", "TLSv1"}, {"TLSv1.1", "TLSv1.1"}, {"TLSv1.2", "TLSv1.2"}, {"TLSv1.3", "TLSv1.3"}, {"SSLv3", "SSLv3"},
		{"", "other"}, {"TLSv1.4", "other"}, {"with", "other"},
	})
	check(t, "trust", func(s string) string { return trustNames[trustIndex(s)] }, []tc{
		{"Anonymous", "anonymous"}, {"Untrusted", "untrusted"}, {"Trusted", "trusted"}, {"Verified", "verified"},
		{"", "none"}, {"Bogus", "other"},
	})
	check(t, "verdict", func(s string) string {
		if i := verdictIndex(s); i >= 0 {
			return verdictNames[i]
		}
		return "-"
	}, []tc{
		{"PASS NEW", "PASS NEW"}, {"PASS OLD", "PASS OLD"}, {"PREGREET", "PREGREET"}, {"DNSBL", "DNSBL"},
		{"HANGUP", "HANGUP"}, {"WHITELISTED", "WHITELISTED"}, {"WHITELIST VETO", "WHITELIST VETO"},
		{"ALLOWLISTED", "ALLOWLISTED"}, {"ALLOWLIST VETO", "ALLOWLIST VETO"}, {"BLACKLISTED", "BLACKLISTED"},
		{"DENYLISTED", "DENYLISTED"}, {"BARE NEWLINE", "BARE NEWLINE"}, {"COMMAND PIPELINING", "COMMAND PIPELINING"},
		{"COMMAND COUNT LIMIT", "COMMAND COUNT LIMIT"}, {"COMMAND LENGTH LIMIT", "COMMAND LENGTH LIMIT"},
		{"COMMAND TIME LIMIT", "COMMAND TIME LIMIT"}, {"NON-SMTP COMMAND", "NON-SMTP COMMAND"},
		{"DATA without valid RCPT", "DATA without valid RCPT"}, {"BDAT without valid RCPT", "BDAT without valid RCPT"},
		{"CONNECT", "-"}, {"DISCONNECT", "-"}, {"", "-"}, {"SOMETHING NEW", "other"}, {"[10.1.2.3]", "other"},
	})
	check(t, "check", func(s string) string {
		if i := checkIndex(s); i >= 0 {
			return checkNames[i]
		}
		return "-"
	}, []tc{{"dkim", "dkim"}, {"spf", "spf"}, {"dmarc", "dmarc"}, {"content", "-"}, {"", "-"}, {"arc", "-"}})
	check(t, "result", func(s string) string { return resultNames[resultIndex(s)] }, []tc{
		{"pass", "pass"}, {"fail", "fail"}, {"softfail", "softfail"}, {"neutral", "neutral"}, {"none", "none"},
		{"temperror", "temperror"}, {"permerror", "permerror"}, {"policy", "policy"}, {"signed", "signed"},
		{"", "other"}, {"clean", "other"}, {"PASS", "other"},
	})
	check(t, "validService", func(s string) string {
		if validService(s) {
			return "yes"
		}
		return "no"
	}, []tc{
		{"postfix", "yes"}, {"postfix/submission", "yes"}, {"postfix-out", "yes"}, {"dovecot", "yes"},
		{"", "no"}, {strings.Repeat("p", 65), "no"}, {"post\x00fix", "no"}, {"post\nfix", "no"}, {"\xff\xfe", "no"},
	})
}

func TestSenderDomain(t *testing.T) {
	m := NewPostfix(prometheus.NewRegistry(), PostfixConfig{
		TenantDomains: []string{"Example.COM", " @example.org", "sub.example.com", "example.net.", "", "example.com"},
	})
	if got, want := strings.Join(m.tenantNames, ","), "example.com,example.org,sub.example.com,example.net,other"; got != want {
		t.Fatalf("tenant labels %q, want %q", got, want)
	}
	for _, c := range []struct{ sender, want string }{
		{"alice@example.com", "example.com"},
		{"ALICE@EXAMPLE.COM", "example.com"},
		{"alice@Example.Com.", "example.com"},
		{"bounce+x=y@mail.example.com", "example.com"},
		{"a@deep.er.example.org", "example.org"},
		{"a@sub.example.com", "sub.example.com"}, // the most specific tenant wins
		{"a@x.SUB.example.com", "sub.example.com"},
		{"a@example.net", "example.net"},
		{"a@notexample.com", "other"},
		{"a@example.com.evil.test", "other"},
		{"a@com", "other"},
		{"", "other"}, // the null sender
		{"MAILER-DAEMON", "other"},
		{"a@", "other"},
		{"a@" + strings.Repeat("x.", 200) + "example.com", "other"}, // longer than DNS allows
		{"\"odd@local\"@example.org", "example.org"},
	} {
		if got := m.tenantNames[m.senderDomain(c.sender)]; got != c.want {
			t.Errorf("senderDomain(%q) = %q, want %q", c.sender, got, c.want)
		}
	}
	none := NewPostfix(prometheus.NewRegistry(), PostfixConfig{})
	if got := none.tenantNames[none.senderDomain("a@example.com")]; got != "other" {
		t.Errorf("without tenants: %q", got)
	}
}

// TestServiceCap: past the cap, new syslog names count as other, and names
// that are no sane label value never become one.
func TestServiceCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewPostfix(reg, PostfixConfig{MaxServices: 3})
	for _, s := range []string{"postfix", "postfix/submission", "postfix", "x\xffy", "postfix-out", "postfix-4", "postfix-5", "postfix"} {
		m.Observe(&event.Event{Kind: event.KindConnect, Service: s, Program: "smtpd"}, correlate.Note{})
	}
	want := `
# HELP postfix_smtpd_connects_total Connections smtpd accepted (postscreen's CONNECT lines are not counted).
# TYPE postfix_smtpd_connects_total counter
postfix_smtpd_connects_total{service="other"} 3
postfix_smtpd_connects_total{service="postfix"} 3
postfix_smtpd_connects_total{service="postfix-out"} 1
postfix_smtpd_connects_total{service="postfix/submission"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "postfix_smtpd_connects_total"); err != nil {
		t.Error(err)
	}
}

// readCorpus returns a corpus file's lines, comments left out.
func readCorpus(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open("../parser/testdata/corpus/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestObserveCorpus counts two real logs, line by line checked by hand:
// digineo's (SASL, TLS, NOQUEUE, a submission delivered over smtp, a second
// instance) and sergeymakinen's (every postscreen verdict, rejects,
// milters, lmtp/smtp deliveries, an expiry).
func TestObserveCorpus(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewPostfix(reg, PostfixConfig{TenantDomains: []string{"example.org"}})
	c := newTestCorrelator()
	p := &parser.Parser{}
	for _, f := range []string{"digineo+postfix_exporter/mail.log", "sergeymakinen+postfix_exporter/mail.log"} {
		for _, l := range readCorpus(t, f) {
			feed(m, c, p, l)
		}
	}
	want := `
# HELP postfix_auth_failures_total Failed authentication attempts taken by smtpd (SASL) and Dovecot's login processes; back-end verdicts are not counted.
# TYPE postfix_auth_failures_total counter
postfix_auth_failures_total{method="LOGIN",program="smtpd",service="postfix"} 1
postfix_auth_failures_total{method="PLAIN",program="smtpd",service="postfix"} 1
# HELP postfix_deliveries_total Delivery attempts per recipient, by transport and status (expired: returned to sender by the queue manager).
# TYPE postfix_deliveries_total counter
postfix_deliveries_total{sender_domain="example.org",service="postfix",status="sent",transport="smtp"} 1
postfix_deliveries_total{sender_domain="other",service="postfix",status="bounced",transport="lmtp"} 1
postfix_deliveries_total{sender_domain="other",service="postfix",status="bounced",transport="smtp"} 1
postfix_deliveries_total{sender_domain="other",service="postfix",status="deferred",transport="smtp"} 2
postfix_deliveries_total{sender_domain="other",service="postfix",status="expired",transport="other"} 1
postfix_deliveries_total{sender_domain="other",service="postfix",status="sent",transport="lmtp"} 1
postfix_deliveries_total{sender_domain="other",service="postfix",status="sent",transport="smtp"} 3
# HELP postfix_logins_total Successful logins: SASL-authenticated submissions and IMAP/POP logins.
# TYPE postfix_logins_total counter
postfix_logins_total{method="PLAIN",program="smtpd",service="postfix"} 1
postfix_logins_total{method="PLAIN",program="smtpd",service="postfix/submission"} 1
# HELP postfix_messages_received_total Messages that reached the queue manager, by how they entered Postfix.
# TYPE postfix_messages_received_total counter
postfix_messages_received_total{origin="submission",sender_domain="example.org",service="postfix"} 1
# HELP postfix_policy_results_total DKIM, SPF and DMARC verdicts.
# TYPE postfix_policy_results_total counter
# HELP postfix_postscreen_verdicts_total postscreen verdicts as Postfix writes them (CONNECT and DISCONNECT are not verdicts).
# TYPE postfix_postscreen_verdicts_total counter
postfix_postscreen_verdicts_total{service="postfix",verdict="ALLOWLISTED"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="BARE NEWLINE"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="BDAT without valid RCPT"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="BLACKLISTED"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="COMMAND COUNT LIMIT"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="COMMAND LENGTH LIMIT"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="COMMAND PIPELINING"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="COMMAND TIME LIMIT"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="DATA without valid RCPT"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="DENYLISTED"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="DNSBL"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="HANGUP"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="NON-SMTP COMMAND"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="PASS NEW"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="PASS OLD"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="PREGREET"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="WHITELIST VETO"} 1
postfix_postscreen_verdicts_total{service="postfix",verdict="WHITELISTED"} 1
# HELP postfix_rejects_total Mail refused by smtpd restrictions, postscreen and milters, by stage and reply class.
# TYPE postfix_rejects_total counter
postfix_rejects_total{class="4xx",service="postfix",stage="rcpt"} 1
postfix_rejects_total{class="other",service="postfix",stage="milter"} 2
postfix_rejects_total{class="other",service="postfix",stage="other"} 1
postfix_rejects_total{class="other",service="postfix",stage="postscreen"} 2
postfix_rejects_total{class="other",service="postfix",stage="rcpt"} 3
# HELP postfix_smtpd_connects_total Connections smtpd accepted (postscreen's CONNECT lines are not counted).
# TYPE postfix_smtpd_connects_total counter
postfix_smtpd_connects_total{service="postfix"} 2
postfix_smtpd_connects_total{service="postfix/submission"} 1
# HELP postfix_smtpd_disconnects_total smtpd sessions that ended with a disconnect line.
# TYPE postfix_smtpd_disconnects_total counter
postfix_smtpd_disconnects_total{service="postfix"} 2
postfix_smtpd_disconnects_total{service="postfix/submission"} 1
# HELP postfix_smtpd_lost_connections_total smtpd sessions lost or timed out, by the SMTP command after which they ended.
# TYPE postfix_smtpd_lost_connections_total counter
postfix_smtpd_lost_connections_total{after="CONNECT",service="postfix"} 1
# HELP postfix_tls_connections_total TLS sessions established, inbound (smtpd, postscreen, Dovecot) and outbound (smtp, lmtp).
# TYPE postfix_tls_connections_total counter
postfix_tls_connections_total{direction="outbound",protocol="TLSv1.2",service="postfix",trust="verified"} 1
postfix_tls_connections_total{direction="outbound",protocol="TLSv1.3",service="postfix",trust="verified"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"postfix_auth_failures_total", "postfix_deliveries_total", "postfix_logins_total", "postfix_messages_received_total",
		"postfix_policy_results_total", "postfix_postscreen_verdicts_total", "postfix_rejects_total",
		"postfix_smtpd_connects_total", "postfix_smtpd_disconnects_total", "postfix_smtpd_lost_connections_total",
		"postfix_tls_connections_total"); err != nil {
		t.Error(err)
	}
	// One submitted message: 939 bytes, delivered in 1.6 s.
	if got := histSum(t, reg, "postfix_message_size_bytes", map[string]string{"service": "postfix"}); got != 939 {
		t.Errorf("message size sum %v, want 939", got)
	}
	if got := histSum(t, reg, "postfix_delivery_delay_seconds", map[string]string{"transport": "smtp", "stage": "total"}); math.Abs(got-(2017+1.6+0.12+0.12+1.23+2+2)) > 1e-9 {
		t.Errorf("smtp total delay sum %v", got)
	}
	if got := histSum(t, reg, "postfix_delivery_delay_seconds", map[string]string{"transport": "lmtp", "stage": "in_qmgr"}); math.Abs(got-(0.12+1.23)) > 1e-9 {
		t.Errorf("lmtp in_qmgr delay sum %v", got)
	}
}

// histSum adds up the sums of a histogram family's series that carry the
// given labels.
func histSum(t testing.TB, g prometheus.Gatherer, family string, labels map[string]string) float64 {
	t.Helper()
	sum := 0.0
	for _, mf := range gather(t, g) {
		if mf.GetName() != family {
			continue
		}
		for _, mm := range mf.GetMetric() {
			if hasLabels(mm, labels) {
				sum += mm.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}

func hasLabels(mm *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range mm.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

func gather(t testing.TB, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// sumBy adds a counter family's values up by the values of one label;
// the "" key holds the family's total.
func sumBy(t testing.TB, g prometheus.Gatherer, family, label string, filter map[string]string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, mf := range gather(t, g) {
		if mf.GetName() != family {
			continue
		}
		for _, mm := range mf.GetMetric() {
			if !hasLabels(mm, filter) {
				continue
			}
			v := mm.GetCounter().GetValue()
			out[""] += v
			for _, lp := range mm.GetLabel() {
				if lp.GetName() == label {
					out[lp.GetValue()] += v
				}
			}
		}
	}
	return out
}

// simulated parses and correlates n simulated lines.
func simulated(t testing.TB, cfg simulate.Config, n int) ([]event.Event, []correlate.Note, simulate.Truth) {
	t.Helper()
	s := simulate.New(cfg)
	c := newTestCorrelator()
	p := &parser.Parser{}
	ref := simulate.DefaultStart
	events := make([]event.Event, n)
	notes := make([]correlate.Note, n)
	for i := range n {
		events[i] = p.Parse(string(s.Next()), ref)
		notes[i] = c.observe(&events[i])
	}
	return events, notes, s.Truth()
}

// TestObserveTruth checks the counters against the simulator's exact
// ground truth.
func TestObserveTruth(t *testing.T) {
	events, notes, tr := simulated(t, simulate.Config{Seed: 7}, 300_000)
	reg := prometheus.NewRegistry()
	m := NewPostfix(reg, PostfixConfig{TenantDomains: []string{"example.com", "example.org", "example.net"}})
	for i := range events {
		m.Observe(&events[i], notes[i])
	}
	// Truth keys programs ("postfix/submission/smtpd"); metrics key services.
	byService := func(progs map[string]int) map[string]float64 {
		out := map[string]float64{}
		for prog, n := range progs {
			svc := prog[:strings.LastIndexByte(prog, '/')]
			out[svc] += float64(n)
			out[""] += float64(n)
		}
		return out
	}
	eq := func(what string, got, want map[string]float64) {
		t.Helper()
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s[%q] = %v, want %v", what, k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s[%q] = %v, not in the truth", what, k, got[k])
			}
		}
	}
	eq("connects", sumBy(t, reg, "postfix_smtpd_connects_total", "service", nil), byService(tr.Connects))
	eq("disconnects", sumBy(t, reg, "postfix_smtpd_disconnects_total", "service", nil), byService(tr.Disconnects))
	eq("lost", sumBy(t, reg, "postfix_smtpd_lost_connections_total", "service", nil), byService(tr.LostConnections))

	tls := map[string]float64{"": float64(tr.TLS["inbound"] + tr.TLS["outbound"])}
	for d, n := range tr.TLS {
		tls[d] = float64(n)
	}
	eq("tls", sumBy(t, reg, "postfix_tls_connections_total", "direction", nil), tls)

	auth := sumBy(t, reg, "postfix_auth_failures_total", "program", nil)
	// Dovecot's "auth failed, N attempts" lines count N (issue 20).
	if auth["smtpd"] != float64(tr.AuthFailures["smtpd"]) || auth[""]-auth["smtpd"] != float64(tr.DovecotAuthAttempts) {
		t.Errorf("auth failures %v, truth %v", auth, tr.AuthFailures)
	}
	eq("logins", sumBy(t, reg, "postfix_logins_total", "program", nil), map[string]float64{
		"smtpd": float64(tr.SASLLogins), "imap-login": float64(tr.Logins["imap"]), "pop3-login": float64(tr.Logins["pop3"]),
		"": float64(tr.SASLLogins + tr.Logins["imap"] + tr.Logins["pop3"]),
	})

	rejects := sumBy(t, reg, "postfix_rejects_total", "stage", nil)
	classes := sumBy(t, reg, "postfix_rejects_total", "class", nil)
	wantClass := map[string]float64{}
	for _, byClass := range tr.Rejects {
		for c, n := range byClass {
			wantClass[c] += float64(n)
			wantClass[""] += float64(n)
		}
	}
	eq("reject classes", classes, wantClass)
	if rejects["postscreen"] != float64(tr.PostscreenRejects) || rejects["milter"] != float64(tr.MilterRejects) {
		t.Errorf("rejects by stage %v; truth: %d postscreen, %d milter", rejects, tr.PostscreenRejects, tr.MilterRejects)
	}
	for stage, name := range map[string]string{"CONNECT": "connect", "HELO": "helo", "EHLO": "helo", "MAIL": "mail", "RCPT": "rcpt", "DATA": "data"} {
		if tr.Rejects[stage] != nil && rejects[name] == 0 {
			t.Errorf("no %s rejects counted, truth %v", name, tr.Rejects[stage])
		}
	}

	for prog, byStatus := range tr.Deliveries {
		svc, transport, _ := strings.Cut(prog, "/")
		got := sumBy(t, reg, "postfix_deliveries_total", "status", map[string]string{"service": svc, "transport": transport})
		want := map[string]float64{}
		for st, n := range byStatus {
			want[st] = float64(n)
			want[""] += float64(n)
		}
		eq("deliveries "+prog, got, want)
	}
	expired := sumBy(t, reg, "postfix_deliveries_total", "service", map[string]string{"status": "expired", "transport": "other"})
	eq("expired", expired, byService(tr.Expired))
	// Every delivery line has one observation per delay stage.
	for prog, byStatus := range tr.Deliveries {
		svc, transport, _ := strings.Cut(prog, "/")
		n := 0
		for _, v := range byStatus {
			n += v
		}
		for _, stage := range delayStageNames {
			if got := histCount(t, reg, "postfix_delivery_delay_seconds", map[string]string{"service": svc, "transport": transport, "stage": stage}); got != uint64(n) {
				t.Errorf("%s %s delays: %d observations, want %d", prog, stage, got, n)
			}
		}
	}

	verdicts := map[string]float64{}
	for v, n := range tr.Postscreen {
		if v != "CONNECT" && v != "DISCONNECT" {
			verdicts[v] = float64(n)
			verdicts[""] += float64(n)
		}
	}
	eq("postscreen verdicts", sumBy(t, reg, "postfix_postscreen_verdicts_total", "verdict", nil), verdicts)

	for check, byResult := range tr.PolicyResults {
		want := map[string]float64{}
		for r, n := range byResult {
			want[r] = float64(n)
			want[""] += float64(n)
		}
		if check == "dkim" {
			// The parser also reads OpenDKIM's "DKIM-Signature field
			// added" as signed, which the truth files under
			// informational lines. Its "SSL error ... bad signature" line
			// is a notice: the verdict is the "bad signature data" line
			// that follows it, counted once.
			want["signed"] = float64(tr.Info["opendkim-signed"])
			want[""] += float64(tr.Info["opendkim-signed"])
		}
		eq("policy "+check, sumBy(t, reg, "postfix_policy_results_total", "result", map[string]string{"check": check}), want)
	}

	// Received messages are counted at the queue manager, the truth counts
	// cleanup's message-id lines: milter-rejected messages never reach the
	// queue manager, and messages cleaned up just before the cut not yet.
	recv := sumBy(t, reg, "postfix_messages_received_total", "origin", nil)
	for origin, want := range map[string]int{"submission": tr.MessagesReceived["submission"], "pickup": tr.MessagesReceived["pickup"],
		"bounce": tr.MessagesReceived["bounce"], "smtpd": tr.MessagesReceived["smtpd"] + tr.MessagesReceived["relay"] - tr.MilterRejects} {
		if got := recv[origin]; got > float64(want) || got < float64(want)-5 {
			t.Errorf("received from %s: %v, truth %d", origin, got, want)
		}
	}
	if recv["other"] != 0 {
		t.Errorf("%v received messages of unknown origin", recv["other"])
	}
	if got := histCount(t, reg, "postfix_message_size_bytes", nil); got != uint64(recv[""]) {
		t.Errorf("%d sizes observed for %v messages", got, recv[""])
	}
}

func histCount(t testing.TB, g prometheus.Gatherer, family string, labels map[string]string) uint64 {
	t.Helper()
	var n uint64
	for _, mf := range gather(t, g) {
		if mf.GetName() != family {
			continue
		}
		for _, mm := range mf.GetMetric() {
			if hasLabels(mm, labels) {
				n += mm.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// TestSeriesBudget feeds 2M simulated lines with 100k distinct client IPs,
// users and domains, every 97th line under a syslog name of its own (a
// hostile or misconfigured log), and checks that no family exceeds
// seriesBudget series and that no label value is an identifier (IP,
// address, host, user, queue id, message id) from the log.
//
// The arithmetic: every label but service and sender_domain takes a value
// from a closed table, and service takes at most MaxServices (16) + "other"
// = S values. Upper bounds per family, with T tenant domains:
// connects, disconnects, sizes S = 17; lost S×19 = 323; rejects S×9×3 =
// 459; verdicts S×20 = 340; delay histogram S×6×5 = 510; received
// S×5×(T+1); deliveries S×6×4×(T+1); TLS S×3×6×6; auth failures and logins
// S×9×14; policy 3×10 = 30. The products of the larger tables are never
// reached (a service has the transports, TLS versions and SASL methods it
// is configured for): on this log the largest family, the delay histogram,
// has 65 series (4 real services and "other" × their transports × 5
// stages), against 100000+ if any identifier were a label.
func TestSeriesBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("2M lines")
	}
	const seriesBudget = 500
	const pool = 100_000
	cfg := simulate.Config{Seed: 11, ClientIPs: pool, Users: pool, Domains: pool}
	s := simulate.New(cfg)
	c := newTestCorrelator()
	p := &parser.Parser{}
	reg := prometheus.NewRegistry()
	m := NewPostfix(reg, PostfixConfig{TenantDomains: []string{"example.com", "example.org"}})

	// Identifiers seen in the current chunk of lines. A label value comes
	// from the event being observed, so checking each chunk's identifiers
	// against the label values right after the chunk covers every line.
	seen := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" {
				seen[v] = true
			}
		}
	}
	tenants := map[string]bool{"example.com": true, "example.org": true}
	check := func() {
		for _, mf := range gather(t, reg) {
			if n := len(mf.GetMetric()); n > seriesBudget {
				t.Errorf("%s: %d series, budget %d", mf.GetName(), n, seriesBudget)
			}
			for _, mm := range mf.GetMetric() {
				for _, lp := range mm.GetLabel() {
					if v := lp.GetValue(); seen[v] && !tenants[v] {
						t.Fatalf("%s has label %s=%q, an identifier from the log", mf.GetName(), lp.GetName(), v)
					}
				}
			}
		}
		clear(seen)
	}
	lines := 0
	for {
		for range 100_000 {
			line := string(s.Next())
			lines++
			if lines%97 == 0 {
				// A hostile or misconfigured log: every line a new syslog
				// name. Its lines must land in "other".
				if i := strings.Index(line, " postfix/"); i >= 0 {
					line = line[:i] + " postfix-h" + strconv.Itoa(lines) + line[i+len(" postfix"):]
				}
			}
			e := p.Parse(line, simulate.DefaultStart)
			n := c.observe(&e)
			m.Observe(&e, n)
			if strings.IndexByte(e.RelayHost, '.') >= 0 {
				// relay=local, relay=virtual and relay=none name transports.
				add(e.RelayHost)
			}
			add(e.QueueID, e.NextQueueID, e.ClientIP, e.ClientHost, e.ServerIP, e.RelayIP, e.Sender,
				e.Recipient, e.OrigRecipient, e.SASLUsername, e.MessageID, e.Helo, e.Domain, e.DNSBLDomain)
			if at := strings.LastIndexByte(e.Sender, '@'); at >= 0 {
				add(e.Sender[at+1:])
			}
		}
		check()
		tr := s.Truth()
		if tr.DistinctClientIPs >= pool && tr.DistinctUsers >= pool && tr.DistinctDomains >= pool {
			break
		}
		if lines >= 4_000_000 {
			t.Fatalf("pools not used up after %d lines: %d IPs, %d users, %d domains", lines, tr.DistinctClientIPs, tr.DistinctUsers, tr.DistinctDomains)
		}
	}
	tr := s.Truth()
	t.Logf("%d lines: %d client IPs, %d users, %d domains", lines, tr.DistinctClientIPs, tr.DistinctUsers, tr.DistinctDomains)
	for _, mf := range gather(t, reg) {
		t.Logf("%-40s %4d series", mf.GetName(), len(mf.GetMetric()))
	}
	services := map[string]bool{}
	for _, mf := range gather(t, reg) {
		for _, mm := range mf.GetMetric() {
			for _, lp := range mm.GetLabel() {
				if lp.GetName() == "service" {
					services[lp.GetValue()] = true
				}
			}
		}
	}
	if len(services) != DefaultMaxServices+1 || !services["other"] {
		t.Errorf("%d service values, want the cap %d + other: %v", len(services), DefaultMaxServices, services)
	}
}

// BenchmarkObserve measures the metrics' cost per event on a realistic
// mix, once every series it needs exists.
func BenchmarkObserve(b *testing.B) {
	events, notes, _ := simulated(b, simulate.Config{Seed: 5}, 100_000)
	m := NewPostfix(prometheus.NewRegistry(), PostfixConfig{TenantDomains: []string{"example.com", "example.org"}})
	for i := range events {
		m.Observe(&events[i], notes[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(events)
		m.Observe(&events[j], notes[j])
	}
}
