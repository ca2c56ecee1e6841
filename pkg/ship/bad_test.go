package ship

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailtrail/mailtrail/pkg/proctest"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// faultyStore stands in front of a real VictoriaLogs and, while mode says
// so, answers with an error or late instead of passing the request on.
type faultyStore struct {
	*httptest.Server
	mode     atomic.Value // "", "500", "401", "slow", "refuse-seq-7"
	requests atomic.Int64
}

func newFaultyStore(t *testing.T, backend string) *faultyStore {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &faultyStore{}
	f.mode.Store("")
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		switch f.mode.Load().(string) {
		case "500":
			http.Error(w, "storage is overloaded", http.StatusServiceUnavailable)
			return
		case "401":
			http.Error(w, "missing credentials", http.StatusUnauthorized)
			return
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		case "refuse-seq-7":
			b, _ := io.ReadAll(r.Body)
			if bytes.Contains(b, []byte(`"seq":7,`)) {
				http.Error(w, "cannot parse JSON line", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// waitFor polls cond until it holds; a condition never met fails the test
// after a minute (a generous bound, not a speed assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A store that cannot be reached, answers 5xx or 401, or answers too late
// is logged and counted, the shipper backs off and retries, ingest goes on
// meanwhile, and once the store is well again everything arrives once; a
// row the store refuses (400) is found, counted as rejected and passed
// over.
func TestBadStore(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	store := newFaultyStore(t, vl.URL)
	j := openJournal(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var logs proctest.Output
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	// A port nobody listens on: connect errors.
	deadURL := "http://" + proctest.FreeAddr(t)
	for _, bad := range []string{"ftp://example.org", "http://", "://x", "example.org:9428"} {
		if _, err := NewVictoriaLogs(bad, 0); err == nil || !strings.Contains(err.Error(), "victorialogs url") {
			t.Errorf("NewVictoriaLogs(%q): %v, want an error naming the setting", bad, err)
		}
	}
	dead, err := NewVictoriaLogs(deadURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewVictoriaLogs(store.URL, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Two shippers of one journal would share the cursor of their sink
	// name; the dead one is a separate journal.
	j2 := openJournal(t)
	commitEvents(t, j2, 1, 10)
	opts := Options{Instance: "mx1", BatchSize: 20, PollInterval: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Metrics: m, Logger: logger}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	run := func(s *Shipper) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	errs := func(reason string) float64 {
		return testutil.ToFloat64(m.errors.WithLabelValues(SinkVictoriaLogs, reason))
	}
	deadCtx, stopDead := context.WithCancel(ctx)
	deadDone := make(chan struct{})
	go func() {
		defer close(deadDone)
		if err := New(j2, opts, dead).Run(deadCtx); err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, "connect errors", func() bool { return errs(ReasonConnect) >= 2 })
	stopDead()
	<-deadDone
	if !strings.Contains(logs.String(), "shipping failed") || !strings.Contains(logs.String(), deadURL) {
		t.Fatalf("no clear log line for an unreachable store:\n%s", logs.String())
	}
	if c, _ := j2.ShipCursor(ctx, SinkVictoriaLogs); c != 0 {
		t.Fatalf("cursor moved to %d without a store", c)
	}

	lag := func() float64 { return testutil.ToFloat64(m.lagEvents.WithLabelValues(SinkVictoriaLogs)) }
	cursor := func() int64 { c, _ := j.ShipCursor(ctx, SinkVictoriaLogs); return c }
	for _, mode := range []struct{ mode, reason string }{{"500", Reason5xx}, {"401", Reason4xx}, {"slow", ReasonTimeout}} {
		store.mode.Store(mode.mode)
		before := errs(mode.reason)
		commitEvents(t, j, int(cursor())+1, 30)
		if mode.mode == "500" {
			run(New(j, opts, sink))
		}
		waitFor(t, mode.reason+" errors", func() bool { return errs(mode.reason) >= before+2 })
		// Ingest is not held up by the store: more events are journaled
		// while it fails, and wait as lag.
		head, _ := j.LastSeq(ctx)
		commitEvents(t, j, int(head)+1, 5)
		waitFor(t, "lag to show the waiting events", func() bool { return lag() >= float64(head+5-cursor()) && lag() > 0 })
		store.mode.Store("")
		waitFor(t, "catching up after "+mode.mode, func() bool { h, _ := j.LastSeq(ctx); return cursor() == h })
		if !strings.Contains(logs.String(), "shipping resumed") {
			t.Fatalf("no log line when shipping resumed:\n%s", logs.String())
		}
	}
	for _, want := range []string{"503 Service Unavailable: storage is overloaded", "401 Unauthorized: missing credentials", "reason=timeout", " reason=http_5xx"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// A row refused: the rest of the batch arrives, the row is counted.
	store.mode.Store("refuse-seq-7")
	j3 := openJournal(t)
	commitEvents(t, j3, 1, 20)
	st, err := Drain(ctx, j3, sink, Options{Instance: "mx3", BatchSize: 20, Metrics: m})
	if err != nil || st.Events != 19 || st.Rejected != 1 || st.Cursor != 20 {
		t.Fatalf("drain past a refused row: %+v %v, want 19 accepted, 1 rejected, cursor 20", st, err)
	}
	store.mode.Store("")
	cancel()
	wg.Wait()

	ctx = context.Background()
	head, _ := j.LastSeq(ctx)
	counts := seqCounts(t, vltest.Rows(t, vl.URL, "instance:=mx1"))
	if int64(len(counts)) != head {
		t.Fatalf("store holds %d distinct seqs of mx1, journal %d", len(counts), head)
	}
	for seq, n := range counts {
		if seq < 1 || seq > head || n > 2 {
			t.Errorf("seq %d stored %d times", seq, n)
		}
	}
	if c := seqCounts(t, vltest.Rows(t, vl.URL, "instance:=mx3")); len(c) != 19 || c[7] != 0 {
		t.Fatalf("mx3 in store: %v, want 19 seqs without 7", c)
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(SinkVictoriaLogs)); got != 1 {
		t.Fatalf("rejected events %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.lagSeconds.WithLabelValues(SinkVictoriaLogs)); got != 0 {
		t.Fatalf("lag seconds %v after catching up, want 0", got)
	}
}
