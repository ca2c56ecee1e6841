package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// maxPendingAccess bounds the access records waiting for their commit.
// Beyond it calls are refused (503) rather than answered unlogged: a
// journal that cannot keep up, or cannot be written, stops the API.
const maxPendingAccess = 10000

var errAccessBacklog = errors.New("access log backlog full")

// accessLog journals API calls in the background: each call's record is
// queued as its answer is given and committed within milliseconds, in
// batches (one transaction for every call that arrived during the previous
// commit). Answers do not wait for the commit, so a WAL checkpoint's fsync
// never stalls them; the price is that a crash may lose the last
// milliseconds of records, as it loses syslog lines not yet committed.
type accessLog struct {
	j      *journal.Journal
	logger *slog.Logger

	mu      sync.Mutex
	pending []journal.Record
	closed  bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newAccessLog(j *journal.Journal, logger *slog.Logger) *accessLog {
	l := &accessLog{j: j, logger: logger, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// write queues a record; it fails only when the backlog is full or the
// log closed.
func (l *accessLog) write(rec journal.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("access log closed")
	}
	if len(l.pending) >= maxPendingAccess {
		return errAccessBacklog
	}
	l.pending = append(l.pending, rec)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func (l *accessLog) run() {
	defer close(l.done)
	pause := time.Duration(0)
	for {
		if pause > 0 {
			select {
			case <-time.After(pause):
			case <-l.stop:
				l.flush()
				return
			}
		} else {
			select {
			case <-l.wake:
			case <-l.stop:
				l.flush()
				return
			}
		}
		if err := l.flush(); err != nil {
			// Kept and retried with growing pauses, as ingest does with
			// its batches (a full disk, say).
			pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
			l.logger.Error("api access log: commit failed; retrying", "err", err, "retry_in", pause)
			continue
		}
		pause = 0
	}
}

// flush commits what is pending; on failure the records stay queued.
func (l *accessLog) flush() error {
	l.mu.Lock()
	recs := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	// A commit is not cut short once begun, so it takes no deadline.
	if err := l.j.Commit(context.Background(), recs, nil); err != nil {
		l.mu.Lock()
		l.pending = append(recs, l.pending...)
		l.mu.Unlock()
		return err
	}
	return nil
}

// scrub erases subjects from the records still waiting: they were queued
// while an erasure ran and would bring the subject back.
func (l *accessLog) scrub(subjects []string, standIn string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.pending {
		for _, s := range subjects {
			privacy.Erase(&l.pending[i].Event, s, standIn)
		}
	}
}

// close commits what is pending and stops; calls after it fail.
func (l *accessLog) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
}
