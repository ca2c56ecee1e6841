package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Filter selects journaled events. Zero fields do not filter; set fields
// must all match.
type Filter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Kinds        []parser.Kind
	QueueID      string
	MessageID    string
	SASLUsername string
	ClientIP     string
	// Sender and Recipient match the envelope address exactly
	// (case-insensitively, as mail systems compare them).
	Sender, Recipient string
	Status            string
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
	Event  parser.Event
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
func (j *Journal) Scan(ctx context.Context, f Filter, fn func(s *Stored) error) error {
	var where []string
	var args []any
	if f.AfterSeq > 0 {
		where = append(where, "e.seq > ?")
		args = append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		where = append(where, "e.seq < ?")
		args = append(args, f.BeforeSeq)
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
	if f.Desc {
		q += " ORDER BY e.seq DESC"
	} else {
		q += " ORDER BY e.seq"
	}
	rows, err := j.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("journal %s: query events: %w", j.path, err)
	}
	defer rows.Close()
	text := strings.ToLower(f.Text)
	n := 0
	var s Stored
	for rows.Next() {
		s = Stored{}
		var t, kind int64
		var qid *string
		var data []byte
		if err := rows.Scan(&s.Seq, &t, &kind, &qid, &s.Source, &data); err != nil {
			return fmt.Errorf("journal %s: read event: %w", j.path, err)
		}
		hasTime, err := decodeEvent(data, &s.Event)
		if err != nil {
			return fmt.Errorf("journal %s: event %d: %w", j.path, s.Seq, err)
		}
		if hasTime {
			s.Event.Time = colToTime(t)
		}
		s.Event.Kind = parser.Kind(kind)
		if qid != nil {
			s.Event.QueueID = *qid
		}
		if !f.matches(&s, text) {
			continue
		}
		if err := fn(&s); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		n++
		if f.Limit > 0 && n >= f.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal %s: read events: %w", j.path, err)
	}
	return nil
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
		lowerText != "" && !strings.Contains(strings.ToLower(e.Raw), lowerText):
		return false
	}
	return f.Match == nil || f.Match(s)
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
