package offenders

import (
	"bufio"
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// t0 is aligned to every bucket width the tests use, so bucket edges fall
// on round offsets from it.
var t0 = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func authFail(at time.Time, ip, user string) *event.Event {
	return &event.Event{Time: at, Kind: event.KindAuthFailure, Service: "postfix/submission", Program: "smtpd", ClientIP: ip, SASLUsername: user}
}

func delivery(at time.Time, user, ip string) *event.Event {
	return &event.Event{Time: at, Kind: event.KindDelivery, Service: "postfix", Program: "smtp", Status: "sent", SASLUsername: user, ClientIP: ip}
}

func parseLine(t testing.TB, line string) *event.Event {
	t.Helper()
	p := &parser.Parser{Location: time.UTC}
	e := p.Parse(line, t0)
	return &e
}

func find(list []Offender, sc Scope, key string) (Offender, bool) {
	for _, o := range list {
		if o.Scope == sc && o.Key == key {
			return o, true
		}
	}
	return Offender{}, false
}

func TestThresholdBoundary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		scope   Scope
		event   func(i int) *event.Event
		wantOff bool
	}{
		{"ip at threshold", 10, ScopeIP, func(i int) *event.Event { return authFail(t0.Add(time.Duration(i)*time.Second), "198.51.100.7", "") }, false},
		{"ip over threshold", 11, ScopeIP, func(i int) *event.Event { return authFail(t0.Add(time.Duration(i)*time.Second), "198.51.100.7", "") }, true},
		{"user at threshold", 10, ScopeUser, func(i int) *event.Event {
			return authFail(t0.Add(time.Duration(i)*time.Second), "", "bob@example.com")
		}, false},
		{"user over threshold", 11, ScopeUser, func(i int) *event.Event {
			return authFail(t0.Add(time.Duration(i)*time.Second), "", "bob@example.com")
		}, true},
		{"send at threshold", 20, ScopeSend, func(i int) *event.Event {
			return delivery(t0.Add(time.Duration(i)*time.Second), "bob@example.com", "")
		}, false},
		{"send over threshold", 21, ScopeSend, func(i int) *event.Event {
			return delivery(t0.Add(time.Duration(i)*time.Second), "bob@example.com", "")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(Config{Threshold: 10, SendThreshold: 20})
			var key string
			for i := range tc.n {
				e := tc.event(i)
				key = e.ClientIP + e.SASLUsername
				tr.Observe(e)
			}
			want := 0
			if tc.wantOff {
				want = 1
			}
			if got := tr.Active(tc.scope); got != want {
				t.Errorf("Active(%s) = %d, want %d", tc.scope, got, want)
			}
			o, ok := find(tr.Offenders(), tc.scope, key)
			if ok != tc.wantOff {
				t.Fatalf("listed as offender: %v, want %v", ok, tc.wantOff)
			}
			if !ok {
				return
			}
			last := t0.Add(time.Duration(tc.n-1) * time.Second)
			if o.Count != tc.n || o.Peak != tc.n || !o.Active || !o.FirstSeen.Equal(t0) || !o.LastSeen.Equal(last) {
				t.Errorf("offender = %+v, want count and peak %d, active, first %v, last %v", o, tc.n, t0, last)
			}
		})
	}
}

// Dovecot's login process logs one line per session however many passwords
// it tried; each attempt is a guess, so N attempts count N.
func TestDovecotAttempts(t *testing.T) {
	for _, tc := range []struct {
		line    string
		wantOff bool
	}{
		{`Jun  1 00:00:05 mail dovecot: imap-login: Disconnected (auth failed, 10 attempts in 24 secs): user=<admin@example.com>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<w+SdnNy5/KRTYRQZ>`, false},
		{`Jun  1 00:00:05 mail dovecot: imap-login: Disconnected (auth failed, 11 attempts in 24 secs): user=<admin@example.com>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<w+SdnNy5/KRTYRQZ>`, true},
	} {
		e := parseLine(t, tc.line)
		if e.Kind != event.KindAuthFailure || e.Attempts == 0 {
			t.Fatalf("parser gave kind %v attempts %d for %q", e.Kind, e.Attempts, tc.line)
		}
		tr := New(Config{})
		tr.Observe(e)
		for _, sc := range []Scope{ScopeIP, ScopeUser} {
			if got := tr.Active(sc) == 1; got != tc.wantOff {
				t.Errorf("%d attempts: %s offender %v, want %v", e.Attempts, sc, got, tc.wantOff)
			}
		}
	}
	// A line without a count (smtpd's SASL warning, a real corpus line)
	// counts one.
	tr := New(Config{})
	e := parseLine(t, `Jan 1 00:00:00 hostname postfix/smtpd[12345]: warning: example.com[123.45.67.89]: SASL LOGIN authentication failed: xxx`)
	for range 10 {
		tr.Observe(e)
	}
	if tr.Active(ScopeIP) != 0 {
		t.Error("10 single failures made an offender")
	}
	tr.Observe(e)
	if tr.Active(ScopeIP) != 1 {
		t.Error("11 single failures made no offender")
	}
}

func TestWindowSliding(t *testing.T) {
	// Window 5m: buckets of 30s. An event counts while now is fewer than 10
	// buckets after its own.
	const ip = "198.51.100.7"
	at := func(d time.Duration) *event.Event { return authFail(t0.Add(d), ip, "") }
	for _, tc := range []struct {
		name      string
		events    []time.Duration // offsets of failures from ip
		probe     time.Duration   // then log time moves here (another key's event)
		wantCount int
	}{
		{"all in window", rep(11, 0), 4*time.Minute + 29*time.Second, 11},
		{"last bucket of the window", rep(11, 0), 4*time.Minute + 30*time.Second - 1, 11},
		{"older than the window", rep(11, 0), 5 * time.Minute, 0},
		{"half slid out", append(rep(6, 0), rep(6, 3*time.Minute)...), 5*time.Minute + 30*time.Second, 6},
		{"both halves in", append(rep(6, 0), rep(6, 3*time.Minute)...), 4 * time.Minute, 12},
		{"late event beyond the window is ignored", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(Config{Window: 5 * time.Minute, Threshold: 10})
			for _, d := range tc.events {
				tr.Observe(at(d))
			}
			tr.Observe(authFail(t0.Add(tc.probe), "192.0.2.1", ""))
			if tc.events == nil {
				// Log time is t0 now; a failure 5m older is out of the
				// window before it arrives.
				for range 11 {
					tr.Observe(at(-5 * time.Minute))
				}
				if s := tr.Stats(ScopeIP); s.Keys != 1 {
					t.Errorf("an event older than the window was tracked: %d keys", s.Keys)
				}
			}
			want := 0
			if tc.wantCount > 10 {
				want = 1
			}
			if got := tr.Active(ScopeIP); got != want {
				t.Errorf("Active = %d, want %d", got, want)
			}
			o, ok := find(tr.Offenders(), ScopeIP, ip)
			if len(tc.events) > 10 && !ok {
				t.Fatal("the key never became an offender")
			}
			if ok && (o.Count != tc.wantCount || o.Active != (want == 1)) {
				t.Errorf("offender %+v, want count %d", o, tc.wantCount)
			}
		})
	}
}

func rep(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// A key that offends, drains and offends again keeps one record holding
// its latest run.
func TestRuns(t *testing.T) {
	tr := New(Config{})
	const ip = "198.51.100.7"
	for i := range 15 {
		tr.Observe(authFail(t0.Add(time.Duration(i)*time.Second), ip, ""))
	}
	second := t0.Add(time.Hour)
	for i := range 12 {
		tr.Observe(authFail(second.Add(time.Duration(i)*time.Second), ip, ""))
	}
	list := tr.Offenders()
	if len(list) != 1 {
		t.Fatalf("%d records, want 1: %+v", len(list), list)
	}
	o := list[0]
	if !o.FirstSeen.Equal(second) || o.Peak != 12 || o.Count != 12 || !o.LastSeen.Equal(second.Add(11*time.Second)) {
		t.Errorf("second run = %+v, want first %v, peak and count 12", o, second)
	}
}

func TestHistoryBound(t *testing.T) {
	tr := New(Config{History: 2})
	ips := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	for k, ip := range ips {
		for i := range 11 {
			tr.Observe(authFail(t0.Add(time.Duration(k)*time.Minute+time.Duration(i)*time.Second), ip, ""))
		}
	}
	list := tr.Offenders()
	if len(list) != 2 || list[0].Key != ips[2] || list[1].Key != ips[1] {
		t.Errorf("offenders = %+v, want the two most recent, newest first", list)
	}
	// The forgotten record does not forget the key's window.
	if got := tr.Active(ScopeIP); got != 3 {
		t.Errorf("Active = %d, want 3", got)
	}
}

func TestIgnored(t *testing.T) {
	tr := New(Config{Threshold: 1})
	for _, e := range []*event.Event{
		{Time: t0, Kind: event.KindLogin, ClientIP: "192.0.2.1", SASLUsername: "bob"},
		{Time: t0, Kind: event.KindConnect, ClientIP: "192.0.2.1"},
		{Time: t0, Kind: event.KindAuthFailure},                     // nothing to count for
		{Time: t0, Kind: event.KindDelivery, ClientIP: "192.0.2.1"}, // not from a SASL session
		{Time: t0, Kind: event.KindReject, ClientIP: "192.0.2.1", SASLUsername: "bob"},
	} {
		tr.Observe(e)
		tr.Observe(e)
	}
	for _, sc := range Scopes() {
		if s := tr.Stats(sc); s.Keys != 0 {
			t.Errorf("%s: %d keys tracked from events that are not counted", sc, s.Keys)
		}
	}
}

func TestZeroTimeCountsAtNow(t *testing.T) {
	tr := New(Config{})
	tr.Observe(authFail(t0, "192.0.2.9", ""))
	for range 11 {
		tr.Observe(authFail(time.Time{}, "192.0.2.1", ""))
	}
	if got := tr.Active(ScopeIP); got != 1 {
		t.Fatalf("Active = %d, want 1", got)
	}
	if o, _ := find(tr.Offenders(), ScopeIP, "192.0.2.1"); !o.FirstSeen.Equal(t0) {
		t.Errorf("first seen %v, want the newest observed time %v", o.FirstSeen, t0)
	}
	if !tr.Now().Equal(t0) {
		t.Errorf("Now = %v, want %v", tr.Now(), t0)
	}
}

func TestAdvanceDrains(t *testing.T) {
	tr := New(Config{})
	for range 11 {
		tr.Observe(authFail(t0, "192.0.2.1", "bob"))
	}
	tr.Advance(t0.Add(4 * time.Minute))
	if tr.Active(ScopeIP) != 1 || tr.Active(ScopeUser) != 1 {
		t.Fatal("offenders drained before the window passed")
	}
	tr.Advance(t0.Add(-time.Hour)) // time never goes back
	tr.Advance(t0.Add(5 * time.Minute))
	if tr.Active(ScopeIP) != 0 || tr.Active(ScopeUser) != 0 {
		t.Error("offenders still active after the window passed")
	}
}

func TestEviction(t *testing.T) {
	tr := New(Config{MaxKeys: 3})
	obs := func(ip string, n int) {
		for range n {
			tr.Observe(authFail(t0, ip, ""))
		}
	}
	obs("192.0.2.1", 11) // an offender
	obs("192.0.2.2", 5)
	obs("192.0.2.3", 5)
	obs("192.0.2.2", 1) // .1 is now the least recently seen
	obs("192.0.2.4", 1)
	if s := tr.Stats(ScopeIP); s.Keys != 3 || s.Evictions != 1 {
		t.Fatalf("stats %+v, want 3 keys, 1 eviction", s)
	}
	if got := tr.Active(ScopeIP); got != 0 {
		t.Errorf("Active = %d after the offender was evicted", got)
	}
	o, ok := find(tr.Offenders(), ScopeIP, "192.0.2.1")
	if !ok || o.Active || o.Count != 0 || o.Peak != 11 {
		t.Errorf("evicted offender record %+v, want inactive, count 0, peak 11", o)
	}
	// .3 is next in line; .2 was refreshed.
	obs("192.0.2.5", 1)
	obs("192.0.2.2", 5) // 11 in total: its count survived
	if got := tr.Active(ScopeIP); got != 1 {
		t.Errorf("Active = %d, want 1 (192.0.2.2 kept its count)", got)
	}
	if s := tr.Stats(ScopeIP); s.Evictions != 2 {
		t.Errorf("evictions %d, want 2", s.Evictions)
	}
	// An evicted key starts again from zero.
	obs("192.0.2.1", 1)
	if o, _ := find(tr.Offenders(), ScopeIP, "192.0.2.1"); o.Count != 1 || o.Active || o.Peak != 11 {
		t.Errorf("re-inserted key %+v, want count 1, inactive, the old peak 11", o)
	}
}

// The compromised-account pattern: guesses from an IP, then a flood of mail
// from a SASL session on that IP. The delivery events are real corpus lines
// with the fields the correlator adds.
func TestSendAfterFailures(t *testing.T) {
	base := parseLine(t, `Dec  9 10:18:24 mail postfix/smtp[20055]: 1310930001DB: to=<recipient1@dst1.example.com>, relay=gmail-smtp-in.l.google.com[74.125.206.26]:25, delay=0.55, delays=0.02/0.06/0.16/0.31, dsn=2.0.0, status=sent (250 2.0.0 OK  1607509104 z6si1138927wrp.107 - gsmtp)`)
	fail := parseLine(t, `Dec  9 10:10:00 mail postfix/submission/smtpd[20040]: warning: client.example.com[89.247.252.52]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`)
	if base.Kind != event.KindDelivery || fail.Kind != event.KindAuthFailure {
		t.Fatalf("corpus lines parsed as %v and %v", base.Kind, fail.Kind)
	}
	for _, tc := range []struct {
		name      string
		failures  int
		failAt    time.Duration // before the first delivery
		ip        string
		wantAfter bool
	}{
		{"failures shortly before", 3, 8 * time.Minute, "89.247.252.52", false},
		{"failures within the auth window", 3, 2 * time.Minute, "89.247.252.52", true},
		{"failures from another IP", 3, 2 * time.Minute, "192.0.2.99", false},
		{"no failures", 0, 0, "89.247.252.52", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(Config{SendThreshold: 20})
			start := base.Time
			for range tc.failures {
				f := *fail
				f.Time = start.Add(-tc.failAt)
				tr.Observe(&f)
			}
			for i := range 25 {
				d := *base
				d.Time = start.Add(time.Duration(i) * 10 * time.Second)
				d.SASLUsername, d.ClientIP = "sender@mydomain.com", tc.ip
				tr.Observe(&d)
			}
			if got := tr.Active(ScopeSend); got != 1 {
				t.Fatalf("Active(send) = %d, want 1", got)
			}
			o, ok := find(tr.Offenders(), ScopeSend, "sender@mydomain.com")
			if !ok || o.Count != 25 || o.Peak != 25 || !o.FirstSeen.Equal(start) {
				t.Fatalf("send offender %+v, want count 25 from %v", o, start)
			}
			if o.AfterFailures != tc.wantAfter {
				t.Errorf("after failures = %v, want %v", o.AfterFailures, tc.wantAfter)
			}
		})
	}
}

// The simulator's bursts must be found, and nothing else: its ordinary
// failures are spread over thousands of addresses and hundreds of users.
func TestSimulatorBruteForce(t *testing.T) {
	const attempts = 60
	bf := simulate.BruteForce{Every: 300, Attempts: attempts, IP: "203.0.113.99", User: "ceo@example.org"}
	s := simulate.New(simulate.Config{Seed: 11, BruteForce: bf})
	var buf bytes.Buffer
	if err := s.WriteLines(&buf, 60000); err != nil {
		t.Fatal(err)
	}
	truth := s.Truth()
	if truth.BurstAuthFailures["ip"] < 2*attempts || truth.BurstAuthFailures["user"] < 2*attempts {
		t.Fatalf("too few bursts for the test: %v", truth.BurstAuthFailures)
	}
	p := &parser.Parser{Location: time.UTC}
	tr := New(Config{})
	var e event.Event
	failures, maxActive := 0, map[Scope]int{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		p.ParseInto(&e, sc.Text(), t0)
		if e.Kind == event.KindAuthFailure {
			failures++
		}
		tr.Observe(&e)
		if e.Kind == event.KindAuthFailure {
			for _, s := range []Scope{ScopeIP, ScopeUser} {
				maxActive[s] = max(maxActive[s], tr.Active(s))
			}
		}
	}
	if n := truth.AuthFailures["smtpd"] + truth.AuthFailures["dovecot"]; failures != n {
		t.Fatalf("parsed %d failures, the simulator wrote %d", failures, n)
	}
	if maxActive[ScopeIP] != 1 || maxActive[ScopeUser] != 1 {
		t.Errorf("most offenders at once: %v, want 1 per scope (the burst)", maxActive)
	}
	got := map[string]Offender{}
	for _, o := range tr.Offenders() {
		got[string(o.Scope)+" "+o.Key] = o
	}
	if len(got) != 2 {
		t.Errorf("offenders %v, want only the burst IP and user", got)
	}
	for _, k := range []string{"ip " + bf.IP, "user " + bf.User} {
		o, ok := got[k]
		if !ok {
			t.Errorf("%s not found", k)
			continue
		}
		// Every failure of one burst falls in one window, and the bursts
		// are further apart than a window.
		if o.Peak != attempts {
			t.Errorf("%s peak %d, want %d", k, o.Peak, attempts)
		}
		if !o.LastSeen.After(o.FirstSeen) {
			t.Errorf("%s seen from %v to %v", k, o.FirstSeen, o.LastSeen)
		}
	}
}

func TestConcurrent(t *testing.T) {
	tr := New(Config{MaxKeys: 500})
	const writers, per = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, sc := range Scopes() {
				tr.Active(sc)
				tr.Stats(sc)
			}
			for _, o := range tr.Offenders() {
				_ = o.Key
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				tr.Observe(authFail(at, "203.0.113.66", ""))
				tr.Observe(authFail(at, fmt.Sprintf("10.%d.%d.%d", w, i/256, i%256), ""))
				tr.Observe(delivery(at, "bob@example.com", "203.0.113.66"))
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	o, ok := find(tr.Offenders(), ScopeIP, "203.0.113.66")
	if !ok || o.Count != writers*per {
		t.Errorf("shared IP %+v, want count %d", o, writers*per)
	}
	if s := tr.Stats(ScopeIP); s.Keys != 500 || s.Evictions != writers*per+1-500 {
		t.Errorf("ip stats %+v, want 500 keys and %d evictions", s, writers*per+1-500)
	}
	if o, _ := find(tr.Offenders(), ScopeSend, "bob@example.com"); o.Count != writers*per || !o.AfterFailures {
		t.Errorf("send offender %+v", o)
	}
}

// Memory per key must stay constant and small: 100k keys per scope is the
// default bound.
func TestMemoryPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k keys")
	}
	const n = 100000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := New(Config{MaxKeys: n})
	for i, k := range keys {
		tr.Observe(authFail(t0.Add(time.Duration(i)*time.Millisecond), k, ""))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per tracked key (key strings of ~%d bytes included)", per, len(keys[n-1]))
	if per > 300 {
		t.Errorf("%.0f bytes per key", per)
	}
	runtime.KeepAlive(tr)
}

// Which keys a failure line counts for: real corpus lines and the Dovecot
// and saslauthd shapes of the parser's tests. Back-end verdicts (Dovecot's
// auth process, saslauthd) count for no key: the front end's line for the
// same attempt does (issue 20: they were counted twice).
func TestFailureLines(t *testing.T) {
	for _, tc := range []struct {
		line     string
		ip, user string
		weight   int
	}{
		// digineo+postfix_exporter: smtpd names no user.
		{`Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: laptop.local[192.168.1.2]: SASL PLAIN authentication failed: generic failure`, "192.168.1.2", "", 1},
		// lightmeterio+ControlCenter: a back-end verdict.
		{`Jan 28 11:05:26 mail dovecot: auth: passwd-file(h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com): unknown user`, "", "", 0},
		{`Mar  3 09:00:01 mx dovecot: auth-worker(123): sql(bob@example.org,203.0.113.7,<Ab12Cd34>): Password mismatch`, "", "", 0},
		{`Mar  3 09:00:01 mx dovecot: auth: passwd-file(?,203.0.113.9): unknown user`, "", "", 0},
		{`Mar  3 09:00:01 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<bob@example.org>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, rport=51234, lport=993, TLS, session=<abcdEFGH1234>`, "203.0.113.7", "bob@example.org", 3},
		{`Mar  3 09:00:01 mx saslauthd[811]: do_auth         : auth failure: [user=bob] [service=smtp] [realm=example.org] [mech=pam] [reason=PAM auth error]`, "", "", 0},
	} {
		e := parseLine(t, tc.line)
		if want := event.KindAuthFailure; tc.weight == 0 {
			if e.Kind != event.KindAuthBackend {
				t.Fatalf("%q parsed as %v, want %v", tc.line, e.Kind, event.KindAuthBackend)
			}
		} else if e.Kind != want {
			t.Fatalf("%q parsed as %v", tc.line, e.Kind)
		}
		tr := New(Config{Threshold: 1})
		tr.Observe(e)
		for _, c := range []struct {
			sc  Scope
			key string
		}{{ScopeIP, tc.ip}, {ScopeUser, tc.user}} {
			want := 0
			if c.key != "" {
				want = 1
			}
			if s := tr.Stats(c.sc); s.Keys != want {
				t.Errorf("%q: %d %s keys, want %d", tc.line, s.Keys, c.sc, want)
			}
			if c.key == "" {
				continue
			}
			// With threshold 1, a weight of 2 or more makes an offender.
			o, ok := find(tr.Offenders(), c.sc, c.key)
			if ok != (tc.weight > 1) || (ok && o.Count != tc.weight) {
				t.Errorf("%q: %s offender %v %+v, want count %d", tc.line, c.sc, ok, o, tc.weight)
			}
		}
	}
}

// A burst that simply ends must stop being an offence as the log goes on
// with other traffic: any event's time drains the windows.
func TestOtherEventsDrain(t *testing.T) {
	tr := New(Config{})
	for range 11 {
		tr.Observe(authFail(t0, "192.0.2.1", "bob"))
	}
	connect := func(at time.Time) *event.Event {
		return &event.Event{Time: at, Kind: event.KindConnect, ClientIP: "198.51.100.9"}
	}
	tr.Observe(connect(t0.Add(4 * time.Minute)))
	if tr.Active(ScopeIP) != 1 {
		t.Fatal("offender drained before its window passed")
	}
	tr.Observe(connect(t0.Add(5 * time.Minute)))
	if tr.Active(ScopeIP) != 0 || tr.Active(ScopeUser) != 0 {
		t.Error("offender still active after later traffic passed its window")
	}
	tr.Observe(&event.Event{Kind: event.KindConnect}) // no time: no move
	if got := tr.Now(); !got.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("clock = %v, want %v", got, t0.Add(5*time.Minute))
	}
}

// TestForget: an erased address leaves the windows and the history, in
// any letter case; other keys stay.
func TestForget(t *testing.T) {
	tr := New(Config{})
	for i := range 12 {
		at := t0.Add(time.Duration(i) * time.Second)
		tr.Observe(authFail(at, "198.51.100.7", "Alice@Example.org"))
		tr.Observe(authFail(at, "", "bob@example.com"))
	}
	list := tr.Offenders()
	if _, ok := find(list, ScopeUser, "Alice@Example.org"); !ok {
		t.Fatalf("fixture: alice is no offender: %+v", list)
	}
	tr.Forget([]string{"alice@example.org"})
	list = tr.Offenders()
	if o, ok := find(list, ScopeUser, "Alice@Example.org"); ok {
		t.Errorf("alice still listed: %+v", o)
	}
	if _, ok := find(list, ScopeUser, "bob@example.com"); !ok {
		t.Error("bob is gone too")
	}
	if _, ok := find(list, ScopeIP, "198.51.100.7"); !ok {
		t.Error("the IP is gone too")
	}
	if s := tr.Stats(ScopeUser); s.Keys != 1 || s.Evictions != 0 {
		t.Errorf("user scope after forget: %+v, want bob's key alone and no eviction", s)
	}
	// Alice's window starts again from nothing.
	tr.Observe(authFail(t0.Add(13*time.Second), "", "alice@example.org"))
	if _, ok := find(tr.Offenders(), ScopeUser, "alice@example.org"); ok {
		t.Error("one failure after forget made alice an offender again")
	}
}
