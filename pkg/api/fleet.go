package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/fleet"
	"github.com/mailtrail/mailtrail/pkg/query"
)

// Central mode (source=fleet, docs/api.md): trace, events, logins and
// stats answered from the fleet store for every instance at once, by
// pkg/fleet (the plugin's central mode), in the journal answers' shapes.
//
// A fleet answer covers mail of every instance and the store holds what
// the privacy policy left, unmasked: only auditor and admin tokens without
// a tenant scope may ask, since neither a tenant filter nor the viewer
// masking can be applied to rows the store aggregates (stats) or that
// tie messages of several tenants together (a trace).

// fromFleet reads the source parameter and says whether c may and does
// ask the fleet store.
func (a *API) fromFleet(c *caller, p *params) (bool, error) {
	switch src := p.get(apiv1.ParamSource); src {
	case "", apiv1.SourceJournal:
		return false, nil
	case apiv1.SourceFleet:
	default:
		return false, badRequest(apiv1.ParamSource, "%q: want %s or %s", src, apiv1.SourceJournal, apiv1.SourceFleet)
	}
	if a.cfg.Fleet == nil {
		return false, &apiError{Status: http.StatusConflict, Code: "no_fleet_store",
			Detail: "source: fleet: this exporter has no fleet store configured (api.fleet_store.url, --api.fleet-store-url; docs/fleet.md)"}
	}
	if c.role == RoleViewer {
		return false, &apiError{Status: http.StatusForbidden, Code: "forbidden",
			Detail: fmt.Sprintf("source: fleet answers are not masked and need the auditor role; token %q is viewer", c.name)}
	}
	if len(c.tenants) > 0 {
		return false, &apiError{Status: http.StatusForbidden, Code: "forbidden",
			Detail: fmt.Sprintf("source: fleet answers cover every tenant; token %q is limited to tenants", c.name)}
	}
	return true, nil
}

// fleetError is a failed store call as the API answers it: the store
// refused or failed (502), did not answer in time (504); the detail names
// the store.
func fleetError(err error) error {
	var fe *fleet.Error
	if !errors.As(err, &fe) {
		if errors.Is(err, context.DeadlineExceeded) {
			return &apiError{Status: http.StatusGatewayTimeout, Code: "store_timeout", Detail: "the fleet store gave no answer in time"}
		}
		return err
	}
	if fe.Status == 0 && (errors.Is(err, context.DeadlineExceeded) || fe.Detail == "no answer in time") {
		return &apiError{Status: http.StatusGatewayTimeout, Code: "store_timeout", Detail: fe.Error()}
	}
	return &apiError{Status: http.StatusBadGateway, Code: "store_failed", Detail: fe.Error()}
}

// cutError is an answer the store cut at fleet.MaxRows: refused rather
// than given incomplete, since these shapes have no room for a notice.
func cutError() error {
	return &apiError{Status: http.StatusBadRequest, Code: "too_broad",
		Detail: fmt.Sprintf("source: fleet: the question matches more than %d rows in the fleet store; narrow it", fleet.MaxRows)}
}

// fleetTrace answers a trace as every instance's trace endpoint would, in
// one answer: the messages of each instance holding the queue id or the
// message id (an instance's message carries its instance name).
func (a *API) fleetTrace(ctx context.Context, req query.TraceRequest) (any, int, error) {
	if req.QueueID == "" && req.MessageID == "" {
		return nil, 0, badRequest(apiv1.ParamSource, "fleet: a trace from the fleet store is by queue_id or message_id")
	}
	est, err := a.cfg.Fleet.TraceRows(ctx, req.QueueID, req.MessageID, "")
	if err != nil {
		return nil, 0, fleetError(err)
	}
	if est.Cut {
		return nil, 0, cutError()
	}
	v := url.Values{}
	if req.QueueID != "" {
		v.Set("queue_id", req.QueueID)
	} else {
		v.Set("message_id", req.MessageID)
		v.Set("since", req.Since.UTC().Format(time.RFC3339Nano))
		v.Set("until", req.Until.UTC().Format(time.RFC3339Nano))
	}
	if req.Limit > 0 {
		v.Set("limit", strconv.Itoa(req.Limit))
	}
	res := &apiv1.TraceResult{Messages: []apiv1.Message{}}
	for _, inst := range est.Instances() {
		r, err := est.Trace(ctx, inst, v)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		for _, m := range r.Messages {
			if m.Instance == "" {
				m.Instance = inst
			}
			res.Messages = append(res.Messages, m)
		}
	}
	if len(res.Messages) == 0 {
		return nil, 0, query.ErrNotFound
	}
	return res, len(res.Messages), nil
}

// fleetFilter is the events and stats filter for the store.
func fleetFilter(f query.EventFilter) fleet.Filter {
	return fleet.Filter{Since: f.Since, Until: f.Until, Kinds: f.Kinds, QueueID: f.QueueID, MessageID: f.MessageID,
		SASLUsername: f.SASLUsername, ClientIP: f.ClientIP, Sender: f.Sender, Recipient: f.Recipient, Status: f.Status, Text: f.Text}
}

// fleetEvents is the newest limit events of the estate: each instance's
// newest, as its events endpoint pages them, merged newest first (by
// time, then instance and sequence). One page: the fleet has no cursor.
func (a *API) fleetEvents(ctx context.Context, f query.EventFilter, limit int) (any, int, error) {
	byInst, cut, err := a.cfg.Fleet.Events(ctx, fleetFilter(f), limit)
	if err != nil {
		return nil, 0, fleetError(err)
	}
	if cut {
		return nil, 0, cutError()
	}
	all := []apiv1.Event{}
	for inst, evs := range byInst {
		for _, e := range evs {
			if e.Instance == "" {
				e.Instance = inst
			}
			all = append(all, e)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		x, y := &all[i], &all[j]
		if !x.Time.Equal(y.Time) {
			return x.Time.After(y.Time)
		}
		if x.Instance != y.Instance {
			return x.Instance < y.Instance
		}
		return x.Seq > y.Seq
	})
	if len(all) > limit {
		all = all[:limit]
	}
	return &apiv1.EventsPage{Events: all}, len(all), nil
}

// fleetLogins is every instance's login table, most recently seen first
// across the estate (a user's rows on two instances stay two rows).
func (a *API) fleetLogins(ctx context.Context, req query.LoginRequest) (any, int, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	byInst, cut, err := a.cfg.Fleet.Logins(ctx, fleet.LoginsFilter{Since: req.Since, Until: req.Until, User: req.User, IP: req.IP, Outcome: req.Outcome}, limit)
	if err != nil {
		return nil, 0, fleetError(err)
	}
	if cut {
		return nil, 0, cutError()
	}
	insts := make([]string, 0, len(byInst))
	for inst := range byInst {
		insts = append(insts, inst)
	}
	sort.Strings(insts)
	rows := []apiv1.Login{}
	for _, inst := range insts {
		rows = append(rows, byInst[inst]...)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].LastSeen.After(rows[j].LastSeen) })
	if len(rows) > limit {
		rows = rows[:limit]
	}
	for i := range rows {
		if req.Enricher != nil && rows[i].ClientIP != "" {
			rows[i].Country = req.Enricher.Country(rows[i].ClientIP)
		}
	}
	return apiv1.Logins{Logins: rows}, len(rows), nil
}

// fleetStats counts the estate's events per step: the sum of every
// instance's series, on the buckets the journal's stats use.
func (a *API) fleetStats(ctx context.Context, f query.EventFilter, step time.Duration) (any, int, error) {
	byInst, err := a.cfg.Fleet.Stats(ctx, fleetFilter(f), step)
	if err != nil {
		var pe *query.ParamError
		if errors.As(err, &pe) {
			return nil, 0, err
		}
		return nil, 0, fleetError(err)
	}
	sum, err := assemble.NewSeries(f.Since, f.Until, step)
	if err != nil {
		return nil, 0, err
	}
	out := sum.Stats()
	for _, st := range byInst {
		if len(st.Points) != len(out.Points) {
			return nil, 0, fmt.Errorf("fleet stats: %d buckets, want %d", len(st.Points), len(out.Points))
		}
		for i := range st.Points {
			out.Points[i].Count += st.Points[i].Count
		}
	}
	return out, len(out.Points), nil
}
