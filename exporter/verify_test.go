package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestVerifyCommand: a replayed journal verifies; one edited with plain SQL
// is named as tampered with exit 1; exported checkpoints are accepted back;
// a file that is no database at all cannot be read (exit 3).
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	cliMust(t, "", "simulate", "--lines", "5000", "--seed", "3", "--output", logPath)
	r := cliRun(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)
	if r.code != 0 {
		t.Fatalf("replay: %s", r)
	}
	if _, err := os.Stat(db + ".key.pub"); err != nil {
		t.Fatalf("replay made no verifier key: %v", err)
	}
	r = cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub")
	if r.code != exitVerified || !regexp.MustCompile(`^verified: 5000 events, [1-9][0-9]* checkpoints\n$`).MatchString(r.stdout) {
		t.Fatalf("verify of an intact journal: %s", r)
	}
	exported := filepath.Join(dir, "offhost")
	if r := cliRun(t, "", "checkpoints", "--journal.path="+db, "--export="+exported); r.code != 0 {
		t.Fatalf("checkpoints --export: %s", r)
	}
	notes, _ := filepath.Glob(filepath.Join(exported, "checkpoint-*.note"))
	if len(notes) == 0 {
		t.Fatal("no checkpoint exported")
	}
	r = cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub", "--checkpoint="+notes[len(notes)-1])
	if r.code != exitVerified {
		t.Fatalf("verify with the exported checkpoint: %s", r)
	}

	sqldb, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	// Events beyond the last sealed block (2 × 2048) still sit in the hot
	// table, where plain SQL can edit one field.
	res, err := sqldb.Exec("UPDATE events SET kind = 5 WHERE seq = 4500")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("the edit changed %d rows, want 1", n)
	}
	sqldb.Close()
	r = cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub")
	if r.code != exitTampered || !regexp.MustCompile(`^TAMPERED: checkpoint at 5000 events: events 1 to 5000 do not match`).MatchString(r.stdout) {
		t.Fatalf("verify of an edited journal: %s", r)
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("this is not a database, just text long enough to be read as a header......................................................................................................"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+junk); r.code != exitUnreadable {
		t.Fatalf("verify of a non-database: %s", r)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+filepath.Join(dir, "missing.db")); r.code != exitUnreadable {
		t.Fatalf("verify of a missing file: %s", r)
	}
}
