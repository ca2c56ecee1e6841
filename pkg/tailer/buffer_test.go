package tailer_test

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// Lines share the memory their read went into. Every line received must
// still read as written after all later reads: bulk reads (the file written
// ahead of the follower, several read buffers long), short appends (copied),
// lines split across reads, and lines longer than a read buffer. The
// positions must point just past each line.
func TestFollowFileLinesOutliveReads(t *testing.T) {
	path := t.TempDir() + "/mail.log"
	r := rand.New(rand.NewSource(1))
	var want []string
	line := func(i int) string {
		n := r.Intn(300)
		switch i % 997 {
		case 5:
			n = 300 << 10 // longer than one read buffer
		case 7:
			n = 0
		}
		return fmt.Sprintf("%07d %s", i, strings.Repeat(string(rune('a'+i%26)), n))
	}
	for i := 0; i < 20000; i++ {
		want = append(want, line(i))
	}
	appendLines(t, path, want) // ~10 MB: bulk reads
	out := make(chan []tailer.Line, 1<<16)
	follow(t, tailer.FileConfig{Path: path, MaxLineBytes: 1 << 20, PollInterval: 5 * time.Millisecond}, out)

	var got []tailer.Line
	deadline := time.Now().Add(20 * time.Second)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Then short appends, some ending mid-line, while the follower reads.
	var pending string
	for i := 20000; i < 23000; i++ {
		l := line(i)
		want = append(want, l)
		s := pending + l + "\n"
		cut := len(s)
		if i%3 == 0 {
			cut = r.Intn(len(s) + 1)
		}
		if _, err := f.WriteString(s[:cut]); err != nil {
			t.Fatal(err)
		}
		pending = s[cut:]
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	drain:
		for {
			select {
			case ls := <-out:
				got = append(got, ls...)
			default:
				break drain
			}
		}
	}
	if _, err := f.WriteString(pending); err != nil {
		t.Fatal(err)
	}
	for len(got) < len(want) && time.Now().Before(deadline) {
		select {
		case ls := <-out:
			got = append(got, ls...)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if len(got) != len(want) {
		t.Fatalf("received %d lines, want %d", len(got), len(want))
	}
	var off int64
	for i, l := range got {
		if l.Text != want[i] {
			t.Fatalf("line %d: got %.40q (%d bytes), want %.40q (%d bytes)", i, l.Text, len(l.Text), want[i], len(want[i]))
		}
		off += int64(len(want[i]) + 1)
		if l.Pos.Offset != off {
			t.Fatalf("line %d: position %d, want %d", i, l.Pos.Offset, off)
		}
	}
}
