package parser

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Lines as Dovecot writes them to log_path (lib/failures.c: log_timestamp,
// then the process's prefix, then the level), as multilog/s6 label them,
// and as rsyslog and sysklogd write their repeat lines.
func TestEnvelopeForms(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ref := time.Date(2025, 1, 30, 10, 0, 0, 0, time.UTC)
	login := "Login: user=<bob@example.test>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, mpid=4242, TLS, session=<Hx3GdQAB>"
	tests := []struct {
		name, line       string
		time             string
		host, service    string
		program          string
		pid              int
		kind             event.Kind // checked when not event.KindUnknown
		repeat           int
		clientIP, detail string
	}{
		{name: "dovecot log file: login process",
			line: "Jan 29 09:33:58 pop3-login: Info: " + login, time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "pop3-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "dovecot log file: auth process",
			line: "Jan 29 09:33:58 auth: Info: passwd-file(bob@example.test,192.0.2.10): unknown user", time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "auth", clientIP: "192.0.2.10"},
		{name: "dovecot log file: auth worker with its pid",
			line: "Jan 29 09:33:58 auth-worker(4243): Info: pam(bob,192.0.2.10): pam_authenticate() failed: Authentication failure", time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "auth-worker", clientIP: "192.0.2.10"},
		{name: "dovecot log file: mail process with mail_log_prefix",
			line: "Jan 29 09:33:58 imap(bob@example.test)<4244><Hx3GdQAB>: Info: Logged out in=120 out=1044", time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "imap"},
		{name: "dovecot log file: master",
			line: "Jan 29 09:33:58 master: Info: Dovecot v2.3.19.1 (9b53102964) starting up for imap, lmtp", time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "master", kind: event.KindNotice},
		{name: "dovecot log file: %{usecs} after the seconds",
			line: "Jan 29 09:33:58.250000 imap-login: Info: " + login, time: "2025-01-29T08:33:58.25Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "dovecot log_timestamp %Y-%m-%d %H:%M:%S in the reader's zone",
			line: "2013-08-11 03:56:40 auth-worker(default): Info: sql(bob,192.0.2.10): unknown user", time: "2013-08-11T01:56:40Z",
			service: "dovecot", program: "auth-worker", clientIP: "192.0.2.10"},
		{name: "dovecot ISO stamp with %{usecs}",
			line: "2013-08-11 03:56:40.123456 imap-login: Info: " + login, time: "2013-08-11T01:56:40.123456Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "ISO local stamp then a host (corpus shape)",
			line: "2019-10-15 08:08:52 mx1 dovecot: imap-login: " + login, time: "2019-10-15T06:08:52Z",
			host: "mx1", service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "ISO local stamp with T, host and a Postfix tag",
			line: "2019-10-15T08:08:52 mx1 postfix/smtpd[77]: connect from a.example[192.0.2.7]", time: "2019-10-15T06:08:52Z",
			host: "mx1", service: "postfix", program: "smtpd", pid: 77, kind: event.KindConnect, clientIP: "192.0.2.7"},
		{name: "no host, a Postfix tag with a pid",
			line: "Jan 29 09:33:58 postfix/smtpd[77]: connect from a.example[192.0.2.7]", time: "2025-01-29T08:33:58Z",
			service: "postfix", program: "smtpd", pid: 77, kind: event.KindConnect, clientIP: "192.0.2.7"},
		{name: "no host, dovecot ident",
			line: "Jan 29 09:33:58 dovecot: imap-login: " + login, time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "a host named like a dovecot process",
			line: "Jan 29 09:33:58 imap dovecot: imap-login: " + login, time: "2025-01-29T08:33:58Z",
			host: "imap", service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "an IPv6 host",
			line: "Jan 29 09:33:58 2001:db8::1 postfix/smtpd[77]: connect from a.example[192.0.2.7]", time: "2025-01-29T08:33:58Z",
			host: "2001:db8::1", service: "postfix", program: "smtpd", pid: 77, kind: event.KindConnect, clientIP: "192.0.2.7"},
		{name: "dovecot 1.x log file: master prefix, stamp, level, process",
			line: "dovecot: Jan 29 09:33:58 Info: imap-login: " + login, time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "dovecot 1.x log file: an error keeps its level",
			line: "dovecot: Jan 29 09:33:58 Error: auth(default): ldap: Connection appears to be hanging, reconnecting", time: "2025-01-29T08:33:58Z",
			service: "dovecot", program: "dovecot", kind: event.KindWarning},
		{name: "TAI64N label then dovecot's text without a stamp",
			line: "@400000004c91b044077a9e94 imap-login: Info: " + login, time: "2010-09-16T05:50:50.1254765Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "TAI64N label then dovecot's stamp: the label dates the line",
			line: "@400000004c91b044077a9e94 Sep 16 07:50:50 imap-login: Info: " + login, time: "2010-09-16T05:50:50.1254765Z",
			service: "dovecot", program: "imap-login", kind: event.KindLogin, clientIP: "192.0.2.10"},
		{name: "TAI64N label then a whole syslog line (postlogd to stdout)",
			line: "@400000004c91b044077a9e94 Sep 16 07:50:50 mx1 postfix/smtpd[77]: connect from a.example[192.0.2.7]", time: "2010-09-16T05:50:50.1254765Z",
			host: "mx1", service: "postfix", program: "smtpd", pid: 77, kind: event.KindConnect, clientIP: "192.0.2.7"},
		{name: "rsyslog message repeated: the inner message is the event",
			line: "Jun  3 10:40:57 mail postfix/smtpd[9708]: message repeated 3 times: [ warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6]", time: "2024-06-03T08:40:57Z",
			host: "mail", service: "postfix", program: "smtpd", pid: 9708, kind: event.KindAuthFailure, repeat: 3, clientIP: "192.0.2.9"},
		{name: "rsyslog message repeated, inner text ending in ]",
			line: "Jun  3 10:40:57 mail postfix/smtpd[9708]: message repeated 2 times: [ lost connection after AUTH from unknown[192.0.2.9]]", time: "2024-06-03T08:40:57Z",
			host: "mail", service: "postfix", program: "smtpd", pid: 9708, kind: event.KindLostConnection, repeat: 2, clientIP: "192.0.2.9"},
		{name: "rsyslog last message repeated under the tag",
			line: "Jun  3 10:40:57 mail postfix/smtpd[9708]: last message repeated 4 times", time: "2024-06-03T08:40:57Z",
			host: "mail", service: "postfix", program: "smtpd", pid: 9708, kind: event.KindNotice, repeat: 4, detail: "last message repeated 4 times"},
		{name: "sysklogd last message repeated without a tag",
			line: "Jun  3 10:40:57 mail last message repeated 12 times", time: "2024-06-03T08:40:57Z",
			host: "mail", kind: event.KindNotice, repeat: 12, detail: "last message repeated 12 times"},
		{name: "not a repeat line: no count",
			line: "Jun  3 10:40:57 mail postfix/smtpd[9708]: message repeated many times: [ connect from a[192.0.2.7]]", time: "2024-06-03T08:40:57Z",
			host: "mail", service: "postfix", program: "smtpd", pid: 9708},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Parser{Location: berlin}
			e := p.Parse(tt.line, ref)
			if got := e.Time.Format(time.RFC3339Nano); got != tt.time {
				t.Errorf("time = %s, want %s", got, tt.time)
			}
			if e.Host != tt.host || e.Service != tt.service || e.Program != tt.program || e.PID != tt.pid {
				t.Errorf("got host=%q service=%q program=%q pid=%d, want %q %q %q %d", e.Host, e.Service, e.Program, e.PID, tt.host, tt.service, tt.program, tt.pid)
			}
			if tt.kind != event.KindUnknown && e.Kind != tt.kind {
				t.Errorf("kind = %v, want %v", e.Kind, tt.kind)
			}
			if e.Repeat != tt.repeat || e.ClientIP != tt.clientIP {
				t.Errorf("repeat=%d client_ip=%q, want %d %q", e.Repeat, e.ClientIP, tt.repeat, tt.clientIP)
			}
			if tt.detail != "" && e.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", e.Detail, tt.detail)
			}
			if e.Raw != tt.line {
				t.Errorf("raw = %q", e.Raw)
			}
			if LastRepeated(&e) != (tt.detail != "" && tt.repeat > 0) {
				t.Errorf("LastRepeated = %v", LastRepeated(&e))
			}
		})
	}
}

func TestEnvelopeFormsRejects(t *testing.T) {
	for _, line := range []string{
		"@400000004c91b044077a9e9 imap-login: Info: x",           // 23 hex digits
		"@400000004c91b044077a9e9g imap-login: Info: x",          // not hex
		"@300000004c91b044077a9e94 imap-login: Info: x",          // before 1970 by 2^62
		"@400000004c91b0443b9aca00 imap-login: Info: x",          // 10^9 ns
		"@400000004c91b044077a9e94 somebody: said something",     // no known writer
		"2013-08-11 03:56:40+0200 auth-worker(default): Info: x", // malformed zone
		"dovecot: Jan 29 09:33:58Info: imap-login: x",            // no space after the stamp
		"dovecot: imap-login: x",                                 // no stamp
	} {
		p := &Parser{}
		if e := p.Parse(line, time.Now()); e.Kind != event.KindUnknown || e.Raw != line || e.Service != "" {
			t.Errorf("%q: kind %v service %q raw %q, want unknown with the line kept", line, e.Kind, e.Service, e.Raw)
		}
	}
}

func TestTAI64N(t *testing.T) {
	// tai64nlocal's reading: the label minus 2^62 minus 10 s is Unix time.
	for label, want := range map[string]string{
		"@400000000000000a00000000": "1970-01-01T00:00:00Z",
		"@400000004c91b044077a9e94": "2010-09-16T05:50:50.1254765Z",
		"@4000000065a0bc9a3b9ac9ff": "2024-01-12T04:14:08.999999999Z",
	} {
		got, ok := parseTAI64N(label)
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("%s: %v %v, want %s", label, got.Format(time.RFC3339Nano), ok, want)
		}
	}
}

// envelopeSeeds start FuzzParse on every envelope form above.
var envelopeSeeds = []string{
	"Jan 29 09:33:58 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, session=<Hx3GdQAB>",
	"Jan 29 09:33:58.250000 imap(bob)<4244><Hx3GdQAB>: Info: Logged out in=120 out=1044",
	"2013-08-11 03:56:40 auth-worker(default): Info: sql(bob,192.0.2.10): unknown user",
	"2013-08-11 03:56:40.123456 mx1 dovecot: auth: Info: passwd-file(bob,192.0.2.10): Password mismatch",
	"@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 3 attempts in 12 secs): user=<bob>, rip=192.0.2.10",
	"@400000004c91b044077a9e94 Sep 16 07:50:50 mx1 postfix/smtpd[77]: connect from a.example[192.0.2.7]",
	"Jun  3 10:40:57 mail postfix/smtpd[9708]: message repeated 3 times: [ warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6]",
	"Jun  3 10:40:57 mail postfix/smtpd[9708]: last message repeated 4 times",
	"Jun  3 10:40:57 mail last message repeated 12 times",
	"Jan 29 09:33:58 postfix/smtpd[77]: connect from a.example[192.0.2.7]",
	"dovecot: Jan 29 09:33:58 Info: imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, TLS",
}

func TestSplitMessage(t *testing.T) {
	for _, tc := range []struct{ line, ident, msg string }{
		{"Jun  3 10:40:57 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n", "postfix/smtpd", "connect from a[192.0.2.1]"},
		{"Jan 29 09:33:58 imap-login: Info: Login: user=<bob>", "dovecot", "imap-login: Info: Login: user=<bob>"},
		{"Jun  3 10:40:57 mx postfix/smtpd[1]: message repeated 2 times: [ foo bar]", "postfix/smtpd", "foo bar"},
		{"Jun  3 10:40:57 mx postfix/smtpd[1]: last message repeated 2 times", "postfix/smtpd", "last message repeated 2 times"},
		{`{"__REALTIME_TIMESTAMP":"1700000000123456","SYSLOG_IDENTIFIER":"opendkim","MESSAGE":"x y"}`, "opendkim", "x y"},
		{"garbage", "", ""},
	} {
		ident, msg, ok := SplitMessage(tc.line)
		if ident != tc.ident || msg != tc.msg || ok != (tc.ident != "") {
			t.Errorf("SplitMessage(%q) = %q, %q, %v", tc.line, ident, msg, ok)
		}
	}
}
