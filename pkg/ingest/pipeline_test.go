package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// progressObserver counts lines observed and events committed; the first
// Committed waits for hold to be closed.
type progressObserver struct {
	mu                  sync.Mutex
	observed, committed int
	batches             []int
	hold                chan struct{}
	held                bool
}

func (o *progressObserver) Observed(string, *event.Event, correlate.Note) {
	o.mu.Lock()
	o.observed++
	o.mu.Unlock()
}

func (o *progressObserver) Committed(n int, _ time.Duration) {
	o.mu.Lock()
	first := !o.held
	o.held = true
	o.mu.Unlock()
	if first {
		<-o.hold
	}
	o.mu.Lock()
	o.committed += n
	o.batches = append(o.batches, n)
	o.mu.Unlock()
}

func (o *progressObserver) CommitFailed(error) {}

func (o *progressObserver) counts() (observed, committed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.observed, o.committed
}

// While the committer is busy with a batch (here held up after its commit,
// as slow database writes would hold it), the batch after it waits in the
// queue and a third is parsed: no more, so that a journal that cannot
// write bounds what is read. Then every batch is committed in order with
// its positions.
func TestParsingGoesOnWhileCommitting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	const be = 64
	j, err := journal.Open(ctx, path, journal.Options{BlockEvents: be})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	line := func(i int) string {
		return fmt.Sprintf("Jun  3 10:40:57 mx postfix/smtpd[%d]: connect from unknown[192.0.2.9]", i)
	}
	// Batches of one block each; six of them.
	const n = 6 * be
	ch := make(chan []tailer.Line, n)
	for i := 0; i < n; i++ {
		ch <- []tailer.Line{{Source: "a", Text: line(i), Pos: event.Position{Fingerprint: "a", Offset: int64(i + 1)}}}
	}
	close(ch)
	obs := &progressObserver{hold: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(obs.hold)
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Parser: &parser.Parser{Location: time.UTC}, Journal: j, BatchSize: be,
			FlushInterval: time.Hour, Observer: obs}, ch)
	}()

	want := 3 * be
	deadline := time.Now().Add(5 * time.Second)
	for {
		observed, _ := obs.counts()
		if observed >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if observed, committed := obs.counts(); observed != want || committed != 0 {
		t.Fatalf("with the committer held up in the first batch: %d lines parsed, %d committed; want %d parsed (three batches), 0 committed",
			observed, committed, want)
	}

	close(obs.hold)
	released = true
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not end after the committer was let go")
	}
	if fmt.Sprint(obs.batches) != fmt.Sprint([]int{be, be, be, be, be, be}) {
		t.Errorf("committed batches of %v, want six of %d", obs.batches, be)
	}
	evs, err := j.Events(ctx, journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("journal holds %d events, want %d", len(evs), n)
	}
	for i, e := range evs {
		if e.Event.Raw != line(i) {
			t.Fatalf("event %d is %q, want %q: out of order", i, e.Event.Raw, line(i))
		}
	}
	pos, err := j.Positions(ctx)
	if err != nil || pos["a"].Offset != n {
		t.Errorf("position %+v (%v), want offset %d", pos["a"], err, n)
	}
}
