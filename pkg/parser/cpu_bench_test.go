package parser_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// BenchmarkParseCPU is BenchmarkParse reporting the process's CPU time
// (user and system, all threads: the collector's too) per line beside the
// wall time, which on a shared machine varies with the other load more
// than CPU time does.
func BenchmarkParseCPU(b *testing.B) {
	lines := simulatedLines(b)
	p := &parser.Parser{Instance: "bench", Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime(b)
	for i := 0; i < b.N; i++ {
		p.ParseInto(&e, string(lines[i%len(lines)]), ref)
	}
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
