package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/fleet"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/ship"
	"github.com/mailtrail/mailtrail/pkg/simulate"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

const (
	fleetAuditorToken = "auditor-token-0123456789"
	fleetViewerToken  = "viewer-token-0123456789"
	fleetTenantToken  = "tenant-token-0123456789"
)

// fleetAPI serves a journal of simulated mail of instance inst, shipped by
// the real shipper into the store at storeURL; store may be nil (no fleet
// store configured).
func fleetAPI(t *testing.T, inst string, seed uint64, storeURL string, store *fleet.Store) *API {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), inst+".db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: seed, Format: simulate.RFC3339}).WriteLines(&buf, 3000); err != nil {
		t.Fatal(err)
	}
	p := &parser.Parser{Instance: inst, Location: time.UTC}
	var recs []journal.Record
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		recs = append(recs, journal.Record{Event: p.Parse(l, time.Now()), Source: "sim"})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if storeURL != "" {
		sink, err := ship.NewVictoriaLogs(storeURL, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ship.Drain(ctx, j, sink, ship.Options{Instance: inst, BatchSize: 700}); err != nil {
			t.Fatalf("ship %s: %v", inst, err)
		}
	}
	now := simulate.DefaultStart.Add(48 * time.Hour)
	a, err := New(Config{Journal: j, Instance: inst, Version: "test", Now: func() time.Time { return now }, Fleet: store,
		Tokens: []Token{{Name: "admin", Secret: testToken, Role: RoleAdmin}, {Name: "auditor", Secret: fleetAuditorToken, Role: RoleAuditor},
			{Name: "viewer", Secret: fleetViewerToken, Role: RoleViewer}, {Name: "tenant", Secret: fleetTenantToken, Role: RoleAuditor, Tenants: []string{"example.org"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		j.Close()
	})
	return a
}

// ask runs one GET as token, within ctx, and decodes a 200's answer into
// out; it returns the status and the body.
func ask(t *testing.T, ctx context.Context, a *API, token, path, rawQuery string, out any) (int, string) {
	t.Helper()
	r := (&http.Request{Method: http.MethodGet, URL: &url.URL{Path: Prefix + path, RawQuery: rawQuery}, Header: http.Header{}, RemoteAddr: "192.0.2.1:1234"}).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code == http.StatusOK && out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s?%s: %v", path, rawQuery, err)
		}
	}
	return w.Code, w.Body.String()
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFleetSourceAnswersAsTheJournals ships two exporters' journals into a
// real VictoriaLogs and asks trace, events, logins and stats of one
// exporter with source=fleet and of each exporter's journal: the fleet
// answer is the journals' answers joined (traces: every instance's
// messages; events: the newest of both; logins: both tables; stats: the
// sums).
func TestFleetSourceAnswersAsTheJournals(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	store, err := fleet.New(vl.URL, nil, fleet.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	insts := []string{"mx1", "mx2"}
	apis := []*API{fleetAPI(t, "mx1", 11, vl.URL, store), fleetAPI(t, "mx2", 12, vl.URL, nil)}
	vltest.Flush(vl.URL)
	ctx := context.Background()
	rng := "since=2024-06-01T00:00:00Z&until=2024-06-02T12:00:00Z"

	// Stats, through apiv1.Client with Source set: the sum of the
	// journals' series.
	srv := httptest.NewServer(apis[0])
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "Bearer "+fleetAuditorToken)
		return http.DefaultTransport.RoundTrip(r)
	})}
	client := &apiv1.Client{HTTP: hc, Base: base, Source: apiv1.SourceFleet}
	for _, filter := range []string{"", "&kind=delivery", "&status=bounced", "&kind=auth_failure"} {
		v, _ := url.ParseQuery(rng + "&step=1h" + filter)
		got, err := client.Stats(ctx, v)
		if err != nil {
			t.Fatalf("fleet stats %s: %v", filter, err)
		}
		var want apiv1.Stats
		total := int64(0)
		for i, a := range apis {
			var st apiv1.Stats
			if code, body := ask(t, ctx, a, fleetAuditorToken, "stats", rng+"&step=1h"+filter, &st); code != 200 {
				t.Fatalf("%s stats: %d %s", insts[i], code, body)
			}
			if i == 0 {
				want = st
				continue
			}
			for k := range st.Points {
				want.Points[k].Count += st.Points[k].Count
			}
		}
		for _, p := range want.Points {
			total += p.Count
		}
		if total == 0 {
			t.Fatalf("stats %s: the journals count nothing; the question tests nothing", filter)
		}
		if canon(t, got) != canon(t, &want) {
			t.Errorf("stats %s: fleet %s\njournals %s", filter, canon(t, got), canon(t, &want))
		}
	}

	// Events: the newest of both journals' pages.
	for _, filter := range []string{"&limit=40", "&limit=25&kind=delivery,bounce_notice", "&limit=30&status=deferred", "&limit=10&q=Relay+access"} {
		var got apiv1.EventsPage
		if code, body := ask(t, ctx, apis[0], fleetAuditorToken, "events", rng+filter+"&source=fleet", &got); code != 200 {
			t.Fatalf("fleet events %s: %d %s", filter, code, body)
		}
		var all []apiv1.Event
		for i, a := range apis {
			var pg apiv1.EventsPage
			if code, body := ask(t, ctx, a, fleetAuditorToken, "events", rng+filter, &pg); code != 200 {
				t.Fatalf("%s events: %d %s", insts[i], code, body)
			}
			for _, e := range pg.Events {
				if e.Instance == "" {
					e.Instance = insts[i]
				}
				all = append(all, e)
			}
		}
		slices.SortStableFunc(all, func(x, y apiv1.Event) int {
			if c := y.Time.Compare(x.Time); c != 0 {
				return c
			}
			if c := strings.Compare(x.Instance, y.Instance); c != 0 {
				return c
			}
			return int(y.Seq - x.Seq)
		})
		lim, _ := url.ParseQuery(filter)
		if n := len(all); n > 0 && lim.Get("limit") != "" {
			var l int
			json.Unmarshal([]byte(lim.Get("limit")), &l)
			all = all[:min(l, n)]
		}
		if len(all) == 0 {
			t.Fatalf("events %s: the journals have none; the question tests nothing", filter)
		}
		if canon(t, got.Events) != canon(t, all) {
			t.Errorf("events %s: fleet\n%s\njournals\n%s", filter, canon(t, got.Events), canon(t, all))
		}
	}

	// Logins: both tables, most recently seen first.
	for _, filter := range []string{"&limit=1000", "&outcome=failure&limit=1000", "&limit=5"} {
		var got apiv1.Logins
		if code, body := ask(t, ctx, apis[0], fleetAuditorToken, "logins", rng+filter+"&source=fleet", &got); code != 200 {
			t.Fatalf("fleet logins %s: %d %s", filter, code, body)
		}
		var all []string
		for _, a := range apis {
			var l apiv1.Logins
			ask(t, ctx, a, fleetAuditorToken, "logins", rng+filter, &l)
			for _, r := range l.Logins {
				all = append(all, canon(t, r))
			}
		}
		var gotRows []string
		for _, r := range got.Logins {
			gotRows = append(gotRows, canon(t, r))
		}
		if filter != "&limit=5" {
			slices.Sort(all)
			slices.Sort(gotRows)
			if len(all) == 0 || strings.Join(all, "\n") != strings.Join(gotRows, "\n") {
				t.Errorf("logins %s: fleet\n%s\njournals\n%s", filter, strings.Join(gotRows, "\n"), strings.Join(all, "\n"))
			}
		} else if len(gotRows) != 5 {
			t.Errorf("logins limit=5: %d rows", len(gotRows))
		}
	}

	// Traces by queue id and by message id: every instance's messages.
	var evs apiv1.EventsPage
	var questions []string
	for _, a := range apis {
		ask(t, ctx, a, fleetAuditorToken, "events", rng+"&limit=400&kind=delivery", &evs)
		for i := 0; i < len(evs.Events) && i < 400; i += 80 {
			if e := evs.Events[i]; e.QueueID != "" {
				questions = append(questions, "queue_id="+e.QueueID)
			}
		}
	}
	ask(t, ctx, apis[1], fleetAuditorToken, "events", rng+"&limit=1000", &evs)
	mids := 0
	for i := 0; i < len(evs.Events) && mids < 4; i += 7 {
		if mid := evs.Events[i].MessageID; mid != "" {
			questions = append(questions, "message_id="+url.QueryEscape(mid)+"&"+rng)
			mids++
		}
	}
	if len(questions) < 8 {
		t.Fatalf("only %d trace questions", len(questions))
	}
	found := 0
	for _, qs := range questions {
		var got apiv1.TraceResult
		code, body := ask(t, ctx, apis[0], fleetAuditorToken, "trace", qs+"&source=fleet", &got)
		var want []apiv1.Message
		for i, a := range apis {
			var tr apiv1.TraceResult
			if c, b := ask(t, ctx, a, fleetAuditorToken, "trace", qs, &tr); c == 404 {
				continue
			} else if c != 200 {
				t.Fatalf("%s trace %s: %d %s", insts[i], qs, c, b)
			}
			for _, m := range tr.Messages {
				if m.Instance == "" {
					m.Instance = tr.Instance
				}
				want = append(want, m)
			}
		}
		if len(want) == 0 {
			if code != 404 {
				t.Errorf("trace %s: no journal has it, fleet answered %d %s", qs, code, body)
			}
			continue
		}
		if code != 200 {
			t.Fatalf("fleet trace %s: %d %s", qs, code, body)
		}
		found++
		if canon(t, got.Messages) != canon(t, want) {
			t.Errorf("trace %s: fleet\n%s\njournals\n%s", qs, canon(t, got.Messages), canon(t, want))
		}
	}

	if found < 6 {
		t.Errorf("only %d of %d traces found a message", found, len(questions))
	}

	// The access log keeps that the fleet was asked.
	apis[0].access.Flush()
	var page apiv1.AccessLogPage
	if code, body := ask(t, ctx, apis[0], testToken, "access-log", "since=2024-06-02T00:00:00Z&until=2024-06-04T00:00:00Z&limit=1000", &page); code != 200 {
		t.Fatalf("access-log: %d %s", code, body)
	}
	fleetCalls := 0
	for _, e := range page.Entries {
		if strings.Contains(e.Query, "source=fleet") && e.Token == "auditor" && e.Status == 200 {
			fleetCalls++
		}
	}
	if fleetCalls == 0 {
		t.Errorf("the access log holds no source=fleet call: %s", canon(t, page.Entries))
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFleetSourceRefusals: bad source values, no store, callers who may
// not ask, and a store that is down, refuses, fails or is slow each get
// their own clear 4xx/5xx (never a 500), naming the parameter or store.
func TestFleetSourceRefusals(t *testing.T) {
	ctx := context.Background()
	noStore := fleetAPI(t, "mx1", 1, "", nil)
	down := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "storage is broken", http.StatusInternalServerError)
	}))
	defer failing.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cannot parse query", http.StatusBadRequest)
	}))
	defer refusing.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	withStore := func(u string) *API {
		st, err := fleet.New(u, nil, fleet.Auth{})
		if err != nil {
			t.Fatal(err)
		}
		return fleetAPI(t, "mx1", 1, "", st)
	}
	downAPI, failAPI, refuseAPI, slowAPI := withStore(down), withStore(failing.URL), withStore(refusing.URL), withStore(slow.URL)
	questions := map[string]string{"trace": "queue_id=ABCDEF1234", "events": "limit=5", "logins": "", "stats": "step=1h"}
	for path, qs := range questions {
		sep := "&"
		if qs == "" {
			sep = ""
		}
		cases := []struct {
			name   string
			a      *API
			token  string
			query  string
			status int
			detail string
		}{
			{"bogus source", downAPI, fleetAuditorToken, qs + sep + "source=bogus", 400, `source: \"bogus\"`},
			{"no store", noStore, fleetAuditorToken, qs + sep + "source=fleet", 409, "no fleet store"},
			{"viewer", downAPI, fleetViewerToken, qs + sep + "source=fleet", 403, "auditor role"},
			{"tenant", downAPI, fleetTenantToken, qs + sep + "source=fleet", 403, "limited to tenants"},
			{"store down", downAPI, fleetAuditorToken, qs + sep + "source=fleet", 502, "fleet store " + down},
			{"store fails", failAPI, fleetAuditorToken, qs + sep + "source=fleet", 502, "answered 500"},
			{"store refuses", refuseAPI, fleetAuditorToken, qs + sep + "source=fleet", 502, "answered 400"},
			{"store slow", slowAPI, testToken, qs + sep + "source=fleet", 504, "no answer in time"},
			{"journal", noStore, fleetAuditorToken, qs + sep + "source=journal", 0, ""},
		}
		for _, c := range cases {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if c.name == "store slow" {
				cctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
			}
			code, body := ask(t, cctx, c.a, c.token, path, c.query, nil)
			cancel()
			if c.status == 0 {
				if code != 200 && code != 404 {
					t.Errorf("%s %s: %d %s", path, c.name, code, body)
				}
				continue
			}
			if code != c.status || !strings.Contains(body, c.detail) {
				t.Errorf("%s %s: got %d %s, want %d with %q", path, c.name, code, body, c.status, c.detail)
			}
		}
	}
	// The fleet has one page, newest first.
	for _, qs := range []string{"order=asc", "cursor=YzEuZC4z"} {
		if code, body := ask(t, ctx, downAPI, fleetAuditorToken, "events", qs+"&source=fleet", nil); code != 400 || !strings.Contains(body, "source") {
			t.Errorf("events %s&source=fleet: %d %s", qs, code, body)
		}
	}
	if code, body := ask(t, ctx, downAPI, fleetAuditorToken, "trace", "sender=a@example.org&source=fleet", nil); code != 400 || !strings.Contains(body, "source") {
		t.Errorf("trace by sender from the fleet: %d %s", code, body)
	}
}
