package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// Shipped is an event as the shipper sends it to a fleet store: the
// journaled event, the time it is filed under (its own, or the ingest time
// for a line without one) and its Merkle leaf hash, which lets a copy be
// checked against the journal's signed checkpoints.
type Shipped struct {
	Stored
	Time time.Time
	Leaf integrity.Hash
}

// ReadAfter calls fn, in sequence order, for up to limit events after seq
// after, and returns the last sequence number it read: events erased to
// tombstones are passed over but counted in it, so a cursor set to it never
// stops at one. Everything is read in one transaction. fn must not keep s.
func (j *Journal) ReadAfter(ctx context.Context, after int64, limit int, fn func(s *Shipped) error) (last int64, err error) {
	last = after
	if limit <= 0 {
		return last, fmt.Errorf("journal %s: read for shipping: limit %d: must be positive", j.path, limit)
	}
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return last, fmt.Errorf("journal %s: read for shipping: %w", j.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return last, fmt.Errorf("journal %s: read for shipping: %w", j.path, err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	sources, err := readSources(ctx, conn)
	if err != nil {
		return last, fmt.Errorf("journal %s: read for shipping: %w", j.path, err)
	}
	n := 0
	var s Shipped
	var leafBuf []byte
	visit := func(e *entry) error {
		last = e.seq
		n++
		if e.tomb {
			return nil
		}
		s = Shipped{Stored: Stored{Seq: e.seq, Source: sources[e.src]}, Time: colToTime(e.t)}
		hasTime, err := decodeEvent(e.data, &s.Event)
		if err != nil {
			return fmt.Errorf("event %d: %w", e.seq, err)
		}
		if hasTime {
			s.Event.Time = s.Time
		}
		s.Event.Kind = e.kind
		s.Event.QueueID = string(e.qid)
		s.Leaf, leafBuf = e.leafHash(leafBuf, s.Source)
		if err := fn(&s); err != nil {
			return &fnError{err}
		}
		return nil
	}
	err = j.readAfter(ctx, conn, after, limit, &n, visit)
	var fe *fnError
	switch {
	case err == nil, errors.Is(err, errLimit):
		return last, nil
	case errors.As(err, &fe):
		return last, fe.err
	}
	return last, fmt.Errorf("journal %s: read for shipping: %w", j.path, err)
}

func (j *Journal) readAfter(ctx context.Context, conn *sql.Conn, after int64, limit int, n *int, visit func(e *entry) error) error {
	if !j.legacy {
		// Blocks are few (one per DefaultBlockEvents events): their
		// metadata is scanned, only those past the cursor are decoded.
		rows, err := conn.QueryContext(ctx, "SELECT first_seq FROM blocks WHERE last_seq > ? ORDER BY first_seq", after)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var buf []byte
		var es []entry
		for _, id := range ids {
			if es, buf, err = readBlockInto(ctx, conn, id, buf, es[:0]); err != nil {
				return err
			}
			for i := range es {
				if es[i].seq <= after {
					continue
				}
				if err := visit(&es[i]); err != nil {
					return err
				}
				if *n >= limit {
					return errLimit
				}
			}
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT seq, time, kind, queue_id, source, data, "+j.leafCol()+" FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit-*n)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e entry
		if err := scanHot(rows, &e); err != nil {
			return err
		}
		if err := visit(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LastSeq is the newest event's sequence number (0 for an empty journal).
func (j *Journal) LastSeq(ctx context.Context) (int64, error) { return j.lastSeq(ctx) }

// shipCursorsTable holds where each shipper sink (victorialogs, otlp)
// stands: every event up to seq was accepted by its store. It is kept in the
// journal, so that a restarted exporter resumes where the store last said
// yes, and written only after the store accepted a batch (at-least-once).
// It is made when a sink first ships, not by a migration: a journal that
// never ships keeps its schema version (and its file) as it was, so an
// exporter from before shipping still opens it.
const shipCursorsTable = `CREATE TABLE IF NOT EXISTS ship_cursors (
	sink    TEXT PRIMARY KEY,
	seq     INTEGER NOT NULL,
	updated INTEGER NOT NULL -- Unix ns
)`

// ShipCursor is the sequence number up to which sink's store accepted the
// events (0: nothing shipped yet).
func (j *Journal) ShipCursor(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := j.db.QueryRowContext(ctx, "SELECT seq FROM ship_cursors WHERE sink = ?", sink).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) || (err != nil && strings.Contains(err.Error(), "no such table: ship_cursors")) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal %s: ship cursor of %s: %w", j.path, sink, err)
	}
	return seq, nil
}

// SetShipCursor records that sink's store accepted every event up to seq.
func (j *Journal) SetShipCursor(ctx context.Context, sink string, seq int64) error {
	_, err := j.db.ExecContext(ctx, shipCursorsTable+`; INSERT INTO ship_cursors (sink, seq, updated) VALUES (?, ?, ?)
		ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated = excluded.updated`, sink, seq, j.now().UnixNano())
	if err != nil {
		return fmt.Errorf("journal %s: set ship cursor of %s to %d: %w", j.path, sink, seq, err)
	}
	return nil
}

// ErasedSeqs are the sequence numbers of the events the erasure record
// seq rewrote (in the journal or in archives), in order: what a store that
// holds copies of them must be given again.
func (j *Journal) ErasedSeqs(ctx context.Context, seq int64) ([]int64, error) {
	var out []int64
	found := false
	err := j.Scan(ctx, Filter{AfterSeq: seq - 1, Kinds: []event.Kind{event.KindErasure}, Limit: 1}, func(s *Stored) error {
		if s.Seq != seq {
			return ErrStop
		}
		found = true
		rs, err := erasureSeqs(&s.Event)
		if err != nil {
			return err
		}
		for _, r := range rs {
			for q := r.lo; q <= r.hi; q++ {
				out = append(out, q)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal %s: erasure %d: %w", j.path, seq, err)
	}
	if !found {
		return nil, fmt.Errorf("journal %s: event %d is not an erasure record", j.path, seq)
	}
	return out, nil
}
