package tailer_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/tailer"
)

func numbered(prefix string, from, to int) []string {
	var out []string
	for n := from; n < to; n++ {
		out = append(out, fmt.Sprintf("%s %06d", prefix, n))
	}
	return out
}

func appendLines(t *testing.T, path string, ls []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(ls, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

func follow(t *testing.T, cfg tailer.FileConfig, out chan []tailer.Line) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tailer.FollowFile(ctx, cfg, out) }()
	t.Cleanup(func() {
		cancel()
		// Unblock a pending send so FollowFile can see ctx end.
		for {
			select {
			case err := <-done:
				if err != context.Canceled {
					t.Errorf("FollowFile: %v", err)
				}
				return
			case <-out:
			}
		}
	})
}

// copytruncate while the reader lags far behind (its consumer is slow): the
// part of the file it had not read when the file was truncated is read
// from the copy, then the truncated file from its start.
func TestFollowFileCopytruncateWhileBehind(t *testing.T) {
	path := t.TempDir() + "/mail.log"
	old := numbered("old", 0, 20000) // far more than one read buffer
	appendLines(t, path, old)
	obs := &countingObserver{}
	out := make(chan []tailer.Line) // unbuffered: the reader waits on us
	follow(t, tailer.FileConfig{Path: path, PollInterval: 10 * time.Millisecond, RotateWait: 50 * time.Millisecond, Observer: obs}, out)
	first := <-out

	// copytruncate, as logrotate does it: copy, then truncate in place.
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	fresh := numbered("new", 0, 100)
	appendLines(t, path, fresh)

	got := append(texts(first), texts(receive(t, out, len(old)+len(fresh)-len(first), 200*time.Millisecond))...)
	if want := append(slices.Clone(old), fresh...); !equal(got, want) {
		t.Fatalf("got %d lines, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if n := obs.truncated.Load(); n != 1 {
		t.Errorf("truncations counted: %d, want 1", n)
	}
	if n := obs.lost.Load(); n != 0 {
		t.Errorf("losses reported: %d", n)
	}
}

// A file truncated in place with no copy anywhere (`: > mail.log`) is read
// again from its start; that is a truncation, not a rotation.
func TestFollowFileTruncatedInPlace(t *testing.T) {
	path := t.TempDir() + "/mail.log"
	appendLines(t, path, numbered("old", 0, 10))
	obs := &countingObserver{}
	out := make(chan []tailer.Line, 100)
	follow(t, tailer.FileConfig{Path: path, PollInterval: 10 * time.Millisecond, RotateWait: 50 * time.Millisecond, Observer: obs}, out)
	if got := texts(receive(t, out, 10, 50*time.Millisecond)); !equal(got, numbered("old", 0, 10)) {
		t.Fatalf("got %q", got)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	// Longer than before, so only the changed first line tells.
	appendLines(t, path, numbered("new", 0, 20))
	if got := texts(receive(t, out, 20, 200*time.Millisecond)); !equal(got, numbered("new", 0, 20)) {
		t.Fatalf("got %q", got)
	}
	if n := obs.truncated.Load(); n != 1 {
		t.Errorf("truncations counted: %d, want 1", n)
	}
	if n := obs.rotated.Load() + obs.lost.Load(); n != 0 {
		t.Errorf("rotations or losses counted: %d", n)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
