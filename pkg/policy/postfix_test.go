package policy_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// readmeRequest is the example request of Postfix's SMTPD_POLICY_README
// (Postfix 3.12), every attribute it lists, with values of our own.
func readmeRequest(state, client, user string) string {
	return "request=smtpd_access_policy\n" +
		"protocol_state=" + state + "\n" +
		"protocol_name=ESMTP\n" +
		"helo_name=some.domain.tld\n" +
		"queue_id=8045F2AB23\n" +
		"sender=foo@bar.tld\n" +
		"recipient=bar@foo.tld\n" +
		"recipient_count=0\n" +
		"client_address=" + client + "\n" +
		"client_name=another.domain.tld\n" +
		"reverse_client_name=another.domain.tld\n" +
		"instance=123.456.7\n" +
		"sasl_method=plain\n" +
		"sasl_username=" + user + "\n" +
		"sasl_sender=\n" +
		"size=12345\n" +
		"ccert_subject=solaris9.porcupine.org\n" +
		"ccert_issuer=Wietse+20Venema\n" +
		"ccert_fingerprint=C2:9D:F4:87:71:73:73:D9:18:E7:C2:F3:C1:DA:6E:04\n" +
		"encryption_protocol=TLSv1/SSLv3\n" +
		"encryption_cipher=DHE-RSA-AES256-SHA\n" +
		"encryption_keysize=256\n" +
		"etrn_domain=\n" +
		"stress=\n" +
		"ccert_pubkey_fingerprint=68:B3:29:DA:98:93:E3:40:99:C7:D8:AD:5C:B9:C9:40\n" +
		"client_port=1234\n" +
		"policy_context=submission\n" +
		"server_address=10.3.2.1\n" +
		"server_port=54321\n" +
		"compatibility_level=3.6\n" +
		"mail_version=3.12.0\n" +
		"tls_sni=mail.example.com\n" +
		"\n"
}

func TestReadPostfixRequest(t *testing.T) {
	r := policy.NewPostfixReader(strings.NewReader(readmeRequest("RCPT", "1.2.3.4", "you") + readmeRequest("END-OF-MESSAGE", "::1", "")))
	req, err := policy.ReadPostfixRequest(r)
	if err != nil || req.Problem() != "" {
		t.Fatalf("first request: %v %q", err, req.Problem())
	}
	if req.ProtocolState != "rcpt" || req.ClientAddress != "1.2.3.4" || req.SASLUsername != "you" || req.PolicyContext != "submission" || req.Attributes != 32 {
		t.Errorf("first request read as %+v", req)
	}
	req, err = policy.ReadPostfixRequest(r)
	if err != nil || req.ProtocolState != "end-of-message" || req.ClientAddress != "::1" || req.SASLUsername != "" {
		t.Fatalf("second request on the same stream: %+v %v", req, err)
	}
	if _, err := policy.ReadPostfixRequest(r); err != io.EOF {
		t.Errorf("after the last request: %v, want EOF", err)
	}
}

func TestReadPostfixRequestProblems(t *testing.T) {
	for _, tc := range []struct{ name, in, problem string }{
		{"no equals sign", "request=smtpd_access_policy\nclient_address 1.2.3.4\n\n", "not name=value"},
		{"empty name", "request=smtpd_access_policy\n=x\n\n", "not name=value"},
		{"oversized attribute", "request=smtpd_access_policy\nsasl_username=" + strings.Repeat("a", policy.MaxLineBytes+10) + "\n\n", "longer than 4096 bytes"},
		{"too many attributes", "request=smtpd_access_policy\n" + strings.Repeat("x=y\n", policy.MaxAttributes) + "\n", "more than 256 attributes"},
		{"no request", "client_address=1.2.3.4\n\n", "no request attribute"},
		{"other request", "request=junk\n\n", `request="junk"`},
		{"empty", "\n", "empty request"},
		{"bad address", "request=smtpd_access_policy\nclient_address=not-an-ip\n\n", "not an IP address"},
		{"NUL", "request=smtpd_access_policy\nsasl_username=a\x00b\n\n", "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A good request follows: the bad one must leave the stream in
			// step.
			r := policy.NewPostfixReader(strings.NewReader(tc.in + readmeRequest("RCPT", "1.2.3.4", "")))
			req, err := policy.ReadPostfixRequest(r)
			if err != nil {
				t.Fatalf("error %v, want a request with a problem", err)
			}
			if !strings.Contains(req.Problem(), tc.problem) {
				t.Errorf("problem %q, want it to say %q", req.Problem(), tc.problem)
			}
			next, err := policy.ReadPostfixRequest(r)
			if err != nil || next.Problem() != "" || next.ClientAddress != "1.2.3.4" {
				t.Errorf("the request after it: %+v %v", next, err)
			}
		})
	}
	// Unbounded input: refused once past the limit, without reading on.
	huge := "request=smtpd_access_policy\n" + strings.Repeat("x="+strings.Repeat("y", 1000)+"\n", policy.MaxRequestBytes/1000+10)
	if _, err := policy.ReadPostfixRequest(policy.NewPostfixReader(strings.NewReader(huge))); err != policy.ErrTooLarge {
		t.Errorf("a request past %d bytes: %v, want ErrTooLarge", policy.MaxRequestBytes, err)
	}
	if _, err := policy.ReadPostfixRequest(policy.NewPostfixReader(strings.NewReader("request=smtpd_access_policy\nclient"))); err != io.ErrUnexpectedEOF {
		t.Errorf("a cut request: %v, want ErrUnexpectedEOF", err)
	}
}

// syncBuffer is a log destination the server's goroutines write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	store *suspend.Store
	addr  string
	log   *syncBuffer
	reg   *prometheus.Registry
	srv   *policy.PostfixServer
}

func newFixture(t testing.TB, cfg suspend.Config) *fixture {
	t.Helper()
	st, err := suspend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, log: &syncBuffer{}, reg: prometheus.NewRegistry()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.srv = &policy.PostfixServer{Decider: st, Metrics: policy.NewMetrics(f.reg), Logger: slog.New(slog.NewTextHandler(f.log, nil)),
		RequestTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(l) }()
	t.Cleanup(func() {
		l.Close()
		f.srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return f
}

type conn struct {
	c net.Conn
	r *bufio.Reader
}

func (f *fixture) dial(t testing.TB) *conn {
	t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &conn{c: c, r: bufio.NewReader(c)}
}

// ask sends a request and reads the answer: its action= line and the
// empty line that must end it.
func (c *conn) ask(t testing.TB, req string) string {
	t.Helper()
	if _, err := io.WriteString(c.c, req); err != nil {
		t.Fatal(err)
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	end, err := c.r.ReadString('\n')
	if err != nil || end != "\n" {
		t.Fatalf("answer %q not ended by an empty line: %q %v", line, end, err)
	}
	action, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "action=")
	if !ok {
		t.Fatalf("answer %q is not action=...", line)
	}
	return action
}

func TestPostfixServer(t *testing.T) {
	f := newFixture(t, suspend.Config{})
	c := f.dial(t)
	// Several requests on one connection, as smtpd keeps it open.
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.7", "mallory@example.com")); got != "DUNNO" {
		t.Errorf("before any suspension: %q", got)
	}
	if _, err := f.store.Suspend(apiv1.SuspendUser, "mallory@example.com", time.Hour, false, suspend.Reject, "phished", "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.7", "mallory@example.com")); got != "REJECT "+suspend.TextSuspended {
		t.Errorf("suspended user: %q", got)
	}
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.7", "alice@example.com")); got != "DUNNO" {
		t.Errorf("another user: %q", got)
	}
	if _, err := f.store.Suspend(apiv1.SuspendIP, "192.0.2.8", 0, true, suspend.DeferIfPermit, "scanner", "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.ask(t, readmeRequest("CONNECT", "192.0.2.8", "")); got != "DEFER_IF_PERMIT "+suspend.TextSuspended {
		t.Errorf("suspended IP: %q", got)
	}
	if _, err := f.store.Suspend(apiv1.SuspendUser, "held@example.com", time.Hour, false, suspend.Hold, "review", "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.9", "held@example.com")); got != "HOLD "+suspend.TextSuspended {
		t.Errorf("held user: %q", got)
	}
	if _, err := f.store.Lift(apiv1.SuspendUser, "mallory@example.com", "password reset", "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.7", "mallory@example.com")); got != "DUNNO" {
		t.Errorf("after the lift: %q", got)
	}
	if v := decisions(t, f.reg, "postfix", "refuse", "suspended"); v != 3 {
		t.Errorf("refusals counted: %v, want 3", v)
	}
}

// TestPostfixServerBadInput: malformed and oversized requests get DUNNO
// and a log line naming the problem; the connection goes on; a request
// without an end is cut off, not waited for.
func TestPostfixServerBadInput(t *testing.T) {
	f := newFixture(t, suspend.Config{})
	if _, err := f.store.Suspend(apiv1.SuspendIP, "192.0.2.66", time.Hour, false, suspend.Reject, "bad", "test"); err != nil {
		t.Fatal(err)
	}
	c := f.dial(t)
	for _, tc := range []struct{ req, logged string }{
		{"request=smtpd_access_policy\nclient_address 192.0.2.66\n\n", "is not name=value"},
		{"request=smtpd_access_policy\nclient_address=192.0.2.66\nccert_subject=" + strings.Repeat("x", 100000) + "\n\n", "longer than 4096 bytes"},
		{"request=smtpd_access_policy\nclient_address=192.0.2.66\n" + strings.Repeat("a=b\n", 300) + "\n", "more than 256 attributes"},
		{"client_address=192.0.2.66\n\n", "no request attribute"},
	} {
		if got := c.ask(t, tc.req); got != "DUNNO" {
			t.Errorf("%.60q: %q, want DUNNO", tc.req, got)
		}
		if !strings.Contains(f.log.String(), tc.logged) || !strings.Contains(f.log.String(), "malformed request; answering DUNNO") {
			t.Errorf("no log line saying %q:\n%s", tc.logged, f.log.String())
		}
	}
	// The connection is still in step: a good request is decided.
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.66", "")); got != "REJECT "+suspend.TextSuspended {
		t.Errorf("a good request after the bad ones: %q", got)
	}
	if v := decisions(t, f.reg, "postfix", "allow", "malformed"); v != 4 {
		t.Errorf("malformed requests counted: %v, want 4", v)
	}

	// Past MaxRequestBytes without an empty line: DUNNO, then closed.
	big := f.dial(t)
	go io.WriteString(big.c, "request=smtpd_access_policy\n"+strings.Repeat("x=y\n", policy.MaxRequestBytes/4+100))
	if got := big.ask(t, ""); got != "DUNNO" {
		t.Errorf("oversized request: %q", got)
	}
	if _, err := big.r.ReadByte(); err == nil {
		t.Error("the connection stayed open after an oversized request")
	}
	// Half a request and silence: the request timeout closes it.
	half := f.dial(t)
	io.WriteString(half.c, "request=smtpd_access_policy\nclient_addr")
	start := time.Now()
	if line, err := half.r.ReadString('\n'); err == nil && line != "action=DUNNO\n" {
		t.Errorf("a stalled request got %q", line)
	}
	if _, err := half.r.ReadString('\n'); err == nil {
		if _, err := half.r.ReadByte(); err == nil {
			t.Error("a stalled request's connection stayed open")
		}
	}
	if time.Since(start) > 8*time.Second {
		t.Error("a stalled request was waited for past the request timeout")
	}
	if !strings.Contains(f.log.String(), "unreadable request") {
		t.Errorf("no log line for the unreadable request:\n%s", f.log.String())
	}
}

func TestPostfixDryRunAndAllowList(t *testing.T) {
	f := newFixture(t, suspend.Config{DryRun: true, AllowUsers: []string{"Boss@example.com"}})
	for _, u := range []string{"mallory@example.com"} {
		if _, err := f.store.Suspend(apiv1.SuspendUser, u, time.Hour, false, suspend.Reject, "test", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Suspend(apiv1.SuspendUser, "boss@example.com", time.Hour, false, suspend.Reject, "test", "test"); err == nil {
		t.Error("an allow-listed user was suspended")
	}
	c := f.dial(t)
	if got := c.ask(t, readmeRequest("RCPT", "192.0.2.7", "mallory@example.com")); got != "DUNNO" {
		t.Errorf("dry run: %q, want DUNNO", got)
	}
	if v := decisions(t, f.reg, "postfix", "would_refuse", "suspended"); v != 1 {
		t.Errorf("would_refuse counted %v, want 1", v)
	}
}

// decisions reads mailtrail_policy_decisions_total{protocol, decision, reason}.
func decisions(t testing.TB, reg *prometheus.Registry, protocol, decision, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "mailtrail_policy_decisions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["protocol"] == protocol && l["decision"] == decision && l["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
