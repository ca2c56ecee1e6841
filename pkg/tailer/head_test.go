package tailer

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// headCache must give what fingerprint gives for the same file, whatever
// the file held when it was asked before: a first line, the same line
// again, another line of the same length, a file with no whole first line
// (none), one whose first line is longer than fingerprintBytes, an empty
// file.
func TestHeadCacheMatchesFingerprint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var h headCache
	long := strings.Repeat("x", fingerprintBytes+10) + "\n"
	contents := []string{"first line\nsecond\n", "first line\nother\n", "first line\n", "frist line\nsecond\n",
		"no newline yet", "", long, long[:fingerprintBytes] + "y\n", "first line\nsecond\n", "\n", "first line\n"}
	for i, c := range contents {
		if err := file.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := file.WriteAt([]byte(c), 0); err != nil {
			t.Fatal(err)
		}
		want, err := fingerprint(io.NewSectionReader(file, 0, fingerprintBytes))
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 2; round++ { // the second time from the cache
			got, err := h.of(file)
			if err != nil || got != want {
				t.Fatalf("content %d (%.20q), round %d: %q, %v; want %q", i, c, round, got, err, want)
			}
		}
		if want != "" && !bytes.HasPrefix([]byte(c), h.bytes) {
			t.Fatalf("content %d: kept %.20q", i, h.bytes)
		}
	}
}
