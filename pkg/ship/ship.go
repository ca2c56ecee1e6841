// Package ship copies the journal to fleet stores: VictoriaLogs (JSON
// lines) and any OpenTelemetry logs backend (OTLP/HTTP). Each sink reads
// the journal in sequence order from a cursor kept in the journal and moves
// the cursor only after the store accepted a batch, so delivery is
// at-least-once: after a crash at most the batch in flight is sent again,
// and readers deduplicate by (instance, seq). The journal is the buffer:
// while a store is down or slow, ingest goes on and the sink retries with
// growing pauses.
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Defaults of Options.
const (
	DefaultBatchSize    = 2000
	DefaultPollInterval = 250 * time.Millisecond
	DefaultMinBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
)

// Options tune a Shipper; zero values mean the defaults.
type Options struct {
	// Instance names this exporter in every row (the journal's instance).
	Instance string
	// BatchSize is how many events one request carries at most.
	BatchSize int
	// PollInterval is how often an idle sink looks for new events.
	PollInterval time.Duration
	// MinBackoff is the first pause after a failed send; each failure in
	// a row doubles it, up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge, when set, passes over (and counts as rejected) events older
	// than this: VictoriaLogs drops rows older than its -retentionPeriod
	// without saying so, so set it to the store's retention.
	MaxAge time.Duration
	// RecheckAfter, when set, asks a store that can be asked (a Checker)
	// this long after it accepted a batch whether it still holds it, and
	// sends what it lost again.
	RecheckAfter time.Duration
	// Metrics receives the counts; nil: kept unexported.
	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Shipper ships one journal to its sinks, each on its own goroutine with
// its own cursor.
type Shipper struct {
	j    *journal.Journal
	opts Options
	// mu is read-held while a batch is read and sent (the sinks go on
	// side by side): Pause takes it so that an erasure does not race a
	// batch read before it and sent after.
	mu      sync.RWMutex
	runners []*runner
}

// New makes a shipper of j to sinks.
func New(j *journal.Journal, opts Options, sinks ...Sink) *Shipper {
	opts.defaults()
	s := &Shipper{j: j, opts: opts}
	for _, k := range sinks {
		r := &runner{s: s, sink: k, m: opts.Metrics.sink(k.Name()), log: opts.Logger.With("sink", k.Name())}
		if c, ok := k.(Checker); ok && opts.RecheckAfter > 0 {
			r.checker = c
		}
		s.runners = append(s.runners, r)
	}
	return s
}

// Sinks are the shipper's sinks, in the order given to New.
func (s *Shipper) Sinks() []Sink {
	out := make([]Sink, len(s.runners))
	for i, r := range s.runners {
		out[i] = r.sink
	}
	return out
}

// Run ships until ctx ends. Failures are logged, counted and retried; Run
// only returns an error when a sink's cursor cannot be read.
func (s *Shipper) Run(ctx context.Context) error {
	for _, r := range s.runners {
		if err := r.load(ctx); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	for _, r := range s.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// Pause waits for the batches in flight (one attempt each: a sink backing
// off holds nothing) and keeps the next from starting until resume is
// called. An erasure runs between the two.
func (s *Shipper) Pause() (resume func()) {
	s.mu.Lock()
	return s.mu.Unlock
}

// resend sends the events seqs again to the sinks named in to, up to
// their cursors (the later ones are still to come): after an erasure
// deleted the store's copies, the rewritten events take their place. The
// shipper must be paused (or not running).
func (s *Shipper) resend(ctx context.Context, seqs []int64, to map[string]bool) error {
	var errs []error
	for _, r := range s.runners {
		if !to[r.sink.Name()] {
			continue
		}
		if err := r.load(ctx); err != nil {
			errs = append(errs, err)
			continue
		}
		var batch []journal.Shipped
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, _, err := r.send(ctx, batch)
			batch = batch[:0]
			return err
		}
		for i := 0; i < len(seqs); {
			lo := seqs[i]
			if lo > r.cursor {
				break
			}
			// A run of consecutive seqs is one read.
			k := i + 1
			for k < len(seqs) && seqs[k] == seqs[k-1]+1 && seqs[k] <= r.cursor && k-i < r.batchSize() {
				k++
			}
			_, err := s.j.ReadAfter(ctx, lo-1, k-i, func(it *journal.Shipped) error {
				batch = append(batch, *it)
				return nil
			})
			if err == nil && len(batch) >= r.batchSize() {
				err = flush()
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("resend to %s: %w", r.sink.Name(), err))
				batch = batch[:0]
				break
			}
			i = k
		}
		if err := flush(); err != nil {
			errs = append(errs, fmt.Errorf("resend to %s: %w", r.sink.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Stats is what Drain shipped.
type Stats struct {
	// Events and Batches the store accepted; Rejected events it refused
	// or that were older than MaxAge.
	Events, Batches, Rejected int64
	// Cursor is where the sink stands now.
	Cursor int64
}

// Drain ships everything the journal holds up to its newest event now to
// sink, from the sink's cursor in the journal, and returns; the first
// failed send ends it with that error (the cursor stays at the last
// accepted batch). Tests and one-shot copies use it; serve uses Run.
func Drain(ctx context.Context, j *journal.Journal, sink Sink, opts Options) (Stats, error) {
	s := New(j, opts, sink)
	r := s.runners[0]
	var st Stats
	if err := r.load(ctx); err != nil {
		return st, err
	}
	head, err := j.LastSeq(ctx)
	if err != nil {
		return st, err
	}
	for r.cursor < head {
		n, err := r.step(ctx)
		st.Events += n.accepted
		st.Rejected += n.rejected
		if n.accepted > 0 {
			st.Batches++
		}
		st.Cursor = r.cursor
		if err != nil {
			return st, err
		}
		if n.read == 0 {
			break
		}
	}
	st.Cursor = r.cursor
	return st, nil
}

// runner is one sink's loop.
type runner struct {
	s      *Shipper
	sink   Sink
	m      *sinkMetrics
	log    *slog.Logger
	cursor int64
	// seen are (journal head, when first seen) samples, oldest first:
	// the lag in seconds is the age of the first sample past the cursor.
	seen  []sample
	batch []journal.Shipped
	// checker, when set, is asked about the batches in acks.
	checker     Checker
	acks        []ack
	checked     int64 // as saved in the journal
	loaded      bool
	lastRecheck time.Time
}

type sample struct {
	seq int64
	at  time.Time
}

// maxSamples bounds seen while a store stays down: every other sample is
// dropped, the oldest kept.
const maxSamples = 4096

// tooOld is the time before which events are not sent: now less the
// sink's own max age, or Options.MaxAge; zero for none.
func (r *runner) tooOld(now time.Time) time.Time {
	age := r.s.opts.MaxAge
	if m, ok := r.sink.(interface{ MaxAgeLimit() time.Duration }); ok && m.MaxAgeLimit() > 0 {
		age = m.MaxAgeLimit()
	}
	if age <= 0 {
		return time.Time{}
	}
	return now.Add(-age)
}

// batchSize is the sink's own batch size, if it has one.
func (r *runner) batchSize() int {
	if b, ok := r.sink.(interface{ BatchSize() int }); ok && b.BatchSize() > 0 {
		return b.BatchSize()
	}
	return r.s.opts.BatchSize
}

// load reads the sink's cursors from the journal, once: afterwards the
// runner's own are the truth.
func (r *runner) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	c, err := r.s.j.ShipCursor(ctx, r.sink.Name())
	if err != nil {
		return err
	}
	r.cursor = c
	r.m.cursor.Set(float64(c))
	if err := r.loadChecked(ctx); err != nil {
		return err
	}
	r.loaded = true
	return nil
}

func (r *runner) run(ctx context.Context) {
	opts := &r.s.opts
	var pause time.Duration
	failures := 0
	for ctx.Err() == nil {
		err := r.recheck(ctx)
		var n stepResult
		if err == nil {
			n, err = r.step(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			if pause == 0 {
				pause = opts.MinBackoff
			} else {
				pause = min(2*pause, opts.MaxBackoff)
			}
			reason := "journal"
			var se *Error
			if errors.As(err, &se) {
				reason = se.Reason
			}
			r.log.Warn("shipping failed; the journal keeps the events and the batch is sent again after a pause",
				"reason", reason, "err", err, "cursor", r.cursor, "failures", failures, "pause", pause)
			sleep(ctx, pause)
			continue
		}
		if failures > 0 {
			r.log.Info("shipping resumed", "after_failures", failures, "cursor", r.cursor)
			failures, pause = 0, 0
		}
		if n.read == 0 {
			sleep(ctx, opts.PollInterval)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// stepResult counts one step: events read past the cursor, accepted by
// the store and rejected.
type stepResult struct{ read, accepted, rejected int64 }

// step reads one batch past the cursor, sends it and moves the cursor.
func (r *runner) step(ctx context.Context) (stepResult, error) {
	var res stepResult
	s := r.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	head, err := s.j.LastSeq(ctx)
	if err != nil {
		return res, err
	}
	now := s.opts.Now()
	r.observe(head, now)
	defer r.gauges(head)
	if r.cursor >= head {
		return res, nil
	}
	tooOld := r.tooOld(now)
	before := r.cursor
	r.batch = r.batch[:0]
	last, err := s.j.ReadAfter(ctx, r.cursor, r.batchSize(), func(it *journal.Shipped) error {
		res.read++
		if !tooOld.IsZero() && it.Time.Before(tooOld) {
			res.rejected++
			return nil
		}
		r.batch = append(r.batch, *it)
		return nil
	})
	if err != nil {
		return res, err
	}
	accepted, refused, err := r.send(ctx, r.batch)
	res.accepted = accepted
	res.rejected += refused
	if err != nil {
		return res, err
	}
	if last > r.cursor {
		if err := s.j.SetShipCursor(ctx, r.sink.Name(), last); err != nil {
			return res, err
		}
		r.cursor = last
	}
	if accepted > 0 && r.checker != nil {
		r.acks = append(r.acks, ack{lo: r.batch[0].Seq, hi: r.batch[len(r.batch)-1].Seq, n: accepted, at: now})
	}
	if accepted > 0 {
		r.m.batches.Inc()
		r.m.events.Add(float64(accepted))
	}
	if res.rejected > 0 {
		r.m.rejected.Add(float64(res.rejected))
	}
	if res.read == 0 && r.cursor > before {
		res.read = 1 // only tombstones: progress all the same
	}
	return res, nil
}

// send sends items; rows the store refuses are found by halving the batch,
// logged, and counted as refused.
func (r *runner) send(ctx context.Context, items []journal.Shipped) (accepted, refused int64, err error) {
	if len(items) == 0 {
		return 0, 0, nil
	}
	err = r.sink.Send(ctx, r.s.opts.Instance, items)
	if err == nil {
		return int64(len(items)), 0, nil
	}
	var se *Error
	if !errors.As(err, &se) {
		return 0, 0, err
	}
	r.m.errors[se.Reason].Inc()
	if !se.rowsRefused() {
		return 0, 0, err
	}
	if len(items) == 1 {
		r.log.Warn("the store refused an event; it is counted as rejected and not sent again", "seq", items[0].Seq, "err", err)
		return 0, 1, nil
	}
	h := len(items) / 2
	a1, r1, err := r.send(ctx, items[:h])
	if err != nil {
		return a1, r1, err
	}
	a2, r2, err := r.send(ctx, items[h:])
	return a1 + a2, r1 + r2, err
}

// observe notes when the journal's head was first seen at head.
func (r *runner) observe(head int64, now time.Time) {
	if n := len(r.seen); n == 0 || r.seen[n-1].seq < head {
		r.seen = append(r.seen, sample{head, now})
	}
	if len(r.seen) > maxSamples {
		kept := r.seen[:1]
		for i := 2; i < len(r.seen); i += 2 {
			kept = append(kept, r.seen[i])
		}
		r.seen = kept
	}
}

// gauges sets the lag and cursor gauges and forgets the samples the
// cursor has passed.
func (r *runner) gauges(head int64) {
	i := 0
	for i < len(r.seen) && r.seen[i].seq <= r.cursor {
		i++
	}
	r.seen = append(r.seen[:0], r.seen[i:]...)
	r.m.cursor.Set(float64(r.cursor))
	r.m.lagEvents.Set(float64(max(0, head-r.cursor)))
	if len(r.seen) == 0 || r.cursor >= head {
		r.m.lagSeconds.Set(0)
		return
	}
	r.m.lagSeconds.Set(r.s.opts.Now().Sub(r.seen[0].at).Seconds())
}
