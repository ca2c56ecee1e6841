package parser

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/pkg/event"

	"gopkg.in/yaml.v3"
)

// FuzzParse feeds the parser arbitrary lines, seeded from every line of both
// corpus sets and every grok case: it must not panic, every event has a valid kind and
// keeps the line in raw, and (outside journald JSON, whose escapes must be
// decoded) every string field is a piece of the line, so nothing is invented.
func FuzzParse(f *testing.F) {
	for _, file := range allCorpusLogs(f) {
		for _, line := range corpusFileLines(f, file) {
			f.Add(line)
		}
	}
	cases, _ := filepath.Glob("testdata/corpus/whyscream+postfix-grok-patterns/test/*.yaml")
	for _, file := range cases {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c grokCase
		if yaml.Unmarshal(b, &c) == nil {
			f.Add("Jun  3 10:40:57 mx postfix/smtpd[1]: " + c.Data)
		}
	}
	f.Add(`{"__REALTIME_TIMESTAMP":"1700000000123456","SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":"connect from a[192.0.2.1]"}`)
	for _, line := range envelopeSeeds {
		f.Add(line)
	}
	p := &Parser{}
	f.Fuzz(func(t *testing.T, line string) {
		e := p.Parse(line, testRef)
		if e.Kind >= event.NumKinds {
			t.Fatalf("invalid kind %d", e.Kind)
		}
		if want := strings.TrimRight(line, "\r\n"); e.Raw != want {
			t.Fatalf("raw %q, want %q", e.Raw, want)
		}
		if !utf8.ValidString(line) || strings.IndexByte(line, 0) >= 0 {
			if e.Kind != event.KindUnknown {
				t.Fatalf("kind %v for invalid text %q", e.Kind, line)
			}
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if strings.HasPrefix(line, "{") {
			return
		}
		v := reflect.ValueOf(e)
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Field(i).Name
			if derivedFields[name] {
				continue
			}
			if name == "Service" && e.Service == "dovecot" && e.Host == "" {
				continue // Dovecot's own log file names no service: the parser knows it
			}
			if s, ok := v.Field(i).Interface().(string); ok && !strings.Contains(line, s) {
				t.Fatalf("field %s = %q is not part of the line %q", v.Type().Field(i).Name, s, line)
			}
		}
	})
}

// derivedFields hold values the parser normalises rather than cuts from the
// line: lower-cased stages and results, levels, and statuses Dovecot implies.
// Every value they can take is a constant in the parser, not input.
var derivedFields = map[string]bool{
	"RejectStage": true, "Check": true, "Result": true, "Level": true, "Status": true,
	"Action": true, "Protocol": true, "TLSLevel": true, "Verdict": true, "After": true,
}

// TestHostileInput pins the cases the fuzz target explores at random.
func TestHostileInput(t *testing.T) {
	head := "Jun  3 10:40:57 mx postfix/smtpd[1]: "
	for name, line := range map[string]string{
		"invalid utf-8": head + "connect from a\xc3\x28[192.0.2.1]",
		"nul byte":      head + "connect from a[192.0.2.1]\x00",
		"1 MiB line":    head + "connect from a[192.0.2.1] " + strings.Repeat("x", 1<<20),
	} {
		p := &Parser{}
		if e := p.Parse(line, testRef); e.Kind != event.KindUnknown || e.Raw != line {
			t.Errorf("%s: kind %v, want unknown with the line in raw", name, e.Kind)
		}
	}
	// The same line, short and valid, is understood: the rejections above are
	// about the hostile bytes, not the line.
	p := &Parser{}
	if e := p.Parse(head+"connect from a[192.0.2.1]", testRef); e.Kind != event.KindConnect {
		t.Errorf("plain connect line: kind %v, want connect", e.Kind)
	}
}
