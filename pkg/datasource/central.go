package datasource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/fleet"
)

// Central mode: with victoriaLogsUrl set, trace, events, logins and stats
// are answered from the fleet store in one LogsQL query each (pkg/fleet)
// and made into the same frames as fan-out's; offenders, instances and the
// editor's autocomplete stay fan-out (live state the store does not hold).

// newStore is the fleet store client of the settings: its own HTTP client
// (the exporters' token and client certificate are not the store's).
func newStore(s *Settings) (*fleet.Store, error) {
	c, err := httpclient.New(httpclient.Options{Timeouts: &httpclient.TimeoutOptions{
		DialTimeout: s.timeout, KeepAlive: 30 * time.Second, TLSHandshakeTimeout: s.timeout,
		MaxIdleConns: 4, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
	}})
	if err != nil {
		return nil, fmt.Errorf("http client for the fleet store: %w", err)
	}
	st, err := fleet.New(s.VictoriaLogsURL, c, fleet.Auth{User: s.VictoriaLogsUser, Password: s.VictoriaLogsPassword, Bearer: s.VictoriaLogsToken})
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return st, nil
}

// storeContext bounds one store query by the datasource's timeout.
func (d *Datasource) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.settings.timeout)
}

// storeError is a failed store query as its own error frame: a bad
// request when the store refused the query (4xx), a bad gateway when it
// failed or did not answer. The text names the store.
func storeError(err error) backend.DataResponse {
	var fe *fleet.Error
	if errors.As(err, &fe) {
		status := backend.StatusBadGateway
		if fe.Status >= 400 && fe.Status < 500 {
			status = backend.StatusBadRequest
		}
		if fe.Status == 0 && strings.Contains(fe.Detail, "in time") {
			status = backend.StatusTimeout
		}
		return backend.ErrDataResponseWithSource(status, backend.ErrorSourceDownstream, err.Error())
	}
	return queryError(err)
}

func cutNotice(cut bool, notices []data.Notice) []data.Notice {
	if cut {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("the fleet store's answer was cut at %d rows: narrow the query", fleet.MaxRows)})
	}
	return notices
}

// centralFilter is q's event filters over the (cut) range, as the
// exporters' events and stats endpoints read them.
func centralFilter(q Query, dq backend.DataQuery) (fleet.Filter, bool, error) {
	params, cut := rangeParams(dq.TimeRange)
	f := fleet.Filter{Instance: strings.TrimSpace(q.Instance)}
	var err error
	if f.Since, err = time.Parse(time.RFC3339Nano, params.Get("since")); err != nil {
		return f, cut, err
	}
	if f.Until, err = time.Parse(time.RFC3339Nano, params.Get("until")); err != nil {
		return f, cut, err
	}
	for _, k := range splitList(q.Kind) {
		kind, err := event.ParseKind(k)
		if err != nil {
			return f, cut, fmt.Errorf("kind: %w", err)
		}
		f.Kinds = append(f.Kinds, kind)
	}
	v := url.Values{}
	eventFilters(v, q)
	f.SASLUsername, f.ClientIP, f.Sender, f.Recipient = v.Get("sasl_username"), v.Get("client_ip"), v.Get("sender"), v.Get("recipient")
	f.Status, f.Text = v.Get("status"), v.Get("q")
	return f, cut, nil
}

func (d *Datasource) centralEvents(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	f, cut, err := centralFilter(q, dq)
	if err != nil {
		return queryError(err)
	}
	f.QueueID, f.MessageID = strings.TrimSpace(q.QueueID), strings.TrimSpace(q.MessageID)
	ctx, cancel := d.storeContext(ctx)
	defer cancel()
	byInst, rowsCut, err := d.store.Events(ctx, f, q.Limit)
	if err != nil {
		return storeError(err)
	}
	var all []instEvent
	for inst, evs := range byInst {
		for _, e := range evs {
			all = append(all, instEvent{inst, e})
		}
	}
	return d.eventsAnswer(q, dq, all, cutNotice(rowsCut, nil), cut)
}

func (d *Datasource) centralLogins(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	f, cut, err := centralFilter(Query{Instance: q.Instance}, dq)
	if err != nil {
		return queryError(err)
	}
	ctx, cancel := d.storeContext(ctx)
	defer cancel()
	byInst, rowsCut, err := d.store.Logins(ctx, fleet.LoginsFilter{Instance: f.Instance, Since: f.Since, Until: f.Until,
		User: strings.TrimSpace(q.User), IP: strings.TrimSpace(q.IP), Outcome: q.Outcome}, q.Limit)
	if err != nil {
		return storeError(err)
	}
	var rows []instRow[Login]
	for _, inst := range sortedKeys(byInst) {
		for _, l := range byInst[inst] {
			rows = append(rows, instRow[Login]{inst, l})
		}
	}
	return loginsAnswer(dq, rows, cutNotice(rowsCut, nil), cut)
}

func (d *Datasource) centralStats(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	f, cut, err := centralFilter(q, dq)
	if err != nil {
		return queryError(err)
	}
	ctx, cancel := d.storeContext(ctx)
	defer cancel()
	byInst, err := d.store.Stats(ctx, f, statsStep(dq))
	if err != nil {
		return storeError(err)
	}
	var oks []answer[*apiv1.Stats]
	for inst, st := range byInst {
		oks = append(oks, answer[*apiv1.Stats]{ex: Exporter{Name: inst}, val: st})
	}
	return statsAnswer(dq, oks, nil, cut)
}

// centralTrace fetches every row the trace can reach in one query, then
// follows the message through them as through the exporters.
func (d *Datasource) centralTrace(ctx context.Context, q Query, dq backend.DataQuery) backend.DataResponse {
	sctx, cancel := d.storeContext(ctx)
	defer cancel()
	est, err := d.store.TraceRows(sctx, strings.TrimSpace(q.QueueID), strings.TrimSpace(q.MessageID), strings.TrimSpace(q.Instance))
	if err != nil {
		return storeError(err)
	}
	var exs, start []Exporter
	info := map[string]InstanceInfo{}
	for _, inst := range est.Instances() {
		ex := Exporter{Name: inst}
		exs = append(exs, ex)
		if q.Instance == "" || q.Instance == inst {
			start = append(start, ex)
		}
		info[inst] = InstanceInfo{Instance: inst, Hosts: est.Hosts(inst)}
	}
	ask := func(ctx context.Context, ex Exporter, p url.Values) (*apiv1.TraceResult, error) {
		return est.Trace(ctx, ex.Name, p)
	}
	var notes []string
	if est.Cut {
		notes = append(notes, fmt.Sprintf("the fleet store's answer was cut at %d rows: the trace may miss hops", fleet.MaxRows))
	}
	return d.runTrace(ctx, q, dq, start, exs, info, ask, notes)
}

// centralHealth checks the store answers a query; exporters, when some
// are configured too (for offenders and instances), are checked as in
// fan-out mode and reported beside, without failing the check.
func (d *Datasource) centralHealth(ctx context.Context) *backend.CheckHealthResult {
	sctx, cancel := d.storeContext(ctx)
	defer cancel()
	if err := d.store.Health(sctx); err != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}
	}
	res := &backend.CheckHealthResult{Status: backend.HealthStatusOk,
		Message: fmt.Sprintf("fleet store %s answers (central mode: trace, events, logins and stats come from it)", d.store.URL())}
	if exs, _ := d.exporters(ctx); len(exs) > 0 {
		res.Message += "; exporters (offenders, instances): " + d.exportersHealth(ctx).Message
	}
	return res
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
