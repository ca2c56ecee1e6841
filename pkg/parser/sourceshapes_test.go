package parser

import "testing"

// TestPostfixSourceShapes: lines of smtp, cleanup, smtpd and postlog read
// from Postfix's own logging calls (2.11-3.9), written as those calls write
// them.
func TestPostfixSourceShapes(t *testing.T) {
	cases := []struct {
		name, line string
		want       F
	}{
		// smtp_trouble.c logs a session failure with the queue id before
		// trying the next MX host; smtp_proto.c gives the TLS reason.
		{"smtp: Cannot start TLS", "Jul  5 06:52:11 mx postfix/smtp[22030]: 3mPz615lB2z7sZt: Cannot start TLS: handshake failure",
			F{"kind": "lost_connection", "queue_id": "3mPz615lB2z7sZt", "detail": "Cannot start TLS: handshake failure"}},
		// smtp_sasl_glue.c: no usable mechanism.
		{"smtp: cannot authenticate", "Jul  5 06:52:11 mx postfix/smtp[22030]: 4F2B1C0A11: SASL authentication failed; cannot authenticate to server smtp.example.net[192.0.2.7]: no mechanism available",
			F{"kind": "auth_failure", "queue_id": "4F2B1C0A11", "relay_host": "smtp.example.net", "relay_ip": "192.0.2.7", "detail": "no mechanism available"}},
		// smtp_proto.c smtp_hbc_logger: smtp_header_checks.
		{"smtp: header check", "Jul  5 06:52:11 mx postfix/smtp[22030]: 4F2B1C0A11: replace: header From: a <a@example.org>: From: b <b@example.org>",
			F{"kind": "notice", "queue_id": "4F2B1C0A11", "action": "replace", "detail": "header From: a <a@example.org>: From: b <b@example.org>"}},
		// cleanup_bounce.c: cleanup bounces a recipient itself.
		{"cleanup: own bounce", "Jul  5 06:52:11 mx postfix/cleanup[21893]: 4F2B1C0A11: to=<b@example.net>, relay=none, delay=0.11, delays=0.11/0/0/0, dsn=5.7.1, status=bounced (message content rejected)",
			F{"kind": "delivery", "queue_id": "4F2B1C0A11", "recipient": "b@example.net", "delay": 0.11,
				"delays": F{"before_qmgr": 0.11, "in_qmgr": 0, "conn_setup": 0, "transmission": 0}, "dsn": "5.7.1", "status": "bounced", "response": "message content rejected"}},
		// cleanup_message.c: a check on the whole content (CLEANUP_ACT_CTXT_ANY).
		{"cleanup: content check", "Jul  5 06:52:11 mx postfix/cleanup[21893]: 4F2B1C0A11: reject: content Received: by mx from h[192.0.2.1]; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<h>: 5.7.1 disallowed",
			F{"kind": "reject", "queue_id": "4F2B1C0A11", "action": "reject", "detail": "content Received: by mx", "client_host": "h", "client_ip": "192.0.2.1",
				"sender": "a@example.org", "recipient": "b@example.net", "protocol": "ESMTP", "helo": "h", "response": "5.7.1 disallowed", "dsn": "5.7.1"}},
		// smtpd: a session line behind NOQUEUE, and an action that lost its prefix.
		{"smtpd: NOQUEUE lost connection", "Jul  5 06:52:11 mx postfix/smtpd[2309]: NOQUEUE: lost connection after CONNECT from unknown[192.0.2.9]",
			F{"kind": "lost_connection", "client_host": "unknown", "client_ip": "192.0.2.9", "after": "CONNECT", "detail": "lost connection"}},
		{"smtpd: reject without prefix", "Jul  5 06:52:11 mx postfix/smtpd[2309]: reject: RCPT from h.example.org[192.0.2.9]: 452 4.3.4 Message size exceeds fixed limit; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<h>",
			F{"kind": "reject", "action": "reject", "reject_stage": "rcpt", "client_host": "h.example.org", "client_ip": "192.0.2.9",
				"response": "452 4.3.4 Message size exceeds fixed limit", "dsn": "4.3.4", "sender": "a@example.org", "recipient": "b@example.net", "protocol": "ESMTP", "helo": "h"}},
		// tls_certkey.c, and the Cyrus SASL library logging through smtpd.
		{"smtpd: CA data", "Jul  5 06:52:11 mx postfix/smtpd[2309]: cannot load Certificate Authority data: CAfile=/etc/ssl/ca.pem CApath=",
			F{"kind": "notice", "detail": "cannot load Certificate Authority data: CAfile=/etc/ssl/ca.pem CApath="}},
		{"smtpd: SASL plugins", "Jul  5 06:52:11 mx postfix/smtpd[2309]: looking for plugins in '/usr/lib/sasl2', failed to open directory, error: No such file or directory",
			F{"kind": "notice", "detail": "looking for plugins in '/usr/lib/sasl2', failed to open directory, error: No such file or directory"}},
		// postlog(1), Postfix 3.4+.
		{"postlog: text", "Jul  5 06:52:11 mx postfix/postlog: starting the Postfix mail system",
			F{"kind": "notice", "detail": "starting the Postfix mail system"}},
		{"postlog: warning", "Jul  5 06:52:11 mx postfix/postlog[912]: warning: not owned by root: /etc/postfix/main.cf",
			F{"kind": "warning", "level": "warning", "detail": "not owned by root: /etc/postfix/main.cf"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
}
