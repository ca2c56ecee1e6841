package journal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Filter selects journaled events. Zero fields do not filter.
type Filter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Kinds        []parser.Kind
	QueueID      string
	SASLUsername string
	ClientIP     string
	// AfterSeq continues a listing after the event with this sequence
	// number.
	AfterSeq int64
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Stored is a journaled event with its sequence number and source.
type Stored struct {
	Seq    int64
	Source string
	Event  parser.Event
}

// Events returns the events matching f in journal order.
func (j *Journal) Events(ctx context.Context, f Filter) ([]Stored, error) {
	var where []string
	var args []any
	if f.AfterSeq > 0 {
		where = append(where, "e.seq > ?")
		args = append(args, f.AfterSeq)
	}
	if !f.Since.IsZero() {
		where = append(where, "e.time >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "e.time < ?")
		args = append(args, f.Until.UnixNano())
	}
	if len(f.Kinds) > 0 {
		marks := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			marks[i] = "?"
			args = append(args, int64(k))
		}
		where = append(where, "e.kind IN ("+strings.Join(marks, ",")+")")
	}
	if f.QueueID != "" {
		where = append(where, "e.queue_id = ?")
		args = append(args, f.QueueID)
	}
	q := "SELECT e.seq, e.time, e.kind, e.queue_id, s.name, e.data FROM events e JOIN sources s ON s.id = e.source"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY e.seq"
	rows, err := j.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("journal %s: query events: %w", j.path, err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var s Stored
		var t, kind int64
		var qid *string
		var data []byte
		if err := rows.Scan(&s.Seq, &t, &kind, &qid, &s.Source, &data); err != nil {
			return nil, fmt.Errorf("journal %s: read event: %w", j.path, err)
		}
		hasTime, err := decodeEvent(data, &s.Event)
		if err != nil {
			return nil, fmt.Errorf("journal %s: event %d: %w", j.path, s.Seq, err)
		}
		if hasTime {
			s.Event.Time = colToTime(t)
		}
		s.Event.Kind = parser.Kind(kind)
		if qid != nil {
			s.Event.QueueID = *qid
		}
		// Fields without an index are filtered here.
		if f.SASLUsername != "" && s.Event.SASLUsername != f.SASLUsername {
			continue
		}
		if f.ClientIP != "" && s.Event.ClientIP != f.ClientIP {
			continue
		}
		out = append(out, s)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, rows.Err()
}

// Count returns how many events the journal holds.
func (j *Journal) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := j.db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
		return 0, fmt.Errorf("journal %s: count: %w", j.path, err)
	}
	return n, nil
}

// Recent calls fn for the last n events, oldest first: what a restarted
// exporter replays into its correlator.
func (j *Journal) Recent(ctx context.Context, n int, fn func(e *parser.Event) error) error {
	rows, err := j.db.QueryContext(ctx, `SELECT time, kind, queue_id, data FROM events
		WHERE seq > (SELECT coalesce(max(seq), 0) FROM events) - ? ORDER BY seq`, n)
	if err != nil {
		return fmt.Errorf("journal %s: recent events: %w", j.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e parser.Event
		var t, kind int64
		var qid *string
		var data []byte
		if err := rows.Scan(&t, &kind, &qid, &data); err != nil {
			return fmt.Errorf("journal %s: recent events: %w", j.path, err)
		}
		hasTime, err := decodeEvent(data, &e)
		if err != nil {
			return fmt.Errorf("journal %s: recent events: %w", j.path, err)
		}
		if hasTime {
			e.Time = colToTime(t)
		}
		e.Kind = parser.Kind(kind)
		if qid != nil {
			e.QueueID = *qid
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}
