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

// traceLogsQL selects, in one query, every row a trace of seed can reach
// within a fixed depth. Q1 is the queue ids of the seed's messages and of
// every message on any instance sharing their message ids (the hops of a
// relayed message, a content filter's second queue id); the rows naming a
// Q1 queue id, as their own or as the one they hand on to, give the rest:
// their next_queue_id ("queued as", the NDR a bounce made) and, for the
// rows handing on to Q1 (a delivery or bounce notice), their own queue id.
// The answer is every row of those queue ids. Both ids of a row go into one
// set through format + unroll, which saves evaluating Q1 twice more.
// Subqueries keep only non-empty values: an empty one would match every
// row without the field.
func traceLogsQL(seed string) string {
	ids := func(filter, field string) string {
		return field + ":in(" + filter + " " + field + ":* | uniq by (" + field + "))"
	}
	q1 := "(" + seed + ") or " + ids("("+seed+")", "message_id")
	q1 = "(" + q1 + ") queue_id:* | uniq by (queue_id)"
	rows := "queue_id:in(" + q1 + ") or next_queue_id:in(" + q1 + ")"
	return "queue_id:in((" + rows + `) | format "[<q:queue_id>,<q:next_queue_id>]" as ids | unroll (ids) | filter ids:* | uniq by (ids))`
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
	seed := "queue_id:=" + q(queueID)
	if queueID == "" {
		seed = "message_id:=" + q(messageID)
	}
	if instance != "" {
		seed = "{instance=" + q(instance) + "} " + seed
	}
	rows, cut, err := s.fetch(ctx, traceLogsQL(seed)+" "+systemFilter)
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
