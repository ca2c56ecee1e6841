package metrics

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Each new shape of unparsed line is logged once at warning level, beside
// the unparsed count; lines of a known kind are not; after
// MaxUnparsedShapes shapes one more warning says it stops.
func TestUnparsedShapeLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	m := NewIngest(prometheus.NewRegistry(), time.Now, nil, logger)
	p := &parser.Parser{}
	ref := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, line := range []string{
		"Jun  1 00:00:01 mx postfix/smtpd[1]: frobnicated unknown[192.0.2.1] 3 times",
		"Jun  1 00:00:02 mx postfix/smtpd[2]: frobnicated mail.example.com[192.0.2.2] 7 times",
		"Jun  1 00:00:03 mx postfix/smtpd[3]: connect from a.example[192.0.2.3]",
		"Jun  1 00:00:04 mx postfix/smtpd[3]: something else entirely",
		"not a syslog line 42",
		"not a syslog line 43",
	} {
		e := p.Parse(line, ref)
		m.Parsed("/var/log/mail.log", &e)
	}
	want := `level=WARN msg="log line of a new unparsed shape" service=postfix shape="postfix/smtpd: frobnicated <host>[<ip>] <n> times"
level=WARN msg="log line of a new unparsed shape" service=postfix shape="postfix/smtpd: something else entirely"
level=WARN msg="log line of a new unparsed shape" service=none shape="not a syslog line <n>"
`
	if got := buf.String(); got != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}

	buf.Reset()
	word := func(i int) string { // distinct words without digits: distinct shapes
		var b strings.Builder
		for ; i > 0; i /= 26 {
			b.WriteByte(byte('a' + i%26))
		}
		return b.String()
	}
	for i := 1; i <= MaxUnparsedShapes+5; i++ {
		e := p.Parse("Jun  1 00:00:05 mx postfix/smtpd[4]: odd "+word(i), ref)
		m.Parsed("/var/log/mail.log", &e)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if n := len(lines); n != MaxUnparsedShapes-3+1 {
		t.Errorf("%d log lines, want %d new shapes and one notice", n, MaxUnparsedShapes-3)
	}
	if last := lines[len(lines)-1]; last != `level=WARN msg="unparsed shapes: no more new ones will be logged" logged=1000` {
		t.Errorf("last log line %q", last)
	}
}
