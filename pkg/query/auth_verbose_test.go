package query_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/metrics"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/query"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// authSessions are the same logins logged three ways: Dovecot with
// auth_verbose off, with auth_verbose = yes (its auth process adds a
// passdb/userdb verdict per attempt, the login process its own refusals,
// saslauthd and pam_unix theirs) and with auth_debug as well. Lines are
// written the way Postfix 3.7, Dovecot 2.3, saslauthd and pam_unix write
// them. only is "" for lines every setting writes, "verbose" for
// auth_verbose (and auth_debug), "debug" for auth_debug alone.
var authSessions = []struct{ only, line string }{
	// smtpd with Dovecot SASL: three wrong passwords for bob.
	{"", `Dec  2 10:00:01 mx1 postfix/submission/smtpd[2001]: connect from unknown[203.0.113.10]`},
	{"verbose", `Dec  2 10:00:02 mx1 dovecot: auth: passwd-file(bob@example.test,203.0.113.10): Password mismatch`},
	{"debug", "Dec  2 10:00:02 mx1 dovecot: auth: Debug: client passdb out: FAIL\t1\tuser=bob@example.test"},
	{"", `Dec  2 10:00:02 mx1 postfix/submission/smtpd[2001]: warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob@example.test`},
	{"verbose", `Dec  2 10:00:03 mx1 dovecot: auth: passwd-file(bob@example.test,203.0.113.10): Password mismatch`},
	{"debug", "Dec  2 10:00:03 mx1 dovecot: auth: Debug: client passdb out: FAIL\t2\tuser=bob@example.test"},
	{"", `Dec  2 10:00:03 mx1 postfix/submission/smtpd[2001]: warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob@example.test`},
	{"verbose", `Dec  2 10:00:04 mx1 dovecot: auth: passwd-file(bob@example.test,203.0.113.10): Password mismatch`},
	{"", `Dec  2 10:00:04 mx1 postfix/submission/smtpd[2001]: warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob@example.test`},
	{"", `Dec  2 10:00:05 mx1 postfix/submission/smtpd[2001]: disconnect from unknown[203.0.113.10] ehlo=1 auth=0/3 quit=1 commands=2/5`},
	// IMAP: two wrong passwords for alice in one session.
	{"verbose", `Dec  2 10:01:01 mx1 dovecot: auth: passwd-file(alice@example.test,203.0.113.20,<AbCd1234>): Password mismatch`},
	{"verbose", `Dec  2 10:01:03 mx1 dovecot: auth: passwd-file(alice@example.test,203.0.113.20,<AbCd1234>): Password mismatch`},
	{"", `Dec  2 10:01:05 mx1 dovecot: imap-login: Disconnected (auth failed, 2 attempts in 5 secs): user=<alice@example.test>, method=PLAIN, rip=203.0.113.20, lip=192.0.2.1, TLS, session=<AbCd1234>`},
	// POP3: a user that does not exist, checked by an SQL worker.
	{"verbose", `Dec  2 10:02:01 mx1 dovecot: auth-worker(3001): conn unix:auth-worker (pid=3000,uid=97): auth-worker<1>: sql(ghost@example.test,203.0.113.30,<EfGh5678>): unknown user`},
	{"", `Dec  2 10:02:02 mx1 dovecot: pop3-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<ghost@example.test>, method=PLAIN, rip=203.0.113.30, lip=192.0.2.1, session=<EfGh5678>`},
	// IMAP: carol logs in.
	{"debug", "Dec  2 10:03:01 mx1 dovecot: auth: Debug: client passdb out: OK\t1\tuser=carol@example.test"},
	{"", `Dec  2 10:03:01 mx1 dovecot: imap-login: Login: user=<carol@example.test>, method=PLAIN, rip=203.0.113.40, lip=192.0.2.1, mpid=4001, TLS, session=<IjKl9012>`},
	{"", `Dec  2 10:03:09 mx1 dovecot: imap(carol@example.test)<4001><IjKl9012>: Disconnected: Logged out in=50 out=500`},
	// LMTP: a delivery to a missing user looks the user up; no login.
	{"verbose", `Dec  2 10:04:01 mx1 dovecot: auth: passwd-file(nobody@example.test,127.0.0.1): unknown user`},
	{"", `Dec  2 10:04:01 mx1 postfix/lmtp[5001]: 4F2B10A1B2: to=<nobody@example.test>, relay=mx1[private/dovecot-lmtp], delay=0.1, delays=0.05/0/0.02/0.03, dsn=5.1.1, status=bounced (host mx1[private/dovecot-lmtp] said: 550 5.1.1 <nobody@example.test> User doesn't exist: nobody@example.test (in reply to RCPT TO command))`},
	// IMAP: a cleartext LOGIN without TLS, refused by the login process.
	{"verbose", `Dec  2 10:05:01 mx1 dovecot: imap-login: Login failed: Plaintext authentication disabled: user=<>, rip=203.0.113.50, lip=192.0.2.1, session=<MnOp3456>`},
	{"", `Dec  2 10:05:02 mx1 dovecot: imap-login: Disconnected (tried to use disallowed plaintext auth): user=<>, rip=203.0.113.50, lip=192.0.2.1, session=<MnOp3456>`},
	// smtpd with Cyrus SASL and saslauthd: dave fails once, then succeeds.
	{"verbose", `Dec  2 10:06:01 mx1 saslauthd[811]: pam_unix(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=  user=dave`},
	{"verbose", `Dec  2 10:06:01 mx1 saslauthd[811]: do_auth         : auth failure: [user=dave] [service=smtp] [realm=example.test] [mech=pam] [reason=PAM auth error]`},
	{"", `Dec  2 10:06:01 mx1 postfix/smtpd[2002]: warning: SASL authentication failure: Password verification failed`},
	{"", `Dec  2 10:06:01 mx1 postfix/smtpd[2002]: warning: unknown[203.0.113.60]: SASL PLAIN authentication failed: authentication failure`},
	{"verbose", `Dec  2 10:06:05 mx1 saslauthd[811]: do_auth         : auth success: [user=dave] [service=smtp] [realm=example.test] [mech=pam]`},
	{"", `Dec  2 10:06:05 mx1 postfix/smtpd[2002]: 5A6B7C8D9E: client=unknown[203.0.113.60], sasl_method=PLAIN, sasl_username=dave`},
}

// authCounts is what every consumer made of one setting's log.
type authCounts struct {
	failures, logins float64 // postfix_auth_failures_total, postfix_logins_total
	offenders        []string
	audit            []string
	summaryFailures  int
	summaryLogins    int
	backend          int // auth_backend events journaled
}

func countAuthSessions(t *testing.T, setting string) authCounts {
	t.Helper()
	ctx := context.Background()
	var lines []string
	for _, s := range authSessions {
		if s.only == "" || s.only == setting || (s.only == "verbose" && setting == "debug") {
			lines = append(lines, s.line)
		}
	}
	reg := prometheus.NewRegistry()
	m := metrics.NewPostfix(reg, metrics.PostfixConfig{})
	tr := offenders.New(offenders.Config{Window: time.Hour, Threshold: 2})
	corr := correlate.New(correlate.Config{})
	p := &parser.Parser{Instance: "mx1", Location: time.UTC}
	ref := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	var recs []journal.Record
	var c authCounts
	for _, line := range lines {
		e := p.Parse(line, ref)
		if e.Kind == event.KindUnknown {
			t.Fatalf("%s: unknown: %s", setting, line)
		}
		if e.Kind == event.KindAuthBackend {
			c.backend++
		}
		n := corr.Observe(&e)
		m.Observe(&e, n)
		tr.Observe(&e)
		recs = append(recs, journal.Record{Event: e, Source: "test"})
	}
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			switch mf.GetName() {
			case "postfix_auth_failures_total":
				c.failures += mm.GetCounter().GetValue()
			case "postfix_logins_total":
				c.logins += mm.GetCounter().GetValue()
			}
		}
	}
	for _, o := range tr.Offenders() {
		c.offenders = append(c.offenders, fmt.Sprintf("%s %s %d", o.Scope, o.Key, o.Count))
	}
	sort.Strings(c.offenders)
	rows, err := query.Logins(ctx, j, query.LoginRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		c.audit = append(c.audit, fmt.Sprintf("%s %s %s %s %d", r.User, r.ClientIP, r.Service, r.Outcome, r.Count))
	}
	sort.Strings(c.audit)
	s, err := report.BuildSummary(ctx, j, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.summaryFailures, c.summaryLogins = s.AuthFailures, s.Logins
	return c
}

// TestAuthVerboseSameCounts: whether Dovecot's auth_verbose or auth_debug
// is on (and saslauthd and pam_unix log their verdicts) changes what is
// journaled, never what is counted: one failed attempt is one count in
// postfix_auth_failures_total, the offender windows, the login audit and
// the summary.
func TestAuthVerboseSameCounts(t *testing.T) {
	quiet := countAuthSessions(t, "")
	t.Logf("auth_verbose off: %+v", quiet)
	// 3 smtpd (Dovecot SASL) + 2 + 1 (Dovecot's attempts) + 1 plaintext
	// refusal + 1 smtpd (saslauthd).
	if quiet.failures != 8 || quiet.summaryFailures != 8 || quiet.logins != 2 || quiet.summaryLogins != 2 || quiet.backend != 0 {
		t.Errorf("auth_verbose off: %+v, want 8 failures and 2 logins", quiet)
	}
	wantOffenders := "ip 203.0.113.10 3, user bob@example.test 3"
	if got := strings.Join(quiet.offenders, ", "); got != wantOffenders {
		t.Errorf("offenders %q, want %q", got, wantOffenders)
	}
	for _, setting := range []string{"verbose", "debug"} {
		got := countAuthSessions(t, setting)
		if got.backend == 0 {
			t.Errorf("%s: no auth_backend events: the test does not test the setting", setting)
		}
		if got.failures != quiet.failures || got.logins != quiet.logins ||
			got.summaryFailures != quiet.summaryFailures || got.summaryLogins != quiet.summaryLogins ||
			strings.Join(got.offenders, "\n") != strings.Join(quiet.offenders, "\n") ||
			strings.Join(got.audit, "\n") != strings.Join(quiet.audit, "\n") {
			t.Errorf("%s changes the counts:\n got  %+v\n want %+v", setting, got, quiet)
		}
	}
}
