package parser

import (
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func TestDovecot(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// --- login processes ---
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 07:43:53 mail dovecot: imap-login: Login: user=<h-304@h-ffeb17e38996c.com>, method=LOGIN, rip=224.165.23.115, lip=170.45.1.1, mpid=31721, TLS, session=<hxSkDPG5dIFbQgr8>`,
			F{"program": "imap-login", "service": "dovecot", "kind": "login", "sasl_username": "h-304@h-ffeb17e38996c.com", "sasl_method": "LOGIN",
				"client_ip": "224.165.23.115", "server_ip": "170.45.1.1", "tls_level": "TLS", "protocol": "imap"}},
		// lightmeterio+ControlCenter/individual_files/6_deferred_message_retry.log
		{`Dec  7 13:29:38 mail dovecot: pop3-login: Login: user=<discourse@some.example.com>, method=PLAIN, rip=78.55.5.173, lip=172.18.0.2, mpid=19259, TLS, session=<US9g0d+1NL9ONwWt>`,
			F{"program": "pop3-login", "kind": "login", "sasl_username": "discourse@some.example.com", "sasl_method": "PLAIN",
				"client_ip": "78.55.5.173", "server_ip": "172.18.0.2", "tls_level": "TLS", "protocol": "pop3"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 07:20:55 mail dovecot: imap-login: Disconnected: Too many invalid commands (no auth attempts in 3 secs): user=<>, rip=202.239.45.60, lip=170.45.1.1, TLS, session=<w+SdnNy5/KRTYRQZ>`,
			F{"program": "imap-login", "kind": "disconnect", "client_ip": "202.239.45.60", "server_ip": "170.45.1.1", "tls_level": "TLS", "protocol": "imap",
				"detail": "Disconnected: Too many invalid commands (no auth attempts in 3 secs)"}},
		// lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log
		{`Jun 20 05:04:02 ns4 dovecot: imap-login: Aborted login (no auth attempts in 0 secs): user=<>, rip=8.83.100.6, lip=8.83.100.6, secured`,
			F{"kind": "disconnect", "client_ip": "8.83.100.6", "server_ip": "8.83.100.6", "protocol": "imap", "detail": "Aborted login (no auth attempts in 0 secs)"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 22:30:04 mail dovecot: pop3-login: Aborted login (no auth attempts in 0 secs): user=<>, rip=237.95.199.23, lip=170.45.1.1, TLS, session=<bygIUOm578zGj7kK>`,
			F{"kind": "disconnect", "client_ip": "237.95.199.23", "server_ip": "170.45.1.1", "tls_level": "TLS", "protocol": "pop3", "detail": "Aborted login (no auth attempts in 0 secs)"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:08:16 mail dovecot: imap-login: Disconnected (no auth attempts in 6 secs): user=<>, rip=199.33.247.80, lip=170.45.1.1, TLS: Connection closed, session=<B2fYY/G5hhC53GWJ>`,
			F{"kind": "disconnect", "client_ip": "199.33.247.80", "server_ip": "170.45.1.1", "tls_level": "TLS", "protocol": "imap", "detail": "Disconnected (no auth attempts in 6 secs)"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 09:01:00 mail dovecot: imap-login: Disconnected (disconnected before auth was ready, waited 0 secs): user=<>, rip=112.247.97.110, lip=170.45.1.1, TLS handshaking: SSL_accept() failed: error:1408F09C:SSL routines:ssl3_get_record:http request, session=<8aCKAt65etAuZSeU>`,
			F{"kind": "disconnect", "client_ip": "112.247.97.110", "server_ip": "170.45.1.1", "protocol": "imap",
				"detail": "TLS handshaking: SSL_accept() failed: error:1408F09C:SSL routines:ssl3_get_record:http request"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 17:34:50 mail dovecot: pop3-login: Disconnected (no auth attempts in 10 secs): user=<>, rip=217.100.162.30, lip=170.45.1.1, TLS handshaking: Connection closed, session=<ipUvMOW50sVZ+KkM>`,
			F{"kind": "disconnect", "client_ip": "217.100.162.30", "server_ip": "170.45.1.1", "protocol": "pop3", "detail": "TLS handshaking: Connection closed"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 22:30:07 mail dovecot: pop3-login: Disconnected (no auth attempts in 1 secs): user=<>, rip=237.95.199.23, lip=170.45.1.1, TLS handshaking: SSL_accept() failed: error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher, session=<KmIsUOm5GtjGj7kK>`,
			F{"kind": "disconnect", "client_ip": "237.95.199.23", "server_ip": "170.45.1.1", "protocol": "pop3",
				"detail": "TLS handshaking: SSL_accept() failed: error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher"}},
		// Shapes the corpus lacks, in the wording of Dovecot 2.2-2.4.
		// synthetic: 2.3 auth failure with ports (login_log_format_elements with %{rport} %{lport})
		{`Mar  3 09:00:01 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<bob@example.org>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, rport=51234, lport=993, TLS, session=<abcdEFGH1234>`,
			F{"program": "imap-login", "kind": "auth_failure", "attempts": 3, "sasl_username": "bob@example.org", "sasl_method": "PLAIN", "client_ip": "203.0.113.7",
				"client_port": 51234, "server_ip": "192.0.2.1", "server_port": 993, "tls_level": "TLS", "protocol": "imap", "detail": "Disconnected (auth failed, 3 attempts in 12 secs)"}},
		// synthetic: 2.3 aborted login after a failure
		{`Mar  3 09:00:01 mx dovecot: pop3-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=203.0.113.8, lip=192.0.2.1, session=<x1>`,
			F{"kind": "auth_failure", "attempts": 1, "sasl_username": "alice", "sasl_method": "PLAIN", "client_ip": "203.0.113.8", "server_ip": "192.0.2.1", "protocol": "pop3",
				"detail": "Aborted login (auth failed, 1 attempts in 2 secs)"}},
		// synthetic: 2.4 wording with the reason code
		{`Sep 10 17:14:04 ngm dovecot[2241633]: managesieve-login: Login aborted: Logged out (auth failed, 1 attempts in 2 secs) (auth_failed): user=<bogus@invalid.example>, method=PLAIN, rip=203.0.113.7, lip=127.0.0.1, TLS`,
			F{"program": "managesieve-login", "kind": "auth_failure", "attempts": 1, "sasl_username": "bogus@invalid.example", "sasl_method": "PLAIN", "client_ip": "203.0.113.7",
				"server_ip": "127.0.0.1", "tls_level": "TLS", "protocol": "managesieve", "detail": "Login aborted: Logged out (auth failed, 1 attempts in 2 secs) (auth_failed)"}},
		// synthetic: 2.4, no attempts
		{`Sep 10 16:06:47 ngm dovecot[2174147]: submission-login: Login aborted: Connection closed (no auth attempts in 2 secs) (no_auth_attempts): user=<>, rip=84.54.49.6, lip=84.54.49.38`,
			F{"program": "submission-login", "kind": "disconnect", "client_ip": "84.54.49.6", "server_ip": "84.54.49.38", "protocol": "submission",
				"detail": "Login aborted: Connection closed (no auth attempts in 2 secs) (no_auth_attempts)"}},
		// synthetic: Info level word and plaintext refusal
		{`Jun  5 20:05:30 mx dovecot: imap-login: Info: Disconnected (tried to use disallowed plaintext auth): user=<>, rip=198.51.100.4, lip=192.0.2.1, session=<uDDVeJyK>`,
			F{"kind": "auth_failure", "client_ip": "198.51.100.4", "server_ip": "192.0.2.1", "protocol": "imap", "detail": "Disconnected (tried to use disallowed plaintext auth)"}},
		// synthetic: %k security string
		{`Mar  3 09:00:01 mx dovecot: imap-login: Login: user=<carol>, method=PLAIN, rip=2001:db8::7, lip=2001:db8::1, mpid=4242, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), session=<z>`,
			F{"kind": "login", "sasl_username": "carol", "sasl_method": "PLAIN", "client_ip": "2001:db8::7", "server_ip": "2001:db8::1", "protocol": "imap",
				"tls_level": "TLS", "tls_protocol": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384"}},
		// synthetic: login process error
		{`Mar  3 09:00:01 mx dovecot: imap-login: Error: Failed to initialize SSL server context`,
			F{"program": "imap-login", "kind": "warning", "level": "error", "detail": "Failed to initialize SSL server context"}},

		// synthetic: error level with the client list
		{`Mar  3 09:00:01 mx dovecot: imap-login: Error: SSL: Stacked error: error:0A000412:SSL routines::ssl/tls alert bad certificate: user=<>, rip=203.0.113.5, lip=192.0.2.1, session=<q>`,
			F{"kind": "warning", "level": "error", "client_ip": "203.0.113.5", "server_ip": "192.0.2.1", "protocol": "imap",
				"detail": "SSL: Stacked error: error:0A000412:SSL routines::ssl/tls alert bad certificate"}},

		// --- auth ---
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 11:05:26 mail dovecot: auth: passwd-file(h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com): unknown user`,
			F{"program": "auth", "kind": "auth_backend", "check": "passwd-file", "result": "unknown_user", "sasl_username": "h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com", "detail": "unknown user"}},
		// synthetic: PAM
		{`Mar  3 09:00:01 mx dovecot: auth: pam(bob,203.0.113.7): pam_authenticate() failed: Authentication failure (password mismatch?)`,
			F{"program": "auth", "kind": "auth_backend", "check": "pam", "result": "password_mismatch", "sasl_username": "bob", "client_ip": "203.0.113.7", "detail": "pam_authenticate() failed: Authentication failure (password mismatch?)"}},
		// synthetic: 2.3 worker with session id
		{`Mar  3 09:00:01 mx dovecot: auth-worker(123): sql(bob@example.org,203.0.113.7,<Ab12Cd34>): Password mismatch`,
			F{"program": "auth-worker", "kind": "auth_backend", "check": "sql", "result": "password_mismatch", "sasl_username": "bob@example.org", "client_ip": "203.0.113.7", "detail": "Password mismatch"}},
		// synthetic: 2.3.x worker connection prefix
		{`Mar  3 09:00:01 mx dovecot: auth-worker(3459): conn unix:auth-worker (pid=3456,uid=97): auth-worker<1>: pam(bob,2001:db8::7,<s1>): unknown user`,
			F{"program": "auth-worker", "kind": "auth_backend", "check": "pam", "result": "unknown_user", "sasl_username": "bob", "client_ip": "2001:db8::7", "detail": "unknown user"}},
		// synthetic: unknown user name
		{`Mar  3 09:00:01 mx dovecot: auth: passwd-file(?,203.0.113.9): unknown user`,
			F{"kind": "auth_backend", "check": "passwd-file", "result": "unknown_user", "client_ip": "203.0.113.9", "detail": "unknown user"}},
		// synthetic: auth error keeps the user
		{`Mar  3 09:00:01 mx dovecot: auth: Error: ldap(bob,203.0.113.7): LDAP search failed`,
			F{"kind": "warning", "level": "error", "sasl_username": "bob", "client_ip": "203.0.113.7", "detail": "ldap(bob,203.0.113.7): LDAP search failed"}},

		// --- mail processes ---
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:54:48 mail dovecot: imap(h-aaf4c@h-ffeb17e38996c.com)<10200></2+CoPG5GSVYgp83>: Logged out in=229 out=835 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
			F{"program": "imap", "kind": "disconnect", "sasl_username": "h-aaf4c@h-ffeb17e38996c.com", "protocol": "imap", "detail": "Logged out"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 09:12:59 mail dovecot: imap(h-304@h-ffeb17e38996c.com)<14891><xL7r3/G5EI1bQgr8>: Disconnected for inactivity in=630 out=5313 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
			F{"kind": "disconnect", "sasl_username": "h-304@h-ffeb17e38996c.com", "protocol": "imap", "detail": "Disconnected for inactivity"}},
		// lightmeterio+ControlCenter/logparser_corpus/unsupported_dovecot.txt
		{`Feb  5 18:56:52 mail dovecot: imap(laalala@mail.io)<28358><CO4httid9tRZDNo5>: Connection closed (IDLE running for 0.001 + waiting input for 28.914 secs, 2 B in + 10 B out, state=wait-input) in=703 out=12338 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
			F{"kind": "disconnect", "sasl_username": "laalala@mail.io", "protocol": "imap",
				"detail": "Connection closed (IDLE running for 0.001 + waiting input for 28.914 secs, 2 B in + 10 B out, state=wait-input)"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 11:20:08 mail dovecot: pop3(h-e8fcfa624@h-ffeb17e38996c.com)<24015><W2L5EfS5DqNZDGoq>: Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0`,
			F{"program": "pop3", "kind": "disconnect", "sasl_username": "h-e8fcfa624@h-ffeb17e38996c.com", "protocol": "pop3", "detail": "Disconnected: Logged out"}},
		// synthetic: 2.2 without pid and session
		{`Mar  3 09:00:01 mx dovecot: imap(olineg@example.fr): Connection closed in=54 out=809`,
			F{"kind": "disconnect", "sasl_username": "olineg@example.fr", "protocol": "imap", "detail": "Connection closed"}},
		// synthetic: mail_log plugin
		{`Mar  3 09:00:01 mx dovecot: imap(bob)<77><s>: expunge: box=INBOX, uid=12, msgid=<m1@example.org>, size=2048`,
			F{"kind": "notice", "sasl_username": "bob", "protocol": "imap", "message_id": "m1@example.org", "detail": "expunge: box=INBOX, uid=12, msgid=<m1@example.org>, size=2048"}},
		// synthetic: error in a mail process
		{`Mar  3 09:00:01 mx dovecot: imap(bob)<77><s>: Error: Mailbox INBOX: UID=5: read() failed`,
			F{"kind": "warning", "level": "error", "sasl_username": "bob", "protocol": "imap", "detail": "Mailbox INBOX: UID=5: read() failed"}},

		// --- lmtp / lda ---
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail dovecot: lmtp(15080): Connect from local`,
			F{"program": "lmtp", "service": "dovecot", "kind": "connect", "protocol": "lmtp"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail dovecot: lmtp(15080): Disconnect from local: Client has quit the connection (state=READY)`,
			F{"kind": "disconnect", "protocol": "lmtp", "detail": "Client has quit the connection (state=READY)"}},
		// lightmeterio+ControlCenter/individual_files/10_pickup.log
		{`Feb  1 13:17:08 mail dovecot: lmtp(28700): Disconnect from local: Successful quit`,
			F{"kind": "disconnect", "protocol": "lmtp", "detail": "Successful quit"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail dovecot: lmtp(h-f16@h-ffeb17e38996c.com)<15080><pPC9MGVcEmDoOgAAWP5Hkg>: msgid=<h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com>: saved mail to INBOX`,
			F{"program": "lmtp", "kind": "delivery", "recipient": "h-f16@h-ffeb17e38996c.com", "message_id": "h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com",
				"status": "sent", "protocol": "lmtp", "detail": "saved mail to INBOX"}},
		// lightmeterio+ControlCenter/individual_files/31_inbound_reply.log (the line ends in a space)
		{`Apr 27 16:45:44 lightmetermail dovecot: lmtp(original_sender@example1.com)<15681><AHQgLzhzaWJBPQAAAkqyCw>: sieve: msgid=<CAJcL8KcWqtPC9aBbAViCcDpTCMGQFZ=vBPjhsqBiNOKR0hfU2w@mail.gmail.com>: stored mail into mailbox 'INBOX' `,
			F{"kind": "delivery", "recipient": "original_sender@example1.com", "message_id": "CAJcL8KcWqtPC9aBbAViCcDpTCMGQFZ=vBPjhsqBiNOKR0hfU2w@mail.gmail.com",
				"status": "sent", "protocol": "lmtp", "detail": "stored mail into mailbox 'INBOX'"}},
		// lightmeterio+ControlCenter/individual_files/10_pickup.log
		{`Feb  1 13:17:08 mail dovecot: lmtp(h-06819@h-b4e62aa55116.com): wArTL0TxF2AccAAAYr7Zvw: sieve: msgid=<h-9f09ba6382a7163a9a1f1da16cb@h-ac7182297368ddc0f.com>: stored mail into mailbox 'INBOX'`,
			F{"kind": "delivery", "recipient": "h-06819@h-b4e62aa55116.com", "message_id": "h-9f09ba6382a7163a9a1f1da16cb@h-ac7182297368ddc0f.com",
				"status": "sent", "protocol": "lmtp", "detail": "stored mail into mailbox 'INBOX'"}},
		// synthetic: quota (bounced: Dovecot answers 552 by default)
		{`Mar  3 09:00:01 mx dovecot: lmtp(bob@example.org)<99><Xy12Zw34Ab56Cd78>: msgid=<q1@example.net>: save failed to INBOX: Quota exceeded (mailbox for user is full)`,
			F{"kind": "delivery", "recipient": "bob@example.org", "message_id": "q1@example.net", "status": "bounced", "protocol": "lmtp",
				"detail": "save failed to INBOX: Quota exceeded (mailbox for user is full)"}},
		// synthetic: other save failure (deferred: Dovecot answers 4xx)
		{`Mar  3 09:00:01 mx dovecot: lmtp(bob@example.org)<99><Xy12Zw34Ab56Cd78>: msgid=<q2@example.net>: save failed to INBOX: Internal error occurred. Refer to server log for more information.`,
			F{"kind": "delivery", "recipient": "bob@example.org", "message_id": "q2@example.net", "status": "deferred", "protocol": "lmtp",
				"detail": "save failed to INBOX: Internal error occurred. Refer to server log for more information."}},
		// synthetic: 2.2 lmtp prefix with pid and user, session before msgid
		{`Mar  3 09:00:01 mx dovecot: lmtp(31740, bob@example.org): KSmqCHsLKFN8fAAAqBTqrg: msgid=<m2@example.net>: saved mail to INBOX`,
			F{"kind": "delivery", "recipient": "bob@example.org", "message_id": "m2@example.net", "status": "sent", "protocol": "lmtp", "detail": "saved mail to INBOX"}},
		// synthetic: lda, no protocol
		{`Feb 17 07:02:41 ip-10-0-1-200 dovecot: lda(test@example.es)<27148><b1LEMJEm72MMagAAcf9/Kw>: msgid=<17715909@example.es>: saved mail to INBOX`,
			F{"program": "lda", "kind": "delivery", "recipient": "test@example.es", "message_id": "17715909@example.es", "status": "sent", "detail": "saved mail to INBOX"}},
		// synthetic: sieve vacation is about the message, not its fate
		{`Mar  3 09:00:01 mx dovecot: lmtp(bob)<1><s>: sieve: msgid=<v1@example.net>: sent vacation response to <alice@example.net>`,
			F{"kind": "notice", "message_id": "v1@example.net", "protocol": "lmtp", "detail": "sent vacation response to <alice@example.net>"}},

		// --- master and other services ---
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.4.gz
		{`Jan  3 04:02:12 mail dovecot: master: Warning: Killed with signal 15 (by pid=1 uid=0 code=kill)`,
			F{"program": "master", "kind": "warning", "level": "warning", "detail": "Killed with signal 15 (by pid=1 uid=0 code=kill)"}},
		// synthetic: start-up
		{`Mar  3 09:00:01 mx dovecot: master: Dovecot v2.3.21 (47349e2482) starting up for imap, pop3, lmtp (core dumps disabled)`,
			F{"program": "master", "kind": "notice", "detail": "Dovecot v2.3.21 (47349e2482) starting up for imap, pop3, lmtp (core dumps disabled)"}},
		// synthetic: 2.0 start-up without a process name
		{`Mar  3 09:00:01 mx dovecot: Dovecot v2.0.19 starting up (core dumps disabled)`,
			F{"program": "dovecot", "kind": "notice", "detail": "Dovecot v2.0.19 starting up (core dumps disabled)"}},
		// synthetic: config warning
		{`Mar  3 09:00:01 mx dovecot: config: Warning: please set ssl_dh=</etc/dovecot/dh.pem`,
			F{"program": "config", "kind": "warning", "level": "warning", "detail": "please set ssl_dh=</etc/dovecot/dh.pem"}},

		// --- own idents (parseDovecotProcess) ---
		// synthetic: per-process ident
		{`Mar  3 09:00:01 mx imap-login[812]: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, mpid=9, secured, session=<k>`,
			F{"program": "imap-login", "service": "imap-login", "pid": 812, "kind": "login", "sasl_username": "bob", "sasl_method": "PLAIN",
				"client_ip": "203.0.113.7", "server_ip": "192.0.2.1", "protocol": "imap"}},
		// synthetic: per-process ident
		{`Mar  3 09:00:01 mx auth[50]: pam(bob,203.0.113.7): pam_authenticate() failed: Authentication failure`,
			F{"program": "auth", "kind": "auth_backend", "check": "pam", "result": "password_mismatch", "sasl_username": "bob", "client_ip": "203.0.113.7", "detail": "pam_authenticate() failed: Authentication failure"}},
		// synthetic: per-process ident
		{`Mar  3 09:00:01 mx lmtp[50]: Connect from 192.0.2.10`,
			F{"program": "lmtp", "kind": "connect", "client_ip": "192.0.2.10", "protocol": "lmtp"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

// TestDovecotOdd feeds cut and malformed lines: none may panic, and what
// cannot be read stays unknown.
func TestDovecotOdd(t *testing.T) {
	p := &Parser{}
	for _, line := range []string{
		`Mar  3 09:00:01 mx dovecot: `,
		`Mar  3 09:00:01 mx dovecot: imap-login:`,
		`Mar  3 09:00:01 mx dovecot: imap-login: Login: user=<`,
		`Mar  3 09:00:01 mx dovecot: imap-login: Login: user=<bob>, method=`,
		`Mar  3 09:00:01 mx dovecot: imap-login: Disconnected (auth failed, `,
		`Mar  3 09:00:01 mx dovecot: imap-login: Disconnected (: rip=`,
		`Mar  3 09:00:01 mx dovecot: imap(`,
		`Mar  3 09:00:01 mx dovecot: imap(bob`,
		`Mar  3 09:00:01 mx dovecot: imap(bob)<1><`,
		`Mar  3 09:00:01 mx dovecot: imap(bob)<1><x>`,
		`Mar  3 09:00:01 mx dovecot: imap(bob)<1><x>: `,
		`Mar  3 09:00:01 mx dovecot: lmtp(bob)<1><x>: msgid=`,
		`Mar  3 09:00:01 mx dovecot: lmtp(bob)<1><x>: msgid=<abc`,
		`Mar  3 09:00:01 mx dovecot: lmtp(bob)<1><x>: sieve: `,
		`Mar  3 09:00:01 mx dovecot: auth: pam(`,
		`Mar  3 09:00:01 mx dovecot: auth: pam(,): `,
		`Mar  3 09:00:01 mx dovecot: auth: conn unix:auth-worker (pid=1): auth-worker<`,
		`Mar  3 09:00:01 mx dovecot: auth-worker(12`,
		`Mar  3 09:00:01 mx dovecot: -login: x`,
		`Mar  3 09:00:01 mx dovecot: imap-login: proxy(`,
		`Mar  3 09:00:01 mx dovecot: imap-login:   Login:  user=<bob>,, ,rip=1.2.3.4 ,`,
		`Mar  3 09:00:01 mx imap-login[1]: `,
		`Mar  3 09:00:01 mx lmtp[1]: Disconnect from `,
	} {
		e := p.Parse(line, testRef)
		_ = e
	}
	checkLine(t, `Mar  3 09:00:01 mx dovecot: imap(bob)<1><x>: something new`, F{"kind": "unknown", "sasl_username": "bob", "protocol": "imap"})
	checkLine(t, `Mar  3 09:00:01 mx dovecot: imap(`, F{"kind": "unknown"})
}

// TestDovecotAllocs holds the family to the parser's budget: parsing into a
// reused event.Event allocates nothing.
func TestDovecotAllocs(t *testing.T) {
	lines := []string{
		`Jan 28 07:43:53 mail dovecot: imap-login: Login: user=<h-304@h-ffeb17e38996c.com>, method=LOGIN, rip=224.165.23.115, lip=170.45.1.1, mpid=31721, TLS, session=<hxSkDPG5dIFbQgr8>`,
		`Jan 27 09:01:00 mail dovecot: imap-login: Disconnected (disconnected before auth was ready, waited 0 secs): user=<>, rip=112.247.97.110, lip=170.45.1.1, TLS handshaking: SSL_accept() failed: error:1408F09C:SSL routines:ssl3_get_record:http request, session=<8aCKAt65etAuZSeU>`,
		`Jan 28 08:54:48 mail dovecot: imap(h-aaf4c@h-ffeb17e38996c.com)<10200></2+CoPG5GSVYgp83>: Logged out in=229 out=835 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
		`Jan 28 06:40:37 mail dovecot: lmtp(h-f16@h-ffeb17e38996c.com)<15080><pPC9MGVcEmDoOgAAWP5Hkg>: msgid=<h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com>: saved mail to INBOX`,
		`Mar  3 09:00:01 mx dovecot: auth-worker(123): sql(bob@example.org,203.0.113.7,<Ab12Cd34>): Password mismatch`,
		`Mar  3 09:00:01 mx saslauthd[811]: do_auth         : auth failure: [user=bob] [service=smtp] [realm=example.org] [mech=pam] [reason=PAM auth error]`,
	}
	p := &Parser{}
	var e event.Event
	for _, l := range lines {
		if n := testing.AllocsPerRun(100, func() { p.ParseInto(&e, l, testRef) }); n > 0 {
			t.Errorf("%.1f allocations for %s", n, l)
		}
	}
}
