package query

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// EventFilter selects events; zero fields do not filter. It is shared by
// Events and Stats.
type EventFilter struct {
	Since, Until                               time.Time
	Kinds                                      []event.Kind
	QueueID, MessageID, SASLUsername, ClientIP string
	Sender, Recipient, Status, Text            string
}

// journalFilter is f for the journal, with the caller's visibility as the
// last check.
func (f *EventFilter) journalFilter(a *Access) journal.Filter {
	jf := journal.Filter{
		Since: f.Since, Until: f.Until, Kinds: f.Kinds, QueueID: f.QueueID, MessageID: f.MessageID,
		SASLUsername: f.SASLUsername, ClientIP: f.ClientIP, Sender: f.Sender, Recipient: f.Recipient,
		Status: f.Status, Text: f.Text,
	}
	if a.scoped() || !a.System {
		jf.Match = a.match
	}
	return jf
}

// EventsRequest asks for one page of events.
type EventsRequest struct {
	EventFilter
	// Limit is the page size; 0 means 100.
	Limit int
	// Cursor continues a listing where the previous page's NextCursor
	// left it.
	Cursor string
	// Asc lists oldest first; the default is newest first.
	Asc    bool
	Access Access
}

// EventsPage is one page; NextCursor is empty on the last.
type EventsPage = apiv1.EventsPage

// Cursors are opaque to callers: a version, the order and the sequence
// number the next page starts after. The order is in it so that a cursor
// is never used for the other direction.
const cursorVersion = "c1"

func encodeCursor(asc bool, seq int64) string {
	dir := "d"
	if asc {
		dir = "a"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + "." + dir + "." + strconv.FormatInt(seq, 10)))
}

// decodeCursor reads a cursor made for the order asc.
func decodeCursor(c string, asc bool) (int64, error) {
	bad := &ParamError{Param: "cursor", Msg: "not a cursor this API returned"}
	if len(c) > 64 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != cursorVersion || (parts[1] != "a" && parts[1] != "d") {
		return 0, bad
	}
	if (parts[1] == "a") != asc {
		return 0, &ParamError{Param: "cursor", Msg: "made for the other order"}
	}
	seq, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || seq <= 0 || strconv.FormatInt(seq, 10) != parts[2] {
		return 0, bad
	}
	return seq, nil
}

// ValidCursor reports whether c is a cursor for the given order, so that
// callers can reject a bad one before doing anything else.
func ValidCursor(c string, asc bool) error {
	_, err := decodeCursor(c, asc)
	return err
}

// Events returns one page of the events req selects.
func Events(ctx context.Context, j *journal.Journal, req EventsRequest) (*EventsPage, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	f := req.journalFilter(&req.Access)
	f.Desc = !req.Asc
	f.Limit = limit + 1 // one more tells whether there is a next page
	if req.Cursor != "" {
		seq, err := decodeCursor(req.Cursor, req.Asc)
		if err != nil {
			return nil, err
		}
		if req.Asc {
			f.AfterSeq = seq
		} else {
			f.BeforeSeq = seq
		}
	}
	page := &EventsPage{Events: []Event{}}
	var next int64
	err := j.Scan(ctx, f, func(s *journal.Stored) error {
		if len(page.Events) == limit {
			next = page.Events[limit-1].Seq
			return journal.ErrStop
		}
		ev := Event{Seq: s.Seq, Event: s.Event}
		req.Access.Out(&ev.Event)
		page.Events = append(page.Events, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if next > 0 {
		page.NextCursor = encodeCursor(req.Asc, next)
	}
	return page, nil
}
