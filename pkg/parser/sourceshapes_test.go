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
		// smtp_trouble.c with the TLS reasons of smtp_proto.c.
		{"smtp: TLS required", "Jul  5 06:52:11 mx postfix/smtp[22030]: 4F2B1C0A11: TLS is required, but was not offered by host mx.example.net[192.0.2.7]",
			F{"kind": "lost_connection", "queue_id": "4F2B1C0A11", "relay_host": "mx.example.net", "relay_ip": "192.0.2.7", "detail": "TLS is required, but was not offered by host mx.example.net[192.0.2.7]"}},
		{"smtp: certificate not trusted", "Jul  5 06:52:11 mx postfix/smtp[22030]: 4F2B1C0A11: Server certificate not trusted",
			F{"kind": "lost_connection", "queue_id": "4F2B1C0A11", "detail": "Server certificate not trusted"}},
		{"smtp: SMTPUTF8", "Jul  5 06:52:11 mx postfix/smtp[22030]: host mx.example.net[192.0.2.7] offers SMTPUTF8 support, but not 8BITMIME",
			F{"kind": "notice", "relay_host": "mx.example.net", "relay_ip": "192.0.2.7", "detail": "offers SMTPUTF8 support, but not 8BITMIME"}},
		// smtpd.c, smtpd_dsn_fix.c.
		{"smtpd: abort TLS", "Jul  5 06:52:11 mx postfix/smtpd[2309]: NOQUEUE: abort: TLS from h.example.org[192.0.2.9]: No client certificate presented",
			F{"kind": "lost_connection", "client_host": "h.example.org", "client_ip": "192.0.2.9", "after": "STARTTLS", "detail": "No client certificate presented"}},
		{"smtpd: DSN mapping", "Jul  5 06:52:11 mx postfix/smtpd[2309]: mapping DSN status 5.1.1 into Sender address status 5.1.7",
			F{"kind": "notice", "detail": "mapping DSN status 5.1.1 into Sender address status 5.1.7"}},
		{"smtpd: client certificate", "Jul  5 06:52:11 mx postfix/smtpd[2309]: client certificate verification failed for h.example.org[192.0.2.9]: certificate has expired",
			F{"kind": "notice", "client_host": "h.example.org", "client_ip": "192.0.2.9", "detail": "client certificate verification failed for h.example.org[192.0.2.9]: certificate has expired"}},
		// cleanup_message.c: a MIME error under strict checking.
		{"cleanup: mime-error", "Jul  5 06:52:11 mx postfix/cleanup[21893]: 4F2B1C0A11: reject: mime-error invalid message/* or multipart/* encoding domain: quoted-printable from h[192.0.2.1]; from=<a@example.org> to=<b@example.net>",
			F{"kind": "reject", "queue_id": "4F2B1C0A11", "action": "reject", "detail": "mime-error invalid message/* or multipart/* encoding domain: quoted-printable",
				"client_host": "h", "client_ip": "192.0.2.1", "sender": "a@example.org", "recipient": "b@example.net"}},
		// postscreen.c, postscreen_state.c, postscreen_smtpd.c.
		{"postscreen: ports busy", "Jul  5 06:52:11 mx postfix/postscreen[14766]: reject: connect from [192.0.2.9]:55868: all screening ports busy",
			F{"kind": "reject", "action": "reject", "reject_stage": "connect", "client_ip": "192.0.2.9", "client_port": 55868, "response": "all screening ports busy"}},
		{"postscreen: stress", "Jul  5 06:52:11 mx postfix/postscreen[14766]: entering STRESS mode with 70 connections",
			F{"kind": "notice", "detail": "entering STRESS mode with 70 connections"}},
		{"postscreen: EHLO keywords", "Jul  5 06:52:11 mx postfix/postscreen[14766]: [192.0.2.9]:55868: discarding EHLO keywords: CHUNKING",
			F{"kind": "notice", "client_ip": "192.0.2.9", "client_port": 55868, "detail": "discarding EHLO keywords: CHUNKING"}},
		{"postscreen: table changed", "Jul  5 06:52:11 mx postfix/postscreen[14766]: table hash:/etc/postfix/postscreen_access has changed - finishing in the background",
			F{"kind": "notice", "detail": "table hash:/etc/postfix/postscreen_access has changed - finishing in the background"}},
		// tlsproxy_state.c, tls_server.c; tlsmgr's cache cleanup.
		{"tlsproxy: handshake failed", "Jul  5 06:52:11 mx postfix/tlsproxy[912]: TLS handshake failed for service=smtpd peer=[192.0.2.9]:55868",
			F{"kind": "lost_connection", "client_ip": "192.0.2.9", "client_port": 55868, "detail": "TLS handshake failed for service=smtpd peer=[192.0.2.9]:55868"}},
		{"tlsproxy: SSL_accept", "Jul  5 06:52:11 mx postfix/tlsproxy[912]: SSL_accept error from [192.0.2.9]:55868: lost connection",
			F{"kind": "lost_connection", "client_ip": "192.0.2.9", "client_port": 55868, "detail": "SSL_accept error"}},
		{"tlsmgr: cache cleanup", "Jul  5 06:52:11 mx postfix/tlsmgr[911]: cache btree:/var/lib/postfix/smtpd_scache full cleanup: retained=2 dropped=1 entries",
			F{"kind": "stats", "detail": "cache btree:/var/lib/postfix/smtpd_scache full cleanup: retained=2 dropped=1 entries"}},
		// Library lines any daemon writes.
		{"local: table changed", "Jul  5 06:52:11 mx postfix/local[912]: table hash:/etc/aliases(0,lock|fold_fix) has changed -- restarting",
			F{"kind": "notice", "detail": "table hash:/etc/aliases(0,lock|fold_fix) has changed -- restarting"}},
		{"local: deliver_pass", "Jul  5 06:52:11 mx postfix/local[912]: 4F2B1C0A11: passing <a@example.org> to transport=lmtp",
			F{"kind": "notice", "queue_id": "4F2B1C0A11", "detail": "passing <a@example.org> to transport=lmtp"}},
		{"qmgr: defer failed", "Jul  5 06:52:11 mx postfix/qmgr[912]: 4F2B1C0A11: status=deferred (defer failed)",
			F{"kind": "notice", "queue_id": "4F2B1C0A11", "detail": "status=deferred (defer failed)"}},
		{"smtp: TLS library", "Jul  5 06:52:11 mx postfix/smtp[912]: cannot load Certification Authority data, CAfile=/etc/ssl/ca.pem: disabling TLS support",
			F{"kind": "notice", "detail": "cannot load Certification Authority data, CAfile=/etc/ssl/ca.pem: disabling TLS support"}},
		{"smtpd: TLS debug state", "Jul  5 06:52:11 mx postfix/smtpd[2309]: SSL_accept:SSLv3/TLS write server hello",
			F{"kind": "notice", "level": "debug", "detail": "SSL_accept:SSLv3/TLS write server hello"}},
		{"smtpd: TLS cache debug", "Jul  5 06:52:11 mx postfix/smtpd[2309]: save session 0F1E2D to smtpd cache",
			F{"kind": "notice", "level": "debug", "detail": "save session 0F1E2D to smtpd cache"}},
		// bounce_trace_service.c, postsuper.c, master.c.
		{"bounce: no trace", "Jul  5 06:52:11 mx postfix/bounce[912]: 4F2B1C0A11: not sending trace/success notification for double-bounce message",
			F{"kind": "notice", "queue_id": "4F2B1C0A11", "detail": "not sending trace/success notification for double-bounce message"}},
		{"postsuper: force-expired", "Jul  5 06:52:11 mx postfix/postsuper[912]: Force-expired: 2 messages",
			F{"kind": "notice", "action": "Force-expired", "detail": "Force-expired: 2 messages"}},
		{"master: exit time", "Jul  5 06:52:11 mx postfix/master[912]: master exit time has arrived",
			F{"kind": "notice", "detail": "master exit time has arrived"}},
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
