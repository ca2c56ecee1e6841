package journal

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// ReadAfter reads events past a cursor in order, across sealed blocks and
// the hot table, each with the leaf the Merkle tree holds for it; an
// erased event keeps its leaf, a rewritten text; the cursor survives a
// reopen.
func TestReadAfterAndCursor(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, Options{BlockEvents: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Close() }()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var recs []Record
	for i := 1; i <= 70; i++ {
		e := event.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: event.KindDelivery, Service: "postfix",
			QueueID: fmt.Sprintf("Q%d", i), Recipient: fmt.Sprintf("u%d@example.org", i%3), Raw: fmt.Sprintf("line %d to u%d@example.org", i, i%3)}
		if i == 5 {
			e.Time = time.Time{} // filed under its ingest time
		}
		recs = append(recs, Record{Event: e, Source: "mail.log"})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	leaves := map[int64]integrity.Hash{}
	if err := j.eachLeaf(ctx, func(seq int64, l integrity.Hash) error { leaves[seq] = l; return nil }); err != nil {
		t.Fatal(err)
	}
	read := func(after int64, limit int) (seqs []int64, got []Shipped, last int64) {
		t.Helper()
		last, err := j.ReadAfter(ctx, after, limit, func(s *Shipped) error {
			seqs = append(seqs, s.Seq)
			got = append(got, *s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seqs, got, last
	}
	// From inside a block, across the rest of it and the next blocks,
	// into the hot table (70 = 4 blocks of 16 + 6 hot).
	seqs, got, last := read(10, 100)
	if len(seqs) != 60 || seqs[0] != 11 || last != 70 {
		t.Fatalf("after 10: %d events from %v, last %d", len(seqs), seqs[:1], last)
	}
	for i, s := range got {
		if s.Seq != int64(11+i) || s.Leaf != leaves[s.Seq] || s.Event.QueueID != fmt.Sprintf("Q%d", s.Seq) || s.Time.IsZero() {
			t.Fatalf("event %d: %+v (leaf %x, want %x)", i, s, s.Leaf, leaves[s.Seq])
		}
	}
	if seqs, _, last := read(60, 3); len(seqs) != 3 || seqs[0] != 61 || last != 63 {
		t.Fatalf("after 60, 3: %v last %d", seqs, last)
	}
	if seqs, _, last := read(70, 5); len(seqs) != 0 || last != 70 {
		t.Fatalf("after the end: %v last %d", seqs, last)
	}
	if _, got, _ := read(4, 1); got[0].Time.IsZero() || !got[0].Event.Time.IsZero() {
		t.Fatalf("event without a time: filed at %v, event time %v", got[0].Time, got[0].Event.Time)
	}
	if _, err := j.ReadAfter(ctx, 0, 0, func(*Shipped) error { return nil }); err == nil {
		t.Fatal("limit 0 accepted")
	}

	res, err := j.Erase(ctx, []string{"u1@example.org"}, "test")
	if err != nil || res.Events == 0 {
		t.Fatalf("erase: %+v %v", res, err)
	}
	erased, err := j.ErasedSeqs(ctx, res.Seq)
	if err != nil || int64(len(erased)) != res.Events || erased[0] != 1 {
		t.Fatalf("erased seqs %v %v, want %d from 1", erased, err, res.Events)
	}
	if _, err := j.ErasedSeqs(ctx, 3); err == nil {
		t.Fatal("a delivery taken for an erasure record")
	}
	_, got, _ = read(0, 1)
	if got[0].Leaf != leaves[1] || strings.Contains(got[0].Event.Raw, "u1@") || !strings.Contains(got[0].Event.Raw, res.StandIn) {
		t.Fatalf("erased event 1: %+v", got[0])
	}

	if c, err := j.ShipCursor(ctx, "victorialogs"); err != nil || c != 0 {
		t.Fatalf("cursor before any: %d %v", c, err)
	}
	if err := j.SetShipCursor(ctx, "victorialogs", 42); err != nil {
		t.Fatal(err)
	}
	if err := j.SetShipCursor(ctx, "otlp", 7); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if j, err = Open(ctx, path, Options{}); err != nil {
		t.Fatal(err)
	}
	for sink, want := range map[string]int64{"victorialogs": 42, "otlp": 7, "other": 0} {
		if c, err := j.ShipCursor(ctx, sink); err != nil || c != want {
			t.Fatalf("cursor of %s after reopen: %d %v, want %d", sink, c, err, want)
		}
	}
}
