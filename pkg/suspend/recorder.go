package suspend

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// MaxPending bounds the records waiting for their commit. Beyond it a
// record is refused, and so is the refusal it records: the policy service
// fails open rather than refuse off the record.
const MaxPending = 100000

// ErrBacklog is a full queue.
var ErrBacklog = errors.New("policy records backlog full")

// Recorder commits records to the journal in the background, in batches,
// so that an answer never waits for a commit (a WAL checkpoint's fsync
// would stall the mail server). A crash may lose the last milliseconds of
// records, as it loses log lines not yet committed.
type Recorder struct {
	j      *journal.Journal
	logger *slog.Logger

	mu      sync.Mutex
	pending []journal.Record
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

// NewRecorder starts a recorder; Close commits what is pending and stops.
func NewRecorder(j *journal.Journal, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{j: j, logger: logger, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues rec.
func (r *Recorder) Record(rec journal.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("policy recorder closed")
	}
	if len(r.pending) >= MaxPending {
		return ErrBacklog
	}
	r.pending = append(r.pending, rec)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

func (r *Recorder) run() {
	defer close(r.done)
	pause := time.Duration(0)
	for {
		_, open := <-r.wake
		if pause > 0 {
			time.Sleep(pause)
		}
		if err := r.flush(); err != nil {
			pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
			r.logger.Error("policy records: commit failed; retrying", "err", err, "retry_in", pause)
			if open {
				select {
				case r.wake <- struct{}{}:
				default:
				}
				continue
			}
		} else {
			pause = 0
		}
		if !open {
			return
		}
	}
}

// flush commits what is pending; on failure the records stay queued.
func (r *Recorder) flush() error {
	r.mu.Lock()
	recs := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	if err := r.j.Commit(context.Background(), recs, nil); err != nil {
		r.mu.Lock()
		r.pending = append(recs, r.pending...)
		r.mu.Unlock()
		return err
	}
	return nil
}

// Flush commits what is pending now (tests, and before a listing that
// must see every record).
func (r *Recorder) Flush() error { return r.flush() }

// Close commits what is pending and stops; records after it fail.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.wake)
	<-r.done
	return r.flush()
}
