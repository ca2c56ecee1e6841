package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The counter, summed over its labels and read in Prometheus' text format
// (1e+06 included), is reported once it reaches its target, at a time
// between the poll before and the one that saw it; a counter that never
// does is a timeout.
func TestWaitsAndInterpolates(t *testing.T) {
	var polls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := polls.Add(1)
		// 250k a poll per source, two sources: 1e+06 at the second poll.
		v := 250000 * float64(n)
		fmt.Fprintf(w, "# HELP lines_total Lines.\n# TYPE lines_total counter\n")
		fmt.Fprintf(w, "lines_total{source=\"a\"} %s\nlines_total{source=\"b\"} %s\n", strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(v, 'g', -1, 64))
		fmt.Fprintf(w, "lines_total_other 5e+09\nevents_total 7\n")
	}))
	defer srv.Close()
	var out, errs bytes.Buffer
	before := time.Now()
	code := run([]string{"-url", srv.URL, "-every", "50ms", "-timeout", "5s", "lines_total=1000000", "events_total=7"}, &out, &errs)
	after := time.Now()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	got := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("line %q", l)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got[f[0]] = v
	}
	lines, ok := got["lines_total"]
	if !ok || got["events_total"] == 0 || len(got) != 2 {
		t.Fatalf("printed %q, want lines_total and events_total", out.String())
	}
	if at := time.Unix(0, int64(lines*1e9)); at.Before(before) || at.After(after) {
		t.Errorf("lines_total reached at %v, outside the run (%v to %v)", at, before, after)
	}
	if polls.Load() != 2 {
		t.Errorf("%d polls, want 2", polls.Load())
	}

	out.Reset()
	errs.Reset()
	if code := run([]string{"-url", srv.URL, "-every", "10ms", "-timeout", "100ms", "events_total=8"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "events_total did not reach 8") {
		t.Errorf("a counter that stays short: exit %d, %q; want 1 and the counter named", code, errs.String())
	}
	if code := run([]string{"-url", srv.URL, "lines_total"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `target "lines_total"`) {
		t.Errorf("a target without =N: exit %d, %q; want 2 and the target named", code, errs.String())
	}
}
