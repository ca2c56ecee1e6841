package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestBackupWhileServing: the backup docs/install.md gives — sqlite3's
// .backup of the journal while serve keeps writing to it — is a journal
// that `exporter verify` accepts against the original's verifier key.
func TestBackupWhileServing(t *testing.T) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatal("no sqlite3 (Debian package sqlite3; scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	backup := filepath.Join(dir, "backup.db")
	// Checkpoints every 1000 events, so the copy holds signed ones.
	cfg := filepath.Join(dir, "mailtrail.yml")
	if err := os.WriteFile(cfg, []byte("journal:\n  checkpoint_every: 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startLogWriter(t, logPath, 200*time.Microsecond)
	p := startExporter(t, nil, "--config.file="+cfg, "--log.path="+logPath, "--journal.path="+db, "--web.listen-address=127.0.0.1:0",
		"--instance=t", "--journal.flush-interval=20ms", "--log.poll-interval=20ms")
	waitJournaled(t, p, db, 3000, 60*time.Second)

	// The writer and the exporter are both still at work during the copy.
	if out, err := exec.Command(sqlite3, db, ".backup '"+backup+"'").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 .backup while serving: %v\n%s", err, out)
	}
	if p.exited() {
		t.Fatalf("exporter exited during the backup\n%s", p.output())
	}
	n := w.stop(t)
	waitJournaled(t, p, db, n, 60*time.Second)
	p.term()

	r := cliRun(t, "", "verify", "--journal.path="+backup, "--pubkey="+db+".key.pub")
	m := regexp.MustCompile(`^verified: (\d+) events, [1-9]\d* checkpoints`).FindStringSubmatch(r.stdout)
	if r.code != exitVerified || m == nil {
		t.Fatalf("verify of the backup taken while serving: %s", r)
	}
	if got, _ := strconv.Atoi(m[1]); got < 3000 || got > n {
		t.Errorf("the backup holds %d events, want between 3000 and the %d written", got, n)
	}
}
