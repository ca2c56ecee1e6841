package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// The real-mail test runs the Debian packages' Postfix and Dovecot
// (scripts/deps.sh installs them) on loopback addresses, each from its own
// configuration under a temporary directory, drives SMTP and IMAP sessions
// with known outcomes, and checks what the exporter following their logs
// makes of them. Who is where:
const (
	rmMX      = "127.0.0.10" // the first Postfix: smtpd and submission
	rmRelay   = "127.0.0.11" // the second Postfix (syslog_name postfix-relay)
	rmDead    = "127.0.0.12" // where nobody listens: deliveries defer
	rmDovecot = "127.0.0.30" // IMAP, LMTP
	// The clients, one address each.
	rmAttacker = "127.0.0.66" // guesses alice's password
	rmBob      = "127.0.0.67" // mistypes, then logs in
	rmCarol    = "127.0.0.68" // mistypes twice and hangs up
	rmOutside  = "127.0.0.80" // unauthenticated mail from the outside
	rmAlice    = "127.0.0.81" // alice's own logins and mail
)

// rmUsers are Dovecot's users and passwords. ghost@example.test is a
// mailbox Postfix accepts and Dovecot does not know: mail to it bounces at
// the LMTP stage.
var rmUsers = map[string]string{
	"alice@example.test": "alice-secret",
	"bob@example.test":   "bob-secret",
	"carol@relay.test":   "carol-secret",
}

// rmThreshold is the exporter's --auth.threshold: the attacker's burst
// goes over it, bob's and carol's typos stay at or below it.
const rmThreshold = 4

// rmCounted are the metric families whose samples must be the same with
// Dovecot's auth_verbose on and off.
var rmCounted = []string{
	"postfix_auth_failures_total", "postfix_logins_total", "postfix_rejects_total",
	"postfix_messages_received_total", "postfix_deliveries_total", "mailtrail_auth_offenders",
	"postfix_smtpd_connects_total", "postfix_smtpd_disconnects_total", "mailtrail_log_lines_unparsed_total",
}

// TestRealMail runs the whole scene twice, with Dovecot's auth_verbose off
// and on (on is common in production, since fail2ban needs it): the auth
// process then logs a line of its own for each credential check, which
// must not count a second time.
func TestRealMail(t *testing.T) {
	requireRealMail(t)
	var mu sync.Mutex
	counts := map[bool]map[string]float64{}
	// The runs are parallel subtests: the comparison waits for both.
	t.Cleanup(func() {
		if counts[false] == nil || counts[true] == nil {
			return
		}
		keys := map[string]bool{}
		for _, m := range counts {
			for k := range m {
				keys[k] = true
			}
		}
		for _, k := range sortedKeys(keys) {
			if counts[false][k] != counts[true][k] {
				t.Errorf("auth_verbose changes a count: %s is %v without, %v with", k, counts[false][k], counts[true][k])
			}
		}
	})
	for _, verbose := range []bool{false, true} {
		name := "auth_verbose=no"
		if verbose {
			name = "auth_verbose=yes"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := runRealMail(t, verbose)
			mu.Lock()
			defer mu.Unlock()
			counts[verbose] = c
		})
	}
}

// requireRealMail skips the test where it cannot run (not root, or the
// daemons not installed), except in CI, where that is a failure.
func requireRealMail(t *testing.T) {
	t.Helper()
	var missing []string
	for _, bin := range []string{"postfix", "postqueue", "dovecot", "doveadm", "swaks"} {
		if _, err := lookPathSbin(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "the real Postfix and Dovecot run as root"
	case len(missing) > 0:
		why = "missing " + strings.Join(missing, ", ") + " (Debian packages postfix, dovecot-core, dovecot-imapd, dovecot-lmtpd, swaks; scripts/deps.sh installs them)"
	default:
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("real-mail test cannot run in CI: %s", why)
	}
	t.Skip(why)
}

// lookPathSbin finds a binary on PATH or in /usr/sbin, where Debian puts
// the mail daemons' commands (not on every user's PATH).
func lookPathSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
	}
	return p, nil
}

// freePort returns a port nobody listens on at addr right now.
func freePort(t *testing.T, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp4", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// renderTemplate writes testdata/realmail/name, filled with data, to dst.
func renderTemplate(t *testing.T, name, dst string, data any) {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "realmail", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, data); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// daemon is a mail daemon running in the foreground as the test's child,
// so that the test sees it exit.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  proctest.Output
	done chan struct{}
}

func startDaemon(t *testing.T, name string, argv ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, done: make(chan struct{})}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitLogged waits until the daemon's log has a line containing what:
// the line it writes once its listeners are open. (Connecting to see
// whether it listens would log sessions the test does not count.)
func (d *daemon) waitLogged(t *testing.T, log, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(log); err == nil && strings.Contains(string(b), what) {
			return
		}
		if d.exited() {
			t.Fatalf("%s exited before logging %q: %s\n%s\nits log:\n%s", d.name, what, d.cmd.ProcessState, d.out.String(), tailFile(log, 3000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within 30s\nits log:\n%s", d.name, what, tailFile(log, 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop runs the daemon's own stop command and waits for it to exit.
func (d *daemon) stop(t *testing.T, argv ...string) {
	t.Helper()
	if d.exited() {
		return
	}
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s still running 30s after %s; killing it", d.name, strings.Join(argv, " "))
		d.cmd.Process.Kill()
		<-d.done
	}
}

// tailFile is the end of a file, for failure messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}

// postfixInstance is the data of main.cf and master.cf.
type postfixInstance struct {
	Dir, SyslogName, Hostname, Addr, Domain string
	Mailboxes                               []string
	LMTP                                    string
	// SMTP and Submission are master.cf service names (address:port);
	// Submission empty for none.
	SMTP, Submission string
	// Relay and Dead are the next hops of relay.test and dead.test
	// ([address]:port), empty on the second instance.
	Relay, Dead string
	SASLPath    string
	// Policy is mailtrail's policy service (address:port) the submission
	// service asks (respond_test.go); empty for none.
	Policy string

	daemon *daemon
}

func (p *postfixInstance) log() string { return filepath.Join(p.Dir, "maillog") }
func (p *postfixInstance) etc() string { return filepath.Join(p.Dir, "etc") }

// start writes the instance's configuration and starts it.
func (p *postfixInstance) start(t *testing.T, postfixUID int) {
	t.Helper()
	for _, sub := range []string{"etc", "spool", "data"} {
		if err := os.MkdirAll(filepath.Join(p.Dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The master writes its lock file there as the mail owner.
	if err := os.Chown(filepath.Join(p.Dir, "data"), postfixUID, -1); err != nil {
		t.Fatal(err)
	}
	renderTemplate(t, "main.cf", filepath.Join(p.etc(), "main.cf"), p)
	renderTemplate(t, "master.cf", filepath.Join(p.etc(), "master.cf"), p)
	postfix, err := lookPathSbin("postfix")
	if err != nil {
		t.Fatal(err)
	}
	// start-fg keeps the master our child; postfix-script first checks
	// the configuration and creates the queue directories.
	p.daemon = startDaemon(t, "postfix "+p.SyslogName, postfix, "-c", p.etc(), "start-fg")
	t.Cleanup(func() { p.daemon.stop(t, postfix, "-c", p.etc(), "stop") })
	// The master opens its listeners before it says so.
	p.daemon.waitLogged(t, p.log(), "daemon started")
}

// dovecotInstance is the data of dovecot.conf.
type dovecotInstance struct {
	Dir, Addr  string
	IMAP, LMTP int
	Verbose    bool
	// PolicyURL is auth_policy_server_url (respond_test.go); empty for
	// none.
	PolicyURL string

	daemon *daemon
}

func (d *dovecotInstance) conf() string     { return filepath.Join(d.Dir, "dovecot.conf") }
func (d *dovecotInstance) log() string      { return filepath.Join(d.Dir, "dovecot.log") }
func (d *dovecotInstance) saslPath() string { return filepath.Join(d.Dir, "run", "auth-postfix") }
func (d *dovecotInstance) imapAddr() string { return net.JoinHostPort(d.Addr, strconv.Itoa(d.IMAP)) }
func (d *dovecotInstance) lmtpAddr() string { return net.JoinHostPort(d.Addr, strconv.Itoa(d.LMTP)) }

func (d *dovecotInstance) start(t *testing.T) {
	t.Helper()
	mail := filepath.Join(d.Dir, "mail")
	if err := os.MkdirAll(mail, 0o755); err != nil {
		t.Fatal(err)
	}
	// Mail is stored as nobody (65534, a uid Dovecot accepts for mail).
	if err := os.Chmod(mail, 0o777); err != nil {
		t.Fatal(err)
	}
	var users strings.Builder
	for _, u := range sortedKeys(rmUsers) {
		local, _, _ := strings.Cut(u, "@")
		fmt.Fprintf(&users, "%s:{PLAIN}%s:65534:65534::%s\n", u, rmUsers[u], filepath.Join(mail, local))
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "users"), []byte(users.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	renderTemplate(t, "dovecot.conf", d.conf(), d)
	dovecot, err := lookPathSbin("dovecot")
	if err != nil {
		t.Fatal(err)
	}
	doveadm, err := lookPathSbin("doveadm")
	if err != nil {
		t.Fatal(err)
	}
	d.daemon = startDaemon(t, "dovecot", dovecot, "-F", "-c", d.conf())
	t.Cleanup(func() { d.daemon.stop(t, doveadm, "-c", d.conf(), "stop") })
	// The master opens its listeners (the SASL socket too) before it
	// says so.
	d.daemon.waitLogged(t, d.log(), "starting up")
}

// nextHop is address:port as a transport's next hop without an MX lookup.
func nextHop(hostPort string) string {
	host, port, _ := net.SplitHostPort(hostPort)
	return "[" + host + "]:" + port
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// realMail is one run of the scene: the daemons and the exporter.
type realMail struct {
	dir        string
	dovecot    *dovecotInstance
	mx, relay  *postfixInstance
	submission string // address:port of mx's submission service
	smtp       string // address:port of mx's smtpd
	exporter   *proc
	base       string // the exporter's http://address
	start      time.Time
}

func startRealMail(t *testing.T, verbose bool) *realMail {
	t.Helper()
	dir := t.TempDir()
	// The daemons' unprivileged processes (postfix, dovecot, dovenull,
	// nobody) must reach sockets and files below it; t.TempDir makes
	// both levels 0700.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("the postfix user (made by the Debian package): %v", err)
	}
	postfixUID, err := strconv.Atoi(pf.Uid)
	if err != nil {
		t.Fatal(err)
	}
	rm := &realMail{dir: dir, start: time.Now()}
	rm.dovecot = &dovecotInstance{Dir: filepath.Join(dir, "d"), Addr: rmDovecot, Verbose: verbose,
		IMAP: freePort(t, rmDovecot), LMTP: freePort(t, rmDovecot)}
	if err := os.MkdirAll(rm.dovecot.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rm.dovecot.start(t)
	hostPort := func(addr string) string { return net.JoinHostPort(addr, strconv.Itoa(freePort(t, addr))) }
	rm.relay = &postfixInstance{Dir: filepath.Join(dir, "relay"), SyslogName: "postfix-relay", Hostname: "relay.example.test",
		Addr: rmRelay, Domain: "relay.test", Mailboxes: []string{"carol@relay.test"}, LMTP: rm.dovecot.lmtpAddr(),
		SMTP: hostPort(rmRelay)}
	rm.relay.start(t, postfixUID)
	rm.mx = &postfixInstance{Dir: filepath.Join(dir, "mx"), SyslogName: "postfix", Hostname: "mx.example.test",
		Addr: rmMX, Domain: "example.test", Mailboxes: []string{"alice@example.test", "bob@example.test", "ghost@example.test"},
		LMTP: rm.dovecot.lmtpAddr(), SMTP: hostPort(rmMX), Submission: hostPort(rmMX),
		Relay: nextHop(rm.relay.SMTP), Dead: nextHop(hostPort(rmDead)), SASLPath: rm.dovecot.saslPath()}
	rm.mx.start(t, postfixUID)
	rm.smtp, rm.submission = rm.mx.SMTP, rm.mx.Submission
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{rm.mx.log(), rm.relay.log(), rm.dovecot.log()} {
				t.Logf("%s:\n%s", l, tailFile(l, 20000))
			}
		}
	})

	postqueue, err := lookPathSbin("postqueue")
	if err != nil {
		t.Fatal(err)
	}
	rm.exporter = startExporter(t, nil,
		"--log.path="+rm.mx.log(), "--log.path="+rm.relay.log(), "--log.path="+rm.dovecot.log(),
		"--journal.path="+filepath.Join(dir, "journal.db"), "--journal.flush-interval=50ms",
		"--web.listen-address=127.0.0.1:0", "--instance=realmail", "--api.allow-anonymous",
		"--auth.threshold="+strconv.Itoa(rmThreshold), "--tenant.domains=example.test",
		"--postfix.postqueue="+postqueue, "--postfix.config-dir="+rm.mx.etc())
	rm.base = strings.TrimSuffix(rm.exporter.metricsURL(), "/metrics")
	return rm
}

// swaks runs one SMTP session from the local address and wants swaks's
// exit status: 0 delivered, 24 a recipient refused, 28 authentication
// failed.
func swaks(t *testing.T, local, server string, want int, args ...string) {
	t.Helper()
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append([]string{"--server", host, "--port", port, "--local-interface", local,
		"--ehlo", "client-" + strings.ReplaceAll(local, ".", "-") + ".test", "--timeout", "20"}, args...)
	cmd := exec.CommandContext(ctx, "swaks", argv...)
	out, err := cmd.CombinedOutput()
	got := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("swaks %s: %v", strings.Join(argv, " "), err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		t.Fatalf("swaks %s: exit %d, want %d\n%s", strings.Join(argv, " "), got, want, out)
	}
}

// submit sends a message through the submission port as user.
func (rm *realMail) submit(t *testing.T, local, user, from, to, messageID string, want int) {
	t.Helper()
	swaks(t, local, rm.submission, want, "--auth", "PLAIN", "--auth-user", user, "--auth-password", rmUsers[user],
		"--from", from, "--to", to, "--header", "Message-Id: <"+messageID+">")
}

// imapConn is a minimal IMAP client: enough for LOGIN and LOGOUT.
type imapConn struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialIMAP(t *testing.T, local, server string) *imapConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp4", server)
	if err != nil {
		t.Fatalf("IMAP dial %s from %s: %v", server, local, err)
	}
	ic := &imapConn{c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	greeting, err := ic.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		t.Fatalf("IMAP greeting %q: %v", greeting, err)
	}
	return ic
}

// cmd sends a tagged command and returns the tagged reply's status (OK,
// NO, BAD).
func (ic *imapConn) cmd(t *testing.T, command string) string {
	t.Helper()
	ic.tag++
	tag := fmt.Sprintf("a%d", ic.tag)
	if _, err := fmt.Fprintf(ic.c, "%s %s\r\n", tag, command); err != nil {
		t.Fatalf("IMAP %s: %v", command, err)
	}
	for {
		line, err := ic.r.ReadString('\n')
		if err != nil {
			t.Fatalf("IMAP %s: %v", command, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			status, _, _ := strings.Cut(rest, " ")
			return status
		}
	}
}

func (ic *imapConn) login(t *testing.T, user, password, want string) {
	t.Helper()
	if got := ic.cmd(t, fmt.Sprintf("LOGIN %q %q", user, password)); got != want {
		t.Fatalf("IMAP LOGIN %s: %s, want %s", user, got, want)
	}
}

func (ic *imapConn) logout(t *testing.T) {
	t.Helper()
	if got := ic.cmd(t, "LOGOUT"); got != "OK" {
		t.Fatalf("IMAP LOGOUT: %s", got)
	}
	ic.c.Close()
}

// drive plays the scene. The comments count what each step must add.
func (rm *realMail) drive(t *testing.T) {
	imap := rm.dovecot.imapAddr()

	// A brute force on alice from one address, over SMTP AUTH and IMAP:
	// 3 + 3 failures, over the threshold for the address and the user.
	for i := 0; i < 3; i++ {
		swaks(t, rmAttacker, rm.submission, 28, "--auth", "LOGIN", "--auth-user", "alice@example.test",
			"--auth-password", fmt.Sprintf("guess-%d", i), "--from", "alice@example.test", "--to", "bob@example.test",
			"--quit-after", "AUTH")
	}
	ic := dialIMAP(t, rmAttacker, imap)
	for i := 0; i < 3; i++ {
		ic.login(t, "alice@example.test", fmt.Sprintf("imap-guess-%d", i), "NO")
	}
	ic.logout(t)

	// bob mistypes once on each, then gets in: 2 failures.
	swaks(t, rmBob, rm.submission, 28, "--auth", "PLAIN", "--auth-user", "bob@example.test",
		"--auth-password", "bob-secert", "--from", "bob@example.test", "--to", "alice@example.test", "--quit-after", "AUTH")
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", "bob-secert", "NO")
	ic.logout(t)
	rm.submit(t, rmBob, "bob@example.test", "bob@example.test", "alice@example.test", "bob-to-alice@e2e.test", 0)
	ic = dialIMAP(t, rmBob, imap)
	ic.login(t, "bob@example.test", rmUsers["bob@example.test"], "OK")
	ic.logout(t)

	// carol mistypes twice and hangs up without LOGOUT: one aborted
	// session that stands for 2 failures.
	ic = dialIMAP(t, rmCarol, imap)
	ic.login(t, "carol@relay.test", "carol-typo-1", "NO")
	ic.login(t, "carol@relay.test", "carol-typo-2", "NO")
	ic.c.Close()

	// alice sends to bob (delivered over LMTP), to ghost (Dovecot does not
	// know him: bounced, and the notification delivered to alice) and to
	// dead.test (nobody listens: deferred), and reads her mail.
	rm.submit(t, rmAlice, "alice@example.test", "alice@example.test", "bob@example.test", "alice-to-bob@e2e.test", 0)
	rm.submit(t, rmAlice, "alice@example.test", "alice@example.test", "ghost@example.test", "alice-to-ghost@e2e.test", 0)
	rm.submit(t, rmAlice, "alice@example.test", "alice@example.test", "someone@dead.test", "alice-to-dead@e2e.test", 0)
	ic = dialIMAP(t, rmAlice, imap)
	ic.login(t, "alice@example.test", rmUsers["alice@example.test"], "OK")
	ic.logout(t)

	// Mail from the outside: one message for the relay domain, relayed to
	// the second instance and delivered there; an unknown local user
	// (550) and a foreign domain (relay access denied, 454) refused.
	swaks(t, rmOutside, rm.smtp, 0, "--from", "news@outside.test", "--to", "carol@relay.test",
		"--header", "Message-Id: <outside-to-carol@e2e.test>")
	swaks(t, rmOutside, rm.smtp, 24, "--from", "news@outside.test", "--to", "nobody@example.test")
	swaks(t, rmOutside, rm.smtp, 24, "--from", "news@outside.test", "--to", "someone@elsewhere.test")
}

// rmSample is one expected sample of a metric.
type rmSample struct {
	name   string
	labels map[string]string
	want   float64
}

// rmWantMetrics is what the scene must count.
var rmWantMetrics = []rmSample{
	// Failures: the attacker's 3 + 3, bob's 1 + 1, carol's 2.
	{"postfix_auth_failures_total", nil, 10},
	{"postfix_auth_failures_total", map[string]string{"service": "postfix/submission", "program": "smtpd"}, 4},
	{"postfix_auth_failures_total", map[string]string{"program": "smtpd", "method": "LOGIN"}, 3},
	{"postfix_auth_failures_total", map[string]string{"program": "smtpd", "method": "PLAIN"}, 1},
	{"postfix_auth_failures_total", map[string]string{"service": "dovecot", "program": "imap-login"}, 6},
	// Logins: 4 submissions (bob 1, alice 3), 2 IMAP logins.
	{"postfix_logins_total", nil, 6},
	{"postfix_logins_total", map[string]string{"service": "postfix/submission", "program": "smtpd"}, 4},
	{"postfix_logins_total", map[string]string{"service": "dovecot", "program": "imap-login"}, 2},
	{"postfix_rejects_total", nil, 2},
	{"postfix_rejects_total", map[string]string{"service": "postfix", "stage": "rcpt", "class": "5xx"}, 1},
	{"postfix_rejects_total", map[string]string{"service": "postfix", "stage": "rcpt", "class": "4xx"}, 1},
	// Received: 4 submissions, 1 from the outside and the notification on
	// mx; the relayed message on relay.
	{"postfix_messages_received_total", nil, 7},
	{"postfix_messages_received_total", map[string]string{"service": "postfix", "origin": "submission", "sender_domain": "example.test"}, 4},
	{"postfix_messages_received_total", map[string]string{"service": "postfix", "origin": "smtpd", "sender_domain": "other"}, 1},
	{"postfix_messages_received_total", map[string]string{"service": "postfix", "origin": "bounce"}, 1},
	{"postfix_messages_received_total", map[string]string{"service": "postfix-relay", "origin": "smtpd"}, 1},
	// Deliveries: bob->alice, alice->bob and the notification over LMTP,
	// ghost bounced there; the relay hop sent, dead.test deferred; carol's
	// delivery on relay.
	{"postfix_deliveries_total", nil, 7},
	{"postfix_deliveries_total", map[string]string{"service": "postfix", "transport": "lmtp", "status": "sent"}, 3},
	{"postfix_deliveries_total", map[string]string{"service": "postfix", "transport": "lmtp", "status": "bounced"}, 1},
	{"postfix_deliveries_total", map[string]string{"service": "postfix", "transport": "smtp", "status": "sent"}, 1},
	{"postfix_deliveries_total", map[string]string{"service": "postfix", "transport": "smtp", "status": "deferred"}, 1},
	{"postfix_deliveries_total", map[string]string{"service": "postfix-relay", "transport": "lmtp", "status": "sent"}, 1},
	{"mailtrail_auth_offenders", map[string]string{"scope": "ip"}, 1},
	{"mailtrail_auth_offenders", map[string]string{"scope": "user"}, 1},
	{"mailtrail_send_offenders", nil, 0},
	// smtpd sessions: 8 on submission (3 + 1 + 1 + 3), 3 from the outside,
	// 1 on relay.
	{"postfix_smtpd_connects_total", map[string]string{"service": "postfix/submission"}, 8},
	{"postfix_smtpd_connects_total", map[string]string{"service": "postfix"}, 3},
	{"postfix_smtpd_connects_total", map[string]string{"service": "postfix-relay"}, 1},
	{"postfix_smtpd_disconnects_total", nil, 12},
	// The deferred message waits in mx's queue (postqueue -j).
	{"postfix_queue_up", nil, 1},
	{"postfix_queue_messages", map[string]string{"queue": "deferred"}, 1},
	// Every line the daemons wrote has a kind.
	{"mailtrail_log_lines_unparsed_total", nil, 0},
}

// rmWantLogins is the login audit: user, address, service, outcome and
// count.
var rmWantLogins = map[string]int{
	"alice@example.test 127.0.0.66 postfix/submission failure": 3,
	"alice@example.test 127.0.0.66 dovecot/imap-login failure": 3,
	"bob@example.test 127.0.0.67 postfix/submission failure":   1,
	"bob@example.test 127.0.0.67 dovecot/imap-login failure":   1,
	"carol@relay.test 127.0.0.68 dovecot/imap-login failure":   2,
	"bob@example.test 127.0.0.67 postfix/submission success":   1,
	"bob@example.test 127.0.0.67 dovecot/imap-login success":   1,
	"alice@example.test 127.0.0.81 postfix/submission success": 3,
	"alice@example.test 127.0.0.81 dovecot/imap-login success": 1,
}

// rmWantOffenders: the attacker's address and alice's name, 6 failures
// each; nobody else.
var rmWantOffenders = map[string]int{
	"ip 127.0.0.66":           6,
	"user alice@example.test": 6,
}

func runRealMail(t *testing.T, verbose bool) map[string]float64 {
	rm := startRealMail(t, verbose)
	rm.drive(t)

	// The daemons write their logs as they go and the exporter follows
	// them: poll until everything is counted (or time is up).
	var families map[string]*dto.MetricFamily
	var problems []string
	deadline := time.Now().Add(45 * time.Second)
	for {
		families = scrape(t, rm.exporter.metricsURL())
		problems = rm.checkMetrics(families)
		problems = append(problems, rm.checkLogins(t)...)
		problems = append(problems, rm.checkOffenders(t)...)
		problems = append(problems, rm.checkBackend(t, verbose)...)
		// Metrics count a line when it is parsed, the journal once its
		// batch commits: the traces below read the journal, so wait until
		// it holds every line parsed.
		if read, journaled := sum(families, "mailtrail_log_lines_total", nil), sum(families, "mailtrail_journal_events_total", nil); journaled < read {
			problems = append(problems, fmt.Sprintf("journal behind: %v of %v lines parsed are committed", journaled, read))
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		if rm.exporter.exited() {
			t.Fatalf("exporter exited\n%s", rm.exporter.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if n := sum(families, "mailtrail_log_lines_unparsed_total", nil); n != 0 {
		rm.logUnknown(t)
	}
	rm.checkTraces(t)

	counts := map[string]float64{}
	for _, name := range rmCounted {
		for _, m := range families[name].GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "source" {
					continue // the log's temporary path
				}
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			counts[name+"{"+strings.Join(labels, ",")+"}"] += v
		}
	}
	return counts
}

func (rm *realMail) checkMetrics(f map[string]*dto.MetricFamily) []string {
	var problems []string
	for _, s := range rmWantMetrics {
		got := sum(f, s.name, s.labels)
		if got == -1 && s.want == 0 {
			got = 0 // a counter with no samples yet is absent
		}
		if got != s.want {
			var labels []string
			for _, k := range sortedKeys(s.labels) {
				labels = append(labels, k+"="+strconv.Quote(s.labels[k]))
			}
			problems = append(problems, fmt.Sprintf("%s{%s} = %v, want %v", s.name, strings.Join(labels, ","), got, s.want))
		}
	}
	return problems
}

// apiGet decodes a query API answer (served anonymously as an auditor).
func (rm *realMail) apiGet(t *testing.T, path string, v any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rm.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// rangeQuery covers the run.
func (rm *realMail) rangeQuery() string {
	return "since=" + url.QueryEscape(rm.start.Add(-time.Hour).UTC().Format(time.RFC3339)) +
		"&until=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

func (rm *realMail) checkLogins(t *testing.T) []string {
	var res struct {
		Logins []struct {
			User, Service, Outcome string
			ClientIP               string `json:"client_ip"`
			Count                  int
		}
	}
	if status := rm.apiGet(t, "/api/v1/logins?limit=1000&"+rm.rangeQuery(), &res); status != http.StatusOK {
		return []string{fmt.Sprintf("/api/v1/logins: status %d", status)}
	}
	got := map[string]int{}
	for _, l := range res.Logins {
		got[l.User+" "+l.ClientIP+" "+l.Service+" "+l.Outcome] += l.Count
	}
	return diffCounts("login audit", got, rmWantLogins)
}

func (rm *realMail) checkOffenders(t *testing.T) []string {
	var res struct {
		Offenders []struct {
			Scope, Key string
			Count      int
			Active     bool
		}
	}
	if status := rm.apiGet(t, "/api/v1/offenders", &res); status != http.StatusOK {
		return []string{fmt.Sprintf("/api/v1/offenders: status %d", status)}
	}
	got := map[string]int{}
	var problems []string
	for _, o := range res.Offenders {
		got[o.Scope+" "+o.Key] = o.Count
		if !o.Active {
			problems = append(problems, fmt.Sprintf("offender %s %s not active", o.Scope, o.Key))
		}
	}
	return append(problems, diffCounts("offenders", got, rmWantOffenders)...)
}

// checkBackend: with auth_verbose the auth process's verdicts are
// journaled, searchable, as auth_backend: one per password check of the
// 10 failures and one for LMTP's lookup of ghost; without it there are
// none.
func (rm *realMail) checkBackend(t *testing.T, verbose bool) []string {
	var page struct{ Events []apiEvent }
	if status := rm.apiGet(t, "/api/v1/events?kind=auth_backend&limit=1000&"+rm.rangeQuery(), &page); status != http.StatusOK {
		return []string{fmt.Sprintf("/api/v1/events?kind=auth_backend: status %d", status)}
	}
	got := map[string]int{}
	for _, e := range page.Events {
		got[e.Check+" "+e.SASLUsername+" "+e.ClientIP+" "+e.Result]++
	}
	want := map[string]int{}
	if verbose {
		want = map[string]int{
			"passwd-file alice@example.test 127.0.0.66 password_mismatch": 6,
			"passwd-file bob@example.test 127.0.0.67 password_mismatch":   2,
			"passwd-file carol@relay.test 127.0.0.68 password_mismatch":   2,
			"passwd-file ghost@example.test 127.0.0.10 unknown_user":      1,
		}
	}
	return diffCounts("auth_backend events", got, want)
}

// diffCounts names every key whose count differs.
func diffCounts(what string, got, want map[string]int) []string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var problems []string
	for _, k := range sortedKeys(keys) {
		if got[k] != want[k] {
			problems = append(problems, fmt.Sprintf("%s: %s = %d, want %d", what, k, got[k], want[k]))
		}
	}
	return problems
}

// logUnknown lists the lines the exporter could not read, for the report.
func (rm *realMail) logUnknown(t *testing.T) {
	t.Helper()
	var page struct{ Events []apiEvent }
	rm.apiGet(t, "/api/v1/events?kind=unknown&limit=1000&"+rm.rangeQuery(), &page)
	for _, e := range page.Events {
		t.Errorf("read as unknown: %s", e.Raw)
	}
}

// rmMessage is a message of a trace, with the fields the test checks.
type rmMessage struct {
	apiMessage
	Host string `json:"host"`
}

// trace returns the messages of a message id.
func (rm *realMail) trace(t *testing.T, messageID string) []rmMessage {
	t.Helper()
	var tr struct{ Messages []rmMessage }
	if status := rm.apiGet(t, "/api/v1/trace?message_id="+url.QueryEscape("<"+messageID+">")+"&"+rm.rangeQuery(), &tr); status != http.StatusOK {
		t.Errorf("trace of %s: status %d", messageID, status)
		return nil
	}
	return tr.Messages
}

// deliveriesOf is "recipient status" of each delivery.
func deliveriesOf(m rmMessage) []string {
	var out []string
	for _, d := range m.Deliveries {
		out = append(out, d.Recipient+" "+d.Status)
	}
	sort.Strings(out)
	return out
}

func (rm *realMail) checkTraces(t *testing.T) {
	t.Helper()
	// A submission: who sent it, from where, what became of it.
	for _, c := range []struct {
		id, user, ip, deliveries string
		finished                 bool
	}{
		{"bob-to-alice@e2e.test", "bob@example.test", rmBob, "[alice@example.test sent]", true},
		{"alice-to-bob@e2e.test", "alice@example.test", rmAlice, "[bob@example.test sent]", true},
		{"alice-to-ghost@e2e.test", "alice@example.test", rmAlice, "[ghost@example.test bounced]", true},
		{"alice-to-dead@e2e.test", "alice@example.test", rmAlice, "[someone@dead.test deferred]", false},
	} {
		ms := rm.trace(t, c.id)
		if len(ms) != 1 {
			t.Errorf("trace of %s: %d messages, want 1", c.id, len(ms))
			continue
		}
		m := ms[0]
		if m.SASLUsername != c.user || m.ClientIP != c.ip || m.Sender != c.user || m.Origin != "submission" || m.Host != "mx" {
			t.Errorf("trace of %s: user %q from %q, sender %q, origin %q, host %q; want %s from %s by submission on mx",
				c.id, m.SASLUsername, m.ClientIP, m.Sender, m.Origin, m.Host, c.user, c.ip)
		}
		if got := fmt.Sprint(deliveriesOf(m)); got != c.deliveries {
			t.Errorf("trace of %s: deliveries %s, want %s", c.id, got, c.deliveries)
		}
		if (m.Finished != nil) != c.finished {
			t.Errorf("trace of %s: finished %v, want finished=%v", c.id, m.Finished, c.finished)
		}
		if c.id != "alice-to-ghost@e2e.test" {
			continue
		}
		// The bounce's notification goes back to alice, and each links to
		// the other.
		ndr, _, _ := m.link(t, "ndr")
		var tr struct{ Messages []rmMessage }
		if status := rm.apiGet(t, "/api/v1/trace?queue_id="+ndr, &tr); status != http.StatusOK || len(tr.Messages) != 1 {
			t.Errorf("trace of the notification %s: status %d, %d messages", ndr, status, len(tr.Messages))
			continue
		}
		n := tr.Messages[0]
		if parent, _, _ := n.link(t, "ndr_parent"); parent != m.QueueID {
			t.Errorf("notification %s: ndr_parent %s, want %s", ndr, parent, m.QueueID)
		}
		if got := fmt.Sprint(deliveriesOf(n)); got != "[alice@example.test sent]" || n.Origin != "bounce" || n.Sender != "" {
			t.Errorf("notification %s: deliveries %s, origin %q, sender %q; want alice's, bounce, null sender", ndr, got, n.Origin, n.Sender)
		}
	}

	// The message from the outside, on both instances: mx relays it to
	// relay, which delivers it; the hop links them.
	ms := rm.trace(t, "outside-to-carol@e2e.test")
	byHost := map[string]rmMessage{}
	for _, m := range ms {
		byHost[m.Host] = m
	}
	mx, relay := byHost["mx"], byHost["relay"]
	if len(ms) != 2 || mx.QueueID == "" || relay.QueueID == "" {
		t.Fatalf("trace of outside-to-carol@e2e.test: %d messages on hosts %v, want one on mx and one on relay", len(ms), sortedKeys(byHost))
	}
	if mx.ClientIP != rmOutside || mx.Origin != "smtpd" || fmt.Sprint(deliveriesOf(mx)) != "[carol@relay.test sent]" {
		t.Errorf("mx's copy: client %q, origin %q, deliveries %v; want %s, smtpd, carol sent", mx.ClientIP, mx.Origin, deliveriesOf(mx), rmOutside)
	}
	if len(mx.Deliveries) == 1 && mx.Deliveries[0].RelayIP != rmRelay {
		t.Errorf("mx's delivery went to %q, want %s", mx.Deliveries[0].RelayIP, rmRelay)
	}
	if next, _, _ := mx.link(t, "next_hop"); next != relay.QueueID {
		t.Errorf("mx's next_hop is %s, want relay's queue id %s", next, relay.QueueID)
	}
	if relay.ClientIP != rmMX || fmt.Sprint(deliveriesOf(relay)) != "[carol@relay.test sent]" || relay.Finished == nil {
		t.Errorf("relay's copy: client %q, deliveries %v, finished %v; want %s, carol sent, finished", relay.ClientIP, deliveriesOf(relay), relay.Finished, rmMX)
	}
	// No previous_hop on relay's copy: with maillog_file each instance
	// writes its own myhostname as the log's host (they must differ, or
	// mx's smtp client refuses the hop as a mail loop), and the trace
	// links a previous hop on the same host only.
}
