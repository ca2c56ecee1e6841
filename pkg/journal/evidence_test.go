package journal

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// TestViewAndLeaves holds what evidence bundles rely on: a view UpTo a
// size sees only the events up to it, Observe sees each event a read
// returns with its time column, and LeafData of what it saw hashes to the
// leaves of Snapshot, whose root is the tree's; the events without a time
// of their own included.
func TestViewAndLeaves(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	ingest := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	j, err := Open(ctx, path, Options{Now: func() time.Time { return ingest }, BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	recs := mixedRecords(300)
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	root := j.tree.Root()
	j.Close()

	var mu sync.Mutex
	seen := map[int64][]byte{}
	view, err := Open(ctx, path, Options{ReadOnly: true, UpTo: 200, Observe: func(s *Stored, timeCol int64) {
		mu.Lock()
		defer mu.Unlock()
		seen[s.Seq] = LeafData(s.Seq, timeCol, s.Source, &s.Event)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	evs, err := view.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 200 || evs[199].Seq != 200 || len(seen) != 200 {
		t.Fatalf("the view up to 200 read %d events, observed %d", len(evs), len(seen))
	}
	snap, err := view.Snapshot(ctx, 300)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Removed != 0 || len(snap.Leaves) != 300 || integrity.RootFromLeaves(snap.Leaves) != root {
		t.Fatalf("snapshot of %d leaves, %d removed: not the journal's tree", len(snap.Leaves), snap.Removed)
	}
	for seq, data := range seen {
		if integrity.LeafHash(data) != snap.Leaves[seq-1] {
			t.Fatalf("event %d: LeafData of what a read returned does not hash to its leaf (time %v)", seq, recs[seq-1].Event.Time)
		}
	}
	if _, err := view.Snapshot(ctx, 301); err == nil {
		t.Error("a snapshot beyond the journal")
	}
}
