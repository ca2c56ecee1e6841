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

// gathered is what a fan-out brought back for one query.
type gathered[T any] struct {
	oks     []answer[T]
	notices []data.Notice
}

// gather asks the query's exporters and sorts the answers from the
// failures. A query error (HTTP 400, the same on every exporter) or no
// exporter answering at all fails the query; fewer answers than exporters
// only add a warning notice naming the missing ones.
func gather[T any](ctx context.Context, d *Datasource, instance string, fn func(context.Context, Exporter) (T, error)) (gathered[T], error) {
	var g gathered[T]
	exs, notes, err := d.selectExporters(ctx, instance)
	if err != nil {
		return g, err
	}
	for _, n := range notes {
		g.notices = append(g.notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: n})
	}
	var fails []failure
	for _, a := range fanOut(ctx, exs, d.settings.timeout, d.settings.MaxConcurrency, fn) {
		switch {
		case a.err == nil:
			g.oks = append(g.oks, a)
		case isBadRequest(a.err):
			return g, fmt.Errorf("%s: %w", a.ex.Name, a.err)
		default:
			fails = append(fails, failure{a.ex.Name, a.err})
		}
	}
	if len(g.oks) == 0 && len(fails) > 0 {
		return g, fmt.Errorf("no exporter answered: %s", failureText(fails))
	}
	if len(fails) > 0 {
		g.notices = append(g.notices, failureNotice(fails, len(exs)))
	}
	return g, nil
}

// instRow is a row of one exporter's answer, with the exporter's name.
type instRow[T any] struct {
	inst string
	v    T
}

// rowsOf puts the rows of every answer together, each with its
// exporter's name.
func rowsOf[T any](oks []answer[[]T]) []instRow[T] {
	var rows []instRow[T]
	for _, a := range oks {
		for _, v := range a.val {
			rows = append(rows, instRow[T]{a.ex.Name, v})
		}
	}
	return rows
}

func failureNotice(fails []failure, total int) data.Notice {
	return data.Notice{Severity: data.NoticeSeverityWarning,
		Text: fmt.Sprintf("%d of %d exporters did not answer, results are incomplete: %s", len(fails), total, failureText(fails))}
}

func queryError(err error) backend.DataResponse {
	return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
}

func rangeNotice(cut bool, notices []data.Notice) []data.Notice {
	if cut {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: fmt.Sprintf("the exporters answer at most %d days: showing the newest %d days of the range", maxRangeDays, maxRangeDays)})
	}
	return notices
}

// severity is the log level Grafana colours an event by.
func severity(e *event.Event) string {
	switch e.Kind {
	case event.KindReject, event.KindAuthFailure, event.KindBounceNotice, event.KindExpired:
		return "error"
	case event.KindWarning:
		if e.Level == "error" || e.Level == "fatal" || e.Level == "panic" {
			return "error"
		}
		return "warning"
	case event.KindDelivery:
		switch e.Status {
		case "bounced", "expired", "undeliverable":
			return "error"
		case "deferred":
			return "warning"
		}
	}
	return "info"
}

// instEvent is an event with the exporter it came from.
type instEvent struct {
	inst string
	ev   Event
}

func (d *Datasource) queryEvents(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	if d.store != nil {
		return d.centralEvents(ctx, q, dq)
	}
	params, cut := rangeParams(dq.TimeRange)
	eventFilters(params, q)
	setNonEmpty(params, "queue_id", q.QueueID, "message_id", q.MessageID)
	params.Set("limit", strconv.Itoa(q.Limit))
	params.Set("order", "desc")
	g, err := gather(ctx, d, q.Instance, func(ctx context.Context, ex Exporter) ([]Event, error) {
		r, err := ex.api(d.client).Events(ctx, params)
		if err != nil {
			return nil, err
		}
		return r.Events, nil
	})
	if err != nil {
		return queryError(err)
	}
	var all []instEvent
	for _, a := range g.oks {
		for _, e := range a.val {
			inst := e.Instance
			if inst == "" {
				inst = a.ex.Name
			}
			all = append(all, instEvent{inst, e})
		}
	}
	return d.eventsAnswer(q, dq, all, g.notices, cut)
}

// eventsAnswer merges every instance's newest events into one logs frame.
func (d *Datasource) eventsAnswer(q Query, dq backend.DataQuery, all []instEvent, notices []data.Notice, cut bool) backend.DataResponse {
	// Newest first across the estate; each exporter sent its newest
	// `limit`, so the merged newest `limit` are exact.
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].ev.Time.Equal(all[j].ev.Time) {
			return all[i].ev.Time.After(all[j].ev.Time)
		}
		if all[i].inst != all[j].inst {
			return all[i].inst < all[j].inst
		}
		return all[i].ev.Seq > all[j].ev.Seq
	})
	if len(all) > q.Limit {
		all = all[:q.Limit]
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: fmt.Sprintf("showing the newest %d events; raise the limit (at most %d) or narrow the filters for more", q.Limit, maxLimit)})
	}
	frame := d.eventsFrame(all)
	frame.RefID = dq.RefID
	frame.AppendNotices(rangeNotice(cut, notices)...)
	return backend.DataResponse{Frames: data.Frames{frame}}
}

// eventsFrame is a logs frame (contract C) with a data link from each
// queue id to its trace.
func (d *Datasource) eventsFrame(evs []instEvent) *data.Frame {
	n := len(evs)
	ts := make([]time.Time, n)
	body := make([]string, n)
	sev := make([]string, n)
	ids := make([]string, n)
	attrs := make([]json.RawMessage, n)
	qids := make([]string, n)
	insts := make([]string, n)
	for i, ie := range evs {
		e := ie.ev.Event
		ts[i] = e.Time
		body[i] = e.Raw
		if body[i] == "" {
			body[i] = e.Kind.String()
		}
		sev[i] = severity(&e)
		ids[i] = ie.inst + ":" + strconv.FormatInt(ie.ev.Seq, 10)
		e.Raw = ""
		attrs[i], _ = json.Marshal(e) // an Event always marshals
		qids[i] = e.QueueID
		insts[i] = ie.inst
	}
	qidField := data.NewField("queue_id", nil, qids)
	qidField.Config = &data.FieldConfig{Links: []data.DataLink{{
		Title: "Trace ${__value.raw}",
		Internal: &data.InternalDataLink{
			DatasourceUID:  d.uid,
			DatasourceName: d.name,
			Query: map[string]any{
				"queryType": QueryTrace,
				"queueId":   "${__value.raw}",
				"instance":  "${__data.fields.instance}",
			},
		},
	}}}
	frame := data.NewFrame("events",
		data.NewField("timestamp", nil, ts),
		data.NewField("body", nil, body),
		data.NewField("severity", nil, sev),
		data.NewField("id", nil, ids),
		data.NewField("attributes", nil, attrs),
		qidField,
		data.NewField("instance", nil, insts),
	)
	// The log-lines type is what makes Grafana read severity, id and
	// attributes; an untyped logs frame shows every line at level unknown.
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeLogLines, TypeVersion: data.FrameTypeVersion{0, 0}, PreferredVisualization: data.VisTypeLogs}
	return frame
}

func (d *Datasource) queryLogins(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	if d.store != nil {
		return d.centralLogins(ctx, q, dq)
	}
	params, cut := rangeParams(dq.TimeRange)
	setNonEmpty(params, "user", q.User, "ip", q.IP, "outcome", q.Outcome)
	params.Set("limit", strconv.Itoa(q.Limit))
	g, err := gather(ctx, d, q.Instance, func(ctx context.Context, ex Exporter) ([]Login, error) {
		return ex.api(d.client).Logins(ctx, params)
	})
	if err != nil {
		return queryError(err)
	}
	return loginsAnswer(dq, rowsOf(g.oks), g.notices, cut)
}

// loginsAnswer is the login table of every instance's rows.
func loginsAnswer(dq backend.DataQuery, rows []instRow[Login], notices []data.Notice, cut bool) backend.DataResponse {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].v.LastSeen.After(rows[j].v.LastSeen) })
	n := len(rows)
	inst, user, ip, svc, outc, country := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	count := make([]int64, n)
	first, last := make([]time.Time, n), make([]time.Time, n)
	tls := make([]bool, n)
	for i, r := range rows {
		inst[i], user[i], ip[i], svc[i], outc[i], country[i] = r.inst, r.v.User, r.v.ClientIP, r.v.Service, r.v.Outcome, r.v.Country
		count[i], first[i], last[i], tls[i] = int64(r.v.Count), r.v.FirstSeen, r.v.LastSeen, r.v.TLS
	}
	frame := data.NewFrame("logins",
		data.NewField("instance", nil, inst), data.NewField("user", nil, user),
		data.NewField("client_ip", nil, ip), data.NewField("service", nil, svc),
		data.NewField("outcome", nil, outc), data.NewField("count", nil, count),
		data.NewField("first_seen", nil, first), data.NewField("last_seen", nil, last),
		data.NewField("tls", nil, tls), data.NewField("country", nil, country))
	frame.RefID = dq.RefID
	frame.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	frame.AppendNotices(rangeNotice(cut, notices)...)
	return backend.DataResponse{Frames: data.Frames{frame}}
}

func (d *Datasource) queryOffenders(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	g, err := gather(ctx, d, q.Instance, func(ctx context.Context, ex Exporter) ([]apiv1.Offender, error) {
		return ex.api(d.client).Offenders(ctx)
	})
	if err != nil {
		return queryError(err)
	}
	rows := rowsOf(g.oks)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].v.Active != rows[j].v.Active {
			return rows[i].v.Active
		}
		return rows[i].v.Count > rows[j].v.Count
	})
	n := len(rows)
	inst, scope, key := make([]string, n), make([]string, n), make([]string, n)
	count, peak := make([]int64, n), make([]int64, n)
	first, last := make([]time.Time, n), make([]time.Time, n)
	after, active := make([]bool, n), make([]bool, n)
	for i, r := range rows {
		inst[i], scope[i], key[i] = r.inst, r.v.Scope, r.v.Key
		count[i], peak[i] = int64(r.v.Count), int64(r.v.Peak)
		first[i], last[i], after[i], active[i] = r.v.FirstSeen, r.v.LastSeen, r.v.AfterFailures, r.v.Active
	}
	frame := data.NewFrame("offenders",
		data.NewField("instance", nil, inst), data.NewField("scope", nil, scope),
		data.NewField("key", nil, key), data.NewField("count", nil, count),
		data.NewField("peak", nil, peak), data.NewField("first_seen", nil, first),
		data.NewField("last_seen", nil, last), data.NewField("after_failures", nil, after),
		data.NewField("active", nil, active))
	frame.RefID = dq.RefID
	frame.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	frame.AppendNotices(g.notices...)
	return backend.DataResponse{Frames: data.Frames{frame}}
}

// queryInstances lists every exporter, answering or not: the table is
// where an operator looks for the one that is missing.
func (d *Datasource) queryInstances(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	exs, notes, err := d.selectExporters(ctx, q.Instance)
	if err != nil {
		return queryError(err)
	}
	answers := fanOut(ctx, exs, d.settings.timeout, d.settings.MaxConcurrency, d.instanceInfo)
	sort.Slice(answers, func(i, j int) bool { return answers[i].ex.Name < answers[j].ex.Name })
	n := len(answers)
	name, inst, u, ver, hosts, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	reach := make([]bool, n)
	jfirst, jlast, cpTime := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	jevents, jsize, cpSize := make([]int64, n), make([]int64, n), make([]int64, n)
	var fails []failure
	for i, a := range answers {
		name[i], u[i] = a.ex.Name, a.ex.URL.String()
		if a.err != nil {
			fails = append(fails, failure{a.ex.Name, a.err})
			errs[i] = failure{a.ex.Name, a.err}.describe()
			continue
		}
		info := a.val
		reach[i], inst[i], ver[i], hosts[i] = true, info.Instance, info.Version, strings.Join(info.Hosts, ",")
		jfirst[i], jlast[i] = timePtr(info.Journal.FirstTime), timePtr(info.Journal.LastTime)
		jevents[i], jsize[i] = info.Journal.Events, info.Journal.SizeBytes
		if cp := info.Checkpoint; cp != nil {
			cpSize[i], cpTime[i] = int64(cp.Size), timePtr(cp.Time)
		}
	}
	frame := data.NewFrame("instances",
		data.NewField("name", nil, name), data.NewField("instance", nil, inst),
		data.NewField("url", nil, u), data.NewField("reachable", nil, reach),
		data.NewField("version", nil, ver), data.NewField("hosts", nil, hosts),
		data.NewField("journal_first_time", nil, jfirst), data.NewField("journal_last_time", nil, jlast),
		data.NewField("journal_events", nil, jevents), data.NewField("journal_size_bytes", nil, jsize),
		data.NewField("checkpoint_size", nil, cpSize), data.NewField("checkpoint_time", nil, cpTime),
		data.NewField("error", nil, errs))
	frame.RefID = dq.RefID
	frame.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable}
	for _, n := range notes {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: n})
	}
	if len(fails) > 0 {
		frame.AppendNotices(failureNotice(fails, len(exs)))
	}
	return backend.DataResponse{Frames: data.Frames{frame}}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// statsStep picks the bucket width: Grafana's interval, widened so the
// range fits the API's point limit and the panel's width, whole seconds.
func statsStep(dq backend.DataQuery) time.Duration {
	span := dq.TimeRange.To.Sub(dq.TimeRange.From)
	step := dq.Interval
	if dq.MaxDataPoints > 0 {
		step = max(step, span/time.Duration(dq.MaxDataPoints))
	}
	step = max(step, span/maxStatPoints+1)
	return max(step.Round(time.Second), time.Second)
}

// queryStats is the numeric query (alerting): one time series of matching
// event counts per instance.
func (d *Datasource) queryStats(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	if d.store != nil {
		return d.centralStats(ctx, q, dq)
	}
	params, cut := rangeParams(dq.TimeRange)
	eventFilters(params, q)
	params.Set("step", fmt.Sprintf("%ds", int64(statsStep(dq)/time.Second)))
	g, err := gather(ctx, d, q.Instance, func(ctx context.Context, ex Exporter) (*apiv1.Stats, error) {
		return ex.api(d.client).Stats(ctx, params)
	})
	if err != nil {
		return queryError(err)
	}
	return statsAnswer(dq, g.oks, g.notices, cut)
}

// statsAnswer is one series frame per instance, in name order.
func statsAnswer(dq backend.DataQuery, oks []answer[*apiv1.Stats], notices []data.Notice, cut bool) backend.DataResponse {
	sort.Slice(oks, func(i, j int) bool { return oks[i].ex.Name < oks[j].ex.Name })
	var frames data.Frames
	for _, a := range oks {
		ts := make([]time.Time, len(a.val.Points))
		vs := make([]float64, len(a.val.Points))
		for i, p := range a.val.Points {
			ts[i], vs[i] = p.Time, float64(p.Count)
		}
		f := data.NewFrame("stats",
			data.NewField("time", nil, ts),
			data.NewField("value", data.Labels{"instance": a.ex.Name}, vs))
		f.RefID = dq.RefID
		f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
		frames = append(frames, f)
	}
	if len(frames) > 0 {
		frames[0].AppendNotices(rangeNotice(cut, notices)...)
	}
	return backend.DataResponse{Frames: frames}
}

// values asks every exporter for the distinct values of fields and merges
// them, for the editor's autocomplete.
func (d *Datasource) values(ctx context.Context, fields []string, extra url.Values) ([]string, error) {
	g, err := gather(ctx, d, "", func(ctx context.Context, ex Exporter) ([]string, error) {
		var out []string
		for _, f := range fields {
			params := url.Values{"field": {f}}
			for k, v := range extra {
				params[k] = v
			}
			vals, err := ex.api(d.client).Values(ctx, params)
			if err != nil {
				return nil, err
			}
			out = append(out, vals...)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, a := range g.oks {
		for _, v := range a.val {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}
