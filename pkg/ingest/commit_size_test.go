package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

type commitRecorder struct{ sizes []int }

func (o *commitRecorder) Observed(string, *event.Event, correlate.Note) {}
func (o *commitRecorder) Committed(n int, _ time.Duration)              { o.sizes = append(o.sizes, n) }
func (o *commitRecorder) CommitFailed(error)                            {}

// Once a short commit (a flush timer's) has left events in the hot table,
// the batches that follow end on block boundaries: the first completes the
// block (and as many whole ones as fit in BatchSize), the next are
// BatchSize rounded down to whole blocks, so no event
// is written into the hot table only to be deleted from it again; the
// last, at the end of the lines, takes what is left. Every event and the
// last position are journaled.
func TestBatchesEndOnBlocks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.Open(ctx, path, journal.Options{BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	line := func(i int) string {
		return fmt.Sprintf("Jun  3 10:40:57 mx postfix/smtpd[%d]: connect from unknown[192.0.2.9]", i)
	}
	var early []journal.Record
	for i := range 10 {
		early = append(early, journal.Record{Source: "a", Event: event.Event{Raw: line(i)}})
	}
	if err := j.Commit(ctx, early, nil); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	ch := make(chan []tailer.Line, n/50)
	for i := 0; i < n; i += 50 {
		var ls []tailer.Line
		for k := i; k < i+50; k++ {
			ls = append(ls, tailer.Line{Source: "a", Text: line(k), Pos: event.Position{Fingerprint: "a", Offset: int64(k + 1)}})
		}
		ch <- ls
	}
	close(ch)
	rec := &commitRecorder{}
	if err := Run(ctx, Config{Parser: &parser.Parser{Location: time.UTC}, Journal: j, BatchSize: 200, FlushInterval: time.Hour, Observer: rec}, ch); err != nil {
		t.Fatal(err)
	}
	want := []int{182, 192, 192, 192, 192, 50}
	if fmt.Sprint(rec.sizes) != fmt.Sprint(want) {
		t.Errorf("committed batches of %v, want %v", rec.sizes, want)
	}
	if got, err := j.Count(ctx); err != nil || got != 10+n {
		t.Errorf("journal holds %d events (%v), want %d", got, err, 10+n)
	}
	pos, err := j.Positions(ctx)
	if err != nil || pos["a"].Offset != n {
		t.Errorf("position %+v (%v), want offset %d", pos["a"], err, n)
	}
}
