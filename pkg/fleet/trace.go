package fleet

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// traceLogsQL selects, in one query, every row a trace can reach within
// a fixed depth. The rows that name the trace's messages are the seed's
// own, those handing on to it (a parent: "queued as", the bounce that made
// an NDR) and those of every message on any instance sharing its message
// ids (the hops of a relayed message, a content filter's second queue id,
// their parents and next hops: the correlator puts the message id on every
// row of a message after its message-id line). Their queue ids and
// next_queue_ids, gathered into one set through format + unroll, select
// the answer: every row of those queue ids.
//
// That is two scans of the whole store besides the seed's own lookup
// (message ids, then the answer's queue ids); the earlier formulation
// first gathered the queue ids of the message-id copies, then their rows,
// a third scan, for the same rows (docs/fleet.md, Sizing). A trace by
// message id needs no seed lookup: the message id is the set.
// Subqueries keep only non-empty values: an empty one would match every
// row without the field.
func traceLogsQL(queueID, messageID, instance string) string {
	var named string
	if queueID != "" {
		seed := "queue_id:=" + q(queueID)
		if instance != "" {
			seed = "{instance=" + q(instance) + "} " + seed
		}
		named = "queue_id:in(" + q(queueID) + ") or next_queue_id:in(" + q(queueID) + ") or message_id:in(" + seed + " message_id:* | uniq by (message_id))"
	} else {
		// The message's copies on every instance (the instance, when
		// given, only says where the trace starts), their parents and
		// next hops.
		qids := "message_id:=" + q(messageID) + " queue_id:* | uniq by (queue_id)"
		named = "queue_id:in(" + qids + ") or next_queue_id:in(" + qids + ")"
	}
	return "queue_id:in((" + named + `) | format "[<q:queue_id>,<q:next_queue_id>]" as ids | unroll (ids) | filter ids:* | uniq by (ids))`
}

// Estate is the rows a trace needs, by instance; it answers each
// instance's trace endpoint as that instance's exporter would (Trace), so
// the plugin follows a message through it as through the exporters.
type Estate struct {
	byInst map[string][]Row // journal order
	// Cut says the query stopped at MaxRows.
	Cut bool
}

// TraceRows fetches the rows a trace of a queue id or a message id (one
// of them; on one instance when instance is set) can reach.
func (s *Store) TraceRows(ctx context.Context, queueID, messageID, instance string) (*Estate, error) {
	rows, cut, err := s.fetch(ctx, traceLogsQL(queueID, messageID, instance)+" "+systemFilter)
	if err != nil {
		return nil, err
	}
	e := &Estate{byInst: map[string][]Row{}, Cut: cut}
	for _, r := range rows {
		e.byInst[r.Instance] = append(e.byInst[r.Instance], r)
	}
	for _, rs := range e.byInst {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Seq < rs[j].Seq })
	}
	return e, nil
}

// Instances are the instances the rows came from, in name order.
func (e *Estate) Instances() []string {
	out := make([]string, 0, len(e.byInst))
	for inst := range e.byInst {
		out = append(out, inst)
	}
	sort.Strings(out)
	return out
}

// Hosts are the syslog hosts of an instance's rows, which map relay host
// names to instances as an exporter's instance description does.
func (e *Estate) Hosts(instance string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range e.byInst[instance] {
		if h := r.Event.Host; h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// Trace answers the trace endpoint's queue_id or message_id question for
// one instance, from the rows; nothing found is the API's 404.
func (e *Estate) Trace(ctx context.Context, instance string, params url.Values) (*apiv1.TraceResult, error) {
	req := assemble.TraceRequest{QueueID: params.Get("queue_id"), Instance: instance}
	req.MessageID = params.Get("message_id")
	if req.QueueID == "" {
		// A search covers what the exporter's would: the last
		// apiv1.DefaultRange unless the caller gave a range.
		req.Until = time.Now()
		if u, err := time.Parse(time.RFC3339Nano, params.Get("until")); err == nil {
			req.Until = u
		}
		req.Since = req.Until.Add(-apiv1.DefaultRange)
		if s, err := time.Parse(time.RFC3339Nano, params.Get("since")); err == nil {
			req.Since = s
		}
	}
	if l := params.Get("limit"); l != "" {
		req.Limit, _ = strconv.Atoi(l)
	}
	res, err := assemble.Trace(ctx, instSource(e.byInst[instance]), req)
	if errors.Is(err, assemble.ErrNotFound) {
		return nil, &apiv1.Error{Status: http.StatusNotFound, Code: "not_found", Detail: "no message found"}
	}
	return res, err
}

// instSource is one instance's rows as a trace's Source: the same scans
// the journal's indexes answer, over memory.
type instSource []Row

func (rs instSource) each(desc bool, keep func(*assemble.Row) bool, fn func(*assemble.Row) error) error {
	for i := range rs {
		r := &rs[i]
		if desc {
			r = &rs[len(rs)-1-i]
		}
		if !keep(&r.Event) {
			continue
		}
		row := r.Event
		if err := fn(&row); err != nil {
			if err == assemble.ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

func inRange(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

func (rs instSource) Search(_ context.Context, s assemble.Search, fn func(*assemble.Row) error) error {
	f := Filter{Since: s.Since, Until: s.Until, MessageID: s.MessageID, Sender: s.Sender, Recipient: s.Recipient}
	return rs.each(true, func(r *assemble.Row) bool {
		row := Row{Event: *r}
		return f.match(&row)
	}, fn)
}

func (rs instSource) Queue(_ context.Context, qid string, fn func(*assemble.Row) error) error {
	return rs.each(false, func(r *assemble.Row) bool { return r.Event.QueueID == qid }, fn)
}

func (rs instSource) HandedOn(_ context.Context, qid string, kinds []event.Kind, since, until time.Time, fn func(*assemble.Row) error) error {
	return rs.each(false, func(r *assemble.Row) bool {
		return r.Event.NextQueueID == qid && hasKind(kinds, r.Event.Kind) && inRange(r.Event.Time, since, until)
	}, fn)
}
