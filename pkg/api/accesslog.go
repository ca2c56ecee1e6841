package api

import (
	"context"
	"sync"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// accessLog journals API calls with group commit: a call waits until its
// record is committed (an answer is never given unlogged), and the calls
// that arrive during one commit share the next, so a busy API costs one
// transaction per batch rather than per call.
type accessLog struct {
	j       *journal.Journal
	mu      sync.Mutex
	pending []journal.Record
	waiters []chan error
	running bool
}

func (l *accessLog) write(rec journal.Record) error {
	done := make(chan error, 1)
	l.mu.Lock()
	l.pending = append(l.pending, rec)
	l.waiters = append(l.waiters, done)
	if !l.running {
		l.running = true
		go l.flush()
	}
	l.mu.Unlock()
	return <-done
}

// flush commits batches until none is waiting.
func (l *accessLog) flush() {
	for {
		l.mu.Lock()
		recs, waiters := l.pending, l.waiters
		l.pending, l.waiters = nil, nil
		if len(recs) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		// Not the request's context: a client hanging up must not undo
		// the record of its call.
		err := l.j.Commit(context.Background(), recs, nil)
		for _, w := range waiters {
			w <- err
		}
	}
}
