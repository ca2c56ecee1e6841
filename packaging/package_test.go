// Package packaging holds the files of the mailtrail .deb and .rpm (nfpm.yaml,
// the systemd unit, the default configuration, the maintainer scripts) and the
// test that builds, inspects, installs and purges the .deb on this machine.
package packaging

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lintianAccepted are the lintian warnings the package keeps, each for a
// reason; any error, or any other warning, fails the test.
var lintianAccepted = map[string]string{
	// Go links a position-dependent executable by default; building with
	// -buildmode=pie would recompile the cgo SQLite driver for every package
	// build and gains little for a service without setuid.
	"hardening-no-pie": "Go binary",
	// The package is built outside the Debian archive: there is no ITP bug
	// for the changelog to close.
	"initial-upload-closes-no-bugs": "not a Debian archive upload",
	// nfpm writes the maintainer scripts itself, not debhelper's
	// deb-systemd-helper snippets; the scripts call systemctl only when
	// systemd runs (/run/systemd/system) and ignore its failures.
	"maintainer-script-calls-systemctl": "no debhelper",
	// `mailtrail --help` and `mailtrail <command> --help` document every flag.
	"no-manual-page": "documented by --help",
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the package test installs the .deb with dpkg and must run as root in CI")
		}
		t.Skip("skipped: installing the .deb needs root (run `make package-test` as root)")
	}
}

func debFile(t *testing.T) string {
	t.Helper()
	deb := os.Getenv("MAILTRAIL_DEB")
	if deb == "" {
		// `make unit` runs every package's tests; the .deb is built and
		// tested by `make package-test`, which `make test` also runs.
		t.Skip("skipped: MAILTRAIL_DEB is not set (run `make package-test`, which builds the .deb)")
	}
	return deb
}

// TestDefaultConfig: the configuration the package installs is valid as
// serve reads it (no root, no package needed).
func TestDefaultConfig(t *testing.T) {
	bin := exporterBinary(t)
	cfg, err := filepath.Abs("mailtrail.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, bin, "serve", "--config.check", "--config.file="+cfg); got != "configuration ok\n" {
		t.Fatalf("serve --config.check: %q", got)
	}
}

func TestDeb(t *testing.T) {
	deb := debFile(t)
	needRoot(t)

	t.Run("contents", func(t *testing.T) {
		files := run(t, "dpkg-deb", "-c", deb)
		for _, want := range []string{
			"-rwxr-xr-x root/root .* ./usr/bin/mailtrail\n",
			"-rw-r--r-- root/root .* ./etc/mailtrail/mailtrail.yml\n",
			"-rw-r--r-- root/root .* ./lib/systemd/system/mailtrail.service\n",
			"./usr/share/doc/mailtrail/copyright\n",
		} {
			if !regexp.MustCompile(want).MatchString(files) {
				t.Errorf("dpkg-deb -c: no %q in\n%s", want, files)
			}
		}
		if got := run(t, "dpkg-deb", "-I", deb, "conffiles"); got != "/etc/mailtrail/mailtrail.yml\n" {
			t.Errorf("conffiles = %q, want only the configuration", got)
		}
		info := run(t, "dpkg-deb", "-I", deb)
		for _, s := range []string{"postinst", "prerm", "postrm", "Package: mailtrail", "Depends: libc6, passwd"} {
			if !strings.Contains(info, s) {
				t.Errorf("dpkg-deb -I: no %q in\n%s", s, info)
			}
		}
		if post := run(t, "dpkg-deb", "-I", deb, "postinst"); !strings.Contains(post, "useradd --system") {
			t.Errorf("postinst does not create the system user:\n%s", post)
		}
	})

	t.Run("lintian", func(t *testing.T) {
		// Warnings are judged below; errors also make lintian fail.
		out, err := exec.Command("lintian", "--fail-on", "error", "--tag-display-limit", "0", deb).CombinedOutput()
		if err != nil {
			t.Errorf("lintian: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 || (f[0] != "E:" && f[0] != "W:") {
				continue
			}
			if _, ok := lintianAccepted[f[2]]; ok && f[0] == "W:" {
				continue
			}
			t.Errorf("lintian: %s", line)
		}
	})

	if out, err := exec.Command("dpkg", "-s", "mailtrail").CombinedOutput(); err == nil {
		t.Fatalf("mailtrail is already installed on this machine; not touching it:\n%s", out)
	}
	t.Cleanup(func() { _ = exec.Command("dpkg", "--purge", "mailtrail").Run() })
	run(t, "dpkg", "-i", deb)

	t.Run("installed", func(t *testing.T) {
		if _, err := user.Lookup("mailtrail"); err != nil {
			t.Fatalf("no mailtrail user after install: %v", err)
		}
		groups := run(t, "id", "-nG", "mailtrail")
		if !strings.Contains(" "+groups, " adm") {
			t.Errorf("mailtrail is not in group adm: %s", groups)
		}
		// postqueue -j needs postdrop where Postfix is installed (it is
		// here: scripts/deps.sh installs it for the real-mail test).
		if _, err := user.LookupGroup("postdrop"); err == nil && !slices.Contains(strings.Fields(groups), "postdrop") {
			t.Errorf("mailtrail is not in group postdrop, which this host has: %s", groups)
		}
		if own := run(t, "stat", "-c", "%F %U:%G %a", "/var/lib/mailtrail"); own != "directory mailtrail:mailtrail 750\n" {
			t.Errorf("/var/lib/mailtrail: %q, want a directory mailtrail:mailtrail 750", own)
		}
		for _, f := range []string{"/usr/bin/mailtrail", "/etc/mailtrail/mailtrail.yml", "/lib/systemd/system/mailtrail.service"} {
			if _, err := os.Stat(f); err != nil {
				t.Error(err)
			}
		}
		// The unit's hardening and user are accepted by systemd itself (it
		// checks the ExecStart binary exists, hence after installing).
		if out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/mailtrail.service").CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// The installed binary accepts the installed configuration, as the
		// unit's ExecStart runs it, under the service's user.
		got := run(t, "runuser", "-u", "mailtrail", "--", "/usr/bin/mailtrail", "serve", "--config.check", "--config.file=/etc/mailtrail/mailtrail.yml")
		if got != "configuration ok\n" {
			t.Errorf("installed mailtrail serve --config.check: %q", got)
		}
		serveMetrics(t)
	})

	// A Postfix installed after mailtrail: dpkg fires the file trigger on
	// /usr/sbin/postqueue when postfix unpacks it, and the postinst, run as
	// "triggered", adds the user to the postdrop group postfix brought.
	t.Run("postfix installed later", func(t *testing.T) {
		if _, err := user.LookupGroup("postdrop"); err != nil {
			t.Skip("skipped: no postdrop group (Postfix is not installed here)")
		}
		if got := run(t, "dpkg-deb", "-I", deb, "triggers"); !strings.Contains(got, "interest-noawait /usr/sbin/postqueue\n") {
			t.Fatalf("the .deb has no trigger on /usr/sbin/postqueue:\n%s", got)
		}
		run(t, "gpasswd", "--delete", "mailtrail", "postdrop")
		run(t, "dpkg-trigger", "--no-await", "/usr/sbin/postqueue")
		run(t, "dpkg", "--triggers-only", "mailtrail")
		if groups := run(t, "id", "-nG", "mailtrail"); !slices.Contains(strings.Fields(groups), "postdrop") {
			t.Errorf("after the postqueue trigger mailtrail is not in postdrop: %s", groups)
		}
	})

	// Removal keeps the journal directory and its user; purge deletes them
	// and the configuration.
	if err := os.WriteFile("/var/lib/mailtrail/mailtrail.db", []byte("journal"), 0o640); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "--remove", "mailtrail")
	for _, f := range []string{"/usr/bin/mailtrail", "/lib/systemd/system/mailtrail.service"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s after dpkg --remove: %v", f, err)
		}
	}
	if _, err := os.Stat("/var/lib/mailtrail/mailtrail.db"); err != nil {
		t.Errorf("dpkg --remove lost the journal: %v", err)
	}
	if _, err := os.Stat("/etc/mailtrail/mailtrail.yml"); err != nil {
		t.Errorf("dpkg --remove deleted the configuration (a conffile stays until purge): %v", err)
	}
	run(t, "dpkg", "--purge", "mailtrail")
	for _, f := range []string{"/var/lib/mailtrail", "/etc/mailtrail"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s after dpkg --purge: %v", f, err)
		}
	}
	if _, err := user.Lookup("mailtrail"); err == nil {
		t.Error("the mailtrail user is still there after dpkg --purge")
	}
}

func TestRPMContents(t *testing.T) {
	rpm := os.Getenv("MAILTRAIL_RPM")
	if rpm == "" {
		t.Skip("skipped: MAILTRAIL_RPM is not set (run `make package-test`)")
	}
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("skipped: no rpm command (Debian package rpm)")
	}
	files := run(t, "rpm", "-qlp", rpm)
	t.Logf("rpm -qlp:\n%s", files)
	for _, want := range []string{"/usr/bin/mailtrail", "/etc/mailtrail/mailtrail.yml", "/lib/systemd/system/mailtrail.service"} {
		if !strings.Contains(files, want+"\n") {
			t.Errorf("rpm -qlp: no %s", want)
		}
	}
	if cfg := run(t, "rpm", "-qcp", rpm); cfg != "/etc/mailtrail/mailtrail.yml\n" {
		t.Errorf("rpm -qcp (config files) = %q", cfg)
	}
	if scripts := run(t, "rpm", "-qp", "--scripts", rpm); !strings.Contains(scripts, "useradd --system") {
		t.Errorf("rpm scripts do not create the user:\n%s", scripts)
	}
}

// serveMetrics starts the installed binary as the service user with the
// installed configuration, its log path pointed at a sample log (this
// machine's /var/log/mail.log is not ours to write), and scrapes /metrics.
func serveMetrics(t *testing.T) {
	dir, err := os.MkdirTemp("", "mailtrail-pkg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "mail.log")
	sample := "Mar  1 10:00:00 mx postfix/smtpd[100]: connect from unknown[192.0.2.7]\n" +
		"Mar  1 10:00:01 mx postfix/smtpd[100]: disconnect from unknown[192.0.2.7] ehlo=1 quit=1 commands=2\n"
	if err := os.WriteFile(logPath, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Run as the service user directly (not through runuser, which would
	// not pass the interrupt on).
	u, err := user.Lookup("mailtrail")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.CommandContext(ctx, "/usr/bin/mailtrail", "serve",
		"--config.file=/etc/mailtrail/mailtrail.yml", "--log.path="+logPath, "--web.listen-address="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	re := regexp.MustCompile(`(?m)^mailtrail_log_lines_total(\{[^}]*\})? 2$`)
	var body string
	for ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if body = string(b); re.MatchString(body) {
			break
		}
	}
	if !re.MatchString(body) {
		t.Fatalf("installed mailtrail did not report the sample's 2 lines on /metrics:\n%s\nstderr:\n%s", body, stderr.String())
	}
}

// TestUnitNamesNoHostGroups: the unit names no supplementary group that a
// host may lack. systemd fails such a service at start (status=216/GROUP)
// and systemd-analyze verify does not notice; the postinst adds the user to
// adm and postdrop where they exist instead.
func TestUnitNamesNoHostGroups(t *testing.T) {
	raw, err := os.ReadFile("mailtrail.service")
	if err != nil {
		t.Fatal(err)
	}
	post, err := os.ReadFile("scripts/postinstall.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || (key != "SupplementaryGroups" && key != "Group") {
			continue
		}
		for _, g := range strings.Fields(value) {
			// The package's own group exists wherever the package is installed.
			if !strings.Contains(string(post), "groupadd --system "+g+"\n") {
				t.Errorf("mailtrail.service: %s names group %s, which the package does not create", key, g)
			}
		}
	}
	for _, g := range []string{"adm", "postdrop"} {
		if !regexp.MustCompile(`(?m)^\s*for group in .*\b` + g + `\b`).Match(post) {
			t.Errorf("postinstall.sh does not add mailtrail to %s where the group exists", g)
		}
	}
}
