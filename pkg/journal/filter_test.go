package journal

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The filter answers "maybe" for every term it holds and "no" for nearly
// every other at its designed load.
func TestGenFilter(t *testing.T) {
	var f genFilter
	const n = 13000
	for i := 0; i < n; i++ {
		f.add(term(termQueueID, []byte(fmt.Sprintf("Q%d", i))))
	}
	for i := 0; i < n; i++ {
		if !f.mayHold(term(termQueueID, []byte(fmt.Sprintf("Q%d", i)))) {
			t.Fatalf("term %d added but not held", i)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if f.mayHold(term(termQueueID, []byte(fmt.Sprintf("Q%d", i)))) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.03 {
		t.Errorf("false positives %.1f%%, want about 1%%", 100*rate)
	}
}

// Lookups give the same blocks with the filters as without, across
// generations, for terms sealed before the filters were built and after.
func TestFiltersPlan(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, Options{BlockEvents: 256})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := func(from, to int) {
		recs := make([]Record, 0, to-from)
		for i := from; i < to; i++ {
			recs = append(recs, Record{Source: "s", Event: event.Event{Time: t0.Add(time.Duration(i) * time.Second),
				Kind: event.KindQueued, QueueID: fmt.Sprintf("Q%d", i/4), Sender: fmt.Sprintf("u%d@example.org", i%997)}})
		}
		if err := j.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	batch(0, 70000) // three generations
	j.Close()
	if j, err = Open(ctx, path, Options{BlockEvents: 256}); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	<-j.filtersDone
	if !j.filters.ready {
		t.Fatal("filters not built")
	}
	batch(70000, 72000) // sealed after the build
	fs := j.filters
	for _, f := range []Filter{{QueueID: "Q10"}, {QueueID: "Q9000"}, {QueueID: "Q17999"}, {QueueID: "nope"},
		{Sender: "U5@example.org"}, {Sender: "u5@example.org", QueueID: "Q1250"}} {
		j.filters = fs
		with, err := j.planBlocks(ctx, j.db, &f)
		if err != nil {
			t.Fatal(err)
		}
		j.filters = nil
		without, err := j.planBlocks(ctx, j.db, &f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(with, without) {
			t.Errorf("%+v: blocks %v with the filters, %v without", f, with, without)
		}
	}
	j.filters = fs
	// A queue id of one generation is looked for there alone.
	tq := term(termQueueID, []byte("Q10"))
	kept := 0
	for g := int64(0); g <= 72000>>genShift; g++ {
		if fs.keep(g, tq) {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("a lookup of Q10 seeks %d generations, want 1", kept)
	}
}
