package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// journalFiles is everything the journal keeps on disk, as `strings` over
// the files would see it, in lower case.
func journalFiles(t *testing.T, db string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(db + suffix); err == nil {
			all = append(all, bytes.ToLower(b)...)
		}
	}
	return all
}

// TestForget: the user most present in a replayed simulated log is erased;
// afterwards no event and no byte of the journal's files holds the address,
// nothing else changed, the erasure is journaled, and verify passes.
func TestForget(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	cliMust(t, "", "simulate", "--lines", "6000", "--seed", "4", "--output", logPath)
	// A journal small enough that part of it is still in the hot table,
	// where lines sit uncompressed: the subject is in the files in plain
	// text before the erasure.
	if r := cliRun(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath); r.code != 0 {
		t.Fatalf("replay: %s", r)
	}
	subject := mostPresentUser(t, logPath)
	if !bytes.Contains(journalFiles(t, db), []byte(subject)) {
		t.Fatalf("fixture: %s is not in the journal's files before the erasure; the test would prove nothing", subject)
	}

	r := cliRun(t, "", "forget", "--journal.path="+db, "--subject="+strings.ToUpper(subject), "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing changed (dry run)") {
		t.Fatalf("dry run: %s", r)
	}
	before := countEvents(t, db)
	r = cliRun(t, "", "forget", "--journal.path="+db, "--subject="+subject, "--actor=dpo@example.net")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "erased "+subject+" from ") {
		t.Fatalf("forget: %s", r)
	}
	if after := countEvents(t, db); after != before+1 {
		t.Errorf("%d events after forget, want %d (the same plus the erasure)", after, before+1)
	}
	if bytes.Contains(journalFiles(t, db), []byte(subject)) {
		t.Errorf("%s is still in the journal's files", subject)
	}
	r = cliRun(t, "", "events", "--journal.path="+db, "--kind=erasure")
	if r.code != 0 || !strings.Contains(r.stdout, "dpo@example.net") || strings.Contains(strings.ToLower(r.stdout), subject) {
		t.Errorf("the erasure record: %s", r)
	}
	if r := cliRun(t, "", "events", "--journal.path="+db, "--sasl-username="+subject); r.code != 0 || r.stdout != "" {
		t.Errorf("events of the erased user: %s", r)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub"); r.code != exitVerified {
		t.Fatalf("verify after forget: %s", r)
	}
	r = cliRun(t, "", "forget", "--journal.path="+db, "--subject="+subject)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "no event names") {
		t.Errorf("second forget: %s", r)
	}
}

// mostPresentUser is the SASL user with an address who logs in most often
// in a log, in lower case.
func mostPresentUser(t *testing.T, logPath string) string {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &parser.Parser{Location: time.UTC}
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		e := p.Parse(l, time.Now())
		if strings.Contains(e.SASLUsername, "@") {
			count[e.SASLUsername]++
		}
	}
	subject, most := "", 0
	for u, n := range count {
		if n > most || (n == most && u < subject) {
			subject, most = u, n
		}
	}
	if subject == "" {
		t.Fatal("fixture: no SASL user with an address in the simulated log")
	}
	return strings.ToLower(subject)
}

// TestForgetArchives: forget given the archive directory rewrites the
// archives retention wrote there; a dry run counts them first, nothing is
// left after, the archives restore erased and the journal verifies.
func TestForgetArchives(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	archives := filepath.Join(dir, "archive")
	cliMust(t, "", "simulate", "--lines", "6000", "--seed", "4", "--output", logPath)
	cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)
	subject := mostPresentUser(t, logPath)

	// Retention takes the older half of the events into archives.
	ctx := context.Background()
	signer, err := integrity.LoadSigner(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(ctx, db, journal.Options{Signer: signer, Origin: "mx1"})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := j.Events(ctx, journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	now := evs[len(evs)/2].Event.Time.Add(time.Hour)
	j.Close()
	j, err = journal.Open(ctx, db, journal.Options{Signer: signer, Origin: "mx1", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := j.Expire(ctx, journal.Retention{Default: time.Hour, ArchiveDir: archives})
	j.Close()
	if err != nil || len(exp.Archives) == 0 {
		t.Fatalf("expire: %+v, %v", exp, err)
	}

	r := cliRun(t, "", "forget", "--journal.path="+db, "--journal.archive-dir="+archives, "--subject="+subject, "--dry-run")
	if r.code != 0 || strings.Contains(r.stdout, "\n0 archived events") {
		t.Fatalf("dry run: %s; want archived events that name %s", r, subject)
	}
	r = cliRun(t, "", "forget", "--journal.path="+db, "--journal.archive-dir="+archives, "--subject="+subject)
	if r.code != 0 || !strings.Contains(r.stdout, " archive files (now [erased:") {
		t.Fatalf("forget: %s", r)
	}
	r = cliRun(t, "", "forget", "--journal.path="+db, "--journal.archive-dir="+archives, "--subject="+subject, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "\n0 archived events in 0 files") || !strings.HasPrefix(r.stdout, "0 of ") {
		t.Errorf("dry run after forget: %s", r)
	}
	args := []string{"restore", "--journal.path=" + db}
	for _, a := range exp.Archives {
		args = append(args, "--archive="+a)
	}
	if r := cliRun(t, "", args...); r.code != 0 || strings.Contains(r.stdout, "came back erased") {
		t.Fatalf("restore: %s; want the events back, erased already", r)
	}
	if bytes.Contains(journalFiles(t, db), []byte(subject)) {
		t.Errorf("%s is in the journal's files after the restore", subject)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub"); r.code != exitVerified {
		t.Fatalf("verify after forget and restore: %s", r)
	}
}

func countEvents(t *testing.T, db string) int64 {
	t.Helper()
	j, err := journal.Open(context.Background(), db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	n, err := j.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestForgetErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	for _, c := range []struct{ subject, want string }{
		{"ab", "too short to name one person (at least 3 characters)"},
		{"@example.org", "a domain or a local part alone would erase other people's addresses"},
		{"a b@example.org", "not an address or user name (it holds spaces, brackets or quotes)"},
	} {
		cliExpect(t, cliRun(t, "", "forget", "--journal.path="+db, "--subject="+c.subject), 2,
			`exporter forget: --subject="`+c.subject+`": `+c.want+"\n")
	}
	r := cliRun(t, "", "forget", "--journal.path="+db, "--subject=alice@example.org")
	if r.code != 1 || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("forget on a missing journal: %s", r)
	}
	// While another process writes the journal, forget refuses to fork
	// its Merkle tree.
	j, err := journal.Open(context.Background(), db, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r = cliRun(t, "", "forget", "--journal.path="+db, "--subject=alice@example.org")
	if r.code != 1 || !strings.Contains(r.stderr, "another process is writing to this journal") {
		t.Errorf("forget beside a writer: %s", r)
	}
}

// TestForgetSuspendedInRunningServe: an erasure through a running serve's
// API reaches the suspensions it holds. They name the stand-in, as they
// will after a restart, and the list no longer names the subject.
func TestForgetSuspendedInRunningServe(t *testing.T) {
	r := startAPIRig(t, 200, true, "")
	post := func(pathAndQuery string, v any) {
		t.Helper()
		r.doJSON(http.MethodPost, "admin", pathAndQuery, http.StatusOK, v)
	}
	const subject = "mallory@example.com"
	var sr apiv1.SuspendResult
	post("/api/v1/suspend?user="+url.QueryEscape(subject)+"&reason="+url.QueryEscape("phished: "+subject), &sr)
	post("/api/v1/suspend?ip=192.0.2.9&reason=scanner", &sr)
	var fr apiv1.ForgetResult
	post("/api/v1/forget?subject="+url.QueryEscape(subject), &fr)
	if !strings.HasPrefix(fr.StandIn, "[erased:") {
		t.Fatalf("forget answered %+v", fr)
	}
	var list apiv1.Suspensions
	r.getJSON("admin", "/api/v1/suspensions", http.StatusOK, &list)
	subjects := map[string]string{}
	for _, v := range list.Suspensions {
		subjects[v.Subject] = v.Reason
	}
	if len(subjects) != 2 || subjects[fr.StandIn] != "phished: "+fr.StandIn || subjects["192.0.2.9"] != "scanner" {
		t.Errorf("suspensions after the erasure (stand-in %s): %+v", fr.StandIn, list.Suspensions)
	}
	r.p.term()
}
