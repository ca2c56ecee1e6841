package shape

import (
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct{ program, msg, want string }{
		{"postfix/smtpd", "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
			"postfix/smtpd: warning: <host>[<ip>]: SASL LOGIN authentication failed: <id>"},
		{"postfix/smtpd", "warning: mail.example.com[2001:db8::25]: foo bar 42",
			"postfix/smtpd: warning: <host>[<ip>]: foo bar <n>"},
		{"postfix/smtp", "4AA091855DA0: to=<bob@example.com>, relay=mx.example.net[198.51.100.7]:25, delay=0.52, delays=0.1/0/0.2/0.22, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7C1B2A3D4E)",
			"postfix/smtp: <queueid>: to=<addr>, relay=<host>[<ip>]:<n>, delay=<n>, delays=<n>/<n>/<n>/<n>, dsn=<n>, status=sent (<n> <n> Ok: queued as <queueid>)"},
		{"postfix/qmgr", "4LhT6Z0lYbzVvN: from=<>, size=1234, nrcpt=1 (queue active)",
			"postfix/qmgr: <id>: from=<>, size=<n>, nrcpt=<n> (queue active)"},
		{"postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[IPv6:2001:db8::1]: 554 5.7.1 <a@example.test>: Relay access denied; from=<b@example.test> to=<a@example.test> proto=ESMTP helo=<client.example.org>",
			"postfix/smtpd: NOQUEUE: reject: RCPT from <host>[IPv6:<ip>]: <n> <n> <addr>: Relay access denied; from=<addr> to=<addr> proto=ESMTP helo=<host>"},
		{"postfix/smtpd", "4AA091855DA0: client=c.example[192.0.2.1], sasl_method=PLAIN, sasl_username=bob",
			"postfix/smtpd: <queueid>: client=<host>[<ip>], sasl_method=PLAIN, sasl_username=<user>"},
		{"postfix/cleanup", "warning: cannot open /etc/postfix/main.cf: No such file",
			"postfix/cleanup: warning: cannot open /etc/postfix/main.cf: No such file"},
		{"dovecot", "imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, mpid=4242, TLS, session=<Hx3GdQAB>",
			"dovecot: imap-login: Info: Login: user=<user>, method=PLAIN, rip=<ip>, lip=<ip>, mpid=<n>, TLS, session=<id>"},
		{"dovecot", "imap(bob)<4244><Hx3GdQAB>: Info: Logged out in=120 out=1044",
			"dovecot: imap(<user>)<n><id>: Info: Logged out in=<n> out=<n>"},
		{"dovecot", "auth-worker(4243): Info: pam(bob@example.test,192.0.2.10): pam_authenticate() failed: Authentication failure (password mismatch?)",
			"dovecot: auth-worker(<n>): Info: pam(<addr>,<ip>): pam_authenticate() failed: Authentication failure (password mismatch?)"},
		{"dovecot", "imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<bob@example.test>, rip=::ffff:192.0.2.1, TLS: SSL_read() failed: error:0A000126:SSL routines::unexpected eof",
			"dovecot: imap-login: Disconnected (auth failed, <n> attempts in <n> secs): user=<addr>, rip=<ip>, TLS: SSL_read() failed: error:<queueid>:SSL routines::unexpected eof"},
		{"opendkim", "A1B2C3D4E5: s=sel1 d=example.com SSL error:0406506C",
			"opendkim: <queueid>: s=sel1 d=<host> SSL error:<queueid>"},
		{"", "Jan 29 09:33:58 something odd", "Jan <n> <n>:<n>:<n> something odd"},
		{"postfix/smtpd", "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) at 10:40:57",
			"postfix/smtpd: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (<n>/<n> bits) at <n>:<n>:<n>"},
		{"postfix/smtpd", "héllo wörld 12", "postfix/smtpd: héllo wörld <n>"},
		{"lightmeter/relayed-bounce", `mta="h-676c0ed5fb08ee445040bc7ff918", id=550e8400-e29b-41d4-a716-446655440000 via pop3-login and smtp-relay-2`,
			`lightmeter/relayed-bounce: mta="h-<hex>", id=<hex> via pop3-login and smtp-relay-<n>`},
	} {
		if got := Of(tc.program, tc.msg); got != tc.want {
			t.Errorf("Of(%q, %q)\n got %s\nwant %s", tc.program, tc.msg, got, tc.want)
		}
	}
}

func TestOfCapsLength(t *testing.T) {
	got := Of("p", strings.Repeat("é", 500))
	if len(got) > MaxLen+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("shape of a long line: %d bytes %q", len(got), got[len(got)-8:])
	}
	if got := Of("p", strings.Repeat("word ", 10)); strings.HasSuffix(got, "…") {
		t.Errorf("short shape cut: %q", got)
	}
}

func TestSet(t *testing.T) {
	s := NewSet(2)
	for _, step := range []struct {
		shape         string
		isNew, filled bool
		full          bool
	}{
		{"a", true, false, false},
		{"a", false, false, false},
		{"b", true, false, false},
		{"c", false, true, true},
		{"d", false, false, true},
		{"a", false, false, true},
	} {
		isNew, filled := s.Add(step.shape)
		if isNew != step.isNew || filled != step.filled || s.Full() != step.full {
			t.Errorf("Add(%q) = %v, %v (full %v), want %v, %v (full %v)", step.shape, isNew, filled, s.Full(), step.isNew, step.filled, step.full)
		}
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
}
