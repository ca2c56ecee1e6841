package simulate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func generate(t testing.TB, cfg Config, n int) ([]byte, Truth) {
	t.Helper()
	s := New(cfg)
	var buf bytes.Buffer
	if err := s.WriteLines(&buf, n); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), s.Truth()
}

func lines(out []byte) []string {
	s := strings.TrimSuffix(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, BruteForce: BruteForce{Every: 50, Attempts: 10}}
	a, ta := generate(t, cfg, 20000)
	b, tb := generate(t, cfg, 20000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different output")
	}
	if !reflect.DeepEqual(ta, tb) {
		t.Fatal("same seed gave different truth")
	}
	cfg.Seed = 43
	c, _ := generate(t, cfg, 20000)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same output")
	}
	// A prefix run must be a prefix of the output: cutting does not change
	// what comes before.
	p, _ := generate(t, Config{Seed: 42, BruteForce: BruteForce{Every: 50, Attempts: 10}}, 777)
	if !bytes.HasPrefix(a, p) {
		t.Fatal("a shorter run is not a prefix of a longer one")
	}
}

func TestExactLines(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000, 12345} {
		out, tr := generate(t, Config{Seed: uint64(n)}, n)
		if got := bytes.Count(out, []byte("\n")); got != n {
			t.Errorf("n=%d: wrote %d lines", n, got)
		}
		if tr.Lines != n || tr.Total() != n {
			t.Errorf("n=%d: truth Lines=%d Total=%d", n, tr.Lines, tr.Total())
		}
	}
}

func TestTimeOrderAndEnvelope(t *testing.T) {
	ident := `[a-zA-Z][\w./-]*(\[\d+\])?: \S`
	for _, tc := range []struct {
		name  string
		cfg   Config
		stamp string
		parse func(string) (time.Time, error)
	}{
		{"rfc3164", Config{Seed: 1}, `[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d`,
			func(s string) (time.Time, error) { return time.Parse(time.Stamp, s) }},
		{"rfc3339", Config{Seed: 2, Format: RFC3339, Start: time.Date(2024, 3, 30, 22, 0, 0, 0, time.FixedZone("", 2*3600))},
			`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+02:00`,
			func(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, tr := generate(t, tc.cfg, 50000)
			env := regexp.MustCompile(`^(` + tc.stamp + `) mail (.*)$`)
			full := regexp.MustCompile(`^` + ident)
			prev := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
			bad := 0
			for i, l := range lines(out) {
				m := env.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("line %d has no %s envelope: %q", i+1, tc.name, l)
				}
				ts, err := tc.parse(m[1])
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if ts.Before(prev) {
					t.Fatalf("line %d goes back in time: %q after %v", i+1, l, prev)
				}
				prev = ts
				if !full.MatchString(m[2]) {
					bad++
				}
			}
			if bad != tr.Unknown["cut"] {
				t.Errorf("%d lines lack a program identifier, truth says %d cut lines", bad, tr.Unknown["cut"])
			}
			if first := lines(out)[0]; tc.name == "rfc3339" && !strings.HasPrefix(first, "2024-03-30T22:00:00.") {
				t.Errorf("first line does not start at --start: %q", first)
			}
		})
	}
}

// TestTruthShapes recounts the documented line shapes with plain string
// matching, independently of the simulator's bookkeeping.
func TestTruthShapes(t *testing.T) {
	out, tr := generate(t, Config{Seed: 7, BruteForce: BruteForce{Every: 400, Attempts: 30}}, 200000)
	count := func(re string) int {
		return len(regexp.MustCompile(`(?m)`+re).FindAllIndex(out, -1))
	}
	progCount := func(prog, re string) int {
		return count(` ` + regexp.QuoteMeta(prog) + `\[\d+\]: ` + re)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"connects smtpd", progCount("postfix/smtpd", `connect from `), tr.Connects["postfix/smtpd"]},
		{"connects submission", progCount("postfix/submission/smtpd", `connect from `), tr.Connects["postfix/submission/smtpd"]},
		{"connects out", progCount("postfix-out/smtpd", `connect from `), tr.Connects["postfix-out/smtpd"]},
		{"disconnects", count(`\]: disconnect from \S+ .*commands=\d+(/\d+)?$`), sum(tr.Disconnects)},
		{"lost", count(`\]: (lost connection|timeout) after `), sum(tr.LostConnections)},
		{"tls in", count(`\]: Anonymous TLS connection established from `), tr.TLS["inbound"]},
		{"tls out", count(`\]: \w+ TLS connection established to `), tr.TLS["outbound"]},
		{"sasl failures", count(`\]: warning: \S+\[[^]]+\]: SASL \w+ authentication failed: `), tr.AuthFailures["smtpd"]},
		{"dovecot failures", count(`dovecot: \w+-login: Disconnected \(auth failed, \d+ attempts`), tr.AuthFailures["dovecot"]},
		{"logins", count(`dovecot: \w+-login: Login: user=<`), sum(tr.Logins)},
		{"clients", count(`\]: [0-9A-F]{10,11}: client=`), sum(tr.Clients)},
		{"sasl logins", count(`\]: [0-9A-F]{10,11}: client=.*, sasl_username=`), tr.SASLLogins},
		{"message-ids", count(`/cleanup\[\d+\]: [0-9A-F]{10,11}: message-id=<`), sum(tr.MessagesReceived)},
		{"queued", count(`/qmgr\[\d+\]: [0-9A-F]{10,11}: from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)$`), sum(tr.Queued)},
		{"sent", count(`\]: [0-9A-F]{10,11}: to=<.*, status=sent \(`), sumStatus(tr.Deliveries, "sent")},
		{"deferred", count(`\]: [0-9A-F]{10,11}: to=<.*, status=deferred \(`), sumStatus(tr.Deliveries, "deferred")},
		{"bounced", count(`\]: [0-9A-F]{10,11}: to=<.*, status=bounced \(`), sumStatus(tr.Deliveries, "bounced")},
		{"queued as", count(`status=sent \(.*queued as \w+\)$`), tr.QueuedAs},
		{"relayed", count(`relay=127\.0\.0\.1\[127\.0\.0\.1\]:10026, .*status=sent \(250 2\.0\.0 Ok: queued as [0-9A-F]+\)$`), tr.RelayedToSecond},
		{"removed", count(`/qmgr\[\d+\]: [0-9A-F]{10,11}: removed$`), sum(tr.Removed)},
		{"expired", count(`status=expired, returned to sender$`), sum(tr.Expired)},
		{"bounce notices", count(`/bounce\[\d+\]: [0-9A-F]{10,11}: sender non-delivery notification: [0-9A-F]{10,11}$`), sum(tr.BounceNotices)},
		{"rejects", count(`NOQUEUE: reject: |: milter-reject: `), sumNested(tr.Rejects)},
		{"milter rejects", count(`: milter-reject: END-OF-MESSAGE `), tr.MilterRejects},
		{"postscreen rejects", count(`postscreen\[\d+\]: NOQUEUE: reject: `), tr.PostscreenRejects},
		{"postscreen", count(`postscreen\[\d+\]: (CONNECT|PASS NEW|PASS OLD|PREGREET|DNSBL rank|HANGUP|DISCONNECT) `), sum(tr.Postscreen)},
		{"dnsblog", count(`dnsblog\[\d+\]: addr \S+ listed by domain `), tr.Dnsblog},
		{"dkim", count(`opendkim\[\d+\]: \w+: (DKIM verification successful|bad signature data|no signature data)$`), sum(tr.PolicyResults["dkim"])},
		{"spf", count(`policyd-spf\[\d+\]: prepend Received-SPF: `), sum(tr.PolicyResults["spf"])},
		{"dmarc", count(`opendmarc\[\d+\]: \w+: \S+ (pass|fail|none)$`), sum(tr.PolicyResults["dmarc"])},
		{"saves", count(`: saved mail to INBOX$`), tr.MailboxSaves},
		{"pickups", count(`pickup\[\d+\]: \w+: uid=\d+ from=<`), tr.Pickups},
		{"warnings", count(`\]: warning: `) - tr.AuthFailures["smtpd"], sum(tr.Warnings)},
		{"stats", count(`anvil\[\d+\]: statistics: `), tr.Stats},
		{"foreign", count(` (kernel|CRON\[\d+\]|systemd\[1\]): `), tr.Unknown["foreign"]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d lines in the output, truth says %d", c.name, c.got, c.want)
		}
		if c.want == 0 && !strings.HasPrefix(c.name, "expired") {
			t.Errorf("%s: none generated in 200000 lines", c.name)
		}
	}
	if tr.Total() != tr.Lines {
		t.Errorf("buckets add up to %d, Lines is %d", tr.Total(), tr.Lines)
	}
	// Every shape the issue asks for shows up.
	for _, stage := range []string{"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE"} {
		if tr.Rejects[stage]["4xx"]+tr.Rejects[stage]["5xx"] == 0 {
			t.Errorf("no %s rejects", stage)
		}
	}
	for _, tp := range []string{"postfix/smtp", "postfix/lmtp", "postfix/local", "postfix/virtual", "postfix-out/smtp"} {
		if tr.Deliveries[tp]["sent"] == 0 {
			t.Errorf("no sent deliveries by %s", tp)
		}
	}
	for _, origin := range []string{"smtpd", "submission", "pickup", "bounce", "relay"} {
		if tr.MessagesReceived[origin] == 0 {
			t.Errorf("no messages received from %s", origin)
		}
	}
	if tr.Expired["postfix/qmgr"] == 0 || tr.Unknown["cut"] == 0 || tr.BurstAuthFailures["ip"] == 0 || tr.BurstAuthFailures["user"] == 0 {
		t.Errorf("missing expired/cut/burst lines: %+v %+v %+v", tr.Expired, tr.Unknown, tr.BurstAuthFailures)
	}
}

func sumStatus(m map[string]map[string]int, status string) int {
	n := 0
	for _, byStatus := range m {
		n += byStatus[status]
	}
	return n
}

func sumNested(m map[string]map[string]int) int {
	n := 0
	for _, inner := range m {
		n += sum(inner)
	}
	return n
}

// TestLifecycles checks the ids that tie lines together: queue ids are
// unique, the first instance's "queued as" names a message the second
// instance received, and every notification has its own message.
func TestLifecycles(t *testing.T) {
	out, tr := generate(t, Config{Seed: 9}, 100000)
	mids := regexp.MustCompile(`(?m) (postfix(?:-out)?)/cleanup\[\d+\]: ([0-9A-F]{10,11}): message-id=`).FindAllSubmatch(out, -1)
	seen := map[string]string{}
	for _, m := range mids {
		id := string(m[2])
		if _, dup := seen[id]; dup {
			t.Fatalf("queue id %s received twice", id)
		}
		seen[id] = string(m[1])
	}
	relays := regexp.MustCompile(`relay=127\.0\.0\.1\[127\.0\.0\.1\]:10026, .* queued as ([0-9A-F]+)\)`).FindAllSubmatch(out, -1)
	if len(relays) == 0 || len(relays) != tr.RelayedToSecond {
		t.Fatalf("%d relayed lines, truth says %d", len(relays), tr.RelayedToSecond)
	}
	for _, m := range relays {
		if seen[string(m[1])] != "postfix-out" {
			t.Fatalf("relayed to %s, which postfix-out never received", m[1])
		}
	}
	ndrs := regexp.MustCompile(`sender non-delivery notification: ([0-9A-F]+)`).FindAllSubmatch(out, -1)
	for _, m := range ndrs {
		if _, ok := seen[string(m[1])]; !ok {
			t.Fatalf("notification %s has no message-id line", m[1])
		}
	}
}

func TestDistinctPools(t *testing.T) {
	cfg := Config{Seed: 3, ClientIPs: 800, Users: 300, Domains: 400}
	s := New(cfg)
	var buf bytes.Buffer
	for s.Truth().DistinctClientIPs < cfg.ClientIPs || s.Truth().DistinctUsers < cfg.Users || s.Truth().DistinctDomains < cfg.Domains {
		if s.Truth().Lines > 100000 {
			t.Fatalf("pools not exhausted after 100000 lines: %+v", s.Truth())
		}
		if err := s.WriteLines(&buf, 1000); err != nil {
			t.Fatal(err)
		}
	}
	tr := s.Truth()
	ips := regexp.MustCompile(`\[(198\.51\.100\.\d+|10\.\d+\.\d+\.\d+|2001:db8:[0-9a-f:]+)\]|(?:rip|client-ip)=([0-9a-f.:]+)`).FindAllSubmatch(buf.Bytes(), -1)
	distinctIPs := map[string]bool{}
	for _, m := range ips {
		distinctIPs[string(m[1])+string(m[2])] = true
	}
	if len(distinctIPs) != tr.DistinctClientIPs || tr.DistinctClientIPs != cfg.ClientIPs {
		t.Errorf("distinct client IPs: %d in the output, truth %d, configured %d", len(distinctIPs), tr.DistinctClientIPs, cfg.ClientIPs)
	}
	users := regexp.MustCompile(`\b[a-z]+\.[a-z]+\d*@example\.(?:com|org|net)\b`).FindAll(buf.Bytes(), -1)
	distinctUsers := map[string]bool{}
	for _, u := range users {
		distinctUsers[string(u)] = true
	}
	if len(distinctUsers) != tr.DistinctUsers || tr.DistinctUsers != cfg.Users {
		t.Errorf("distinct users: %d in the output, truth %d, configured %d", len(distinctUsers), tr.DistinctUsers, cfg.Users)
	}
	if tr.DistinctDomains != cfg.Domains {
		t.Errorf("distinct domains: truth %d, configured %d", tr.DistinctDomains, cfg.Domains)
	}
	t.Logf("pools exhausted after %d lines", tr.Lines)
}

func TestBruteForce(t *testing.T) {
	cfg := Config{Seed: 5, BruteForce: BruteForce{Every: 20, Attempts: 25, IP: "203.0.113.99", User: "ceo@example.org"}}
	out, tr := generate(t, cfg, 30000)
	fromIP := bytes.Count(out, []byte("unknown[203.0.113.99]: SASL "))
	user := regexp.MustCompile(`Disconnected \(auth failed, \d+ attempts in \d+ secs\): user=<ceo@example\.org>`).FindAll(out, -1)
	if fromIP == 0 || fromIP != tr.BurstAuthFailures["ip"] {
		t.Errorf("failures from the burst IP: %d in the output, truth %d", fromIP, tr.BurstAuthFailures["ip"])
	}
	if len(user) == 0 || len(user) != tr.BurstAuthFailures["user"] {
		t.Errorf("failures against the burst user: %d in the output, truth %d", len(user), tr.BurstAuthFailures["user"])
	}
	if tr.BurstAuthFailures["ip"]+tr.BurstAuthFailures["user"] > sum(tr.AuthFailures) {
		t.Error("burst failures are not a subset of auth failures")
	}
	// Every=-1 disables bursts.
	_, none := generate(t, Config{Seed: 5, BruteForce: BruteForce{Every: -1}}, 30000)
	if sum(none.BurstAuthFailures) != 0 {
		t.Errorf("bursts written although disabled: %v", none.BurstAuthFailures)
	}
}

func TestSecondInstanceDisabled(t *testing.T) {
	out, tr := generate(t, Config{Seed: 6, RelayPercent: -1}, 20000)
	if bytes.Contains(out, []byte("postfix-out/")) || tr.RelayedToSecond != 0 {
		t.Error("second instance written although disabled")
	}
}

// fakeClock advances only when slept on.
type fakeClock struct {
	now    time.Time
	slept  time.Duration
	cancel func()
	limit  time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	c.slept += d
	if c.limit > 0 && c.slept >= c.limit {
		c.cancel()
	}
	return ctx.Err()
}

func TestStreamRate(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := New(Config{Seed: 1})
	var buf bytes.Buffer
	if err := s.Stream(context.Background(), &buf, 250, 100, clock); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 250 {
		t.Fatalf("wrote %d lines, want 250", n)
	}
	// 250 lines at 100/s: the first goes out at once, the last at 2.49 s.
	if clock.slept < 2480*time.Millisecond || clock.slept > 2500*time.Millisecond {
		t.Errorf("slept %v for 250 lines at 100/s", clock.slept)
	}

	// Without --lines it runs until the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock = &fakeClock{now: time.Unix(1000, 0), cancel: cancel, limit: 3 * time.Second}
	buf.Reset()
	s = New(Config{Seed: 1})
	err := s.Stream(ctx, &buf, 0, 50, clock)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("endless stream ended with %v", err)
	}
	n := bytes.Count(buf.Bytes(), []byte("\n"))
	if n < 140 || n > 160 || s.Truth().Lines != n {
		t.Errorf("3 s at 50/s wrote %d lines (truth %d)", n, s.Truth().Lines)
	}
	if err := New(Config{}).Stream(context.Background(), io.Discard, 0, 0, nil); err == nil {
		t.Error("an endless unpaced stream on an uncancellable context was accepted")
	}
}

// failWriter fails after some bytes, to check errors carry context.
type failWriter struct{ left int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errors.New("disk full")
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	err := New(Config{}).WriteLines(&failWriter{left: 1 << 20}, 100000)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v", err)
	}
}

func TestAppendDelay(t *testing.T) {
	for ms, want := range map[int64]string{0: "0", 9: "0", 10: "0.01", 55: "0.05", 90: "0.09", 440: "0.44", 1000: "1", 1830: "1.8",
		6200: "6.2", 9999: "9.9", 10000: "10", 30000: "30", 3602000: "3602"} {
		if got := string(appendDelay(nil, ms)); got != want {
			t.Errorf("appendDelay(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestQueueIDs(t *testing.T) {
	s := New(Config{})
	seen := map[string]bool{}
	for i := range 200000 {
		id := s.qid(int64(i) * 7919)
		if len(id) < 10 || len(id) > 11 || strings.ToUpper(id) != id || seen[id] {
			t.Fatalf("bad or repeated queue id %q", id)
		}
		seen[id] = true
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{RFC3164, RFC3339} {
		g, err := ParseFormat(f.String())
		if err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, g, err)
		}
	}
	if _, err := ParseFormat("iso"); err == nil {
		t.Error("ParseFormat accepted iso")
	}
}

func BenchmarkGenerate(b *testing.B) {
	const perOp = 100000
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := New(Config{Seed: uint64(i)})
		if err := s.WriteLines(io.Discard, perOp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*perOp/b.Elapsed().Seconds(), "lines/s")
}
