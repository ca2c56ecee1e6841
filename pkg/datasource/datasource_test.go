package datasource

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/datasource/estatetest"
)

// estate is three stand-in exporters serving the travelling message.
type estate struct {
	t0      time.Time
	exps    map[string]*estatetest.Exporter
	servers map[string]*httptest.Server
}

func newEstate(t testing.TB, t0 time.Time) *estate {
	e := &estate{t0: t0, exps: map[string]*estatetest.Exporter{}, servers: map[string]*httptest.Server{}}
	for name, log := range estatetest.Logs(t0) {
		x := estatetest.NewExporter(name, log)
		x.Token = "s3cret"
		e.exps[name] = x
		e.servers[name] = x.Start(t)
	}
	e.exps["mx1"].Offenders = []apiv1.Offender{{Scope: apiv1.ScopeIP, Key: "198.51.100.7", Count: 12, Peak: 15,
		FirstSeen: t0, LastSeen: t0.Add(2 * time.Second), Active: true}}
	return e
}

// datasource configures a datasource on the estate; extra is merged into
// jsonData.
func (e *estate) datasource(t testing.TB, extra string) *Datasource {
	t.Helper()
	var exs []string
	for _, name := range []string{"mx1", "mx2", "mx3"} {
		exs = append(exs, fmt.Sprintf(`{"name":%q,"url":%q}`, name, e.servers[name].URL))
	}
	js := `{"exporters":[` + strings.Join(exs, ",") + `]` + extra + `}`
	s, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(js),
		DecryptedSecureJSONData: map[string]string{"token": "s3cret"}})
	if err != nil {
		t.Fatalf("settings %s: %v", js, err)
	}
	d, err := New(s, "mailtrail-test-uid", "mailtrail")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Dispose)
	return d
}

func (e *estate) timeRange() backend.TimeRange {
	return backend.TimeRange{From: e.t0.Add(-time.Hour), To: e.t0.Add(time.Hour)}
}

func runQuery(t testing.TB, d *Datasource, tr backend.TimeRange, q string) backend.DataResponse {
	t.Helper()
	var m map[string]any
	json.Unmarshal([]byte(q), &m) // a broken query is sent as it is
	qt, _ := m["queryType"].(string)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: qt, JSON: []byte(q), TimeRange: tr, Interval: time.Minute, MaxDataPoints: 1000,
	}}})
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	return resp.Responses["A"]
}

// spanRows reads a trace frame's rows by span id.
type spanRow struct{ parent, op, service string }

func spanRows(t testing.TB, f *data.Frame) map[string]spanRow {
	t.Helper()
	rows := map[string]spanRow{}
	col := func(name string) *data.Field {
		fl, i := f.FieldByName(name)
		if i < 0 {
			t.Fatalf("trace frame has no field %s", name)
		}
		return fl
	}
	sid, pid, op, svc := col("spanID"), col("parentSpanID"), col("operationName"), col("serviceName")
	for i := 0; i < f.Rows(); i++ {
		rows[sid.At(i).(string)] = spanRow{pid.At(i).(string), op.At(i).(string), svc.At(i).(string)}
	}
	return rows
}

// chainOf walks from span id up to the root, naming each message span.
func chainOf(rows map[string]spanRow, id string) []string {
	var chain []string
	for i := 0; id != "" && i < 100; i++ {
		r := rows[id]
		if strings.HasPrefix(r.op, "message ") {
			chain = append(chain, r.service+":"+strings.TrimPrefix(r.op, "message "))
		}
		id = r.parent
	}
	return chain
}

func TestTraceFollowsTheMessageAcrossInstances(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	for _, q := range []string{
		`{"queryType":"trace","queueId":"` + estatetest.QueueMX1 + `","instance":"mx1"}`,
		`{"queryType":"trace","queueId":"` + estatetest.QueueMX2 + `"}`,
		`{"queryType":"trace","messageId":"` + estatetest.MessageID + `","instance":"mx3"}`,
	} {
		t.Run(q, func(t *testing.T) {
			r := runQuery(t, d, e.timeRange(), q)
			if r.Error != nil || len(r.Frames) != 1 {
				t.Fatalf("error %v, %d frames", r.Error, len(r.Frames))
			}
			f := r.Frames[0]
			if f.Meta == nil || f.Meta.PreferredVisualization != data.VisTypeTrace {
				t.Fatalf("meta = %+v, want trace visualisation", f.Meta)
			}
			rows := spanRows(t, f)
			mx3 := "mx3/" + estatetest.QueueMX3
			got := chainOf(rows, mx3)
			want := []string{"mx3:" + estatetest.QueueMX3, "mx2:" + estatetest.QueueMX2, "mx1:" + estatetest.QueueMX1}
			if !slices.Equal(got, want) {
				t.Fatalf("parent chain from mx3 = %v, want %v (rows %v)", got, want, rows)
			}
			// Each hop hangs under the delivery that handed it over.
			if p := rows[mx3].parent; !strings.HasPrefix(rows[p].op, "delivery bob@example.com") || rows[p].service != "mx2" {
				t.Errorf("mx3's message hangs under %q of %s, want mx2's delivery", rows[p].op, rows[p].service)
			}
			if rows["mx1/"+estatetest.QueueMX1].parent != "" {
				t.Errorf("mx1's message is not the root")
			}
			ops := map[string]int{}
			for _, r := range rows {
				ops[strings.Fields(r.op)[0]]++
			}
			if ops["message"] != 3 || ops["receive"] != 3 || ops["queue"] != 3 || ops["delivery"] != 3 {
				t.Errorf("span kinds = %v, want 3 of each", ops)
			}
			if f.Meta.Notices != nil {
				t.Errorf("notices on a complete trace: %+v", f.Meta.Notices)
			}
		})
	}
}

func TestTraceWithAnExporterDown(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	e.servers["mx3"].Close()
	r := runQuery(t, d, e.timeRange(), `{"queryType":"trace","queueId":"`+estatetest.QueueMX1+`"}`)
	if r.Error != nil {
		t.Fatalf("a dead exporter failed the query: %v", r.Error)
	}
	rows := spanRows(t, r.Frames[0])
	if got := chainOf(rows, "mx2/"+estatetest.QueueMX2); len(got) != 2 {
		t.Errorf("chain from mx2 = %v, want mx2 under mx1", got)
	}
	if _, ok := rows["mx3/"+estatetest.QueueMX3]; ok {
		t.Errorf("spans of the dead exporter")
	}
	assertNotice(t, r.Frames[0], "mx3")
}

func assertNotice(t *testing.T, f *data.Frame, name string) {
	t.Helper()
	if f.Meta == nil {
		t.Fatalf("no notices, want one naming %s", name)
	}
	for _, n := range f.Meta.Notices {
		if n.Severity == data.NoticeSeverityWarning && strings.Contains(n.Text, name) {
			return
		}
	}
	t.Fatalf("notices %+v name no %s", f.Meta.Notices, name)
}

func TestSlowExporterCostsOnlyItsTimeout(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, `,"timeout":"200ms"`)
	e.exps["mx2"].SetDelay(5 * time.Second)
	r := runQuery(t, d, e.timeRange(), `{"queryType":"events","limit":1000}`)
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	assertNotice(t, r.Frames[0], "mx2 (no answer within 200ms)")
	insts, _ := r.Frames[0].FieldByName("instance")
	seen := map[string]bool{}
	for i := 0; i < insts.Len(); i++ {
		seen[insts.At(i).(string)] = true
	}
	if !seen["mx1"] || !seen["mx3"] || seen["mx2"] {
		t.Errorf("instances in the answer: %v", seen)
	}
}

func TestEventsMergedNewestFirst(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	r := runQuery(t, d, e.timeRange(), `{"queryType":"events","limit":5}`)
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	f := r.Frames[0]
	if f.Rows() != 5 {
		t.Fatalf("%d rows, want the limit 5", f.Rows())
	}
	ts, _ := f.FieldByName("timestamp")
	for i := 1; i < ts.Len(); i++ {
		if ts.At(i).(time.Time).After(ts.At(i - 1).(time.Time)) {
			t.Fatalf("row %d is newer than row %d", i, i-1)
		}
	}
	// The newest five of the whole estate: mx3's login (3.0 s), mx3's
	// removal (2.51 s), mx3's delivery (2.5 s), mx1's disconnect (2.1 s)
	// and mx1's auth failure (2.0 s).
	ids, _ := f.FieldByName("id")
	sev, _ := f.FieldByName("severity")
	var got []string
	for i := 0; i < ids.Len(); i++ {
		got = append(got, ids.At(i).(string)+"="+sev.At(i).(string))
	}
	want := []string{"mx3:7=info", "mx3:6=info", "mx3:5=info", "mx1:8=info", "mx1:7=error"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	qid, _ := f.FieldByName("queue_id")
	if qid.Config == nil || len(qid.Config.Links) != 1 || qid.Config.Links[0].Internal == nil ||
		qid.Config.Links[0].Internal.DatasourceUID != "mailtrail-test-uid" {
		t.Errorf("queue_id has no data link to the trace: %+v", qid.Config)
	}
}

func TestBadQueriesAreClearErrors(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	for q, want := range map[string]string{
		`{"queryType":"trace"}`:                   "queueId or a messageId",
		`{"queryType":"events","limit":5000}`:     "limit 5000",
		`{"queryType":"events","kind":"nope"}`:    "unknown event kind",
		`{"queryType":"logins","outcome":"meh"}`:  "outcome",
		`{"queryType":"what"}`:                    "queryType",
		`{"queryType":"events","instance":"mx9"}`: `unknown instance "mx9"`,
		`{"queryType":"events"`:                   "not valid JSON",
	} {
		r := runQuery(t, d, e.timeRange(), q)
		if r.Error == nil || !strings.Contains(r.Error.Error(), want) || r.Status != backend.StatusBadRequest {
			t.Errorf("%s: error %v (status %d), want one containing %q", q, r.Error, r.Status, want)
		}
	}
}

func TestHealthNamesUnreachableExporters(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil || res.Status != backend.HealthStatusOk || res.Message != "3/3 exporters reachable" {
		t.Fatalf("health = %+v, %v", res, err)
	}
	// One exporter down: queries answer from the others, so the datasource
	// works; the message names the one that does not answer.
	e.servers["mx2"].Close()
	res, _ = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusOk || !strings.HasPrefix(res.Message, "2/3 exporters reachable; not reachable: mx2 (") {
		t.Fatalf("health = %+v", res)
	}
	// None answers: the datasource cannot answer anything.
	e.servers["mx1"].Close()
	e.servers["mx3"].Close()
	res, _ = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.HasPrefix(res.Message, "0/3 exporters reachable; not reachable: mx1 (") ||
		!strings.Contains(res.Message, "mx2 (") || !strings.Contains(res.Message, "mx3 (") {
		t.Fatalf("health with every exporter down = %+v", res)
	}
}

func TestWrongTokenIsNamed(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	e.exps["mx1"].Token = "other"
	d := e.datasource(t, "")
	res, _ := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if !strings.Contains(res.Message, "mx1 (unauthorized: check the token)") {
		t.Fatalf("health = %+v", res)
	}
}

func TestResources(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	d := e.datasource(t, "")
	for path, want := range map[string]string{
		"instances": `["mx1","mx2","mx3"]`,
		"users":     `["alice@example.org","bob@example.com"]`,
		"domains":   `["example.com","example.org"]`,
	} {
		var got *backend.CallResourceResponse
		err := d.CallResource(context.Background(), &backend.CallResourceRequest{Path: path, Method: "GET", URL: path},
			backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
		if err != nil || got.Status != 200 || string(got.Body) != want {
			t.Errorf("%s: %v %d %s, want %s", path, err, got.Status, got.Body, want)
		}
	}
	var got *backend.CallResourceResponse
	d.CallResource(context.Background(), &backend.CallResourceRequest{Path: "secrets", Method: "GET", URL: "secrets"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	if got.Status != http.StatusNotFound {
		t.Errorf("unknown resource: %d", got.Status)
	}
}

func TestStatsSeriesPerInstance(t *testing.T) {
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Minute))
	d := e.datasource(t, "")
	tr := backend.TimeRange{From: e.t0.Add(-10 * time.Minute), To: e.t0.Add(10 * time.Minute)}
	r := runQuery(t, d, tr, `{"queryType":"stats","kind":"delivery"}`)
	if r.Error != nil || len(r.Frames) != 3 {
		t.Fatalf("error %v, %d frames", r.Error, len(r.Frames))
	}
	for i, f := range r.Frames {
		v, _ := f.FieldByName("value")
		if v.Labels["instance"] != []string{"mx1", "mx2", "mx3"}[i] {
			t.Errorf("frame %d labels %v", i, v.Labels)
		}
		sum := 0.0
		for j := 0; j < v.Len(); j++ {
			sum += v.At(j).(float64)
		}
		if sum != 1 {
			t.Errorf("%v: %v deliveries, want 1", v.Labels, sum)
		}
	}
}

var updateFixtures = flag.Bool("update", false, "rewrite the frontend's frame fixtures (src/__fixtures__/frames) instead of comparing them")

// TestFrameFixtures checks that every frame kind, as the SDK serialises
// it, is what the frontend's contract fixtures (src/__fixtures__/frames)
// hold, and the fields the frontend reads; -update rewrites the fixtures
// (review the diff, then run the frontend's tests).
func TestFrameFixtures(t *testing.T) {
	t0 := time.Date(2026, 6, 3, 10, 40, 0, 0, time.UTC)
	e := newEstate(t, t0)
	d := e.datasource(t, "")
	dir := filepath.Join("..", "..", "src", "__fixtures__", "frames")
	if *updateFixtures {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		"trace":     {"traceID", "spanID", "parentSpanID", "operationName", "serviceName", "serviceTags", "startTime", "duration", "tags", "logs"},
		"events":    {"timestamp", "body", "severity", "id", "attributes", "queue_id"},
		"logins":    {"instance", "user", "client_ip", "service", "outcome", "count", "first_seen", "last_seen", "tls", "country"},
		"offenders": {"instance", "scope", "key", "count", "peak", "first_seen", "last_seen", "after_failures", "active"},
		"instances": {"name", "instance", "url", "reachable", "version", "hosts"},
		"stats":     {"time", "value"},
	}
	for kind, fields := range want {
		q := fmt.Sprintf(`{"queryType":%q,"queueId":%q}`, kind, estatetest.QueueMX1)
		r := runQuery(t, d, e.timeRange(), q)
		if r.Error != nil || len(r.Frames) == 0 {
			t.Fatalf("%s: %v", kind, r.Error)
		}
		f := r.Frames[0]
		if f.Rows() == 0 {
			t.Errorf("%s: empty frame", kind)
		}
		for _, name := range fields {
			if _, i := f.FieldByName(name); i < 0 {
				t.Errorf("%s frame has no field %s", kind, name)
			}
		}
		if kind == "instances" {
			// Ports of the test servers change every run.
			u, _ := f.FieldByName("url")
			for i := 0; i < u.Len(); i++ {
				u.Set(i, "http://"+f.Fields[0].At(i).(string)+".example.org:9744")
			}
		}
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		b = append(b, '\n')
		path := filepath.Join(dir, kind+".json")
		if *updateFixtures {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (go test ./pkg/datasource -run '^TestFrameFixtures$' -update writes it)", kind, err)
			continue
		}
		if !bytes.Equal(old, b) {
			t.Errorf("%s: the %s frame differs from %s: after an intended change, go test ./pkg/datasource -run '^TestFrameFixtures$' -update rewrites it (review the diff, then npm run test:ci)\n%s",
				kind, kind, path, firstDiff(string(old), string(b)))
		}
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  fixture: %s\n  now:     %s", i+1, x, y)
		}
	}
	return ""
}
