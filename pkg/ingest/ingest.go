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
// two journal blocks: a transaction's fixed costs (the tree's frontier,
// the WAL's pages near the ends of the b-trees) are paid once per 4096
// events, while the flush interval still bounds how long an event waits.
// With one transaction at a time, 8192 cost a sixth less CPU per line than
// 2048; with the parsing going on beside the commit's writes, 4096 costs
// no more than 8192 and keeps half as many records alive (three batches
// are: one parsed, one queued, one committing), 25 MiB less peak RSS.
const (
	DefaultBatchSize     = 4096
	DefaultFlushInterval = time.Second
	DefaultAckInterval   = 50 * time.Millisecond
)

// Run parses and journals batches of lines until lines is closed (then it
// commits what is left and returns nil) or ctx ends (then it commits what
// it has, so a clean shutdown keeps everything read, and returns ctx's
// error).
//
// A batch is committed in the background while the next ones are parsed
// and correlated, so that a log arriving faster than one core keeps up uses
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
		todo: make(chan batch, 1), progress: make(chan progress, 4)}
	// progress has room for all the committer can have to tell at once (a
	// batch's done, the next one's sealed and done), so the committer,
	// which tells of sealing inside the journal's commit, never waits.
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

// progress is what the committer tells of a batch, in order: that it is
// sealed (journal.CommitSealed), then that it is committed, with its
// error or the journal's hot events after it.
type progress struct {
	sealed bool
	recs   []journal.Record // emptied, for the batcher to fill again
	err    error
	hot    int
}

type batcher struct {
	cfg  Config
	recs []journal.Record
	// limit is the size a batch is committed at: BatchSize or a little
	// less, so that commits end on block boundaries while lines come
	// faster than the flush interval (journal.CommitSize). hot is the
	// journal's hot events once the batches handed off are committed.
	limit, hot, blockEvents int
	// The committer takes batches from todo and tells its progress on
	// progress: of the batches handed off, sealed are sealed and done
	// committed (or failed).
	todo                 chan batch
	progress             chan progress
	handed, sealed, done int
	cancelCommits        func()
	// spare are the records of batches committed, filled next.
	spare [][]journal.Record
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
		told := false
		sealed := func() {
			if !told {
				told = true
				b.progress <- progress{sealed: true}
			}
		}
		err := b.commit(ctx, bt, sealed)
		sealed()
		hot := 0
		if err == nil {
			hot, _ = b.cfg.Journal.HotEvents()
		}
		// The records are not cleared: ParseInto sets every field of the
		// ones filled next, and clearing a batch of 784-byte records (the
		// line text they point to lives no longer than two batches more)
		// cost 3% of serve's CPU.
		b.progress <- progress{recs: bt.recs[:0], err: err, hot: hot}
	}
}

// waitUntil takes the committer's progress until ok holds, or a commit
// failed, or ctx ends.
func (b *batcher) waitUntil(ctx context.Context, ok func() bool) error {
	for !ok() {
		select {
		case p := <-b.progress:
			if err := b.answer(p); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// waitCommitted waits for every batch handed off to be committed.
func (b *batcher) waitCommitted(ctx context.Context) error {
	return b.waitUntil(ctx, func() bool { return b.done == b.handed })
}

func (b *batcher) answer(p progress) error {
	if p.sealed {
		b.sealed++
		return nil
	}
	b.done++
	if p.err != nil {
		return p.err
	}
	if b.done == b.handed {
		// Nothing else in flight: the journal's count, in case another
		// writer (the access log) committed in between.
		b.hot = p.hot
	}
	if len(b.spare) < 2 {
		b.spare = append(b.spare, p.recs)
	}
	return nil
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
	if n := len(b.spare); n > 0 {
		b.recs = b.spare[n-1]
		b.spare = b.spare[:n-1]
	} else {
		b.recs = make([]journal.Record, 0, b.cfg.BatchSize)
	}
	clear(b.pos)
	b.order = b.order[:0]
	return bt
}

// handOff queues the batch for the committer as soon as the batch before
// it is sealed (journal.CommitSealed): the parsing then goes on beside that
// batch's one-threaded database writes, where waiting until it was
// committed left a core idle. At most one batch waits in the queue, so
// while the journal fails, at most two more batches are read.
func (b *batcher) handOff(ctx context.Context) error {
	if len(b.recs) == 0 {
		return nil
	}
	// Once the batch before is sealed, the committer has taken it, and
	// the queue has room.
	if err := b.waitUntil(ctx, func() bool { return b.sealed == b.handed }); err != nil {
		return err
	}
	n := len(b.recs)
	bt := b.take()
	acked := len(bt.acks) > 0
	b.todo <- bt
	b.handed++
	b.hot = (b.hot + n) % b.blockEvents
	b.limit = journal.AlignedCommitSize(b.cfg.BatchSize, b.hot, b.blockEvents)
	if acked {
		// Senders that wait for their lines' commit (RELP) are answered
		// before more is read, as when commits did not run in the
		// background: their window, not the parsing, bounds their rate.
		return b.waitCommitted(ctx)
	}
	return nil
}

// finish commits what is left once the lines have ended.
func (b *batcher) finish(ctx context.Context) error {
	if err := b.waitCommitted(ctx); err != nil {
		return b.shutdown(err)
	}
	if len(b.recs) == 0 {
		return nil
	}
	return b.commit(ctx, b.take(), nil)
}

// commit commits a batch, retrying with growing pauses while the journal
// fails (a full disk, an I/O error): nothing read is dropped, and since
// the batcher hands off no batch past the one queued after it, the
// sources wait too. sealed, if not nil, is journal.CommitSealed's.
func (b *batcher) commit(ctx context.Context, bt batch, sealed func()) error {
	recs, positions := bt.recs, bt.positions
	pause := 100 * time.Millisecond
	for {
		start := time.Now()
		err := b.cfg.Journal.CommitSealed(ctx, recs, positions, sealed)
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
	for b.done < b.handed {
		var p progress
		select {
		case p = <-b.progress:
		case <-ctx.Done():
			// The commits under way and queued end at once now.
			b.cancelCommits()
			p = <-b.progress
		}
		if err := b.answer(p); err != nil {
			b.cfg.Logger.Error("events read before shutdown were not journaled; they will be read again", "err", err)
		}
	}
	if len(b.recs) > 0 {
		n := len(b.recs)
		if err := b.commit(ctx, b.take(), nil); err != nil {
			b.cfg.Logger.Error("events read before shutdown were not journaled; they will be read again", "err", err, "events", n)
		}
	}
	return why
}
