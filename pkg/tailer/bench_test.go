package tailer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/cputime"
	"github.com/mailtrail/mailtrail/pkg/simulate"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

var (
	benchLogOnce sync.Once
	benchLog     []byte
	benchLines   int
)

// BenchmarkFollowFile measures the file follower alone: one op is one
// line of the simulated log, read from a file as serve reads it (the
// current file from the start, a fingerprint per read) and received on
// the channel. Beside wall ns/op it reports the process's CPU time per
// line (user and system, all threads).
func BenchmarkFollowFile(b *testing.B) {
	benchLogOnce.Do(func() {
		var buf bytes.Buffer
		if err := simulate.New(simulate.Config{Seed: 42}).WriteLines(&buf, 200_000); err != nil {
			b.Fatal(err)
		}
		benchLog, benchLines = buf.Bytes(), bytes.Count(buf.Bytes(), []byte("\n"))
	})
	path := filepath.Join(b.TempDir(), "mail.log")
	if err := os.WriteFile(path, benchLog, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchLog) / benchLines))
	b.ResetTimer()
	before := cputime.Process()
	done := 0
	for done < b.N {
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan []tailer.Line, 64)
		errc := make(chan error, 1)
		go func() {
			errc <- tailer.FollowFile(ctx, tailer.FileConfig{Path: path, PollInterval: time.Hour}, out)
		}()
		n := 0
		var last string
		for n < benchLines {
			ls := <-out
			n += len(ls)
			last = ls[len(ls)-1].Text
		}
		cancel()
		if err := <-errc; err != context.Canceled {
			b.Fatal(err)
		}
		if n != benchLines || len(last) == 0 {
			b.Fatalf("%d lines, want %d", n, benchLines)
		}
		done += n
	}
	// Whole passes: done may exceed b.N.
	b.ReportMetric(float64(cputime.Process()-before)/float64(done), "cpu-ns/op")
}
