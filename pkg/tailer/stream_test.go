package tailer_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// readStream runs ReadStream to the end of r and returns what it sent.
func readStream(t *testing.T, r io.Reader, max int, obs tailer.Observer) []tailer.Line {
	t.Helper()
	out := make(chan []tailer.Line, 1000)
	if err := tailer.ReadStream(context.Background(), "-", r, max, obs, out); err != nil {
		t.Fatalf("ReadStream: %v", err)
	}
	close(out)
	var got []tailer.Line
	for ls := range out {
		got = append(got, ls...)
	}
	return got
}

func TestReadStream(t *testing.T) {
	long := strings.Repeat("y", 100<<10) // longer than the read buffer
	for _, tc := range []struct {
		name, in string
		max      int
		want     []string
		cut      []bool
	}{
		{"newline-terminated", "a\nbb\nccc\n", 0, []string{"a", "bb", "ccc"}, nil},
		{"last line without newline", "a\nbb\nccc", 0, []string{"a", "bb", "ccc"}, nil},
		{"empty input", "", 0, nil, nil},
		{"exactly the limit", "12345\nabc\n", 5, []string{"12345", "abc"}, nil},
		{"cut lines", "1234567\nabc\nxyzxyzxyz", 5, []string{"12345", "abc", "xyzxy"}, []bool{true, false, true}},
		{"line longer than the buffer, within the limit", long + "\nz\n", 200 << 10, []string{long, "z"}, nil},
		{"line longer than the buffer, cut", long + "\nz\n", 70 << 10, []string{long[:70<<10], "z"}, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &countingObserver{}
			// One byte at a time, so that no line arrives in one read.
			got := readStream(t, iotest.OneByteReader(strings.NewReader(tc.in)), tc.max, obs)
			if !equal(texts(got), tc.want) {
				t.Fatalf("lines %.40q, want %.40q", texts(got), tc.want)
			}
			cuts := 0
			for i, l := range got {
				wantCut := tc.cut != nil && tc.cut[i]
				if l.Cut != wantCut {
					t.Errorf("line %d: cut %v, want %v", i, l.Cut, wantCut)
				}
				if wantCut {
					cuts++
				}
				if l.Source != "-" || !l.Pos.IsZero() {
					t.Errorf("line %d: source %q, position %+v; want \"-\" and none (a stream cannot be re-read)", i, l.Source, l.Pos)
				}
			}
			if n := obs.cut.Load(); n != int64(cuts) {
				t.Errorf("cut lines counted: %d, want %d", n, cuts)
			}
		})
	}
}

func TestReadStreamError(t *testing.T) {
	out := make(chan []tailer.Line, 10)
	r := io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(io.ErrClosedPipe))
	err := tailer.ReadStream(context.Background(), "-", r, 0, nil, out)
	if err == nil || !strings.Contains(err.Error(), io.ErrClosedPipe.Error()) {
		t.Fatalf("ReadStream error %v, want one wrapping %v", err, io.ErrClosedPipe)
	}
	if len(out) != 1 {
		t.Fatalf("%d batches sent before the error, want 1", len(out))
	}
	if ls := <-out; len(ls) != 1 || ls[0].Text != "a" {
		t.Errorf("sent before the error: %+v, want the line \"a\"", ls)
	}
}

// A consumer that stops taking lines does not leave ReadStream blocked once
// ctx ends.
func TestReadStreamCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan []tailer.Line) // nobody receives
	done := make(chan error, 1)
	go func() { done <- tailer.ReadStream(ctx, "-", strings.NewReader("a\nb\n"), 0, nil, out) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("ReadStream returned %v, want context.Canceled", err)
	}
}
