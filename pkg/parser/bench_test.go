package parser_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/cputime"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

var (
	benchOnce  sync.Once
	benchLines [][]byte
)

// simulatedLines is a realistic interleaved mix from the project's
// simulator: sessions, SASL failures, TLS, deliveries, bounces, rejects,
// postscreen, Dovecot, milters, a second instance and some foreign lines.
func simulatedLines(b *testing.B) [][]byte {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		if err := simulate.New(simulate.Config{Seed: 42}).WriteLines(&buf, 200_000); err != nil {
			b.Fatal(err)
		}
		for _, l := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
			if len(l) > 0 {
				benchLines = append(benchLines, bytes.TrimSuffix(l, []byte("\n")))
			}
		}
	})
	return benchLines
}

// BenchmarkParse measures one line per op, including the conversion of the
// read bytes to the string every event field points into: that conversion
// is the one allocation a line costs. cpu-ns/op is the process's CPU time
// per line (the collector's too), which on a shared machine varies with
// the other load less than the wall time does.
func BenchmarkParse(b *testing.B) {
	lines := simulatedLines(b)
	p := &parser.Parser{Instance: "bench", Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Process()
	for i := 0; i < b.N; i++ {
		p.ParseInto(&e, string(lines[i%len(lines)]), ref)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkParseParallel shows what parsing on several goroutines costs.
// The parser's only shared state is the RFC 3164 stamp's year and minute
// kept from the line before (two atomic pointers): goroutines on different
// minutes replace each other's, which is correct and a little slower;
// ingest parses on one goroutine.
func BenchmarkParseParallel(b *testing.B) {
	lines := simulatedLines(b)
	p := &parser.Parser{Instance: "bench", Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var e event.Event
		i := 0
		for pb.Next() {
			p.ParseInto(&e, string(lines[i%len(lines)]), ref)
			i++
		}
	})
}

// TestParseAllocs pins the allocation budget: parsing a line allocates
// nothing beyond the string it is given (journald lines with escaped
// characters excepted, which the simulator does not write).
func TestParseAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a simulated log")
	}
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: 7}).WriteLines(&buf, 20_000); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		lines = append(lines, string(l))
	}
	p := &parser.Parser{Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	var e event.Event
	i := 0
	allocs := testing.AllocsPerRun(len(lines), func() {
		p.ParseInto(&e, lines[i%len(lines)], ref)
		i++
	})
	if allocs != 0 {
		t.Errorf("parsing allocates %.2f times per line, want 0", allocs)
	}
}
