package doctor

import (
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// nobody is a user that owns nothing in the tests' files and is in no
// group of theirs, whoever runs the tests.
var nobody = User{Name: "nobody", UID: 65534, GIDs: []int{65534}}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	c := config.DefaultConfig()
	dir := t.TempDir()
	c.Journal.Path = filepath.Join(dir, "journal.db")
	c.Journal.SigningKey = c.Journal.Path + ".key"
	c.Postfix.Postqueue = ""
	return c
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// openDir is a temporary directory every user may pass through, as
// /var/log is (t.TempDir's are private to their owner).
func openDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// one returns the single finding of check, failing the test otherwise.
func one(t *testing.T, fs []Finding, check string) Finding {
	t.Helper()
	var got []Finding
	for _, f := range fs {
		if f.Check == check {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one %s finding, got %+v", check, fs)
	}
	return got[0]
}

func want(t *testing.T, f Finding, s Status, found, fix string) {
	t.Helper()
	if f.Status != s || !strings.Contains(f.Found, found) || !strings.Contains(f.Fix, fix) {
		t.Errorf("want %v finding with %q and fix %q, got %+v", s, found, fix, f)
	}
	if s != OK && f.Fix == "" {
		t.Errorf("finding %+v says not what to do", f)
	}
}

func TestUnreadableLogNamesTheGroup(t *testing.T) {
	c := testConfig(t)
	log := writeFile(t, filepath.Join(openDir(t), "mail.log"), "x\n", 0o640)
	c.Logs.Paths = []string{log}
	gid := os.Getgid()
	if os.Getuid() == 0 {
		// As on Debian: root:adm 0640, written by rsyslog.
		if g, err := user.LookupGroup("adm"); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		}
		if err := os.Chown(log, 0, gid); err != nil {
			t.Fatal(err)
		}
	}
	group := strconv.Itoa(gid)
	if g, err := user.LookupGroupId(group); err == nil {
		group = g.Name
	}
	files, fs := LogFiles(c, nobody)
	if len(files) != 0 {
		t.Errorf("unreadable file offered for reading: %v", files)
	}
	want(t, one(t, fs, "logs"), Fail, "not readable by user nobody", "usermod -aG "+group+" nobody")

	// The group the finding names is the one that makes it readable.
	inGroup := nobody
	inGroup.GIDs = append(inGroup.GIDs, gid)
	files, fs = LogFiles(c, inGroup)
	want(t, one(t, fs, "logs"), OK, "readable", "")
	if len(files) != 1 {
		t.Errorf("readable file not offered: %v", files)
	}
}

func TestLogBehindPrivateDirectory(t *testing.T) {
	c := testConfig(t)
	dir := t.TempDir() // mode 0700
	log := writeFile(t, filepath.Join(dir, "mail.log"), "x\n", 0o644)
	c.Logs.Paths = []string{log}
	_, fs := LogFiles(c, nobody)
	want(t, one(t, fs, "logs"), Fail, "does not let user nobody through", "chmod o+x "+filepath.Dir(dir))
}

func TestMissingLog(t *testing.T) {
	c := testConfig(t)
	c.Logs.Paths = []string{filepath.Join(t.TempDir(), "mail.log"), filepath.Join(t.TempDir(), "*.log")}
	_, fs := LogFiles(c, Current())
	if len(fs) != 2 || fs[0].Status != Fail || fs[1].Status != Fail {
		t.Fatalf("want two failures, got %+v", fs)
	}
	want(t, fs[0], Fail, "no such file", "check the log path")
	want(t, fs[1], Fail, "matches no file", "check the log path")
}

func TestPermits(t *testing.T) {
	f := writeFile(t, filepath.Join(t.TempDir(), "f"), "", 0o000)
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if !Permits(fi, User{Name: "root"}, Read|Write) {
		t.Error("root may read and write a 0000 file")
	}
	if Permits(fi, nobody, Read) {
		t.Error("nobody may not read a 0000 file")
	}
	if err := os.Chmod(f, 0o604); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(f)
	if !Permits(fi, nobody, Read) || Permits(fi, nobody, Write) {
		t.Error("0604: others read, do not write")
	}
}

func TestRotated(t *testing.T) {
	c := testConfig(t)
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "mail.log"), "", 0o644)
	want(t, one(t, Rotated(c, []string{log}), "rotated"), Warn, "no rotated generations", "logs.rotated_globs")
	writeFile(t, log+".1", "", 0o644)
	writeFile(t, log+".2.gz", "", 0o644)
	want(t, one(t, Rotated(c, []string{log}), "rotated"), OK, "2 rotated generations", "")
}

func TestMissingJournalDir(t *testing.T) {
	c := testConfig(t)
	dir := filepath.Join(t.TempDir(), "lib", "mailtrail")
	c.Journal.Path = filepath.Join(dir, "journal.db")
	want(t, one(t, JournalDir(c, nobody, 1), "journal"), Fail, "no such file", "install -d -o nobody -m 0750 "+dir)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Owned by the test's user, not nobody's to write.
	want(t, one(t, JournalDir(c, nobody, 1), "journal"), Fail, "not writable by user nobody", "chown nobody "+dir)

	fs := JournalDir(c, Current(), 1)
	want(t, one(t, fs, "journal"), OK, "writable", "")
	want(t, one(t, fs, "disk"), OK, "MiB free", "")
	// A filesystem never has this much room: the check reads statfs.
	want(t, one(t, JournalDir(c, Current(), 1<<62), "disk"), Fail, "MiB free", "journal.retention")
}

func TestBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := testConfig(t)
	busy := l.Addr().String()
	_, port, _ := net.SplitHostPort(busy)
	want(t, one(t, Listen(c, []string{busy}), "listen"), Fail, "web tcp/"+busy, "ss -lnp 'sport = :"+port+"'")

	c.Syslog.ListenRELP = busy
	fs := Listen(c, []string{"127.0.0.1:0"})
	if len(fs) != 2 || fs[0].Status != OK || fs[1].Status != Fail || !strings.Contains(fs[1].Found, "relp") {
		t.Errorf("want the free web address ok and the busy RELP one failed, got %+v", fs)
	}

	c.Syslog.ListenRELP = ""
	c.Policy.DovecotListen = busy
	fs = Listen(c, []string{"127.0.0.1:0"})
	if len(fs) != 2 || fs[1].Status != Fail || !strings.Contains(fs[1].Found, "dovecot policy tcp/"+busy) {
		t.Errorf("want the busy Dovecot policy address failed, got %+v", fs)
	}
}

func TestSigningKey(t *testing.T) {
	c := testConfig(t)
	want(t, one(t, SigningKey(c), "signing-key"), OK, "does not exist yet", "")
	writeFile(t, c.Journal.SigningKey, "key", 0o644)
	want(t, one(t, SigningKey(c), "signing-key"), Fail, "mode 0644", "chmod 600 "+c.Journal.SigningKey)
	if err := os.Chmod(c.Journal.SigningKey, 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, one(t, SigningKey(c), "signing-key"), OK, "private (mode 0600)", "")
}

func TestClockAgainstNewestLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := testConfig(t)
	log := filepath.Join(t.TempDir(), "mail.log")
	// Syslog wrote local time in New York (07:00 EST = 12:00 UTC), but the
	// exporter was told nothing and reads the stamps as UTC: 5 hours old;
	// told Los Angeles, 3 hours in the future.
	writeFile(t, log, "Dec  3 06:59:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n"+
		"Dec  3 07:00:00 mx postfix/smtpd[1]: disconnect from a[192.0.2.1]\n\n", 0o644)
	c.Timezone = "UTC"
	want(t, one(t, Clock(c, []string{log}, nobody, now, time.Hour), "clock"), Warn, "is 5h0m0s old", "set timezone (--log.timezone)")
	c.Timezone = "America/Los_Angeles"
	want(t, one(t, Clock(c, []string{log}, nobody, now, time.Hour), "clock"), Fail, "is 3h0m0s in the future", "set timezone (--log.timezone)")
	c.Timezone = "America/New_York"
	want(t, one(t, Clock(c, []string{log}, nobody, now, time.Hour), "clock"), OK, "0s old", "")
}

func TestPostqueue(t *testing.T) {
	c := testConfig(t)
	want(t, one(t, Postqueue(context.Background(), c, Current()), "postqueue"), OK, "off", "")
	c.Postfix.Postqueue = filepath.Join(t.TempDir(), "postqueue")
	want(t, one(t, Postqueue(context.Background(), c, Current()), "postqueue"), Fail, "no such file", "set postfix.postqueue")
	// A postqueue that refuses, as Postfix's does for a user outside postdrop.
	writeFile(t, c.Postfix.Postqueue, "#!/bin/sh\necho 'postqueue: fatal: open /etc/postfix/main.cf: Permission denied' >&2\nexit 75\n", 0o755)
	want(t, one(t, Postqueue(context.Background(), c, Current()), "postqueue"), Fail, "Permission denied", "postdrop")
	writeFile(t, c.Postfix.Postqueue, "#!/bin/sh\necho 'postqueue: fatal: open /etc/postfix-out/main.cf: No such file or directory' >&2\nexit 75\n", 0o755)
	want(t, one(t, Postqueue(context.Background(), c, Current()), "postqueue"), Fail, "main.cf", "--postfix.config-dir")
}

// TestPostqueueAsTheUser runs postqueue as the user doctor checks for: a
// postqueue only its owner may run fails for nobody.
func TestPostqueueAsTheUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run as another user")
	}
	c := testConfig(t)
	c.Postfix.Postqueue = writeFile(t, filepath.Join(openDir(t), "postqueue"), "#!/bin/sh\nexit 0\n", 0o700)
	want(t, one(t, Postqueue(context.Background(), c, Current()), "postqueue"), OK, "runs", "")
	want(t, one(t, Postqueue(context.Background(), c, nobody), "postqueue"), Fail, "permission denied", "postdrop")
}

func TestJournald(t *testing.T) {
	c := testConfig(t)
	if fs := Journald(c); len(fs) != 0 {
		t.Errorf("journald off: want no finding, got %+v", fs)
	}
	c.Journald.Enabled = true
	c.Journald.Command = filepath.Join(t.TempDir(), "journalctl")
	want(t, one(t, Journald(c), "journald"), Fail, "journalctl", "--no-journald")
}
