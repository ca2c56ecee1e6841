package journal

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func queueRecord(user string) Record {
	return Record{Source: "mailtrail", Event: event.Event{Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC),
		Kind: event.KindPolicyRefusal, Service: "mailtrail", SASLUsername: user, Raw: "policy_refusal user=" + user}}
}

// TestQueueBacklogAndScrub holds the background commit back (a queue
// without its goroutine) to see the bound and the scrub of waiting records.
func TestQueueBacklogAndScrub(t *testing.T) {
	ctx := context.Background()
	j := openTemp(t)
	q := &Queue{j: j, name: "test records", limit: 2, logger: slog.New(slog.DiscardHandler), wake: make(chan struct{}, 1)}
	for _, u := range []string{"bob@example.com", "alice@example.com"} {
		if err := q.Record(queueRecord(u)); err != nil {
			t.Fatal(err)
		}
	}
	err := q.Record(queueRecord("carol@example.com"))
	if !errors.Is(err, ErrQueueFull) || !strings.Contains(err.Error(), "test records") {
		t.Fatalf("third record in a queue of 2: %v, want ErrQueueFull naming the queue", err)
	}
	q.Scrub([]string{"bob@example.com"}, "[erased:9]")
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	evs, err := j.Events(ctx, Filter{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	if u := evs[0].Event.SASLUsername; u != "[erased:9]" || strings.Contains(evs[0].Event.Raw, "bob") {
		t.Errorf("scrubbed record committed as %q / %q", u, evs[0].Event.Raw)
	}
	if u := evs[1].Event.SASLUsername; u != "alice@example.com" {
		t.Errorf("other record committed as %q", u)
	}
}

func TestQueueCommitsAndCloses(t *testing.T) {
	ctx := context.Background()
	j := openTemp(t)
	q := NewQueue(j, "test records", 10, nil)
	if err := q.Record(queueRecord("bob@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Count(ctx); err != nil || n != 1 {
		t.Fatalf("after Close: %d events, %v; want the queued one committed", n, err)
	}
	if err := q.Record(queueRecord("alice@example.com")); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("record after Close: %v, want an error", err)
	}
}

// TestQueueFlushAwaitsBackgroundCommit: records the background goroutine
// has taken but not yet committed are covered by a Flush, which an erasure
// relies on (the API's forget counted one access record short under load).
func TestQueueFlushAwaitsBackgroundCommit(t *testing.T) {
	ctx := context.Background()
	j := openTemp(t)
	q := NewQueue(j, "test records", 10, nil)
	defer q.Close()
	// Holding the journal's lock stops the background commit mid-way.
	j.mu.Lock()
	locked := true
	defer func() {
		if locked {
			j.mu.Unlock()
		}
	}()
	if err := q.Record(queueRecord("bob@example.com")); err != nil {
		t.Fatal(err)
	}
	for taken := false; !taken; runtime.Gosched() {
		q.mu.Lock()
		taken = len(q.pending) == 0
		q.mu.Unlock()
	}
	flushed := make(chan int64, 1)
	go func() {
		if err := q.Flush(); err != nil {
			t.Error(err)
		}
		n, err := j.Count(ctx)
		if err != nil {
			t.Error(err)
		}
		flushed <- n
	}()
	// A Flush that returns while the commit is held back has not waited
	// for it; one that waits returns once the lock is released.
	select {
	case n := <-flushed:
		t.Fatalf("Flush returned while the background commit was in flight, %d events committed", n)
	case <-time.After(100 * time.Millisecond):
	}
	locked = false
	j.mu.Unlock()
	if n := <-flushed; n != 1 {
		t.Fatalf("after Flush: %d events, want the record the background goroutine took", n)
	}
}
