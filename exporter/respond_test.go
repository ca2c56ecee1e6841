package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// TestRespond runs the real Postfix and Dovecot of the real-mail test
// (the same templates, with the policy blocks on) against mailtrail's
// policy services: a password-guessing burst is refused by Dovecot and by
// Postfix's submission port once over the threshold; a suspended user's
// submission is refused at RCPT and accepted after unsuspend and after
// expiry; dry run lets everything through and journals "would refuse";
// with the exporter stopped mail still flows; every action is journaled
// and verify passes.
func TestRespond(t *testing.T) {
	requireRealMail(t)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("the postfix user (made by the Debian package): %v", err)
	}
	postfixUID, _ := strconv.Atoi(pf.Uid)
	policyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	dovecotPolicy := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))

	dc := &dovecotInstance{Dir: filepath.Join(dir, "d"), Addr: rmDovecot, IMAP: freePort(t, rmDovecot), LMTP: freePort(t, rmDovecot),
		PolicyURL: "http://" + dovecotPolicy + "/"}
	if err := os.MkdirAll(dc.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dc.start(t)
	hostPort := func(addr string) string { return net.JoinHostPort(addr, strconv.Itoa(freePort(t, addr))) }
	mx := &postfixInstance{Dir: filepath.Join(dir, "mx"), SyslogName: "postfix", Hostname: "mx.example.test",
		Addr: rmMX, Domain: "example.test", Mailboxes: []string{"alice@example.test", "bob@example.test"},
		LMTP: dc.lmtpAddr(), SMTP: hostPort(rmMX), Submission: hostPort(rmMX), SASLPath: dc.saslPath(), Policy: policyAddr}
	mx.start(t, postfixUID)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{mx.log(), dc.log()} {
				t.Logf("%s:\n%s", l, tailFile(l, 20000))
			}
		}
	})

	const token = "respond-test-admin-token"
	tokenFile := cliWriteFile(t, filepath.Join(dir, "token"), token+"\n")
	db := filepath.Join(dir, "journal.db")
	cfgFile := cliWriteFile(t, filepath.Join(dir, "mailtrail.yml"),
		"api:\n  tokens:\n    - {name: ops, token: "+token+", role: admin}\n")
	serveArgs := []string{"--config.file=" + cfgFile,
		"--log.path=" + mx.log(), "--log.path=" + dc.log(),
		"--journal.path=" + db, "--journal.flush-interval=50ms", "--web.listen-address=127.0.0.1:0", "--instance=respond",
		"--auth.threshold=4", "--postfix.postqueue=",
		"--policy.listen=" + policyAddr, "--policy.dovecot-listen=" + dovecotPolicy,
		"--policy.rule=brute_force_ip:10m:reject",
		"--policy.dovecot-api-key-file=" + cliWriteFile(t, filepath.Join(dir, "dovecot.key"), "mailtrail-respond-test-key\n")}
	exp := startExporter(t, nil, serveArgs...)
	base := strings.TrimSuffix(exp.metricsURL(), "/metrics")
	fleet := []string{"--exporter=" + base, "--api.token-file=" + tokenFile}
	imap := dc.imapAddr()
	submit := func(local, who string, want int, id string) {
		t.Helper()
		swaks(t, local, mx.Submission, want, "--auth", "PLAIN", "--auth-user", who, "--auth-password", rmUsers[who],
			"--from", who, "--to", "alice@example.test", "--header", "Message-Id: <"+id+"@respond.test>")
	}

	// Before anything: alice sends and logs in.
	submit(rmAlice, "alice@example.test", 0, "alice-1")
	ic := dialIMAP(t, rmAlice, imap)
	ic.login(t, "alice@example.test", rmUsers["alice@example.test"], "OK")
	ic.logout(t)

	// The burst: five wrong guesses on IMAP from one address (threshold
	// 4: the fifth is over it). Dovecot reports each; then even the right
	// password is refused, by Dovecot's policy, and Postfix's submission
	// port refuses the address at connect.
	ic = dialIMAP(t, rmAttacker, imap)
	for i := 0; i < 5; i++ {
		ic.login(t, "alice@example.test", fmt.Sprintf("guess-%d", i), "NO")
	}
	ic.login(t, "alice@example.test", rmUsers["alice@example.test"], "NO")
	ic.c.Close()
	swaks(t, rmAttacker, mx.Submission, 21, "--auth", "PLAIN", "--auth-user", "alice@example.test",
		"--auth-password", rmUsers["alice@example.test"], "--from", "alice@example.test", "--to", "bob@example.test")
	waitFor(t, "the maillog's refusal of the attacker at connect", func() bool {
		b, _ := os.ReadFile(mx.log())
		return strings.Contains(string(b), suspend.TextBruteForce)
	})
	// The same over SMTP AUTH on the submission port, from another
	// address: four wrong passwords are the threshold, the fifth session
	// still gets to AUTH, the sixth is refused at connect.
	for i := 0; i < 5; i++ {
		swaks(t, rmCarol, mx.Submission, 28, "--auth", "PLAIN", "--auth-user", "bob@example.test",
			"--auth-password", fmt.Sprintf("smtp-guess-%d", i), "--from", "bob@example.test", "--to", "alice@example.test", "--quit-after", "AUTH")
	}
	swaks(t, rmCarol, mx.Submission, 21, "--auth", "PLAIN", "--auth-user", "bob@example.test",
		"--auth-password", rmUsers["bob@example.test"], "--from", "bob@example.test", "--to", "alice@example.test")
	// Others are not affected.
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", rmUsers["bob@example.test"], "OK")
	ic.logout(t)

	// A suspension through the running exporter's API (the CLI's fleet
	// form): bob's IMAP login is refused by Dovecot, his authenticated
	// submission is refused at RCPT by Postfix; after unsuspend both work.
	out := cliMust(t, "", append([]string{"suspend", "--user=bob@example.test", "--reason=phished, see ticket 42"}, fleet...)...)
	if !strings.Contains(out, "suspended user bob@example.test (reject") {
		t.Errorf("suspend said %q", out)
	}
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", rmUsers["bob@example.test"], "NO")
	ic.c.Close()
	submit(rmBob, "bob@example.test", 24, "bob-suspended")
	listed := cliMust(t, "", append([]string{"suspensions"}, fleet...)...)
	if !strings.Contains(listed, "bob@example.test") || !strings.Contains(listed, "127.0.0.66") || !strings.Contains(listed, "rule:brute_force_ip") {
		t.Errorf("suspensions lists:\n%s", listed)
	}
	cliMust(t, "", append([]string{"unsuspend", "--user=bob@example.test", "--reason=password reset"}, fleet...)...)
	submit(rmBob, "bob@example.test", 0, "bob-lifted")
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", rmUsers["bob@example.test"], "OK")
	ic.logout(t)

	// The configured response: hold accepts the submission and keeps it
	// in Postfix's hold queue.
	cliMust(t, "", append([]string{"suspend", "--user=bob@example.test", "--response=hold", "--reason=quarantine"}, fleet...)...)
	submit(rmBob, "bob@example.test", 0, "bob-held")
	waitFor(t, "the maillog's hold of bob's message", func() bool {
		b, _ := os.ReadFile(mx.log())
		return strings.Contains(string(b), ": hold: RCPT from unknown[127.0.0.67]: <alice@example.test>: Recipient address "+suspend.TextSuspended)
	})
	cliMust(t, "", append([]string{"unsuspend", "--user=bob@example.test", "--reason=reviewed"}, fleet...)...)

	// Expiry: a two-second suspension refuses, then lapses on its own.
	cliMust(t, "", append([]string{"suspend", "--user=bob@example.test", "--for=2s", "--reason=cool-down"}, fleet...)...)
	submit(rmBob, "bob@example.test", 24, "bob-cooling")
	waitFor(t, "the suspension's expiry", func() bool {
		return sum(scrape(t, exp.metricsURL()), "mailtrail_suspension_changes_total", map[string]string{"action": "expire"}) == 1
	})
	if l := cliMust(t, "", append([]string{"suspensions"}, fleet...)...); strings.Contains(l, "bob@example.test") {
		t.Errorf("an expired suspension is listed:\n%s", l)
	}
	submit(rmBob, "bob@example.test", 0, "bob-expired")

	// Dovecot's reports are journaled and counted, never added to the
	// log's count: both saw the same failed attempts — on IMAP the five
	// guesses, the refused right password and bob's refused login, on
	// SMTP AUTH (Dovecot's SASL for Postfix) the five guesses — and the
	// auth failures metric counts the log's lines only.
	var imapLogged, smtpLogged, reported float64
	waitFor(t, "the log's and the reports' counts of the bursts", func() bool {
		f := scrape(t, exp.metricsURL())
		imapLogged = sum(f, "postfix_auth_failures_total", map[string]string{"program": "imap-login"})
		smtpLogged = sum(f, "postfix_auth_failures_total", map[string]string{"program": "smtpd"})
		reported = sum(f, "mailtrail_auth_reports_total", map[string]string{"result": "failed"}) + sum(f, "mailtrail_auth_reports_total", map[string]string{"result": "policy_refused"})
		return imapLogged == 7 && smtpLogged == 5 && reported == 12
	}, func() string {
		return fmt.Sprintf("logged %v on IMAP and %v on SMTP, reported %v", imapLogged, smtpLogged, reported)
	})
	f := scrape(t, exp.metricsURL())
	if n := sum(f, "mailtrail_policy_decisions_total", map[string]string{"protocol": "postfix", "decision": "refuse", "reason": "suspended"}); n != 3 {
		t.Errorf("postfix suspended refusals counted %v, want 3 (bob rejected, held, cooling down)", n)
	}
	if n := sum(f, "mailtrail_policy_decisions_total", map[string]string{"protocol": "dovecot", "decision": "refuse", "reason": "brute_force"}); n != 1 {
		t.Errorf("dovecot brute-force refusals counted %v, want 1", n)
	}
	if n := sum(f, "mailtrail_policy_decisions_total", map[string]string{"protocol": "postfix", "decision": "refuse", "reason": "brute_force"}); n != 2 {
		t.Errorf("postfix brute-force refusals counted %v, want 2 (one per guessing address)", n)
	}
	exp.term()

	// Dry run: the attacker's address is still suspended (rebuilt from
	// the journal) and bob is suspended again, yet both get through; the
	// journal says what would have been refused.
	exp = startExporter(t, nil, append(serveArgs, "--policy.dry-run")...)
	base = strings.TrimSuffix(exp.metricsURL(), "/metrics")
	fleet[0] = "--exporter=" + base
	cliMust(t, "", append([]string{"suspend", "--user=bob@example.test", "--for=1h", "--reason=dry run"}, fleet...)...)
	submit(rmBob, "bob@example.test", 0, "bob-dry-run")
	ic = dialIMAP(t, rmAttacker, imap)
	ic.login(t, "alice@example.test", rmUsers["alice@example.test"], "OK")
	ic.logout(t)
	exp.term()

	// The exporter stopped: Postfix's default_action and Dovecot's
	// auth_policy_reject_on_fail=no let mail flow.
	submit(rmAlice, "alice@example.test", 0, "alice-exporter-down")
	submit(rmBob, "bob@example.test", 0, "bob-exporter-down")
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", rmUsers["bob@example.test"], "OK")
	ic.logout(t)

	// Every action is in the journal, and the journal verifies.
	j, err := journal.Open(context.Background(), db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := j.Events(context.Background(), journal.Filter{Kinds: []event.Kind{event.KindSuspend, event.KindUnsuspend, event.KindPolicyRefusal}})
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range recs {
		e := s.Event
		seen[fmt.Sprintf("%s %s%s %s %s", e.Kind, e.SASLUsername, e.ClientIP, e.Action, e.Check)] = true
	}
	for _, want := range []string{
		"suspend 127.0.0.66 reject rule:brute_force_ip",
		"policy_refusal alice@example.test127.0.0.66 deny brute_force",
		"policy_refusal 127.0.0.66 reject brute_force",
		"suspend 127.0.0.68 reject rule:brute_force_ip",
		"policy_refusal 127.0.0.68 reject brute_force",
		"suspend bob@example.test reject api:ops",
		"policy_refusal bob@example.test127.0.0.67 deny suspended",
		"policy_refusal bob@example.test127.0.0.67 reject suspended",
		"unsuspend bob@example.test lift api:ops",
		"suspend bob@example.test hold api:ops",
		"policy_refusal bob@example.test127.0.0.67 hold suspended",
		"unsuspend bob@example.test expire expiry",
		"policy_refusal bob@example.test127.0.0.67 would_reject suspended",
		"policy_refusal alice@example.test127.0.0.66 would_deny brute_force",
	} {
		if !seen[want] {
			t.Errorf("not journaled: %s", want)
		}
	}
	if t.Failed() {
		for k := range seen {
			t.Logf("journaled: %s", k)
		}
	}
	r := cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub")
	if r.code != 0 {
		t.Errorf("verify: %s", r)
	}
}

// waitFor polls cond for up to 30 s; show, when given, says what was
// seen last.
func waitFor(t *testing.T, what string, cond func() bool, show ...func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			seen := ""
			for _, s := range show {
				seen = ": " + s()
			}
			t.Fatalf("%s: not within 30s%s", what, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
