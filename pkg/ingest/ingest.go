// Package ingest turns lines into journaled events: it parses each line and
// commits events in batches together with the source positions they were
// read up to, so that a crash at any instant loses and repeats nothing.
package ingest

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// Observer is told what ingest does; the metrics package implements it.
// Run calls Observed from one goroutine and Committed and CommitFailed
// from another (the commits run beside the parsing), each in order.
type Observer interface {
	// Observed is called for every line, with the event it gave after
	// correlation and what the correlator noted about it.
	Observed(source string, e *event.Event, n correlate.Note)
	// Committed is called after a batch of n events was committed.
	Committed(n int, took time.Duration)
	// CommitFailed is called for every failed commit attempt.
	CommitFailed(err error)
}

// Config configures a pipeline.
type Config struct {
	Parser  *parser.Parser
	Journal *journal.Journal
	// Correlator enriches each event with what earlier ones said before
	// it is observed and journaled; nil leaves events as parsed.
	Correlator *correlate.Correlator
	// Redactor applies the privacy policies after the event was observed
	// (metrics need the sender's domain) and before it is journaled;
	// nil keeps every field.
	Redactor *privacy.Redactor
	// BatchSize commits once this many events are waiting; 0 means
	// DefaultBatchSize.
	BatchSize int
	// FlushInterval commits waiting events at least this often; 0 means 1s.
	FlushInterval time.Duration
	// AckInterval commits waiting events this soon after the first line
	// whose sender waits for the commit (tailer.Line.Ack) arrived; 0 means
	// 50ms or FlushInterval if shorter. A RELP sender sends no more than
	// its window (omrelp: 128 frames) before it is answered, so the full
	// FlushInterval would cap it at 128 lines a second.
	AckInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ref gives the reading time used to date a source's RFC 3164 lines
	// (which carry no year); nil means Now. Replays of old files pass
	// their modification time.
	Ref      func(source string) time.Time
	Observer Observer
	Logger   *slog.Logger
	// RetryMax caps the pause between failed commits; 0 means 10s.
	RetryMax time.Duration
}

// The commit defaults, also the configuration's (pkg/config). A batch is
// four journal blocks: a transaction's fixed costs (the tree's frontier,
// the WAL's pages near the ends of the b-trees) are paid once per 8192
// events, a sixth less CPU per line than at 2048 when lines come fast,
// while the flush interval still bounds how long an event waits.
const (
	DefaultBatchSize     = 8192
	DefaultFlushInterval = time.Second
	DefaultAckInterval   = 50 * time.Millisecond
)

// Run parses and journals batches of lines until lines is closed (then it
// commits what is left and returns nil) or ctx ends (then it commits what
// it has, so a clean shutdown keeps everything read, and returns ctx's
// error).
//
// A batch is committed in the background while the next one is parsed and
// correlated, so that a log arriving faster than one core keeps up uses
// two; batches are committed one at a time and in order, each in one
// transaction with the positions its lines were read up to.
func Run(ctx context.Context, cfg Config, lines <-chan []tailer.Line) error {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.AckInterval <= 0 {
		cfg.AckInterval = min(DefaultAckInterval, cfg.FlushInterval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &batcher{cfg: cfg, recs: make([]journal.Record, 0, cfg.BatchSize), pos: map[string]event.Position{},
		todo: make(chan batch), done: make(chan committed)}
	b.hot, b.blockEvents = cfg.Journal.HotEvents()
	b.limit = journal.AlignedCommitSize(cfg.BatchSize, b.hot, b.blockEvents)
	// The background commits outlive ctx by as much as shutdown allows:
	// what was read is committed if it can be.
	commitCtx, cancelCommits := context.WithCancel(context.WithoutCancel(ctx))
	b.cancelCommits = cancelCommits
	go b.committer(commitCtx)
	defer func() {
		cancelCommits()
		close(b.todo)
	}()
	ticker := time.NewTicker(cfg.FlushInterval)
	defer ticker.Stop()
	// ackTimer runs while lines wait whose senders wait for the commit.
	ackTimer := time.NewTimer(cfg.AckInterval)
	ackTimer.Stop()
	defer ackTimer.Stop()
	ackArmed := false
	for {
		if !ackArmed && len(b.acks) > 0 {
			ackTimer.Reset(cfg.AckInterval)
			ackArmed = true
		}
		select {
		case ls, ok := <-lines:
			if !ok {
				return b.finish(ctx)
			}
			if len(ls) == 0 {
				continue
			}
			// A batch is one read of one source: one reference time for
			// all its lines.
			ref := b.ref(ls[0].Source)
			for _, l := range ls {
				b.add(l, ref)
				if len(b.recs) >= b.limit {
					if err := b.handOff(ctx); err != nil {
						return b.shutdown(err)
					}
				}
			}
			// The records hold the lines' strings, not the slice.
			tailer.Recycle(ls)
		case <-ticker.C:
			if err := b.handOff(ctx); err != nil {
				return b.shutdown(err)
			}
		case <-ackTimer.C:
			ackArmed = false
			if err := b.handOff(ctx); err != nil {
				return b.shutdown(err)
			}
		case <-ctx.Done():
			return b.shutdown(ctx.Err())
		}
	}
}

// batch is what one transaction commits, and the lines whose senders are
// told once it is.
type batch struct {
	recs      []journal.Record
	positions []journal.SourcePosition
	acks      []pendingAck
}

// committed is the committer's answer for a batch: its error, or the
// journal's hot events after it.
type committed struct {
	recs []journal.Record // emptied, for the batcher to fill again
	err  error
	hot  int
}

type batcher struct {
	cfg  Config
	recs []journal.Record
	// limit is the size a batch is committed at: BatchSize or a little
	// less, so that commits end on block boundaries while lines come
	// faster than the flush interval (journal.CommitSize). hot is the
	// journal's hot events once the batches handed off are committed.
	limit, hot, blockEvents int
	// The committer takes batches from todo and answers on done; inFlight
	// says a batch was handed off and its answer not yet received.
	todo          chan batch
	done          chan committed
	inFlight      bool
	cancelCommits func()
	// spare are the records of the last batch committed, filled next.
	spare []journal.Record
	pos   map[string]event.Position
	order []string // sources in pos, in first-seen order
	// The newest line's position waits here until a line of another
	// source comes or the batch is committed: one map write per run of
	// lines rather than per line.
	cur    string
	curPos event.Position
	hasCur bool
	// last is the newest event of cur as correlated and before redaction:
	// what a "last message repeated N times" line of that source repeats.
	// The other sources' are in lastBy, moved there when the source
	// changes, so a run of one source's lines touches no map.
	last    event.Event
	hasLast bool
	lastBy  map[string]event.Event
	// acks are the batch's lines that wait to be told they are committed,
	// in order.
	acks []pendingAck
}

type pendingAck struct {
	source string
	ack    tailer.Acker
}

// maxLastSources bounds lastBy; past it, the sources' previous events are
// forgotten (a repeat line then stays a notice) rather than held forever
// for syslog peers that come and go.
const maxLastSources = 1024

// switchSource makes src the current source for what its repeat lines
// refer to.
func (b *batcher) switchSource(src string) {
	if b.hasLast {
		if b.lastBy == nil {
			b.lastBy = map[string]event.Event{}
		}
		if _, ok := b.lastBy[b.cur]; !ok && len(b.lastBy) >= maxLastSources {
			clear(b.lastBy)
		}
		b.lastBy[b.cur] = b.last
	}
	b.last, b.hasLast = b.lastBy[src]
	if b.hasLast {
		delete(b.lastBy, src)
	}
}

// settle puts the waiting position into pos.
func (b *batcher) settle() {
	if !b.hasCur {
		return
	}
	if _, seen := b.pos[b.cur]; !seen {
		b.order = append(b.order, b.cur)
	}
	b.pos[b.cur] = b.curPos
	b.hasCur = false
}

// ref is the reading time that dates a source's lines without a year.
func (b *batcher) ref(source string) time.Time {
	if b.cfg.Ref != nil {
		if ref := b.cfg.Ref(source); !ref.IsZero() {
			return ref
		}
	}
	return b.cfg.Now()
}

func (b *batcher) add(l tailer.Line, ref time.Time) {
	// The record is reused in place: ParseInto sets the whole event.
	n := len(b.recs)
	if n < cap(b.recs) {
		b.recs = b.recs[:n+1]
	} else {
		b.recs = append(b.recs, journal.Record{})
	}
	r := &b.recs[n]
	r.Source = l.Source
	if l.Source != b.cur {
		b.settle()
		b.switchSource(l.Source)
		b.cur = l.Source
	}
	b.cfg.Parser.ParseInto(&r.Event, l.Text, ref)
	var note correlate.Note
	if parser.LastRepeated(&r.Event) && b.hasLast && b.last.Kind != event.KindUnknown {
		// The line stands for N more of the one before it: that event
		// again, already correlated, weighted N, dated by the repeat line.
		repeat, at, raw := r.Event.Repeat, r.Event.Time, r.Event.Raw
		r.Event = b.last
		r.Event.Repeat, r.Event.Raw = repeat, raw
		if !at.IsZero() {
			r.Event.Time = at
		}
	} else if b.cfg.Correlator != nil {
		note = b.cfg.Correlator.Observe(&r.Event)
	}
	if b.cfg.Observer != nil {
		b.cfg.Observer.Observed(l.Source, &r.Event, note)
	}
	b.last, b.hasLast = r.Event, true
	if b.cfg.Redactor != nil {
		b.cfg.Redactor.Apply(&r.Event)
	}
	b.curPos, b.hasCur = l.Pos, true
	if l.Ack != nil {
		b.acks = append(b.acks, pendingAck{l.Source, l.Ack})
	}
}

// committer commits the batches handed off, in order.
func (b *batcher) committer(ctx context.Context) {
	for bt := range b.todo {
		err := b.commit(ctx, bt)
		hot := 0
		if err == nil {
			hot, _ = b.cfg.Journal.HotEvents()
		}
		// The records are not cleared: ParseInto sets every field of the
		// ones filled next, and clearing a batch of 784-byte records (the
		// line text they point to lives no longer than one batch more)
		// cost 3% of serve's CPU.
		b.done <- committed{recs: bt.recs[:0], err: err, hot: hot}
	}
}

// wait waits for the batch in flight, if any, to be committed.
func (b *batcher) wait(ctx context.Context) error {
	if !b.inFlight {
		return nil
	}
	select {
	case c := <-b.done:
		b.answer(c)
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) answer(c committed) {
	b.inFlight = false
	b.hot = c.hot
	if cap(c.recs) > cap(b.spare) {
		b.spare = c.recs
	}
}

// take empties the batch being filled and returns it with the positions
// its lines were read up to.
func (b *batcher) take() batch {
	b.settle()
	positions := make([]journal.SourcePosition, 0, len(b.order))
	for _, s := range b.order {
		if p := b.pos[s]; !p.IsZero() {
			positions = append(positions, journal.SourcePosition{Source: s, Pos: p})
		}
	}
	bt := batch{recs: b.recs, positions: b.checkpoints(positions), acks: b.acks}
	b.acks = nil
	b.recs, b.spare = b.spare, nil
	if b.recs == nil {
		b.recs = make([]journal.Record, 0, b.cfg.BatchSize)
	}
	clear(b.pos)
	b.order = b.order[:0]
	return bt
}

// handOff gives the batch to the committer once the one before it is
// committed: while the journal fails, at most one more batch is read.
func (b *batcher) handOff(ctx context.Context) error {
	if len(b.recs) == 0 {
		return nil
	}
	if err := b.wait(ctx); err != nil {
		return err
	}
	n := len(b.recs)
	bt := b.take()
	// The committer, done with the batch before, is waiting for this one.
	acked := len(bt.acks) > 0
	b.todo <- bt
	b.inFlight = true
	b.limit = journal.AlignedCommitSize(b.cfg.BatchSize, (b.hot+n)%b.blockEvents, b.blockEvents)
	if acked {
		// Senders that wait for their lines' commit (RELP) are answered
		// before more is read, as when commits did not run in the
		// background: their window, not the parsing, bounds their rate.
		return b.wait(ctx)
	}
	return nil
}

// finish commits what is left once the lines have ended.
func (b *batcher) finish(ctx context.Context) error {
	if err := b.wait(ctx); err != nil {
		return b.shutdown(err)
	}
	if len(b.recs) == 0 {
		return nil
	}
	return b.commit(ctx, b.take())
}

// commit commits a batch, retrying with growing pauses while the journal
// fails (a full disk, an I/O error): nothing read is dropped, and since
// the batcher waits for it before handing off the next batch, the sources
// wait too.
func (b *batcher) commit(ctx context.Context, bt batch) error {
	recs, positions := bt.recs, bt.positions
	pause := 100 * time.Millisecond
	for {
		start := time.Now()
		err := b.cfg.Journal.Commit(ctx, recs, positions)
		if err == nil {
			if b.cfg.Observer != nil {
				b.cfg.Observer.Committed(len(recs), time.Since(start))
			}
			// Only now may a sender forget what it sent (RELP): a crash
			// before this point reads the batch again from it.
			for _, a := range bt.acks {
				a.ack.Committed()
			}
			return nil
		}
		if b.cfg.Observer != nil {
			b.cfg.Observer.CommitFailed(err)
		}
		b.cfg.Logger.Error("journal commit failed; reading paused until it succeeds", "err", err, "events", len(recs), "retry_in", pause)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, b.cfg.RetryMax)
	}
}

// checkpoints adds the position of each source whose lines carry a
// Checkpointer, asked of the source's last line in the batch.
func (b *batcher) checkpoints(positions []journal.SourcePosition) []journal.SourcePosition {
	var done []string
	for i := len(b.acks) - 1; i >= 0; i-- {
		a := b.acks[i]
		c, ok := a.ack.(tailer.Checkpointer)
		if !ok || slices.Contains(done, a.source) {
			continue
		}
		done = append(done, a.source)
		positions = append(positions, journal.SourcePosition{Source: a.source, Pos: c.Checkpoint()})
	}
	return positions
}

// shutdown commits what was read before returning why Run stopped: the
// batch in flight, then the one being filled; a few seconds are allowed
// for that, beyond the cancelled context.
func (b *batcher) shutdown(why error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if b.inFlight {
		select {
		case c := <-b.done:
			b.answer(c)
		case <-ctx.Done():
			b.cancelCommits()
			c := <-b.done
			b.answer(c)
			if c.err != nil {
				b.cfg.Logger.Error("events read before shutdown were not journaled; they will be read again", "err", c.err)
			}
		}
	}
	if len(b.recs) > 0 {
		n := len(b.recs)
		if err := b.commit(ctx, b.take()); err != nil {
			b.cfg.Logger.Error("events read before shutdown were not journaled; they will be read again", "err", err, "events", n)
		}
	}
	return why
}
