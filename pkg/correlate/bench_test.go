package correlate

import (
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// benchLog is a realistic interleaved simulated log: sessions, SASL
// submissions, deliveries, deferrals, bounces, rejects, postscreen,
// Dovecot and a second instance.
func benchLog(b *testing.B) ([]string, []event.Event) {
	benchOnce.Do(func() {
		benchLines, _ = simLines(b, simulate.Config{Seed: 42}, 200_000)
		p := &parser.Parser{Location: time.UTC}
		benchEvents = make([]event.Event, len(benchLines))
		for i, l := range benchLines {
			p.ParseInto(&benchEvents[i], l, simulate.DefaultStart)
		}
	})
	return benchLines, benchEvents
}

var (
	benchOnce   sync.Once
	benchLines  []string
	benchEvents []event.Event
)

// BenchmarkObserve measures correlation alone, one line per op, on events
// parsed beforehand (each op copies a pristine event, as ingest hands over
// a fresh one).
func BenchmarkObserve(b *testing.B) {
	_, evs := benchLog(b)
	c := New(Config{})
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		e = evs[i%len(evs)]
		c.Observe(&e)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkParseObserve is parsing and correlation together, one line per
// op, including the conversion of the read bytes to the line string.
func BenchmarkParseObserve(b *testing.B) {
	lines, _ := benchLog(b)
	raw := make([][]byte, len(lines))
	for i, l := range lines {
		raw[i] = []byte(l)
	}
	p := &parser.Parser{Location: time.UTC}
	c := New(Config{})
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		p.ParseInto(&e, string(raw[i%len(raw)]), simulate.DefaultStart)
		c.Observe(&e)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkParse is the parser alone on the same lines, for the
// difference.
func BenchmarkParse(b *testing.B) {
	lines, _ := benchLog(b)
	raw := make([][]byte, len(lines))
	for i, l := range lines {
		raw[i] = []byte(l)
	}
	p := &parser.Parser{Location: time.UTC}
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.ParseInto(&e, string(raw[i%len(raw)]), simulate.DefaultStart)
	}
}

// BenchmarkObserveBaseline is BenchmarkObserve's loop without Observe:
// copying the event (cache misses on 200k events) costs about as much as
// correlating it, and is subtracted for the correlator's own cost.
func BenchmarkObserveBaseline(b *testing.B) {
	_, evs := benchLog(b)
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e = evs[i%len(evs)]
		benchSink(&e)
	}
}

//go:noinline
func benchSink(e *event.Event) { _ = e.QueueID }
