package datasource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// maxTraceMessages bounds how far a trace is followed: a mailing-list
// message's message id can match thousands of copies, and a trace view of
// more is unreadable anyway.
const maxTraceMessages = 200

// node is one message on one exporter in a trace.
type node struct {
	ex  string // exporter name
	msg Message
}

func (n *node) key() string { return nodeKey(n.ex, n.msg.QueueID) }

func nodeKey(ex, qid string) string { return ex + "/" + qid }

func (n *node) service() string {
	if n.msg.Instance != "" {
		return n.msg.Instance
	}
	return n.ex
}

// tracer follows one message across the estate.
type tracer struct {
	d *Datasource
	// ask is one exporter's trace endpoint: the exporter's API in fan-out
	// mode, the rows fetched from the fleet store in central mode.
	ask    func(ctx context.Context, ex Exporter, params url.Values) (*apiv1.TraceResult, error)
	exs    []Exporter
	byName map[string]Exporter
	info   map[string]InstanceInfo

	nodes   map[string]*node
	order   []string
	askedQ  map[string]bool // exporter/queue id already asked
	askedM  map[string]bool // message ids already searched estate-wide
	fails   map[string]failure
	full    bool // stopped at maxTraceMessages
	lookups int
}

// fetch asks each (exporter, params) pair at once and adds what they find.
// A 404 is "not there", not a failure.
func (t *tracer) fetch(ctx context.Context, asks []Exporter, params []url.Values) error {
	type req struct {
		ex Exporter
		p  url.Values
	}
	reqs := make([]req, len(asks))
	exs := make([]Exporter, len(asks))
	for i := range asks {
		reqs[i] = req{asks[i], params[i]}
		// Each ask gets a unique name so fanOut's order maps back.
		exs[i] = Exporter{Name: strconv.Itoa(i), URL: asks[i].URL}
	}
	t.lookups += len(asks)
	answers := fanOut(ctx, exs, t.d.settings.timeout, t.d.settings.MaxConcurrency, func(ctx context.Context, e Exporter) (*apiv1.TraceResult, error) {
		i, _ := strconv.Atoi(e.Name)
		return t.ask(ctx, reqs[i].ex, reqs[i].p)
	})
	for i, a := range answers {
		ex := reqs[i].ex
		switch {
		case a.err == nil:
		case isNotFound(a.err):
			continue
		case isBadRequest(a.err):
			return fmt.Errorf("%s: %w", ex.Name, a.err)
		default:
			t.fails[ex.Name] = failure{ex.Name, a.err}
			continue
		}
		for _, m := range a.val.Messages {
			if m.Instance == "" {
				m.Instance = a.val.Instance
			}
			n := &node{ex: ex.Name, msg: m}
			if _, ok := t.nodes[n.key()]; ok {
				continue
			}
			if len(t.nodes) >= maxTraceMessages {
				t.full = true
				return nil
			}
			t.nodes[n.key()] = n
			t.order = append(t.order, n.key())
			t.askedQ[n.key()] = true
		}
	}
	return nil
}

// resolve finds the exporter of a relay host name: exact matches (the
// exporter's name, its instance name, a syslog host it has seen) win over
// matches of the first label ("mx2.example.org" and "mx2").
func (t *tracer) resolve(host string) (string, bool) {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	if h == "" {
		return "", false
	}
	short := func(s string) string {
		s = strings.ToLower(s)
		if i := strings.IndexByte(s, '.'); i > 0 {
			return s[:i]
		}
		return s
	}
	for _, cmp := range []func(string) string{strings.ToLower, short} {
		want := cmp(h)
		for _, e := range t.exs {
			cands := []string{e.Name}
			if info, ok := t.info[e.Name]; ok {
				cands = append(cands, info.Instance)
				cands = append(cands, info.Hosts...)
			}
			for _, c := range cands {
				if c != "" && cmp(c) == want {
					return e.Name, true
				}
			}
		}
	}
	return "", false
}

// hopTarget is the exporter a delivery or link handed the message to.
func (t *tracer) hopTarget(hint, relay string) (string, bool) {
	if ex, ok := t.resolve(hint); ok {
		return ex, true
	}
	return t.resolve(relay)
}

// follow asks for the queue ids the known messages link to and searches
// the estate for their message ids, until nothing new turns up.
func (t *tracer) follow(ctx context.Context) error {
	for done := 0; done < len(t.order) && !t.full; {
		var asks []Exporter
		var params []url.Values
		add := func(ex, qid string) {
			k := nodeKey(ex, qid)
			if e, ok := t.byName[ex]; ok && qid != "" && !t.askedQ[k] {
				t.askedQ[k] = true
				asks = append(asks, e)
				params = append(params, url.Values{"queue_id": {qid}})
			}
		}
		for ; done < len(t.order); done++ {
			n := t.nodes[t.order[done]]
			for _, l := range n.msg.Links {
				switch l.Relation {
				case apiv1.RelNDR, apiv1.RelNDRParent:
					add(n.ex, l.QueueID) // bounces are made where the message was
				case apiv1.RelNextHop, apiv1.RelPreviousHop:
					if ex, ok := t.hopTarget(l.InstanceHint, l.RelayHost); ok {
						add(ex, l.QueueID)
					}
				}
			}
			for _, dl := range n.msg.Deliveries {
				if dl.NextQueueID == "" {
					continue
				}
				if ex, ok := t.resolve(dl.RelayHost); ok {
					add(ex, dl.NextQueueID)
				}
			}
			if mid := n.msg.MessageID; mid != "" && !t.askedM[mid] {
				t.askedM[mid] = true
				for _, e := range t.exs {
					asks = append(asks, e)
					params = append(params, url.Values{"message_id": {mid}})
				}
			}
		}
		if len(asks) == 0 {
			break
		}
		if err := t.fetch(ctx, asks, params); err != nil {
			return err
		}
	}
	return nil
}

func (d *Datasource) queryTrace(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	if d.store != nil {
		return d.centralTrace(ctx, q, dq)
	}
	start, _, err := d.selectExporters(ctx, q.Instance)
	if err != nil {
		return queryError(err)
	}
	exs, notes, _ := d.selectExporters(ctx, "")
	ask := func(ctx context.Context, ex Exporter, p url.Values) (*apiv1.TraceResult, error) {
		return ex.api(d.client).Trace(ctx, p)
	}
	return d.runTrace(ctx, q, dq, start, exs, d.knownInfo(ctx, exs), ask, notes)
}

// runTrace follows the message q names from the start exporters through
// exs, each asked through ask, and makes the trace frame.
func (d *Datasource) runTrace(ctx context.Context, q Query, dq backend.DataQuery, start, exs []Exporter, info map[string]InstanceInfo,
	ask func(context.Context, Exporter, url.Values) (*apiv1.TraceResult, error), notes []string) backend.DataResponse {
	t := &tracer{d: d, ask: ask, exs: exs, byName: map[string]Exporter{}, nodes: map[string]*node{},
		askedQ: map[string]bool{}, askedM: map[string]bool{}, fails: map[string]failure{}}
	for _, e := range exs {
		t.byName[e.Name] = e
	}
	t.info = info
	first := url.Values{}
	if qid := strings.TrimSpace(q.QueueID); qid != "" {
		first.Set("queue_id", qid)
	} else {
		first.Set("message_id", strings.TrimSpace(q.MessageID))
		// Asked of every exporter already, unless only one was named:
		// then follow searches the rest of the estate for it.
		if len(start) == len(exs) {
			t.askedM[first.Get("message_id")] = true
		}
	}
	params := make([]url.Values, len(start))
	for i := range start {
		params[i] = first
	}
	if err := t.fetch(ctx, start, params); err != nil {
		return queryError(err)
	}
	if err := t.follow(ctx); err != nil {
		return queryError(err)
	}
	frame := t.frame()
	frame.RefID = dq.RefID
	for _, n := range notes {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: n})
	}
	if len(t.fails) > 0 {
		var fs []failure
		for _, f := range t.fails {
			fs = append(fs, f)
		}
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("the trace may miss hops: %d of %d exporters did not answer: %s", len(fs), len(exs), failureText(fs))})
	}
	if t.full {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("the trace was cut at %d messages", maxTraceMessages)})
	}
	if len(t.nodes) == 0 {
		what := "queue id " + q.QueueID
		if q.QueueID == "" {
			what = "message id " + q.MessageID
		}
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: "no message found for " + what})
	}
	return backend.DataResponse{Frames: data.Frames{frame}}
}

// kv is a key/value pair of Grafana's trace format.
type kv struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type spanLog struct {
	Timestamp float64 `json:"timestamp"`
	Fields    []kv    `json:"fields"`
}

type span struct {
	id, parent, op, service string
	serviceTags, tags       []kv
	start, duration         float64
	logs                    []spanLog
}

func ms(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

// tags lists the non-empty values, in the order given.
func tags(pairs ...any) []kv {
	var out []kv
	for i := 0; i+1 < len(pairs); i += 2 {
		switch v := pairs[i+1].(type) {
		case string:
			if v == "" {
				continue
			}
		case int64:
			if v == 0 {
				continue
			}
		case float64:
			if v == 0 {
				continue
			}
		}
		out = append(out, kv{pairs[i].(string), pairs[i+1]})
	}
	return out
}

func deliverySpanID(n *node, i int) string { return n.key() + "/delivery/" + strconv.Itoa(i) }

// parents decides where each message hangs: under the delivery that
// handed it over, under the message it reports on (an NDR), or, for a
// message found only by its message id, under the first message of the
// trace. Cycles (a mail loop) are broken by refusing a parent that
// descends from the child.
func (t *tracer) parents() (map[string]string, []*node) {
	nodes := make([]*node, 0, len(t.nodes))
	for _, k := range t.order {
		nodes = append(nodes, t.nodes[k])
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].msg.Received.Before(nodes[j].msg.Received) })
	parentNode := map[string]string{} // child key -> parent node key
	parentSpan := map[string]string{} // child key -> span id
	descends := func(child, anc string) bool {
		for k, seen := anc, 0; k != "" && seen <= len(nodes); k, seen = parentNode[k], seen+1 {
			if k == child {
				return true
			}
		}
		return false
	}
	set := func(child *node, parent *node, spanID string) {
		ck, pk := child.key(), parent.key()
		if _, done := parentNode[ck]; done || ck == pk || descends(ck, pk) {
			return
		}
		parentNode[ck], parentSpan[ck] = pk, spanID
	}
	for _, n := range nodes {
		for i, dl := range n.msg.Deliveries {
			if dl.NextQueueID == "" {
				continue
			}
			target, ok := t.resolve(dl.RelayHost)
			for _, c := range nodes {
				if c.msg.QueueID == dl.NextQueueID && c != n && (!ok || c.ex == target) {
					set(c, n, deliverySpanID(n, i))
				}
			}
		}
	}
	for _, n := range nodes {
		for _, l := range n.msg.Links {
			switch l.Relation {
			case apiv1.RelNDR:
				if c, ok := t.nodes[nodeKey(n.ex, l.QueueID)]; ok {
					set(c, n, n.key())
				}
			case apiv1.RelNDRParent:
				if p, ok := t.nodes[nodeKey(n.ex, l.QueueID)]; ok {
					set(n, p, p.key())
				}
			case apiv1.RelNextHop:
				if ex, ok := t.hopTarget(l.InstanceHint, l.RelayHost); ok {
					if c, ok := t.nodes[nodeKey(ex, l.QueueID)]; ok {
						set(c, n, t.handoverSpan(n, l.QueueID))
					}
				}
			}
		}
	}
	var root *node
	for _, n := range nodes {
		if _, ok := parentNode[n.key()]; ok {
			continue
		}
		if root == nil {
			root = n
			continue
		}
		set(n, root, root.key())
	}
	return parentSpan, nodes
}

// handoverSpan is the delivery of n that gave the next hop qid, or n's
// own span when no delivery says so.
func (t *tracer) handoverSpan(n *node, qid string) string {
	for i, dl := range n.msg.Deliveries {
		if dl.NextQueueID == qid {
			return deliverySpanID(n, i)
		}
	}
	return n.key()
}

// spans makes the spans of one message: itself, its receipt, its time in
// the queue and one span per delivery attempt.
func (n *node) spans(parent string) []span {
	m := &n.msg
	svc := n.service()
	var host string
	for _, e := range m.Events {
		if e.Host != "" {
			host = e.Host
			break
		}
	}
	stags := tags("instance", svc, "host", host)
	received := m.Received
	last := received
	var queued time.Time
	for _, e := range m.Events {
		if received.IsZero() || e.Time.Before(received) {
			received = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
		if e.Kind == event.KindQueued && queued.IsZero() {
			queued = e.Time
		}
	}
	end := m.Finished
	if end.IsZero() || end.Before(last) {
		end = last
	}
	logs := make([]spanLog, 0, len(m.Events))
	for _, e := range m.Events {
		f := tags("event", e.Kind.String(), "line", e.Raw)
		logs = append(logs, spanLog{Timestamp: ms(e.Time), Fields: f})
	}
	status := "queued"
	if !m.Finished.IsZero() {
		status = "finished"
	}
	out := []span{{
		id: n.key(), parent: parent, op: "message " + m.QueueID, service: svc, serviceTags: stags,
		start: ms(received), duration: ms(end) - ms(received),
		tags: tags("queue_id", m.QueueID, "message_id", m.MessageID, "sender", m.Sender,
			"sasl_username", m.SASLUsername, "client_ip", m.ClientIP, "client_host", m.ClientHost,
			"origin", m.Origin, "size", m.Size, "state", status),
		logs: logs,
	}}
	if queued.IsZero() {
		queued = received
	}
	out = append(out, span{id: n.key() + "/receive", parent: n.key(), op: "receive", service: svc, serviceTags: stags,
		start: ms(received), duration: ms(queued) - ms(received),
		tags: tags("client_ip", m.ClientIP, "client_host", m.ClientHost, "origin", m.Origin)})
	qend := end
	out = append(out, span{id: n.key() + "/queue", parent: n.key(), op: "queue", service: svc, serviceTags: stags,
		start: ms(queued), duration: ms(qend) - ms(queued), tags: tags("size", m.Size)})
	for i, dl := range m.Deliveries {
		dur := (dl.Delays.ConnSetup + dl.Delays.Transmission) * 1000
		endMS := ms(dl.Time)
		sp := span{id: deliverySpanID(n, i), parent: n.key(), op: "delivery " + dl.Recipient, service: svc,
			serviceTags: stags, start: endMS - dur, duration: dur,
			tags: tags("recipient", dl.Recipient, "orig_recipient", dl.OrigRecipient, "status", dl.Status,
				"dsn", dl.DSN, "relay_host", dl.RelayHost, "relay_ip", dl.RelayIP, "response", dl.Response,
				"delay", dl.Delay, "next_queue_id", dl.NextQueueID, "tls_level", dl.TLSLevel),
		}
		if dl.Status != "sent" && dl.Status != "" {
			sp.tags = append(sp.tags, kv{"error", true})
		}
		sp.logs = []spanLog{{Timestamp: endMS, Fields: tags("event", "delivery", "line", dl.Raw)}}
		out = append(out, sp)
	}
	return out
}

// frame is the trace in Grafana's trace data frame format (contract C).
func (t *tracer) frame() *data.Frame {
	parents, nodes := t.parents()
	var spans []span
	traceID := ""
	for _, n := range nodes {
		spans = append(spans, n.spans(parents[n.key()])...)
		if traceID == "" && n.msg.MessageID != "" {
			traceID = n.msg.MessageID
		}
	}
	if traceID == "" && len(nodes) > 0 {
		traceID = nodes[0].key()
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	n := len(spans)
	tid, sid, pid, op, svc := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	stags, stg, slogs := make([]json.RawMessage, n), make([]json.RawMessage, n), make([]json.RawMessage, n)
	start, dur := make([]float64, n), make([]float64, n)
	for i, s := range spans {
		tid[i], sid[i], pid[i], op[i], svc[i] = traceID, s.id, s.parent, s.op, s.service
		start[i], dur[i] = s.start, max(s.duration, 0)
		stags[i] = mustJSON(nonNil(s.serviceTags))
		stg[i] = mustJSON(nonNil(s.tags))
		if s.logs == nil {
			s.logs = []spanLog{}
		}
		slogs[i] = mustJSON(s.logs)
	}
	frame := data.NewFrame("trace",
		data.NewField("traceID", nil, tid), data.NewField("spanID", nil, sid),
		data.NewField("parentSpanID", nil, pid), data.NewField("operationName", nil, op),
		data.NewField("serviceName", nil, svc), data.NewField("serviceTags", nil, stags),
		data.NewField("startTime", nil, start), data.NewField("duration", nil, dur),
		data.NewField("tags", nil, stg), data.NewField("logs", nil, slogs))
	frame.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTrace}
	return frame
}

func nonNil(k []kv) []kv {
	if k == nil {
		return []kv{}
	}
	return k
}

// mustJSON marshals span parts. They hold only strings, finite numbers
// and booleans; should one ever fail, the span shows empty rather than
// failing the trace.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("[]")
	}
	return b
}
