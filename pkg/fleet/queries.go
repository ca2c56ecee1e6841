package fleet

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
)

// Events are the newest events per instance (at most limit each, newest
// journal order first, as each exporter's events endpoint answers), by
// instance; the caller merges them as it merges the exporters' pages.
// The store is asked for twice limit per instance so that rows a crash
// shipped twice do not shorten the page.
func (s *Store) Events(ctx context.Context, f Filter, limit int) (map[string][]apiv1.Event, bool, error) {
	logsql := fmt.Sprintf("%s | sort by (seq desc) partition by (instance) limit %d", f.logsql(), 2*limit)
	rows, cut, err := s.fetch(ctx, logsql)
	if err != nil {
		return nil, false, err
	}
	out := map[string][]apiv1.Event{}
	for i := range rows {
		r := &rows[i]
		if f.match(r) {
			out[r.Instance] = append(out[r.Instance], r.Event)
		}
	}
	for inst, evs := range out {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Seq > evs[j].Seq })
		if len(evs) > limit {
			evs = evs[:limit]
		}
		out[inst] = evs
	}
	return out, cut, nil
}

// LoginsFilter selects the login audit's events.
type LoginsFilter struct {
	Instance     string
	Since, Until time.Time
	User, IP     string
	// Outcome is success, failure or "" for both.
	Outcome string
}

// loginFields are what a login table reads of an event.
const loginFields = "instance, seq, _time, time, kind, sasl_username, client_ip, service, program, attempts, repeat, tls_level, tls_protocol"

// Logins is the login audit per instance, each as that instance's
// exporter answers it (at most limit rows, most recently seen first).
func (s *Store) Logins(ctx context.Context, lf LoginsFilter, limit int) (map[string][]apiv1.Login, bool, error) {
	f := Filter{Instance: lf.Instance, Since: lf.Since, Until: lf.Until, Kinds: assemble.LoginKinds, SASLUsername: lf.User, ClientIP: lf.IP}
	rows, cut, err := s.fetch(ctx, f.logsql()+" | fields "+loginFields)
	if err != nil {
		return nil, false, err
	}
	tables := map[string]*assemble.LoginTable{}
	for i := range rows {
		r := &rows[i]
		if !f.match(r) {
			continue
		}
		t := tables[r.Instance]
		if t == nil {
			t = &assemble.LoginTable{Outcome: lf.Outcome}
			tables[r.Instance] = t
		}
		t.Add(&r.Event.Event)
	}
	out := map[string][]apiv1.Login{}
	for inst, t := range tables {
		out[inst] = t.Rows(limit)
	}
	return out, cut, nil
}

// Stats counts the events f selects per step, per instance, as each
// exporter's stats endpoint does; f.Since and f.Until must be set. Every
// instance with any event in the range has a series. The store counts
// (instance, seq) once per bucket (count_uniq), so rows shipped twice
// count once.
func (s *Store) Stats(ctx context.Context, f Filter, step time.Duration) (map[string]*apiv1.Stats, error) {
	if _, err := assemble.NewSeries(f.Since, f.Until, step); err != nil {
		return nil, err
	}
	start := f.Since.Truncate(step)
	// Buckets as assemble.Series makes them: from the range's start
	// truncated to the step. VictoriaLogs buckets t as
	// trunc(t+offset)-offset (truncated from the Unix epoch), so the offset
	// that puts a boundary at start is minus start, modulo the step.
	offset := (int64(step) - start.UnixNano()%int64(step)) % int64(step)
	if offset < 0 {
		offset += int64(step)
	}
	base := Filter{Instance: f.Instance, Since: f.Since, Until: f.Until}
	match := f
	match.Instance, match.Since, match.Until = "", time.Time{}, time.Time{}
	logsql := fmt.Sprintf("%s | stats by (instance, _time:%ds offset %dns) count_uniq(seq) if (%s) as n",
		base.logsql(), int64(step/time.Second), offset, match.logsql())
	series := map[string]*assemble.Series{}
	err := s.query(ctx, logsql, func(m map[string]string) error {
		inst := m["instance"]
		if inst == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, m["_time"])
		if err != nil {
			return &Error{URL: s.shown, Detail: fmt.Sprintf("stats bucket time %q: %v", m["_time"], err)}
		}
		n, err := strconv.ParseInt(m["n"], 10, 64)
		if err != nil {
			return &Error{URL: s.shown, Detail: fmt.Sprintf("stats count %q: %v", m["n"], err)}
		}
		sr := series[inst]
		if sr == nil {
			sr, _ = assemble.NewSeries(f.Since, f.Until, step)
			series[inst] = sr
		}
		sr.AddN(t, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*apiv1.Stats{}
	for inst, sr := range series {
		out[inst] = sr.Stats()
	}
	return out, nil
}
