package policy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// loadedConfig is a store under load: 100k offender keys of each scope
// in the log windows and 50k suspensions, every rule on.
func loadedStore(b *testing.B) suspend.Config {
	off := offenders.New(offenders.Config{Threshold: 10})
	now := time.Now()
	for i := 0; i < 100000; i++ {
		off.Observe(&event.Event{Kind: event.KindAuthFailure, Time: now, ClientIP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), SASLUsername: fmt.Sprintf("user%d@example.com", i)})
	}
	return suspend.Config{
		Offenders: off,
		Rules: []suspend.Rule{
			{Detection: suspend.BruteForceIP, Response: suspend.Reject}, {Detection: suspend.BruteForceUser, Response: suspend.Reject},
			{Detection: suspend.Compromised, Response: suspend.Hold}, {Detection: suspend.SendVolume, Response: suspend.DeferIfPermit},
		},
	}
}

func suspendMany(b *testing.B, st *suspend.Store) {
	for i := 0; i < 50000; i++ {
		if _, err := st.Suspend(apiv1.SuspendUser, fmt.Sprintf("sus%d@example.com", i), time.Hour, false, suspend.Reject, "bench", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// reportLatency reports the median and the 99th percentile of the
// answers' round trips.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkPostfixAnswer is one smtpd's connection: a whole RCPT request
// written, its answer read, over loopback TCP, half the requests for a
// suspended user (REJECT), half for a user with no record (DUNNO).
func BenchmarkPostfixAnswer(b *testing.B) {
	f := newFixture(b, loadedStore(b))
	suspendMany(b, f.store)
	c := f.dial(b)
	reqs := []string{readmeRequest("RCPT", "192.0.2.7", "sus123@example.com"), readmeRequest("RCPT", "192.0.2.8", "nobody@example.com")}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.c.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		got := c.ask(b, reqs[i%2])
		lat = append(lat, time.Since(start))
		if (i%2 == 0) != strings.HasPrefix(got, "REJECT") {
			b.Fatalf("answer %q", got)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkDovecotAnswer is Dovecot's command=allow over HTTP/1.1 with
// keep-alive, as its http-client sends it.
func BenchmarkDovecotAnswer(b *testing.B) {
	st, err := suspend.New(loadedStore(b))
	if err != nil {
		b.Fatal(err)
	}
	suspendMany(b, st)
	srv := httptest.NewServer(&policy.DovecotHandler{Decider: st})
	defer srv.Close()
	client := srv.Client()
	bodies := []string{dovecotBody("sus7@example.com", "192.0.2.7", ""), dovecotBody("nobody@example.com", "192.0.2.8", "")}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		resp, err := client.Post(srv.URL+"/?command=allow", "application/json", strings.NewReader(bodies[i%2]))
		if err != nil {
			b.Fatal(err)
		}
		// Read to the end, so the connection is kept for the next one.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if err != nil || resp.StatusCode != http.StatusOK || (i%2 == 0) != strings.Contains(string(body), `"status":-1`) {
			b.Fatalf("answer %d %q %v", resp.StatusCode, body, err)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}
