package tailer_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/tailer"
)

type countingObserver struct {
	rotated, truncated, cut, lost atomic.Int64
}

func (o *countingObserver) Rotated(string)      { o.rotated.Add(1) }
func (o *countingObserver) Truncated(string)    { o.truncated.Add(1) }
func (o *countingObserver) LineCut(string)      { o.cut.Add(1) }
func (o *countingObserver) Lost(string, string) { o.lost.Add(1) }

// receive takes n lines from out, failing if they do not come within 10s,
// then makes sure no further line follows within quiet.
func receive(t *testing.T, out <-chan []tailer.Line, n int, quiet time.Duration) []tailer.Line {
	t.Helper()
	got := make([]tailer.Line, 0, n)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for len(got) < n {
		select {
		case ls := <-out:
			got = append(got, ls...)
		case <-deadline.C:
			t.Fatalf("received %d lines in 10s, want %d", len(got), n)
		}
	}
	if len(got) > n {
		t.Fatalf("line beyond the %d expected: %q", n, got[n].Text)
	}
	select {
	case ls := <-out:
		t.Fatalf("line beyond the %d expected: %q", n, ls[0].Text)
	case <-time.After(quiet):
	}
	return got
}

// texts returns the lines' texts.
func texts(ls []tailer.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Text
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
