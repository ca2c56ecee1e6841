package suspend_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type testJournal struct {
	path, vkey string
	j          *journal.Journal
}

func openJournal(t *testing.T, path string) *testJournal {
	t.Helper()
	signer, vkey, _, err := integrity.LoadOrCreateKey(path+".key", "test")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(context.Background(), path, journal.Options{Signer: signer, VerifierKey: vkey, Origin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &testJournal{path: path, vkey: vkey, j: j}
}

func (tj *testJournal) close(t *testing.T) {
	t.Helper()
	if err := tj.j.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tj.j.Close(); err != nil {
		t.Fatal(err)
	}
}

func (tj *testJournal) verify(t *testing.T) {
	t.Helper()
	v, err := integrity.NewVerifier(tj.vkey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := journal.Verify(context.Background(), tj.path, integrity.NewVerifiers(v), nil)
	if err != nil || rep.Problem != nil {
		t.Fatalf("verify: %v %v", err, rep.Problem)
	}
}

func records(t *testing.T, path string) []journal.Stored {
	t.Helper()
	j, err := journal.Open(context.Background(), path, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	out, err := j.Events(context.Background(), journal.Filter{Kinds: []event.Kind{event.KindSuspend, event.KindUnsuspend, event.KindPolicyRefusal, event.KindAuthReport}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJournaledLifecycle: a suspension, a refusal, an expiry and a lift
// are journaled with who and why, survive a restart (Load), and the
// journal verifies.
func TestJournaledLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	clk := &clock{now: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
	tj := openJournal(t, path)
	rec := suspend.NewRecorder(tj.j, nil)
	cfg := suspend.Config{Instance: "mx1", Record: rec.Record, Now: clk.Now}
	st, err := suspend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Suspend(apiv1.SuspendUser, "mallory@example.com", 30*time.Minute, false, suspend.Reject, "phished", "cli:alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Suspend(apiv1.SuspendIP, "192.0.2.9", 0, true, suspend.DeferIfPermit, "scanner", "api:ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Suspend(apiv1.SuspendIP, "192.0.2.10", time.Hour, false, suspend.Reject, "typo", "api:ops"); err != nil {
		t.Fatal(err)
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, Stage: "rcpt", ClientIP: "192.0.2.1", User: "mallory@example.com"}); !d.Refuse || d.Reason != policy.ReasonSuspended {
		t.Errorf("suspended user: %+v", d)
	}
	if _, err := st.Lift(apiv1.SuspendIP, "192.0.2.10", "wrong address", "api:ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lift(apiv1.SuspendIP, "192.0.2.10", "again", "api:ops"); !errors.Is(err, suspend.ErrNotSuspended) {
		t.Errorf("lifting twice: %v", err)
	}
	clk.add(31 * time.Minute)
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, User: "mallory@example.com"}); d.Refuse {
		t.Errorf("refused after its time: %+v", d)
	}
	if n := st.Expire(); n != 1 {
		t.Errorf("expired %d, want 1", n)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	tj.close(t)

	got := records(t, path)
	var lines []string
	for _, s := range got {
		e := s.Event
		lines = append(lines, e.Kind.String()+" "+e.SASLUsername+e.ClientIP+" "+e.Action+" "+e.Check+" "+e.Detail)
	}
	want := []string{
		"suspend mallory@example.com reject cli:alice phished",
		"suspend 192.0.2.9 defer_if_permit api:ops scanner",
		"suspend 192.0.2.10 reject api:ops typo",
		"policy_refusal mallory@example.com192.0.2.1 reject suspended " + suspend.TextSuspended,
		"unsuspend 192.0.2.10 lift api:ops wrong address",
		"unsuspend mallory@example.com expire expiry expired",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("journaled:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	tj.verify(t)

	// A restart: only the permanent IP suspension is in force.
	tj = openJournal(t, path)
	defer tj.close(t)
	st2, _ := suspend.New(suspend.Config{Now: clk.Now})
	if err := st2.Load(context.Background(), tj.j); err != nil {
		t.Fatal(err)
	}
	list := st2.List()
	if len(list) != 1 || list[0].Subject != "192.0.2.9" || !list[0].Until.IsZero() || list[0].By != "api:ops" || list[0].Response != suspend.DeferIfPermit {
		t.Errorf("after a restart: %+v", list)
	}
}

func TestLoadKeepsExpiryTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	clk := &clock{now: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
	tj := openJournal(t, path)
	st, _ := suspend.New(suspend.Config{Now: clk.Now, Record: func(r journal.Record) error {
		return tj.j.Commit(context.Background(), []journal.Record{r}, nil)
	}})
	v, err := st.Suspend(apiv1.SuspendUser, "bob", 90*time.Minute, false, "", "r", "cli:x")
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := suspend.New(suspend.Config{Now: clk.Now})
	if err := st2.Load(context.Background(), tj.j); err != nil {
		t.Fatal(err)
	}
	tj.close(t)
	if l := st2.List(); len(l) != 1 || !l[0].Until.Equal(v.Until) || l[0].Response != suspend.Reject {
		t.Errorf("loaded %+v, want until %v", l, v.Until)
	}
	clk.add(91 * time.Minute)
	if l := st2.List(); len(l) != 0 {
		t.Errorf("listed after its time: %+v", l)
	}
}

func TestAllowListsAndBadInput(t *testing.T) {
	st, err := suspend.New(suspend.Config{
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, AllowUsers: []string{"Postmaster@example.com"},
		Rules: []suspend.Rule{{Detection: suspend.BruteForceIP, Response: suspend.Reject}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ scope, subject, reason, response, err string }{
		{apiv1.SuspendIP, "10.1.2.3", "x", "", "allow-listed"},
		{apiv1.SuspendIP, "::ffff:10.1.2.3", "x", "", "allow-listed"},
		{apiv1.SuspendUser, "postmaster@EXAMPLE.com", "x", "", "allow-listed"},
		{apiv1.SuspendIP, "300.1.2.3", "x", "", `ip "300.1.2.3": not an IP address`},
		{apiv1.SuspendUser, "a b", "x", "", "without spaces"},
		{apiv1.SuspendUser, "bob", "", "", "reason"},
		{apiv1.SuspendUser, "bob", "x", "bounce", `response "bounce"`},
		{"host", "bob", "x", "", `scope "host"`},
	} {
		if _, err := st.Suspend(tc.scope, tc.subject, 0, false, tc.response, tc.reason, "t"); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s %q: %v, want %q", tc.scope, tc.subject, err, tc.err)
		}
	}
	if _, err := suspend.New(suspend.Config{Rules: []suspend.Rule{{Detection: "everything", Response: "reject"}}}); err == nil || !strings.Contains(err.Error(), `detection "everything"`) {
		t.Errorf("an unknown rule: %v", err)
	}
}

// TestRulesFromOffenders: the rules read the log's offender windows; the
// compromised rule needs the failures-then-sending pattern; the rule's
// suspension is journaled by its name.
func TestRulesFromOffenders(t *testing.T) {
	now := time.Now()
	off := offenders.New(offenders.Config{Threshold: 2, SendThreshold: 3})
	for i := 0; i < 3; i++ {
		off.Observe(&event.Event{Kind: event.KindAuthFailure, Time: now, ClientIP: "192.0.2.5", SASLUsername: "victim@example.com"})
	}
	for i := 0; i < 4; i++ {
		off.Observe(&event.Event{Kind: event.KindDelivery, Time: now, ClientIP: "192.0.2.5", SASLUsername: "victim@example.com"})
		off.Observe(&event.Event{Kind: event.KindDelivery, Time: now, ClientIP: "198.51.100.1", SASLUsername: "bulk@example.com"})
	}
	var recs []journal.Record
	var mu sync.Mutex
	st, err := suspend.New(suspend.Config{Offenders: off, DryRun: true,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("192.0.2.5/32")},
		Rules:         []suspend.Rule{{Detection: suspend.Compromised, For: time.Hour, Response: suspend.Hold}},
		Record:        func(r journal.Record) error { mu.Lock(); recs = append(recs, r); mu.Unlock(); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Sending from elsewhere, after the failures from 192.0.2.5.
	d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, Stage: "rcpt", ClientIP: "203.0.113.9", User: "victim@example.com"})
	if !d.Refuse || !d.DryRun || d.Reason != policy.ReasonCompromised || d.Response != suspend.Hold {
		t.Errorf("compromised account: %+v", d)
	}
	if policy.PostfixAction(d) != "DUNNO" {
		t.Errorf("dry run answered %q", policy.PostfixAction(d))
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, Stage: "rcpt", ClientIP: "198.51.100.1", User: "bulk@example.com"}); d.Refuse {
		t.Errorf("a send offender without failures under the compromised rule: %+v", d)
	}
	// The allow-listed network is never refused, whatever the user.
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, ClientIP: "192.0.2.5", User: "victim@example.com"}); d.Refuse || d.Reason != policy.ReasonAllowlisted {
		t.Errorf("allow-listed: %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recs) != 2 || recs[0].Event.Kind != event.KindSuspend || recs[0].Event.Check != "rule:compromised" ||
		recs[1].Event.Kind != event.KindPolicyRefusal || recs[1].Event.Action != "would_hold" {
		t.Errorf("journaled %+v", recs)
	}
}

// TestPrivacy: under an hmac policy the journal holds pseudonyms, and a
// suspension still matches the user after a restart.
func TestPrivacy(t *testing.T) {
	red, err := privacy.New(privacy.Config{Secret: []byte("0123456789abcdef0123"), Fields: map[string]privacy.Policy{"sasl_username": privacy.HMAC}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []journal.Record
	st, _ := suspend.New(suspend.Config{Privacy: red, Record: func(r journal.Record) error { recs = append(recs, r); return nil }})
	if _, err := st.Suspend(apiv1.SuspendUser, "alice@example.com", time.Hour, false, "", "x", "t"); err != nil {
		t.Fatal(err)
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolDovecot, User: "alice@example.com"}); !d.Refuse {
		t.Errorf("not refused: %+v", d)
	}
	for _, r := range recs {
		if strings.Contains(r.Event.Raw+r.Event.SASLUsername, "alice") {
			t.Errorf("journaled the user name: %+v", r.Event)
		}
	}
}

// TestBounded: at MaxSuspensions a manual suspension is refused, and a
// rule still refuses (journaled) without growing the store.
func TestBounded(t *testing.T) {
	off := offenders.New(offenders.Config{Threshold: 1})
	for i := 0; i < 2; i++ {
		off.Observe(&event.Event{Kind: event.KindAuthFailure, Time: time.Now(), ClientIP: "192.0.2.77"})
	}
	st, _ := suspend.New(suspend.Config{MaxSuspensions: 2, Offenders: off, Rules: []suspend.Rule{{Detection: suspend.BruteForceIP, Response: suspend.Reject}}})
	for _, u := range []string{"a", "b"} {
		if _, err := st.Suspend(apiv1.SuspendUser, u, 0, false, "", "x", "t"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Suspend(apiv1.SuspendUser, "c", 0, false, "", "x", "t"); !errors.Is(err, suspend.ErrFull) {
		t.Errorf("a third: %v", err)
	}
	if _, err := st.Suspend(apiv1.SuspendUser, "a", time.Minute, false, "", "again", "t"); err != nil {
		t.Errorf("replacing one at the bound: %v", err)
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, ClientIP: "192.0.2.77"}); !d.Refuse || d.Reason != policy.ReasonBruteForce {
		t.Errorf("the rule at the bound: %+v", d)
	}
	if n := len(st.List()); n != 2 {
		t.Errorf("%d in force, bound 2", n)
	}
}

// TestForgetAsARestartWould: after an erasure a running store holds the
// suspensions as Load rebuilds them from the rewritten journal: the erased
// subject is no longer refused (nor named: the stand-in replaces it in the
// subject and the reason), and the others are untouched.
func TestForgetAsARestartWould(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	clk := &clock{now: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
	tj := openJournal(t, path)
	defer tj.close(t)
	rec := suspend.NewRecorder(tj.j, nil)
	defer rec.Close()
	st, err := suspend.New(suspend.Config{Instance: "mx1", Record: rec.Record, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		scope, subject, reason string
		permanent              bool
	}{
		{apiv1.SuspendUser, "Mallory@Example.com", "phished: mallory@example.com sent spam", false},
		{apiv1.SuspendUser, "bob@example.com", "phished", false},
		{apiv1.SuspendIP, "192.0.2.9", "scanner, sent as mallory@example.com", true},
	} {
		if _, err := st.Suspend(s.scope, s.subject, time.Hour, s.permanent, suspend.Reject, s.reason, "cli:alice"); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Second)
	}
	mallory := policy.Query{Protocol: policy.ProtocolPostfix, Stage: "rcpt", ClientIP: "198.51.100.7", User: "Mallory@Example.com"}
	if d := st.Decide(mallory); !d.Refuse {
		t.Fatalf("suspended user not refused: %+v", d)
	}
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	res, err := tj.j.Erase(context.Background(), []string{"mallory@example.com"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	st.Forget([]string{"mallory@example.com"}, res.StandIn)

	if d := st.Decide(mallory); d.Refuse {
		t.Errorf("the erased user is still refused: %+v", d)
	}
	if _, err := st.Lift(apiv1.SuspendUser, "Mallory@Example.com", "x", "t"); !errors.Is(err, suspend.ErrNotSuspended) {
		t.Errorf("lifting the erased user: %v, want ErrNotSuspended", err)
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolPostfix, Stage: "rcpt", ClientIP: "192.0.2.9", User: "bob@example.com"}); !d.Refuse {
		t.Errorf("the other suspensions went too: %+v", d)
	}

	restarted, _ := suspend.New(suspend.Config{Now: clk.Now})
	if err := restarted.Load(context.Background(), tj.j); err != nil {
		t.Fatal(err)
	}
	running, loaded := st.List(), restarted.List()
	for i := range running {
		running[i].Seq = 0 // journal sequence numbers are Load's alone
	}
	for i := range loaded {
		loaded[i].Seq = 0
	}
	if len(running) != 3 || !reflect.DeepEqual(running, loaded) {
		t.Errorf("running store after the erasure:\n%+v\nafter a restart:\n%+v", running, loaded)
	}
	var named []string
	for _, v := range running {
		if strings.Contains(strings.ToLower(v.Subject+v.Reason+v.By), "mallory") {
			t.Errorf("still named: %+v", v)
		}
		if v.Subject == res.StandIn {
			named = append(named, v.Reason)
		}
	}
	if want := []string{"phished: " + res.StandIn + " sent spam"}; !reflect.DeepEqual(named, want) {
		t.Errorf("suspensions under the stand-in %s: reasons %q, want %q", res.StandIn, named, want)
	}
	if _, err := st.Lift(apiv1.SuspendUser, res.StandIn, "erased", "t"); err != nil {
		t.Errorf("lifting the suspension by its stand-in: %v", err)
	}
}

// TestForgetDropsReports: Dovecot's reports about an erased user leave
// the windows the brute-force rule reads; the other users' stay.
func TestForgetDropsReports(t *testing.T) {
	st, err := suspend.New(suspend.Config{
		Windows: offenders.Config{Threshold: 2},
		Rules:   []suspend.Rule{{Detection: suspend.BruteForceUser, For: time.Hour, Response: suspend.Reject}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for _, u := range []string{"eve@example.com", "carol@example.com"} {
			st.Report(policy.Report{ClientIP: "203.0.113.4", User: u, Service: "imap"})
		}
	}
	st.Forget([]string{"EVE@example.com"}, "[erased:1]")
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolDovecot, User: "eve@example.com"}); d.Refuse {
		t.Errorf("refused on the erased user's reports: %+v", d)
	}
	if d := st.Decide(policy.Query{Protocol: policy.ProtocolDovecot, User: "carol@example.com"}); !d.Refuse || d.Reason != policy.ReasonBruteForce {
		t.Errorf("the other user's reports: %+v", d)
	}
}
