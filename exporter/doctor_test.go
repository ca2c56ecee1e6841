package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// doctorHost is a host as doctor finds it: a mail log written a moment
// ago with a rotated generation, and a journal directory.
func doctorHost(t *testing.T) (log, journal string) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log = filepath.Join(dir, "mail.log")
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000000-07:00")
	cliWriteFile(t, log, stamp+" mx postfix/smtpd[1]: connect from a[192.0.2.1]\n")
	cliWriteFile(t, log+".1", "")
	jdir := filepath.Join(dir, "lib")
	if err := os.Mkdir(jdir, 0o755); err != nil {
		t.Fatal(err)
	}
	return log, filepath.Join(jdir, "journal.db")
}

func TestCLIDoctorAllGood(t *testing.T) {
	log, journal := doctorHost(t)
	out := cliMust(t, "", "doctor", "--log.path="+log, "--journal.path="+journal, "--postfix.postqueue=",
		"--web.listen-address=127.0.0.1:0", "--syslog.listen-udp=127.0.0.1:0", "--log.timezone=UTC")
	for _, check := range []string{"logs", "rotated", "journal", "disk", "postqueue", "listen", "signing-key", "clock"} {
		if !strings.Contains(out, "ok    "+check) {
			t.Errorf("no ok %s finding in:\n%s", check, out)
		}
	}
	if strings.Contains(out, "FAIL") || strings.Contains(out, "warn") || strings.Contains(out, "fix:") {
		t.Errorf("all good, yet:\n%s", out)
	}
}

func TestCLIDoctorFindsAndSaysWhatToDo(t *testing.T) {
	log, journal := doctorHost(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := filepath.Join(filepath.Dir(journal), "signing.key")
	cliWriteFile(t, key, "secret")
	missing := filepath.Join(filepath.Dir(journal), "gone")
	r := cliRun(t, "", "doctor", "--log.path="+log, "--journal.path="+filepath.Join(missing, "j.db"),
		"--journal.signing-key="+key, "--postfix.postqueue=", "--web.listen-address="+l.Addr().String())
	if r.code != 1 || r.stderr != "exporter doctor: 3 of 7 checks failed\n" {
		t.Errorf("want exit 1 and 3 failures told, got %s", r)
	}
	for _, fix := range []string{
		"install -d -o ",     // the missing journal directory
		"ss -lnp 'sport = :", // the busy port
		"chmod 600 " + key,   // the key readable by others
	} {
		if !strings.Contains(r.stdout, fix) {
			t.Errorf("no fix %q in:\n%s", fix, r.stdout)
		}
	}
}

// TestCLIDoctorAsAnotherUser runs doctor as the unprivileged user nobody,
// for real, against a log only group adm may read, and with --doctor.user
// from root: both name the group.
func TestCLIDoctorAsAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to make a file another user cannot read and to run as nobody")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	adm, err := user.LookupGroup("adm")
	if err != nil {
		t.Skip("no group adm")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(adm.Gid)
	log, journal := doctorHost(t)
	if err := os.Chown(log, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(log, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Dir(journal), uid, 0); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--log.path=" + log, "--journal.path=" + journal, "--postfix.postqueue=", "--web.listen-address=127.0.0.1:0"}
	const fix = "fix: add the user to the file's group: usermod -aG adm nobody"

	r := cliRun(t, "", append(args, "--doctor.user=nobody")...)
	if r.code != 1 || !strings.Contains(r.stdout, "is not readable by user nobody") || !strings.Contains(r.stdout, fix) {
		t.Errorf("--doctor.user=nobody: want the log unreadable and the group named, got %s", r)
	}

	bin := exporterBinary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: 65534, Groups: []uint32{}}}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("as nobody: want exit 1, got %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "is not readable by user nobody") || !strings.Contains(out.String(), fix) {
		t.Errorf("as nobody: want the log unreadable and the group named, got:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "ok    journal") {
		t.Errorf("as nobody: the journal directory it owns should be writable:\n%s", out.String())
	}
}
