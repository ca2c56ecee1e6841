package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// ErrQueueFull is a Queue's answer when its backlog is full.
var ErrQueueFull = errors.New("backlog full")

// Queue commits records to the journal in the background, in batches (one
// transaction for every record that arrived during the previous commit),
// for callers that must answer without waiting for a commit: a WAL
// checkpoint's fsync would stall an API answer or a mail server's policy
// question. The price is that a crash may lose the last milliseconds of
// records, as it loses syslog lines not yet committed. A failed commit
// keeps the records and is retried with growing pauses, as ingest does
// with its batches (a full disk, say).
type Queue struct {
	j      *Journal
	name   string
	limit  int
	logger *slog.Logger

	mu      sync.Mutex
	pending []Record
	closed  bool

	// flushing is held from taking the pending records to their commit's
	// end, so that a Flush finds no commit of earlier records in flight.
	flushing sync.Mutex

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewQueue starts a queue that holds at most limit records waiting; name
// says whose records they are in errors and logs. Close commits what is
// pending and stops it.
func NewQueue(j *Journal, name string, limit int, logger *slog.Logger) *Queue {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{j: j, name: name, limit: limit, logger: logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// Record queues rec. It fails only when the backlog is full (ErrQueueFull)
// or the queue closed: the caller then decides whether to act off the
// record (the API refuses, the policy services fail open).
func (q *Queue) Record(rec Record) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("%s: closed", q.name)
	}
	if len(q.pending) >= q.limit {
		return fmt.Errorf("%s: %w", q.name, ErrQueueFull)
	}
	q.pending = append(q.pending, rec)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func (q *Queue) run() {
	defer close(q.done)
	pause := time.Duration(0)
	for {
		if pause > 0 {
			select {
			case <-time.After(pause):
			case <-q.stop:
				return
			}
		} else {
			select {
			case <-q.wake:
			case <-q.stop:
				return
			}
		}
		if err := q.Flush(); err != nil {
			pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
			q.logger.Error(q.name+": commit failed; retrying", "err", err, "retry_in", pause)
			continue
		}
		pause = 0
	}
}

// Flush commits what is pending now (before an erasure, so that it covers
// them, and before a listing that must see every record); on failure the
// records stay queued.
//
// A Flush waits for the commit the background goroutine may have begun:
// the records it took are no longer pending, but they are not committed
// either, and an erasure that started meanwhile would miss them (and they
// would bring the subject back after it).
func (q *Queue) Flush() error {
	q.flushing.Lock()
	defer q.flushing.Unlock()
	q.mu.Lock()
	recs := q.pending
	q.pending = nil
	q.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	// A commit is not cut short once begun, so it takes no deadline.
	if err := q.j.Commit(context.Background(), recs, nil); err != nil {
		q.mu.Lock()
		q.pending = append(recs, q.pending...)
		q.mu.Unlock()
		return err
	}
	return nil
}

// Scrub erases subjects from the records still waiting: they were queued
// while an erasure ran and would bring the subject back.
func (q *Queue) Scrub(subjects []string, standIn string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.pending {
		for _, s := range subjects {
			privacy.Erase(&q.pending[i].Event, s, standIn)
		}
	}
}

// Close stops the background commits and commits what is pending; records
// after it fail.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
	return q.Flush()
}
