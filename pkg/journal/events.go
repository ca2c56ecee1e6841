package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// Filter selects journaled events. Zero fields do not filter; set fields
// must all match.
type Filter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Kinds        []event.Kind
	QueueID      string
	MessageID    string
	SASLUsername string
	ClientIP     string
	// Sender and Recipient match the envelope address exactly
	// (case-insensitively, as mail systems compare them).
	Sender, Recipient string
	Status            string
	// NextQueueID matches event.Event.NextQueueID: the events that hand
	// a message on to this queue id.
	NextQueueID string
	// Text matches events whose raw line contains it, case-insensitively.
	Text string
	// Match, when set, is a last filter in Go (tenant scopes, say); it
	// sees the decoded event and must not keep the pointer.
	Match func(*Stored) bool
	// AfterSeq continues an ascending listing after the event with this
	// sequence number; BeforeSeq a descending one (Desc).
	AfterSeq, BeforeSeq int64
	// Desc lists newest first.
	Desc bool
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Stored is a journaled event with its sequence number and source.
type Stored struct {
	Seq    int64
	Source string
	Event  event.Event
}

// Events returns the events matching f in journal order (or newest first
// with f.Desc).
func (j *Journal) Events(ctx context.Context, f Filter) ([]Stored, error) {
	var out []Stored
	err := j.Scan(ctx, f, func(s *Stored) error {
		out = append(out, *s)
		return nil
	})
	return out, err
}

// ErrStop ends a Scan early without an error.
var ErrStop = errors.New("stop scan")

// Scan calls fn for each event matching f, in journal order (newest first
// with f.Desc), up to f.Limit events. fn must not keep s; returning
// ErrStop ends the scan quietly.
//
// Sealed blocks are chosen from their metadata (sequence and time ranges,
// kinds) and, for the lookup fields, from the postings; only those are
// decompressed. The hot table is read whole: it holds less than a block.
// Everything is read in one transaction, so an event being sealed while
// the scan runs is seen exactly once.
func (j *Journal) Scan(ctx context.Context, f Filter, fn func(s *Stored) error) error {
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("journal %s: query events: %w", j.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("journal %s: query events: %w", j.path, err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	sc := &scanner{j: j, conn: conn, f: &f, fn: fn, text: strings.ToLower(f.Text)}
	// A block decodes into a few hundred kilobytes: reuse them across
	// scans rather than allocate (and clear, and collect) them per query.
	if b, ok := scanBufs.Get().(*scanBuf); ok {
		sc.buf, sc.es = b.buf, b.es
	}
	defer func() {
		scanBufs.Put(&scanBuf{buf: sc.buf[:0], es: sc.es[:0]})
	}()
	if sc.sources, err = readSources(ctx, conn); err != nil {
		return fmt.Errorf("journal %s: query events: %w", j.path, err)
	}
	for _, k := range f.Kinds {
		sc.kinds |= kindBit(k)
	}
	err = nil
	if f.Desc {
		if err = sc.hot(ctx); err == nil {
			err = sc.blocks(ctx)
		}
	} else {
		if err = sc.blocks(ctx); err == nil {
			err = sc.hot(ctx)
		}
	}
	var fe *fnError
	switch {
	case err == nil, err == ErrStop, err == errLimit:
		return nil
	case errors.As(err, &fe):
		return fe.err
	}
	return fmt.Errorf("journal %s: %w", j.path, err)
}

var errLimit = errors.New("limit reached")

// fnError carries the callback's own error through the scan untouched.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readSources(ctx context.Context, db queryer) (map[int64]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT id, name FROM sources")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		m[id] = name
	}
	return m, rows.Err()
}

// scanBuf is a scanner's decoding space, kept in scanBufs between scans.
type scanBuf struct {
	buf []byte
	es  []entry
}

var scanBufs sync.Pool

type scanner struct {
	j       *Journal
	conn    *sql.Conn
	f       *Filter
	fn      func(*Stored) error
	text    string
	kinds   uint64
	sources map[int64]string
	n       int
	s       Stored
	buf     []byte
	es      []entry
}

// emit passes e on if it matches.
func (sc *scanner) emit(e *entry) error {
	f := sc.f
	switch {
	case e.tomb,
		f.AfterSeq > 0 && e.seq <= f.AfterSeq,
		f.BeforeSeq > 0 && e.seq >= f.BeforeSeq,
		!f.Since.IsZero() && e.t < f.Since.UnixNano(),
		!f.Until.IsZero() && e.t >= f.Until.UnixNano(),
		sc.kinds != 0 && sc.kinds&kindBit(e.kind) == 0,
		f.QueueID != "" && string(e.qid) != f.QueueID,
		sc.j.opts.UpTo > 0 && e.seq > sc.j.opts.UpTo:
		return nil
	}
	s := &sc.s
	*s = Stored{Seq: e.seq, Source: sc.sources[e.src]}
	hasTime, err := decodeEvent(e.data, &s.Event)
	if err != nil {
		return fmt.Errorf("event %d: %w", e.seq, err)
	}
	if hasTime {
		s.Event.Time = colToTime(e.t)
	}
	s.Event.Kind = e.kind
	s.Event.QueueID = string(e.qid)
	if !f.matches(s, sc.text) {
		return nil
	}
	if sc.j.opts.Observe != nil {
		sc.j.opts.Observe(s, e.t)
	}
	if err := sc.fn(s); err != nil {
		if errors.Is(err, ErrStop) {
			return ErrStop
		}
		return &fnError{err}
	}
	sc.n++
	if f.Limit > 0 && sc.n >= f.Limit {
		return errLimit
	}
	return nil
}

// hot scans the hot table.
func (sc *scanner) hot(ctx context.Context) error {
	f := sc.f
	q := "SELECT seq, time, kind, queue_id, source, data, " + sc.j.leafCol() + " FROM events WHERE 1=1"
	var args []any
	if f.AfterSeq > 0 {
		q += " AND seq > ?"
		args = append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, f.BeforeSeq)
	}
	// The hot table has no index but its key; filtering in SQL still
	// spares reading and decoding rows that cannot match.
	if f.QueueID != "" {
		q += " AND queue_id = ?"
		args = append(args, f.QueueID)
	}
	if !f.Since.IsZero() {
		q += " AND time >= ?"
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		q += " AND time < ?"
		args = append(args, f.Until.UnixNano())
	}
	if f.Desc {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	rows, err := sc.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e entry
		if err := scanHot(rows, &e); err != nil {
			return err
		}
		if err := sc.emit(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	return nil
}

// scanHot reads a hot row (seq, time, kind, queue_id, source, data, leaf).
func scanHot(rows *sql.Rows, e *entry) error {
	var kind int64
	var qid, leaf []byte
	var src sql.NullInt64
	if err := rows.Scan(&e.seq, &e.t, &kind, &qid, &src, &e.data, &leaf); err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	e.kind, e.qid, e.src = event.Kind(kind), qid, src.Int64
	if leaf != nil {
		if len(leaf) != integrity.HashSize {
			return fmt.Errorf("event %d: %w: tombstone of %d bytes", e.seq, errCorruptBlock, len(leaf))
		}
		e.tomb = true
		copy(e.leaf[:], leaf)
	}
	return nil
}

// blocks scans the sealed blocks that may hold matching events.
func (sc *scanner) blocks(ctx context.Context) error {
	if sc.j.legacy {
		return nil
	}
	ids, err := sc.j.planBlocks(ctx, sc.conn, sc.f)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if sc.es, sc.buf, err = readBlockInto(ctx, sc.conn, id, sc.buf, sc.es[:0]); err != nil {
			return err
		}
		if sc.f.Desc {
			for i := len(sc.es) - 1; i >= 0; i-- {
				if err := sc.emit(&sc.es[i]); err != nil {
					return err
				}
			}
			continue
		}
		for i := range sc.es {
			if err := sc.emit(&sc.es[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookups are the filter's posting terms.
func (f *Filter) lookups() []int64 {
	var ts []int64
	for _, l := range []struct {
		field byte
		v     string
	}{
		{termQueueID, f.QueueID}, {termMessageID, f.MessageID}, {termSASLUsername, f.SASLUsername},
		{termClientIP, f.ClientIP}, {termSender, f.Sender}, {termRecipient, f.Recipient}, {termNextQueueID, f.NextQueueID},
	} {
		if l.v != "" {
			ts = append(ts, term(l.field, []byte(l.v)))
		}
	}
	return ts
}

// planBlocks returns the first sequence numbers of the blocks that may
// hold events matching f, in scan order.
func (j *Journal) planBlocks(ctx context.Context, db queryer, f *Filter) ([]int64, error) {
	var cand map[int64]bool
	if ts := f.lookups(); len(ts) > 0 {
		var lo, hi sql.NullInt64
		if err := db.QueryRowContext(ctx, "SELECT min(first_seq), max(first_seq) FROM blocks").Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("plan query: %w", err)
		}
		if !lo.Valid {
			return nil, nil
		}
		gens := make([]string, 0, hi.Int64>>genShift-lo.Int64>>genShift+1)
		for _, t := range ts {
			gens = gens[:0]
			for g := lo.Int64 >> genShift; g <= hi.Int64>>genShift; g++ {
				if j.filters.keep(g, t) {
					gens = append(gens, strconv.FormatInt(g, 10))
				}
			}
			if len(gens) == 0 {
				return nil, nil
			}
			next := map[int64]bool{}
			if err := j.postingBlocks(ctx, db, gens, t, func(b int64) {
				if cand == nil || cand[b] {
					next[b] = true
				}
			}); err != nil {
				return nil, err
			}
			cand = next
			if len(cand) == 0 {
				return nil, nil
			}
		}
	}
	q := "SELECT first_seq FROM blocks WHERE 1=1"
	var args []any
	if cand != nil {
		// A lookup names a few blocks: read their rows by key instead of
		// every block's.
		ids := make([]string, 0, len(cand))
		for id := range cand {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		q += " AND first_seq IN (" + strings.Join(ids, ",") + ")"
	}
	if f.AfterSeq > 0 {
		q += " AND last_seq > ?"
		args = append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		q += " AND first_seq < ?"
		args = append(args, f.BeforeSeq)
	}
	if !f.Since.IsZero() {
		q += " AND max_time >= ?"
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		q += " AND min_time < ?"
		args = append(args, f.Until.UnixNano())
	}
	if len(f.Kinds) > 0 {
		var mask uint64
		for _, k := range f.Kinds {
			mask |= kindBit(k)
		}
		q += " AND kinds & ? != 0"
		args = append(args, int64(mask))
	}
	if f.Desc {
		q += " ORDER BY first_seq DESC"
	} else {
		q += " ORDER BY first_seq"
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("plan query: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("plan query: %w", err)
		}
		if cand == nil || cand[id] {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// matches applies the filters that no index answers; lowerText is f.Text
// in lower case.
func (f *Filter) matches(s *Stored, lowerText string) bool {
	e := &s.Event
	switch {
	case f.MessageID != "" && e.MessageID != f.MessageID,
		f.SASLUsername != "" && e.SASLUsername != f.SASLUsername,
		f.ClientIP != "" && e.ClientIP != f.ClientIP,
		f.Sender != "" && !strings.EqualFold(e.Sender, f.Sender),
		f.Recipient != "" && !strings.EqualFold(e.Recipient, f.Recipient),
		f.Status != "" && e.Status != f.Status,
		f.NextQueueID != "" && e.NextQueueID != f.NextQueueID,
		lowerText != "" && !strings.Contains(strings.ToLower(e.Raw), lowerText):
		return false
	}
	return f.Match == nil || f.Match(s)
}

// Count returns how many events the journal holds (erased and expired
// ones not counted).
func (j *Journal) Count(ctx context.Context) (int64, error) {
	q := "SELECT (SELECT count(*) FROM events WHERE leaf IS NULL) + (SELECT coalesce(sum(events), 0) FROM blocks)"
	if j.legacy {
		q = "SELECT count(*) FROM events"
	}
	var n int64
	if err := j.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("journal %s: count: %w", j.path, err)
	}
	return n, nil
}

// lastSeq is the newest event's sequence number (0 for none).
func (j *Journal) lastSeq(ctx context.Context) (int64, error) {
	q := "SELECT max(coalesce((SELECT max(seq) FROM events), 0), coalesce((SELECT max(last_seq) FROM blocks), 0))"
	if j.legacy {
		q = "SELECT coalesce(max(seq), 0) FROM events"
	}
	var n int64
	if err := j.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("journal %s: last event: %w", j.path, err)
	}
	return n, nil
}

// Recent calls fn for the events among the last n journaled, oldest
// first: what a restarted exporter replays into its correlator.
func (j *Journal) Recent(ctx context.Context, n int, fn func(e *event.Event) error) error {
	last, err := j.lastSeq(ctx)
	if err != nil {
		return err
	}
	return j.Scan(ctx, Filter{AfterSeq: max(0, last-int64(n))}, func(s *Stored) error {
		return fn(&s.Event)
	})
}
