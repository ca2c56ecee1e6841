package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// retentionJournal journals 300 events spread over ten days, every fourth
// an auth failure, into a signed journal with blocks of 32, and returns it
// open with its clock, records and verifiers.
func retentionJournal(t *testing.T) (*Journal, string, *time.Time, []Record, integrity.Verifiers) {
	t.Helper()
	skey, vkey, err := integrity.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeFile(filepath.Join(dir, "key"), skey); err != nil {
		t.Fatal(err)
	}
	signer, err := integrity.LoadSigner(filepath.Join(dir, "key"))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := integrity.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	path := filepath.Join(dir, "j.db")
	j, err := Open(context.Background(), path, Options{Now: func() time.Time { return now }, Signer: signer, VerifierKey: vkey,
		Origin: "test", CheckpointEvery: 50, BlockEvents: testBlockEvents})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	recs := make([]Record, 300)
	for i := range recs {
		kind := event.KindDelivery
		if i%4 == 0 {
			kind = event.KindAuthFailure
		}
		recs[i] = Record{Source: "/var/log/mail.log", Event: event.Event{
			Time: t0.Add(time.Duration(i) * 48 * time.Minute), Kind: kind, QueueID: fmt.Sprintf("Q%d", i/3),
			SASLUsername: fmt.Sprintf("u%d", i%5), Raw: fmt.Sprintf("line %d", i),
		}}
	}
	for done := 0; done < len(recs); done += 10 {
		now = recs[done].Event.Time
		if err := j.Commit(context.Background(), recs[done:done+10], nil); err != nil {
			t.Fatal(err)
		}
	}
	return j, path, &now, recs, integrity.NewVerifiers(verifier)
}

func allSeqs(t *testing.T, j *Journal) []int64 {
	t.Helper()
	evs, err := j.Events(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return seqs(evs)
}

// TestRetention: with the clock ten days on, deliveries older than 3 days
// and auth failures older than 7 are gone, the rest is intact, the oldest
// blocks are folded into the base, and the journal still verifies; the
// archives bring every removed event back and it verifies again.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	j, path, now, recs, v := retentionJournal(t)
	before := allSeqs(t, j)
	*now = recs[0].Event.Time.Add(10*24*time.Hour + time.Hour)
	archive := filepath.Join(t.TempDir(), "archive")
	r := Retention{Default: 3 * 24 * time.Hour, Kinds: map[event.Kind]time.Duration{event.KindAuthFailure: 7 * 24 * time.Hour}, ArchiveDir: archive, BlocksPerTx: 2}
	res, err := j.Expire(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i, rec := range recs {
		keep := 3 * 24 * time.Hour
		if rec.Event.Kind == event.KindAuthFailure {
			keep = 7 * 24 * time.Hour
		}
		// Events of the hot table (the last 300 % 32) are never expired.
		if !rec.Event.Time.Before(now.Add(-keep)) || i >= 300-300%testBlockEvents {
			want = append(want, int64(i+1))
		}
	}
	// Each retention transaction journals what it removed.
	all, err := j.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	erased := map[int64]bool{}
	for _, e := range all {
		if e.Event.Kind != event.KindErasure {
			got = append(got, e.Seq)
			continue
		}
		if e.Seq <= 300 || e.Event.Program != "retention" {
			t.Errorf("unexpected erasure record %d: %+v", e.Seq, e.Event)
		}
		rs, err := erasureSeqs(&e.Event)
		if err != nil {
			t.Fatalf("erasure record %d: %v", e.Seq, err)
		}
		for _, r := range rs {
			for s := r.lo; s <= r.hi; s++ {
				erased[s] = true
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after retention:\n got %v\nwant %v", got, want)
	}
	if len(erased) != 300-len(want) {
		t.Errorf("the erasure records name %d events, want the %d removed", len(erased), 300-len(want))
	}
	for _, s := range want {
		if erased[s] {
			t.Errorf("erasure records name kept event %d", s)
		}
	}
	if res.Deleted != int64(300-len(want)) {
		t.Errorf("deleted %d, want %d", res.Deleted, 300-len(want))
	}
	// Events 1 to 64 (two blocks) all expired: folded into the base.
	if res.Folded != 64 {
		t.Errorf("folded %d events, want 64", res.Folded)
	}
	if n, err := j.Count(ctx); err != nil || n != int64(len(all)) {
		t.Errorf("count %d, %v; want %d", n, err, len(all))
	}
	// Lookups still work on what is left, and nothing removed is found.
	evs, err := j.Events(ctx, Filter{SASLUsername: "u0", Kinds: []event.Kind{event.KindAuthFailure}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Event.Time.Before(now.Add(-7 * 24 * time.Hour)) {
			t.Errorf("expired event %d found", e.Seq)
		}
	}
	if len(evs) == 0 {
		t.Error("no auth failure of u0 left")
	}
	// A second run finds nothing more to do.
	if res2, err := j.Expire(ctx, r); err != nil || res2.Deleted != 0 || res2.Folded != 0 {
		t.Errorf("second run: %+v, %v", res2, err)
	}
	if err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, path, v, nil)
	records := int64(len(all) - len(got))
	if err != nil || rep.Problem != nil || rep.Removed != 64 || rep.Events != 300+records-64 {
		t.Fatalf("verify after retention: %+v, %v", rep, err)
	}

	files, _ := filepath.Glob(filepath.Join(archive, "*.mtar"))
	if len(files) != len(res.Archives) || len(files) == 0 {
		t.Fatalf("%d archive files, result names %d", len(files), len(res.Archives))
	}
	rr, err := j.Restore(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Restored != res.Deleted {
		t.Errorf("restored %d events, want %d", rr.Restored, res.Deleted)
	}
	for s := int64(301); s <= 300+records; s++ {
		before = append(before, s)
	}
	if after := allSeqs(t, j); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after restore: %v\nwant %v", after, before)
	}
	evs, err = j.Events(ctx, Filter{QueueID: "Q1"})
	if err != nil || len(evs) != 3 || evs[0].Event.Raw != "line 3" || !evs[0].Event.Time.Equal(recs[3].Event.Time) {
		t.Errorf("restored Q1: %+v, %v", evs, err)
	}
	rep, err = Verify(ctx, path, v, nil)
	if err != nil || rep.Problem != nil || rep.Removed != 0 || rep.Events != 300+records {
		t.Fatalf("verify after restore: %+v, %v", rep, err)
	}
}

// TestRestoreRejects: a damaged archive, and an archived event that is not
// the one removed, are refused and change nothing.
func TestRestoreRejects(t *testing.T) {
	ctx := context.Background()
	j, _, now, recs, _ := retentionJournal(t)
	*now = recs[0].Event.Time.Add(10*24*time.Hour + time.Hour)
	archive := t.TempDir()
	res, err := j.Expire(ctx, Retention{Default: 3 * 24 * time.Hour, ArchiveDir: archive})
	if err != nil || len(res.Archives) == 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	// Newest first: the last archive is of a block still there.
	name := res.Archives[len(res.Archives)-1]
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 1
	damaged := filepath.Join(t.TempDir(), "damaged.mtar")
	os.WriteFile(damaged, b, 0o600)
	if _, err := j.Restore(ctx, []string{damaged}); err == nil {
		t.Error("a damaged archive was restored")
	}
	// An archive whose event was changed and whose checksum was redone.
	a, err := readArchive(name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.entries {
		if !a.entries[i].tomb {
			a.entries[i].t++
			break
		}
	}
	forged, err := j.writeArchiveFile(t.TempDir(), a)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := j.Count(ctx)
	if _, err := j.Restore(ctx, []string{forged}); err == nil {
		t.Error("an archive with a changed event was restored")
	}
	if n2, _ := j.Count(ctx); n2 != n {
		t.Errorf("a refused restore changed the count from %d to %d", n, n2)
	}
	if _, err := j.Restore(ctx, res.Archives[len(res.Archives)-1:]); err != nil {
		t.Errorf("the genuine archive: %v", err)
	}
}

// TestRetentionKeepsSuspensions: suspend and unsuspend records are kept
// whatever the policy says (serve rebuilds the suspensions in force from
// them); the policy's other records follow it.
func TestRetentionKeepsSuspensions(t *testing.T) {
	r := Retention{Default: time.Hour, Kinds: map[event.Kind]time.Duration{event.KindSuspend: time.Hour, event.KindPolicyRefusal: 2 * time.Hour}}
	for k, want := range map[event.Kind]time.Duration{event.KindSuspend: 0, event.KindUnsuspend: 0, event.KindErasure: 0,
		event.KindPolicyRefusal: 2 * time.Hour, event.KindAuthReport: time.Hour} {
		if got := r.keep(k); got != want {
			t.Errorf("%s kept %v, want %v", k, got, want)
		}
	}
}
