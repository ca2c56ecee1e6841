package assemble

import (
	"context"
	"net"
	"sort"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// Source is where a trace reads one instance's events.
type Source interface {
	// Search calls fn with the events matching s, newest first.
	Search(ctx context.Context, s Search, fn func(*Row) error) error
	// Queue calls fn with every event of queue id qid, in journal order.
	Queue(ctx context.Context, qid string, fn func(*Row) error) error
	// HandedOn calls fn with the events of the given kinds whose
	// next_queue_id is qid, within [since, until), in journal order.
	HandedOn(ctx context.Context, qid string, kinds []event.Kind, since, until time.Time, fn func(*Row) error) error
}

// Search selects a trace's seed events: by message id, sender or
// recipient (exactly one), within Since and Until when set.
type Search struct {
	Since, Until                 time.Time
	MessageID, Sender, Recipient string
}

// TraceRequest asks for messages by queue id or by a Search.
type TraceRequest struct {
	QueueID string
	Search
	// Limit caps the number of messages; 0 means 100.
	Limit int
	// Instance is the instance's name, reported in the result.
	Instance string
	// Keep, when set, decides whether the caller sees a message (and may
	// drop events from it).
	Keep func(*Building) bool
	// Out prepares each event for the caller (redaction); Redact, when
	// set, masks the message's own summary fields.
	Out    func(*event.Event)
	Redact *privacy.Masker
}

// LinkWindow is how far around a message's first event the line that
// created it (a bounce notice, a "queued as" delivery) is looked for:
// Postfix logs both within the same second or two.
const LinkWindow = 2 * time.Minute

// Trace assembles the messages the request names from src. It returns
// ErrNotFound when the caller may see none.
func Trace(ctx context.Context, src Source, req TraceRequest) (*apiv1.TraceResult, error) {
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
		err := src.Search(ctx, req.Search, func(r *Row) error {
			if r.Event.QueueID == "" {
				return nil
			}
			seeds[r.Seq] = true
			k := key{r.Event.Host, r.Event.QueueID}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				if len(keys) > limit {
					return ErrStop
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
	res := &apiv1.TraceResult{Instance: req.Instance, Messages: []apiv1.Message{}}
	done := map[key]bool{}
	for _, k := range keys {
		if done[key{"", k.qid}] {
			continue
		}
		done[key{"", k.qid}] = true
		msgs, err := messagesOf(ctx, src, k.qid)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if len(seeds) > 0 && !m.holdsAny(seeds) {
				continue
			}
			if req.Keep != nil && !req.Keep(m) {
				continue
			}
			if err := m.findParents(ctx, src); err != nil {
				return nil, err
			}
			res.Messages = append(res.Messages, m.finish(req.Out, req.Redact))
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

// Building is a message being assembled: its summary so far and its
// events, which a Keep hook may narrow.
type Building struct {
	apiv1.Message
	Rows  []Row
	links []apiv1.Link
}

func (m *Building) holdsAny(seqs map[int64]bool) bool {
	for i := range m.Rows {
		if seqs[m.Rows[i].Seq] {
			return true
		}
	}
	return false
}

// messagesOf reads every event of a queue id and splits them into
// messages: per host, and anew after a "removed" (Postfix reuses queue
// ids, short ones within hours).
func messagesOf(ctx context.Context, src Source, qid string) ([]*Building, error) {
	var out []*Building
	open := map[string]*Building{}
	err := src.Queue(ctx, qid, func(r *Row) error {
		if SystemKind(r.Event.Kind) {
			return nil
		}
		m := open[r.Event.Host]
		if m == nil {
			m = &Building{}
			m.QueueID, m.Host = qid, r.Event.Host
			open[r.Event.Host] = m
			out = append(out, m)
		}
		m.Rows = append(m.Rows, *r)
		if r.Event.Kind == event.KindRemoved {
			delete(open, r.Event.Host)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range out {
		// The journal is in arrival order; lines from several sources may
		// interleave out of time order.
		sort.SliceStable(m.Rows, func(a, b int) bool { return m.Rows[a].Event.Time.Before(m.Rows[b].Event.Time) })
		m.summarise()
	}
	return out, nil
}

// summarise fills the message's fields from its events: the first value
// each field takes, and the links its lines name.
func (m *Building) summarise() {
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for i := range m.Rows {
		e := &m.Rows[i].Event
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
				m.addLink(apiv1.Link{QueueID: e.NextQueueID, Relation: apiv1.RelNDR})
			}
		case event.KindDelivery:
			if e.NextQueueID != "" && e.NextQueueID != m.QueueID {
				m.addLink(apiv1.Link{QueueID: e.NextQueueID, Relation: apiv1.RelNextHop, InstanceHint: e.RelayHost, RelayHost: e.RelayHost, RelayIP: e.RelayIP})
			}
		}
	}
}

func (m *Building) addLink(l apiv1.Link) {
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
func (m *Building) findParents(ctx context.Context, src Source) error {
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
	return src.HandedOn(ctx, m.QueueID, kinds, m.Received.Add(-LinkWindow), m.Received.Add(LinkWindow), func(r *Row) error {
		if r.Event.QueueID == m.QueueID || r.Event.Host != m.Host {
			return nil
		}
		if r.Event.Kind == event.KindBounceNotice {
			m.addLink(apiv1.Link{QueueID: r.Event.QueueID, Relation: apiv1.RelNDRParent})
		} else {
			m.addLink(apiv1.Link{QueueID: r.Event.QueueID, Relation: apiv1.RelPreviousHop})
		}
		return nil
	})
}

// finish turns the assembled message into what the caller gets.
func (m *Building) finish(out func(*event.Event), r *privacy.Masker) apiv1.Message {
	msg := m.Message
	msg.Events = make([]apiv1.Event, 0, len(m.Rows))
	msg.Deliveries = []apiv1.Event{}
	msg.Links = m.links
	if msg.Links == nil {
		msg.Links = []apiv1.Link{}
	}
	for _, s := range m.Rows {
		ev := s
		if out != nil {
			out(&ev.Event)
		}
		msg.Events = append(msg.Events, ev)
		if ev.Kind == event.KindDelivery {
			msg.Deliveries = append(msg.Deliveries, ev)
		}
	}
	if r != nil {
		msg.MessageID = r.Text(msg.MessageID)
		msg.Sender = r.Text(msg.Sender)
		msg.SASLUsername = r.User(msg.SASLUsername)
	}
	return msg
}
