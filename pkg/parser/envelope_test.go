package parser

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func TestEnvelope(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ref := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, line     string
		time           string
		host, service  string
		program        string
		pid            int
		kindIsNotKnown bool
	}{
		{name: "rfc3164 space-padded day, zone applied",
			line: "Mar  3 09:00:01 mx1 postfix/smtpd[123]: x", time: "2024-03-03T08:00:01Z",
			host: "mx1", service: "postfix", program: "smtpd", pid: 123},
		{name: "december line read in january is last year",
			line: "Dec 31 23:59:59 mx1 postfix/qmgr[1]: x", time: "2024-12-31T22:59:59Z",
			host: "mx1", service: "postfix", program: "qmgr", pid: 1},
		{name: "zero-padded day and nested syslog_name",
			line: "Jan 02 10:40:57 mail postfix/submission/smtpd[9708]: x", time: "2025-01-02T09:40:57Z",
			host: "mail", service: "postfix/submission", program: "smtpd", pid: 9708},
		{name: "second instance",
			line: "Jan  2 10:40:57 mail postfix-out/smtp[1]: x", time: "2025-01-02T09:40:57Z",
			host: "mail", service: "postfix-out", program: "smtp", pid: 1},
		{name: "rfc3339 with offset and fraction (proxmox corpus)",
			line: "2023-06-23T14:26:29.324152+02:00 pmg1 postfix/postscreen[1180]: x", time: "2023-06-23T12:26:29.324152Z",
			host: "pmg1", service: "postfix", program: "postscreen", pid: 1180},
		{name: "rfc3339 Z",
			line: "2023-06-23T14:26:29.1Z pmg1 postfix/smtp[1]: x", time: "2023-06-23T14:26:29.1Z",
			host: "pmg1", service: "postfix", program: "smtp", pid: 1},
		{name: "rfc3339 negative offset",
			line: "2023-06-23T14:26:29-02:00 pmg1 postfix/smtp[1]: x", time: "2023-06-23T16:26:29Z",
			host: "pmg1", service: "postfix", program: "smtp", pid: 1},
		{name: "rfc5424",
			line: `<22>1 2024-05-06T07:08:09.5+00:00 mx postfix/smtpd 4242 - [meta x="]"] x`, time: "2024-05-06T07:08:09.5Z",
			host: "mx", service: "postfix", program: "smtpd", pid: 4242},
		{name: "rfc3164 with PRI",
			line: "<22>Jan  2 10:40:57 mx dovecot: imap-login: x", time: "2025-01-02T09:40:57Z",
			host: "mx", service: "dovecot", program: "imap-login"},
		{name: "rfc3164 with an unpadded day",
			line: "Jan 2 10:40:57 mx postfix/smtpd[1]: x", time: "2025-01-02T09:40:57Z",
			host: "mx", service: "postfix", program: "smtpd", pid: 1},
		{name: "journald json",
			line: `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"77","PRIORITY":"6","MESSAGE":"x"}`,
			time: "2023-11-14T22:13:20.123456Z", host: "mx", service: "postfix", program: "smtpd", pid: 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Parser{Location: berlin, Instance: "i1"}
			e := p.Parse(tt.line, ref)
			if got := e.Time.Format(time.RFC3339Nano); got != tt.time {
				t.Errorf("time = %s, want %s", got, tt.time)
			}
			if e.Host != tt.host || e.Service != tt.service || e.Program != tt.program || e.PID != tt.pid || e.Instance != "i1" {
				t.Errorf("got host=%q service=%q program=%q pid=%d instance=%q", e.Host, e.Service, e.Program, e.PID, e.Instance)
			}
			if e.Raw != tt.line {
				t.Errorf("raw = %q", e.Raw)
			}
		})
	}
}

func TestEnvelopeRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"garbage",
		"Foo  3 09:00:01 mx1 postfix/smtpd[1]: connect from a[1.2.3.4]",
		"Mar 33 09:00:01 mx1 postfix/smtpd[1]: connect from a[1.2.3.4]",
		"Mar  3 29:00:01 mx1 postfix/smtpd[1]: connect from a[1.2.3.4]",
		"2024-13-01T00:00:00Z mx postfix/smtpd[1]: connect from a[1.2.3.4]",
		"Mar  3 09:00:01 mx1 postfix/smtpd[1: connect from a[1.2.3.4]",
		"Mar  3 09:00:01 mx1 postfix/smtpd[1]: connect from a[1.2.3.4]\x00",
		"Mar  3 09:00:01 mx1 postfix/smtpd[1]: connect from \xff[1.2.3.4]",
		`{"MESSAGE":"connect from a[1.2.3.4]"}`,
		`{"__REALTIME_TIMESTAMP":"x","MESSAGE":"connect from a[1.2.3.4]"}`,
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[1,2,3]}`,
	} {
		p := &Parser{}
		if e := p.Parse(line, time.Now()); e.Kind != event.KindUnknown || e.Raw != line {
			t.Errorf("%q: kind %v raw %q, want unknown with the line kept", line, e.Kind, e.Raw)
		}
	}
}

func TestYearInference(t *testing.T) {
	tests := []struct {
		stamp string
		ref   time.Time
		year  int
	}{
		{"Dec 31 23:00:00", time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC), 2024},
		{"Jan  1 00:00:10", time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), 2025},
		{"Jun 15 00:00:00", time.Date(2024, 6, 14, 0, 0, 0, 0, time.UTC), 2024},
		{"Mar  1 00:00:00", time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), 2024},
		{"Feb 29 12:00:00", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 2024},
	}
	for _, tt := range tests {
		got, n, ok := parseStamp(tt.stamp, tt.ref, time.UTC)
		if !ok || got.Year() != tt.year || n != len(tt.stamp) {
			t.Errorf("%s read at %s: got %v (%v), want year %d", tt.stamp, tt.ref, got, ok, tt.year)
		}
	}
}
