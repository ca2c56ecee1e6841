package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// insert posts rows as the shipper does, each twice (at-least-once), plus
// a row of another program, and makes them searchable.
func insert(t *testing.T, base string, rows []apiv1.FleetRow) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range rows {
		rows[i].StoreTime, rows[i].Msg = rows[i].Time, rows[i].Raw
		enc.Encode(&rows[i])
		enc.Encode(&rows[i])
	}
	b.WriteString(`{"_time":"` + t0.Format(time.RFC3339) + `","_msg":"not ours","instance":"mx1","service":"nginx"}` + "\n")
	q := url.Values{"_stream_fields": {strings.Join(apiv1.FleetStreamFields, ",")}, "_time_field": {"_time"}, "_msg_field": {"_msg"}}
	resp, err := http.Post(base+"/insert/jsonline?"+q.Encode(), "application/stream+json", &b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("insert: %s", resp.Status)
	}
	vltest.Flush(base)
}

func row(inst string, seq int64, at time.Duration, e event.Event) apiv1.FleetRow {
	e.Instance, e.Time, e.Host, e.Service = inst, t0.Add(at), "mail", "postfix"
	if e.Raw == "" {
		e.Raw = fmt.Sprintf("line %d of %s", seq, inst)
	}
	return apiv1.FleetRow{Seq: seq, Event: e}
}

// TestStoreAnswersFromRealVictoriaLogs checks the LogsQL against the real
// engine: rows shipped twice count once, exact and case-insensitive
// filters hold with quotes and regexp characters in the values, numbers
// and nested fields come back as sent, an odd step buckets as the
// journal's stats do, and rows of other programs are passed over.
func TestStoreAnswersFromRealVictoriaLogs(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	odd := `o"brien+(x)@Example.org`
	var rows []apiv1.FleetRow
	for i := int64(1); i <= 60; i++ {
		e := event.Event{Kind: event.KindDelivery, QueueID: fmt.Sprintf("Q%03d", i), Status: "sent", Recipient: fmt.Sprintf("u%d@example.org", i%3),
			Delay: 1.25, Delays: event.Delays{BeforeQmgr: 0.5, Transmission: 0.75}, Size: 1000 + i, PID: 42}
		if i%10 == 0 {
			e.Sender, e.Raw = odd, fmt.Sprintf(`to=<%s> says "(hello)" %d`, odd, i)
		}
		if i%7 == 0 {
			e.Kind, e.Status = event.KindAuthFailure, ""
		}
		rows = append(rows, row("mx1", i, time.Duration(i)*3*time.Second, e))
	}
	rows = append(rows, row("mx2", 1, 5*time.Second, event.Event{Kind: event.KindDelivery, Status: "sent", QueueID: "Q001"}))
	rows = append(rows, row("mx2", 2, 6*time.Second, event.Event{Kind: event.KindAccess}))
	insert(t, vl.URL, rows)
	s, err := New(vl.URL, nil, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	byInst, cut, err := s.Events(ctx, Filter{Since: t0, Until: t0.Add(time.Hour)}, 1000)
	if err != nil || cut {
		t.Fatal(err, cut)
	}
	if len(byInst["mx1"]) != 60 || len(byInst["mx2"]) != 1 || len(byInst) != 2 {
		t.Fatalf("events: mx1 %d (want 60, each once), mx2 %d (want 1, the access record hidden)", len(byInst["mx1"]), len(byInst["mx2"]))
	}
	got := byInst["mx1"][0]
	want := apiv1.Event{Seq: rows[59].Seq, Event: rows[59].Event}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("a row comes back changed:\n got %s\nwant %s", g, w)
	}
	if byInst["mx1"][0].Seq != 60 || byInst["mx1"][59].Seq != 1 {
		t.Errorf("events not newest first: %d..%d", byInst["mx1"][0].Seq, byInst["mx1"][59].Seq)
	}

	for _, f := range []Filter{
		{Sender: strings.ToUpper(odd)},
		{Text: `"(HELLO)"`},
		{Recipient: "U1@example.org", Kinds: []event.Kind{event.KindDelivery}},
		{QueueID: "Q001", Instance: "mx2"},
	} {
		byInst, _, err := s.Events(ctx, f, 1000)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		n, want := 0, 0
		for _, r := range rows {
			rr := Row{Instance: r.Instance, Event: apiv1.Event{Seq: r.Seq, Event: r.Event}}
			if f.match(&rr) {
				want++
			}
		}
		for _, evs := range byInst {
			n += len(evs)
		}
		if n != want || want == 0 {
			t.Errorf("%+v: %d events, want %d", f, n, want)
		}
	}

	step := 7 * time.Second
	since, until := t0.Add(2*time.Second), t0.Add(200*time.Second)
	stats, err := s.Stats(ctx, Filter{Since: since, Until: until, Kinds: []event.Kind{event.KindDelivery}}, step)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := assemble.NewSeries(since, until, step)
	for _, r := range rows {
		if r.Instance == "mx1" && r.Kind == event.KindDelivery && !r.Time.Before(since) && r.Time.Before(until) {
			local.Add(r.Time)
		}
	}
	if g, w := mustJSON(t, stats["mx1"]), mustJSON(t, local.Stats()); g != w {
		t.Errorf("stats by 7s:\n got %s\nwant %s", g, w)
	}
	if _, ok := stats["mx2"]; !ok {
		t.Error("mx2 has events in the range but no series")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
