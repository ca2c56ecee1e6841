package query

import (
	"context"
	"net"
	"sort"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
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

// linkWindow is how far around a message's first event the line that
// created it (a bounce notice, a "queued as" delivery) is looked for:
// Postfix logs both within the same second or two.
const linkWindow = 2 * time.Minute

// Trace assembles the messages the request names. It returns ErrNotFound
// when the caller may see none.
func Trace(ctx context.Context, j *journal.Journal, req TraceRequest) (*TraceResult, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	type key struct{ host, qid string }
	var keys []key
	seeds := map[int64]bool{} // events that matched a search, by seq
	if req.QueueID != "" {
		keys = []key{{"", req.QueueID}}
	} else {
		seen := map[key]bool{}
		f := journal.Filter{Since: req.Since, Until: req.Until, MessageID: req.MessageID, Sender: req.Sender, Recipient: req.Recipient, Desc: true}
		err := j.Scan(ctx, f, func(s *journal.Stored) error {
			if s.Event.QueueID == "" {
				return nil
			}
			seeds[s.Seq] = true
			k := key{s.Event.Host, s.Event.QueueID}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				if len(keys) > limit {
					return journal.ErrStop
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(keys) > limit {
			keys = keys[:limit]
		}
	}
	res := &TraceResult{Instance: req.Instance, Messages: []Message{}}
	done := map[key]bool{}
	for _, k := range keys {
		if done[key{"", k.qid}] {
			continue
		}
		done[key{"", k.qid}] = true
		msgs, err := messagesOf(ctx, j, k.qid)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if len(seeds) > 0 && !m.holdsAny(seeds) {
				continue
			}
			if !req.Access.scopeMessage(m) {
				continue
			}
			if err := m.findParents(ctx, j); err != nil {
				return nil, err
			}
			res.Messages = append(res.Messages, m.finish(&req.Access))
			if len(res.Messages) >= limit {
				break
			}
		}
	}
	if len(res.Messages) == 0 {
		return nil, ErrNotFound
	}
	sort.SliceStable(res.Messages, func(a, b int) bool { return res.Messages[a].Received.Before(res.Messages[b].Received) })
	return res, nil
}

// building is a message being assembled.
type building struct {
	Message
	stored []journal.Stored
	links  []Link
}

func (m *building) holdsAny(seqs map[int64]bool) bool {
	for i := range m.stored {
		if seqs[m.stored[i].Seq] {
			return true
		}
	}
	return false
}

// messagesOf reads every event of a queue id and splits them into
// messages: per host, and anew after a "removed" (Postfix reuses queue
// ids, short ones within hours).
func messagesOf(ctx context.Context, j *journal.Journal, qid string) ([]*building, error) {
	var out []*building
	open := map[string]*building{}
	err := j.Scan(ctx, journal.Filter{QueueID: qid}, func(s *journal.Stored) error {
		if systemKind(s.Event.Kind) {
			return nil
		}
		m := open[s.Event.Host]
		if m == nil {
			m = &building{}
			m.QueueID, m.Host = qid, s.Event.Host
			open[s.Event.Host] = m
			out = append(out, m)
		}
		m.stored = append(m.stored, *s)
		if s.Event.Kind == event.KindRemoved {
			delete(open, s.Event.Host)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range out {
		// The journal is in arrival order; lines from several sources may
		// interleave out of time order.
		sort.SliceStable(m.stored, func(a, b int) bool { return m.stored[a].Event.Time.Before(m.stored[b].Event.Time) })
		m.summarise()
	}
	return out, nil
}

// summarise fills the message's fields from its events: the first value
// each field takes, and the links its lines name.
func (m *building) summarise() {
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for i := range m.stored {
		e := &m.stored[i].Event
		if i == 0 {
			m.Received = e.Time
		}
		first(&m.Instance, e.Instance)
		first(&m.MessageID, e.MessageID)
		first(&m.Sender, e.Sender)
		first(&m.SASLUsername, e.SASLUsername)
		first(&m.ClientIP, e.ClientIP)
		first(&m.ClientHost, e.ClientHost)
		first(&m.Origin, e.Origin)
		if e.Kind == event.KindQueued && e.Size > 0 && m.Size == 0 {
			m.Size = e.Size
		}
		switch e.Kind {
		case event.KindRemoved, event.KindExpired:
			m.Finished = e.Time
		case event.KindBounceNotice:
			if e.NextQueueID != "" && e.NextQueueID != m.QueueID {
				m.addLink(Link{QueueID: e.NextQueueID, Relation: apiv1.RelNDR})
			}
		case event.KindDelivery:
			if e.NextQueueID != "" && e.NextQueueID != m.QueueID {
				m.addLink(Link{QueueID: e.NextQueueID, Relation: apiv1.RelNextHop, InstanceHint: e.RelayHost, RelayHost: e.RelayHost, RelayIP: e.RelayIP})
			}
		}
	}
}

func (m *building) addLink(l Link) {
	for _, o := range m.links {
		if o.QueueID == l.QueueID && o.Relation == l.Relation {
			return
		}
	}
	m.links = append(m.links, l)
}

// findParents looks for the line that created this message: the bounce
// daemon's notice for a notification, the "queued as" delivery for mail a
// content filter or a second instance handed over on this host. Only
// messages that can have one are looked up, so a plain trace costs one
// indexed query.
func (m *building) findParents(ctx context.Context, j *journal.Journal) error {
	if m.Received.IsZero() {
		return nil
	}
	var kinds []event.Kind
	if m.Origin == "bounce" || m.Sender == "" {
		kinds = append(kinds, event.KindBounceNotice)
	}
	if ip := net.ParseIP(m.ClientIP); ip != nil && ip.IsLoopback() {
		kinds = append(kinds, event.KindDelivery)
	}
	if len(kinds) == 0 {
		return nil
	}
	f := journal.Filter{
		Since: m.Received.Add(-linkWindow), Until: m.Received.Add(linkWindow), Kinds: kinds, NextQueueID: m.QueueID,
		Match: func(s *journal.Stored) bool {
			return s.Event.QueueID != m.QueueID && s.Event.Host == m.Host
		},
	}
	return j.Scan(ctx, f, func(s *journal.Stored) error {
		if s.Event.Kind == event.KindBounceNotice {
			m.addLink(Link{QueueID: s.Event.QueueID, Relation: apiv1.RelNDRParent})
		} else {
			m.addLink(Link{QueueID: s.Event.QueueID, Relation: apiv1.RelPreviousHop})
		}
		return nil
	})
}

// scopeMessage decides a message for a tenant-scoped caller: visible when
// one of its events names a tenant address; then the deliveries to other
// tenants' recipients of mail not sent by the caller's tenant are dropped.
func (a *Access) scopeMessage(m *building) bool {
	if !a.scoped() {
		return true
	}
	owned := false
	for i := range m.stored {
		if a.ownsEvent(&m.stored[i].Event) {
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
	kept := m.stored[:0]
	for _, s := range m.stored {
		e := &s.Event
		if (e.Recipient != "" || e.OrigRecipient != "") && !a.ownsEvent(e) {
			continue
		}
		kept = append(kept, s)
	}
	m.stored = kept
	return true
}

// finish turns the assembled message into what the caller gets.
func (m *building) finish(a *Access) Message {
	out := m.Message
	out.Events = make([]Event, 0, len(m.stored))
	out.Deliveries = []Event{}
	out.Links = m.links
	if out.Links == nil {
		out.Links = []Link{}
	}
	for _, s := range m.stored {
		ev := Event{Seq: s.Seq, Event: s.Event}
		a.Out(&ev.Event)
		out.Events = append(out.Events, ev)
		if ev.Kind == event.KindDelivery {
			out.Deliveries = append(out.Deliveries, ev)
		}
	}
	if r := a.Redact; r != nil {
		out.MessageID = r.Text(out.MessageID)
		out.Sender = r.Text(out.Sender)
		out.SASLUsername = r.User(out.SASLUsername)
	}
	return out
}
