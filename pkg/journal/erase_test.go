package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// fileMentions reports whether the journal's files (database and
// write-ahead log) hold s in plain bytes, in any letter case: what
// `strings journal.db | grep -i` would find.
func fileMentions(t *testing.T, path, s string) bool {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(s))) {
			return true
		}
	}
	return false
}

// TestErase: after an erasure the subject is in no event and in neither of
// the journal's files, the rewritten events keep their place in the tree,
// the erasure is journaled and signed, and the journal verifies.
func TestErase(t *testing.T) {
	ctx := context.Background()
	j, path, now, _, v := retentionJournal(t)
	const subject = "alice@example.org"
	recs := make([]Record, 40)
	for i := range recs {
		e := event.Event{Time: now.Add(time.Duration(i) * time.Second), Kind: event.KindDelivery, QueueID: fmt.Sprintf("A%d", i),
			Recipient: "Alice@Example.org", Status: "bounced", DSN: "5.1.1",
			Response: "550 5.1.1 <alice@example.org>: Recipient address rejected",
			Raw:      fmt.Sprintf("postfix/smtp: A%d: to=<Alice@Example.org>, status=bounced (550 5.1.1 <alice@example.org>)", i)}
		if i%5 == 0 {
			e = event.Event{Time: e.Time, Kind: event.KindLogin, SASLUsername: subject, ClientIP: "192.0.2.4",
				Raw: "dovecot: imap-login: Login: user=<alice@example.org>, rip=192.0.2.4"}
		}
		recs[i] = Record{Source: "/var/log/mail.log", Event: e}
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if !fileMentions(t, path, subject) {
		t.Fatal("the subject is not in the files before the erasure: the test would prove nothing")
	}
	before, err := j.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}

	res, err := j.Erase(ctx, []string{subject}, "test-officer")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 40 || res.Seq != before+1 || res.StandIn != fmt.Sprintf("[erased:%d]", before+1) {
		t.Fatalf("erase: %+v (journal had %d events)", res, before)
	}
	all, err := j.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(all)) != before+1 {
		t.Fatalf("%d events after the erasure, want %d (the same plus the erasure record)", len(all), before+1)
	}
	rewritten := 0
	for _, s := range all {
		if privacy.Mentions(&s.Event, subject) {
			t.Errorf("event %d still names the subject: %+v", s.Seq, s.Event)
		}
		if strings.Contains(s.Event.Raw, res.StandIn) {
			rewritten++
		}
	}
	if rewritten != 40 {
		t.Errorf("%d events carry the stand-in in their raw line, want 40", rewritten)
	}
	last := all[len(all)-1].Event
	if last.Kind != event.KindErasure || !strings.Contains(last.Detail, "test-officer") || strings.Contains(strings.ToLower(last.Detail), subject) {
		t.Errorf("erasure record: %+v", last)
	}
	if evs, err := j.Events(ctx, Filter{Recipient: subject}); err != nil || len(evs) != 0 {
		t.Errorf("a lookup of the subject found %d events, %v", len(evs), err)
	}
	if evs, err := j.Events(ctx, Filter{QueueID: "A1"}); err != nil || len(evs) != 1 || evs[0].Event.Status != "bounced" {
		t.Errorf("the rewritten event lost its other fields: %+v, %v", evs, err)
	}
	if !res.WALTruncated {
		t.Error("the write-ahead log was not truncated")
	}
	if fileMentions(t, path, subject) {
		t.Error("the subject is still in the journal's files")
	}
	rep, err := Verify(ctx, path, v, nil)
	if err != nil || rep.Problem != nil || rep.Uncovered != 0 {
		t.Fatalf("verify after the erasure: %+v, %v", rep, err)
	}
	if again, err := j.Erase(ctx, []string{subject}, "test-officer"); err != nil || again.Events != 0 || again.Seq != 0 {
		t.Errorf("a second erasure: %+v, %v", again, err)
	}
}

// TestUnauthorisedTombstone: an event replaced by its own leaf hash, which
// keeps the Merkle tree intact, is still reported: no erasure names it.
func TestUnauthorisedTombstone(t *testing.T) {
	ctx := context.Background()
	j, path, _, _, v := retentionJournal(t)
	const victim = 40
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	es, err := readBlock(ctx, tx, 33)
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if es[i].seq == victim {
			var leaf [32]byte
			leaf, j.leafBuf = es[i].leafHash(j.leafBuf, "/var/log/mail.log")
			es[i] = entry{seq: victim, tomb: true, leaf: leaf}
		}
	}
	if err := j.replaceBlock(ctx, tx, 33, es); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, path, v, nil)
	if err != nil || rep.Problem == nil || rep.Problem.Seq != victim || !strings.Contains(rep.Problem.What, "no erasure names it") {
		t.Fatalf("verify of a journal with an unauthorised tombstone: %+v, %v", rep, err)
	}
}

func TestSeqRanges(t *testing.T) {
	seqs := []int64{1, 2, 3, 5, 7, 8, 10}
	s := formatSeqs(seqs)
	if s != "1-3,5,7-8,10" {
		t.Fatalf("formatSeqs = %q", s)
	}
	rs, err := parseSeqs(s)
	if err != nil || fmt.Sprint(rs) != "[{1 3} {5 5} {7 8} {10 10}]" {
		t.Fatalf("parseSeqs(%q) = %v, %v", s, rs, err)
	}
	for _, bad := range []string{"", "0", "3-1", "1,1", "5,2", "x", "1-", "-3"} {
		if _, err := parseSeqs(bad); err == nil {
			t.Errorf("parseSeqs(%q) accepted", bad)
		}
	}
}

// TestRestoreAfterForget: an archive written before a forget brings its
// events back erased, and the journal verifies.
func TestRestoreAfterForget(t *testing.T) {
	ctx := context.Background()
	j, path, exp, v := carolArchived(t, t.TempDir())
	if _, err := j.Erase(ctx, []string{carol}, "test"); err != nil {
		t.Fatal(err)
	}
	res, err := j.Restore(ctx, exp.Archives)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restored != exp.Deleted || res.Erased == 0 {
		t.Fatalf("restore: %+v; expired %d", res, exp.Deleted)
	}
	checkCarolErased(t, j, path, v)
}

// TestForgetRewritesArchives: with the archive directory known, forget
// rewrites the archives that name the subject, in the same erasure; they
// restore erased, and verify.
func TestForgetRewritesArchives(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, path, exp, v := carolArchived(t, dir)
	j.opts.ArchiveDir = dir
	res, err := j.Erase(ctx, []string{carol}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 32 || res.Archived == 0 || res.Archived == res.Events || res.ArchiveFiles == 0 {
		t.Fatalf("erase: %+v; want 32 events, some of them archived", res)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) != len(exp.Archives) {
		t.Fatalf("archive directory holds %q, want the %d archives", files, len(exp.Archives))
	}
	archived := 0
	for _, f := range files {
		a, err := readArchive(f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(a.doc)
		for i := range a.entries {
			e := &a.entries[i]
			if e.redacted {
				archived++
			}
			body = append(body, e.data...)
		}
		if bytes.Contains(bytes.ToLower(body), []byte(carol)) {
			t.Errorf("%s still names the subject", f)
		}
	}
	if int64(archived) != res.Archived {
		t.Errorf("%d archived events rewritten, the erasure says %d", archived, res.Archived)
	}
	back, err := j.Restore(ctx, exp.Archives)
	if err != nil {
		t.Fatal(err)
	}
	if back.Restored != exp.Deleted || back.Erased != 0 {
		t.Fatalf("restore: %+v; expired %d, none left to erase", back, exp.Deleted)
	}
	checkCarolErased(t, j, path, v)
}

const carol = "carol@example.net"

// carolArchived is a signed journal where a third of 96 deliveries name
// carol (in either case) and retention archived the oldest to dir.
func carolArchived(t *testing.T, dir string) (*Journal, string, ExpireResult, integrity.Verifiers) {
	t.Helper()
	ctx := context.Background()
	j, path, now, recs, v := retentionJournal(t)
	old := recs[0].Event.Time
	more := make([]Record, 96)
	for i := range more {
		raw := fmt.Sprintf("postfix/smtp: C%d: to=<dave@example.net>, status=sent", i)
		if i%3 == 0 {
			raw = fmt.Sprintf("postfix/smtp: C%d: to=<Carol@example.net>, status=sent", i)
		}
		more[i] = Record{Source: "/var/log/mail.log", Event: event.Event{Time: old.Add(time.Duration(i) * time.Second),
			Kind: event.KindDelivery, QueueID: fmt.Sprintf("C%d", i), Raw: raw}}
	}
	if err := j.Commit(ctx, more, nil); err != nil {
		t.Fatal(err)
	}
	*now = old.Add(10*24*time.Hour + time.Hour)
	exp, err := j.Expire(ctx, Retention{Default: 3 * 24 * time.Hour, ArchiveDir: dir})
	if err != nil || len(exp.Archives) == 0 {
		t.Fatalf("expire: %+v, %v", exp, err)
	}
	return j, path, exp, v
}

// checkCarolErased checks that no event names carol, that the 32 that did
// carry a stand-in, and that the journal verifies.
func checkCarolErased(t *testing.T, j *Journal, path string, v integrity.Verifiers) {
	t.Helper()
	ctx := context.Background()
	all, err := j.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	carols := 0
	for _, s := range all {
		if privacy.Mentions(&s.Event, carol) {
			t.Errorf("event %d came back naming the subject: %s", s.Seq, s.Event.Raw)
		}
		if strings.Contains(s.Event.Raw, "[erased:") {
			carols++
		}
	}
	if carols != 32 {
		t.Errorf("%d events carry a stand-in, want the 32 that named the subject", carols)
	}
	if err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(ctx, path, v, nil); err != nil || rep.Problem != nil {
		t.Fatalf("verify after restoring erased events: %+v, %v", rep, err)
	}
}

// TestEraseDryRun: the dry run counts exactly what Erase then rewrites, and
// changes nothing.
func TestEraseDryRun(t *testing.T) {
	ctx := context.Background()
	j := openTemp(t)
	var recs []Record
	for _, u := range []string{"alice@example.com", "bob@example.com", "Alice@Example.com"} {
		recs = append(recs, Record{Source: "-", Event: event.Event{Kind: event.KindLogin, SASLUsername: u, Raw: "login " + u}})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	dry, total, err := j.EraseDryRun(ctx, []string{"alice@example.com"})
	if err != nil || dry.Events != 2 || total != 3 {
		t.Fatalf("dry run: %+v of %d, %v", dry, total, err)
	}
	if n, _ := j.Count(ctx); n != 3 {
		t.Fatalf("the dry run changed the journal: %d events", n)
	}
	res, err := j.Erase(ctx, []string{"alice@example.com"}, "test")
	if err != nil || res.Events != dry.Events {
		t.Fatalf("erase rewrote %d events, the dry run said %d (%v)", res.Events, dry.Events, err)
	}
}
