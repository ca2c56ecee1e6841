package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// TraceRequest asks for messages by queue id, message id, sender or
// recipient (exactly one of them). The others take Since and Until.
type TraceRequest struct {
	QueueID, MessageID, Sender, Recipient string
	Since, Until                          time.Time
	// Limit caps the number of messages; 0 means 100.
	Limit int
	// Instance is this exporter's name, reported in the result.
	Instance string
	Access   Access
}

// The answer's shapes are shared with the Grafana plugin, which reads
// them.
type (
	TraceResult = apiv1.TraceResult
	Message     = apiv1.Message
	Link        = apiv1.Link
)

// Trace assembles the messages the request names (pkg/assemble, the same
// code that assembles a trace from the fleet store's rows). It returns
// ErrNotFound when the caller may see none.
func Trace(ctx context.Context, j *journal.Journal, req TraceRequest) (*TraceResult, error) {
	a := req.Access
	return assemble.Trace(ctx, journalSource{j}, assemble.TraceRequest{
		QueueID: req.QueueID,
		Search:  assemble.Search{Since: req.Since, Until: req.Until, MessageID: req.MessageID, Sender: req.Sender, Recipient: req.Recipient},
		Limit:   req.Limit, Instance: req.Instance,
		Keep: a.scopeMessage, Out: a.Out, Redact: a.Redact,
	})
}

// journalSource reads a trace's events from the journal's indexes.
type journalSource struct{ j *journal.Journal }

func scanRows(ctx context.Context, j *journal.Journal, f journal.Filter, fn func(*assemble.Row) error) error {
	return j.Scan(ctx, f, func(s *journal.Stored) error {
		err := fn(&assemble.Row{Seq: s.Seq, Event: s.Event})
		if err == assemble.ErrStop {
			return journal.ErrStop
		}
		return err
	})
}

func (s journalSource) Search(ctx context.Context, q assemble.Search, fn func(*assemble.Row) error) error {
	return scanRows(ctx, s.j, journal.Filter{Since: q.Since, Until: q.Until, MessageID: q.MessageID, Sender: q.Sender, Recipient: q.Recipient, Desc: true}, fn)
}

func (s journalSource) Queue(ctx context.Context, qid string, fn func(*assemble.Row) error) error {
	return scanRows(ctx, s.j, journal.Filter{QueueID: qid}, fn)
}

func (s journalSource) HandedOn(ctx context.Context, qid string, kinds []event.Kind, since, until time.Time, fn func(*assemble.Row) error) error {
	return scanRows(ctx, s.j, journal.Filter{Since: since, Until: until, Kinds: kinds, NextQueueID: qid}, fn)
}

// scopeMessage decides a message for a tenant-scoped caller: visible when
// one of its events names a tenant address; then the deliveries to other
// tenants' recipients of mail not sent by the caller's tenant are dropped.
func (a *Access) scopeMessage(m *assemble.Building) bool {
	if !a.scoped() {
		return true
	}
	owned := false
	for i := range m.Rows {
		if a.ownsEvent(&m.Rows[i].Event) {
			owned = true
			break
		}
	}
	if !owned {
		return false
	}
	if a.inTenants(m.Sender) || a.inTenants(m.SASLUsername) {
		return true
	}
	kept := m.Rows[:0]
	for _, s := range m.Rows {
		e := &s.Event
		if (e.Recipient != "" || e.OrigRecipient != "") && !a.ownsEvent(e) {
			continue
		}
		kept = append(kept, s)
	}
	m.Rows = kept
	return true
}
