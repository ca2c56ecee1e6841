package parser

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// TestForwardFormats reads each line in the shapes syslog forwarders send
// it and expects the event the line gives in the log file itself. The
// shapes are what rsyslog 8.2302's built-in templates and syslog-ng's
// defaults write; rsyslog keeps the space after the tag's colon in %msg%,
// so its RFC 5424 lines have two spaces before the text.
func TestForwardFormats(t *testing.T) {
	ref := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	p := &Parser{Location: time.UTC, Instance: "mx1"}
	lines := []struct {
		ident, pid, msg string
		kind            event.Kind
	}{
		{"postfix/master", "39081", "daemon started -- version 3.7.11, configuration /etc/postfix", event.KindNotice},
		{"postfix/submission/smtpd", "4242", "connect from unknown[127.0.0.5]", event.KindConnect},
		{"postfix/submission/smtpd", "4242", "warning: unknown[127.0.0.5]: SASL LOGIN authentication failed: authentication failure", event.KindAuthFailure},
		{"postfix/qmgr", "812", "4B7C31A2F3: from=<alice@example.test>, size=1234, nrcpt=1 (queue active)", event.KindQueued},
		{"dovecot", "", "imap-login: Login: user=<bob@example.test>, method=PLAIN, rip=127.0.0.7, lip=127.0.0.1, mpid=911, secured, session=<abcdEFGH1234>", event.KindLogin},
	}
	for _, l := range lines {
		tag, procid := l.ident+": ", "-"
		if l.pid != "" {
			tag, procid = l.ident+"["+l.pid+"]: ", l.pid
		}
		plain := "Dec  2 04:00:00 mx1 " + tag + l.msg
		want := p.Parse(plain, ref)
		if want.Kind != l.kind {
			t.Fatalf("%s: kind %q, want %q (the test's premise)", plain, want.Kind, l.kind)
		}
		shapes := map[string]string{
			// <%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%
			"rsyslog SyslogProtocol23Format":               "<22>1 2026-12-02T04:00:00+00:00 mx1 " + l.ident + " " + procid + " - -  " + l.msg,
			"rsyslog SyslogProtocol23Format, microseconds": "<22>1 2026-12-02T04:00:00.000000+00:00 mx1 " + l.ident + " " + procid + " - -  " + l.msg,
			"RFC 5424 with one space":                      "<22>1 2026-12-02T04:00:00Z mx1 " + l.ident + " " + procid + " - - " + l.msg,
			"RFC 5424 with a BOM":                          "<22>1 2026-12-02T04:00:00Z mx1 " + l.ident + " " + procid + " - - \ufeff" + l.msg,
			"RFC 5424 with a space and a BOM":              "<22>1 2026-12-02T04:00:00Z mx1 " + l.ident + " " + procid + " - -  \ufeff" + l.msg,
			"RFC 5424 with a BOM and a space":              "<22>1 2026-12-02T04:00:00Z mx1 " + l.ident + " " + procid + " - - \ufeff " + l.msg,
			// syslog-ng's syslog() driver: structured data it adds itself.
			"syslog-ng syslog()": "<22>1 2026-12-02T04:00:00+00:00 mx1 " + l.ident + " " + procid + ` - [meta sequenceId="7"] ` + l.msg,
			// <%PRI%>%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%
			"rsyslog ForwardFormat": "<22>2026-12-02T04:00:00.000000+00:00 mx1 " + tag + l.msg,
			// <%PRI%>%TIMESTAMP% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%,
			// and syslog-ng's network() default.
			"rsyslog TraditionalForwardFormat": "<22>Dec  2 04:00:00 mx1 " + tag + l.msg,
			"RFC 3164 with two spaces":         "<22>Dec  2 04:00:00 mx1 " + tag + " " + l.msg,
		}
		for name, line := range shapes {
			got := p.Parse(line, ref)
			if got.Raw != line {
				t.Errorf("%s: raw %q, want the line", name, got.Raw)
			}
			got.Raw, want.Raw = "", ""
			if got != want {
				t.Errorf("%s: %q\n got %+v\nwant %+v", name, line, got, want)
			}
		}
	}
}

// TestForwardedMessageKeepsInnerSpaces checks that only the spaces before
// the text go: the text itself is kept as written.
func TestForwardedMessageKeepsInnerSpaces(t *testing.T) {
	p := &Parser{Location: time.UTC}
	line := "<22>1 2026-12-02T04:00:00Z mx1 postfix/smtpd 1 - -  warning:  two  spaces"
	e := p.Parse(line, time.Time{})
	if e.Kind != event.KindWarning || !strings.Contains(e.Detail, "two  spaces") {
		t.Errorf("kind %q detail %q", e.Kind, e.Detail)
	}
}
