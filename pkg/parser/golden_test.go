package parser

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenSkip names corpus folders left out of the golden files: the complete
// rotation set is large and is covered line by line by TestCorpusCoverage.
const goldenSkip = "lightmeterio+ControlCenter/complete/"

// TestGolden parses every corpus log and compares the events with
// testdata/golden/<corpus path>.jsonl: one JSON object per input line with
// the line number and every field but raw (which is the input line).
// `go test ./pkg/parser -run TestGolden -update` rewrites them; review the
// diff before committing.
func TestGolden(t *testing.T) {
	p := &Parser{Instance: "golden"}
	n := 0
	for _, path := range corpusLogs(t) {
		rel, err := filepath.Rel("testdata/corpus", path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(filepath.ToSlash(rel), goldenSkip) {
			continue
		}
		n++
		var buf bytes.Buffer
		for i, line := range readLines(t, path) {
			e := p.Parse(line, testRef)
			e.Raw = ""
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			buf.WriteString(`{"line":` + strconv.Itoa(i+1) + `,`)
			buf.Write(b[1:])
			buf.WriteByte('\n')
		}
		golden := filepath.Join("testdata/golden", strings.TrimSuffix(rel, ".gz")+".jsonl")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from %s:\n%s", path, golden, firstDiff(want, buf.Bytes()))
		}
	}
	if n < 40 {
		t.Fatalf("only %d corpus files found", n)
	}
}

// firstDiff shows the first differing line of two golden texts.
func firstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want " + w + "\n  got  " + g
		}
	}
	return "(no line differs)"
}
