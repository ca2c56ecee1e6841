package parser

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// testRef is the reading time the tests use for RFC 3164 years.
var testRef = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// F lists the fields a line must yield. envelopeFields are not compared
// unless listed; every other field of the event must be listed, so a test
// also fails when the parser sets a field it should not.
type F map[string]any

var envelopeFields = map[string]bool{"time": true, "host": true, "service": true, "program": true, "pid": true, "instance": true, "raw": true}

// checkLine parses line and compares the event's JSON fields with want.
func checkLine(t *testing.T, line string, want F) {
	t.Helper()
	p := &Parser{Location: time.UTC}
	ev := p.Parse(line, testRef)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal %q: %v", line, err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var problems []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: missing, want %v", k, w))
			continue
		}
		if fmt.Sprint(normalize(w)) != fmt.Sprint(g) {
			problems = append(problems, fmt.Sprintf("%s: got %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, listed := want[k]; !listed && !envelopeFields[k] {
			problems = append(problems, fmt.Sprintf("%s: unexpected %v", k, g))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Errorf("%s\n  %s\n  event: %s", line, strings.Join(problems, "\n  "), b)
	}
}

// normalize turns Go literals in a test table into what encoding/json
// produces when it decodes into any (ints become float64).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}
