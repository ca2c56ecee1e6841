package parser

import (
	"testing"
	"time"
)

// smtpdFamilyLine gives a grok YAML message (which has no syslog header) the header
// of a real smtpd line.
func smtpdFamilyLine(prog, msg string) string {
	return "Jan 28 06:40:37 mail postfix/" + prog + "[15061]: " + msg
}

func TestSmtpd(t *testing.T) {
	tests := []struct {
		name string
		line string
		want F
	}{
		// digineo+postfix_exporter/mail.log
		{"connect", "Sep 23 15:53:33 mail postfix/smtpd[3643150]: connect from unknown[0.0.0.0]",
			F{"kind": "connect", "client_host": "unknown", "client_ip": "0.0.0.0"}},
		// lightmeterio+ControlCenter/individual_files/17-smtpd-reject.log
		{"connect smtps ipv6", "Feb  8 21:28:47 mx postfix/smtps/smtpd[1036]: connect from unknown[2a02:168:636a::15e2]",
			F{"kind": "connect", "service": "postfix/smtps", "program": "smtpd", "client_host": "unknown", "client_ip": "2a02:168:636a::15e2"}},
		// synthetic: smtpd_client_port_logging = yes
		{"connect with port", "Feb  8 21:28:47 mx postfix/smtpd[1036]: connect from mail.example.com[192.0.2.1]:41234",
			F{"kind": "connect", "client_host": "mail.example.com", "client_ip": "192.0.2.1", "client_port": 41234}},
		// digineo+postfix_exporter/mail.log
		{"disconnect", "Sep 23 15:53:33 mail postfix/smtpd[3643150]: disconnect from unknown[0.0.0.0] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
			F{"kind": "disconnect", "client_host": "unknown", "client_ip": "0.0.0.0", "commands": "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0002.yaml
		{"disconnect without counters", smtpdFamilyLine("smtpd", "disconnect from 061238241086.static.ctinets.com[61.238.241.86]"),
			F{"kind": "disconnect", "client_host": "061238241086.static.ctinets.com", "client_ip": "61.238.241.86"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0032.yaml
		{"disconnect unknown address", smtpdFamilyLine("smtpd", "disconnect from unknown[unknown] commands=0/0"),
			F{"kind": "disconnect", "client_host": "unknown", "client_ip": "unknown", "commands": "commands=0/0"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"lost connection", "Jan 27 16:10:05 mail postfix/submission/smtpd[12017]: lost connection after STARTTLS from unknown[53.65.157.33]",
			F{"kind": "lost_connection", "service": "postfix/submission", "client_host": "unknown", "client_ip": "53.65.157.33", "after": "STARTTLS", "detail": "lost connection"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"lost connection unknown", "Jan 27 09:01:00 mail postfix/submission/smtpd[27083]: lost connection after UNKNOWN from unknown[112.247.97.110]",
			F{"kind": "lost_connection", "client_host": "unknown", "client_ip": "112.247.97.110", "after": "UNKNOWN", "detail": "lost connection"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0011.yaml
		{"lost connection data bytes", smtpdFamilyLine("smtpd", "lost connection after DATA (7774180 bytes) from unknown[72.13.58.7]"),
			F{"kind": "lost_connection", "client_host": "unknown", "client_ip": "72.13.58.7", "after": "DATA", "detail": "lost connection"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"timeout", "Jan 28 14:25:35 mail postfix/smtpd[6915]: timeout after END-OF-MESSAGE from localhost[127.0.0.1]",
			F{"kind": "lost_connection", "client_host": "localhost", "client_ip": "127.0.0.1", "after": "END-OF-MESSAGE", "detail": "timeout"}},
		// synthetic: smtpd_hard_error_limit reached
		{"too many errors", "Jan 28 14:25:35 mail postfix/smtpd[6915]: too many errors after RCPT from unknown[192.0.2.7]",
			F{"kind": "lost_connection", "client_host": "unknown", "client_ip": "192.0.2.7", "after": "RCPT", "detail": "too many errors"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0036.yaml
		{"bare LF", smtpdFamilyLine("smtpd", "bare <LF> received after CONNECT from example.net[1.2.3.4]"),
			F{"kind": "lost_connection", "client_host": "example.net", "client_ip": "1.2.3.4", "after": "CONNECT", "detail": "bare <LF> received"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0019.yaml
		{"SSL_accept error", smtpdFamilyLine("smtpd", "SSL_accept error from unknown[72.13.58.7]: lost connection"),
			F{"kind": "lost_connection", "client_host": "unknown", "client_ip": "72.13.58.7", "detail": "SSL_accept error"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0015.yaml
		{"improper pipelining", smtpdFamilyLine("smtpd", `improper command pipelining after EHLO from unknown[2001:968:9999:20:415c:cd2:da8e:d0cf]: MAIL FROM:<>\nRCPT TO:<tom@example.net>\n`),
			F{"kind": "warning", "client_host": "unknown", "client_ip": "2001:968:9999:20:415c:cd2:da8e:d0cf", "after": "EHLO",
				"detail": `improper command pipelining after EHLO from unknown[2001:968:9999:20:415c:cd2:da8e:d0cf]: MAIL FROM:<>\nRCPT TO:<tom@example.net>\n`}},
		// digineo+postfix_exporter/mail.log
		{"client sasl", "Oct 30 13:19:26 mailgw-out1 postfix/smtpd[27530]: EB4B2C19E2: client=xxx[1.2.3.4], sasl_method=PLAIN, sasl_username=user@domain",
			F{"kind": "client", "queue_id": "EB4B2C19E2", "client_host": "xxx", "client_ip": "1.2.3.4", "sasl_method": "PLAIN", "sasl_username": "user@domain"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"client", "Jan 28 06:40:37 mail postfix/smtpd[15078]: BF76C3012027: client=localhost[127.0.0.1]",
			F{"kind": "client", "queue_id": "BF76C3012027", "client_host": "localhost", "client_ip": "127.0.0.1"}},
		// lightmeterio+ControlCenter/individual_files/8_weird_log_file.log
		{"client orig_queue_id", "Oct 13 16:40:42 ucs postfix/smtpd[18581]: ED01244770: client=localhost[127.0.0.1], orig_queue_id=4F5C64474F, orig_client=unknown[28.55.140.112]",
			F{"kind": "client", "queue_id": "ED01244770", "client_host": "localhost", "client_ip": "127.0.0.1"}},
		// lightmeterio+ControlCenter/individual_files/12_two_independent_deliveries_in_the_same_smtpd_process_mixed.log
		{"client anonymised queue id", "Dec  9 10:18:23 mail postfix/submission/smtpd[20040]: BABABABABA: client=client2.another.example.com[89.247.252.53], sasl_method=PLAIN, sasl_username=sender@mydomain.com",
			F{"kind": "client", "queue_id": "BABABABABA", "client_host": "client2.another.example.com", "client_ip": "89.247.252.53", "sasl_method": "PLAIN", "sasl_username": "sender@mydomain.com"}},
		// lightmeterio+ControlCenter/individual_files/18_expired.log
		{"client second instance", "Sep 25 18:26:34 smtpnode16 postfix-239.58.50.50/smtpd[4546]: 23EBE3D5C0: client=h-3857624469d1756194e464[239.58.50.50]",
			F{"kind": "client", "service": "postfix-239.58.50.50", "queue_id": "23EBE3D5C0", "client_host": "h-3857624469d1756194e464", "client_ip": "239.58.50.50"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.1
		{"sasl login failed", "Jan 22 21:03:32 mail postfix/smtpd[29746]: warning: unknown[177.20.170.112]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
			F{"kind": "auth_failure", "client_host": "unknown", "client_ip": "177.20.170.112", "sasl_method": "LOGIN", "detail": "UGFzc3dvcmQ6"}},
		// digineo+postfix_exporter/mail.log
		{"sasl plain failed", "Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: laptop.local[192.168.1.2]: SASL PLAIN authentication failed: generic failure",
			F{"kind": "auth_failure", "client_host": "laptop.local", "client_ip": "192.168.1.2", "sasl_method": "PLAIN", "detail": "generic failure"}},
		// synthetic: Postfix >= 3.5 appends the user name it was given
		{"sasl failed with username", "Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: unknown[192.0.2.9]: SASL PLAIN authentication failed: authentication failure, sasl_username=bob@example.com",
			F{"kind": "auth_failure", "client_host": "unknown", "client_ip": "192.0.2.9", "sasl_method": "PLAIN", "sasl_username": "bob@example.com", "detail": "authentication failure"}},
		// digineo+postfix_exporter/mail.log: the library's line without a
		// client, followed by smtpd's own; only the latter is the failure.
		{"sasl library warning", "Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: SASL authentication failure: cannot connect to saslauthd server: Permission denied",
			F{"kind": "warning", "level": "warning", "detail": "SASL authentication failure: cannot connect to saslauthd server: Permission denied"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"noqueue reject rcpt", "Jan 28 11:05:26 mail postfix/smtpd[20127]: NOQUEUE: reject: RCPT from h-be8106e24226d8ee7[199.229.127.90]: 550 5.1.1 <h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<h-f16@h-be8106e24226d8ee7.com> to=<h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com> proto=SMTP helo=<h-be8106e24226d8ee7>",
			F{"kind": "reject", "action": "reject", "reject_stage": "rcpt", "client_host": "h-be8106e24226d8ee7", "client_ip": "199.229.127.90",
				"response": "550 5.1.1 <h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com>: Recipient address rejected: User unknown in virtual mailbox table", "dsn": "5.1.1",
				"sender": "h-f16@h-be8106e24226d8ee7.com", "recipient": "h-9642cc8a8bc184c40b1@h-ffeb17e38996c.com", "protocol": "SMTP", "helo": "h-be8106e24226d8ee7"}},
		// digineo+postfix_exporter/mail.log: the reply itself holds ", [addr]"
		{"reject client host", "Sep 23 15:53:33 mail postfix/smtpd[3643150]: NOQUEUE: reject: RCPT from unknown[0.0.0.0]: 450 4.7.25 Client host rejected: cannot find your hostname, [0.0.0.0]; from=<spam@example.com> to=<inbox@example.org> proto=ESMTP helo=<mail.port25.com>",
			F{"kind": "reject", "action": "reject", "reject_stage": "rcpt", "client_host": "unknown", "client_ip": "0.0.0.0",
				"response": "450 4.7.25 Client host rejected: cannot find your hostname, [0.0.0.0]", "dsn": "4.7.25",
				"sender": "spam@example.com", "recipient": "inbox@example.org", "protocol": "ESMTP", "helo": "mail.port25.com"}},
		// lightmeterio+ControlCenter/individual_files/17-smtpd-reject.log
		{"queued reject ipv6 helo", "Feb  8 21:28:47 mx postfix/smtps/smtpd[1036]: DE81A2E2DAA: reject: RCPT from unknown[2a02:168:636a::15e2]: 550 5.1.1 <h-c715634009216@h-14dc4a6d.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<h-d2315d@h-24e89d.com> to=<h-c715634009216@h-14dc4a6d.com> proto=ESMTP helo=<[IPv6:2a02:168:636a::15e2]>",
			F{"kind": "reject", "queue_id": "DE81A2E2DAA", "service": "postfix/smtps", "action": "reject", "reject_stage": "rcpt", "client_host": "unknown", "client_ip": "2a02:168:636a::15e2",
				"response": "550 5.1.1 <h-c715634009216@h-14dc4a6d.com>: Recipient address rejected: User unknown in virtual mailbox table", "dsn": "5.1.1",
				"sender": "h-d2315d@h-24e89d.com", "recipient": "h-c715634009216@h-14dc4a6d.com", "protocol": "ESMTP", "helo": "[IPv6:2a02:168:636a::15e2]"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0009.yaml: "; " inside the reply
		{"reject dnsbl helo", smtpdFamilyLine("smtpd", "NOQUEUE: reject: RCPT from news.zihan-promo.com[192.36.205.58]: 554 5.7.1 Service unavailable; Helo command [news.zihan-promo.com] blocked using dbl.spamhaus.org; http://www.spamhaus.org/query/dbl?domain=zihan-promo.com; from=<mark.alexander@zihan-promo.com> to=<tom@example.com> proto=ESMTP helo=<news.zihan-promo.com>"),
			F{"kind": "reject", "action": "reject", "reject_stage": "rcpt", "client_host": "news.zihan-promo.com", "client_ip": "192.36.205.58",
				"response": "554 5.7.1 Service unavailable; Helo command [news.zihan-promo.com] blocked using dbl.spamhaus.org; http://www.spamhaus.org/query/dbl?domain=zihan-promo.com", "dsn": "5.7.1",
				"sender": "mark.alexander@zihan-promo.com", "recipient": "tom@example.com", "protocol": "ESMTP", "helo": "news.zihan-promo.com"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0017.yaml: no sender
		{"reject vrfy", smtpdFamilyLine("smtpd", "NOQUEUE: reject: VRFY from unknown[2001:968:9999:20:88b:9b7d:2a54:2bd2]: 454 4.7.1 <aap@henk.com>: Relay access denied; to=<aap@henk.com> proto=SMTP helo=<me>"),
			F{"kind": "reject", "action": "reject", "reject_stage": "vrfy", "client_host": "unknown", "client_ip": "2001:968:9999:20:88b:9b7d:2a54:2bd2",
				"response": "454 4.7.1 <aap@henk.com>: Relay access denied", "dsn": "4.7.1", "recipient": "aap@henk.com", "protocol": "SMTP", "helo": "me"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0031.yaml
		{"reject_warning", smtpdFamilyLine("smtpd", "NOQUEUE: reject_warning: RCPT from example.com[93.184.216.34]: 553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user ph123; from=<sender@example.com> to=<recipient@example.com> proto=ESMTP helo=<example.com>"),
			F{"kind": "reject", "action": "reject_warning", "reject_stage": "rcpt", "client_host": "example.com", "client_ip": "93.184.216.34",
				"response": "553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user ph123", "dsn": "5.7.1",
				"sender": "sender@example.com", "recipient": "recipient@example.com", "protocol": "ESMTP", "helo": "example.com"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0026.yaml
		{"discard mail", smtpdFamilyLine("smtpd", "NOQUEUE: discard: MAIL from ccm231.constantcontact.com[208.75.123.231]: <bsdbdsfbw==_4343_sdfbddw==@in.constantcontact.com>: Sender address SPAM; from=<bsdbdsfbw==_4343_sdfbddw==@in.constantcontact.com> proto=ESMTP helo=<ccm231.constantcontact.com>"),
			F{"kind": "reject", "action": "discard", "reject_stage": "mail", "client_host": "ccm231.constantcontact.com", "client_ip": "208.75.123.231",
				"detail": "<bsdbdsfbw==_4343_sdfbddw==@in.constantcontact.com>: Sender address SPAM", "sender": "bsdbdsfbw==_4343_sdfbddw==@in.constantcontact.com", "protocol": "ESMTP", "helo": "ccm231.constantcontact.com"}},
		// lightmeterio+ControlCenter/individual_files/20_rejected.log: null sender
		{"filter", "Dec 19 19:42:14 sm02 postfix/submission/smtpd[21379]: NOQUEUE: filter: RCPT from unknown[30.207.11.100]: <>: Sender address triggers FILTER smtp-amavis:[127.0.0.1]:10026; from=<> to=<h-3c3175932cb3b@h-526472e87.com> proto=ESMTP helo=<localhost>",
			F{"kind": "reject", "action": "filter", "reject_stage": "rcpt", "client_host": "unknown", "client_ip": "30.207.11.100",
				"detail": "<>: Sender address triggers FILTER smtp-amavis:[127.0.0.1]:10026", "recipient": "h-3c3175932cb3b@h-526472e87.com", "protocol": "ESMTP", "helo": "localhost"}},
		// sergeymakinen+postfix_exporter/mail.log (day zero-padded: that
		// file's "Jan 1" is not RFC 3164)
		{"milter-reject data", "Jan 01 00:00:00 hostname postfix/smtpd[12345]: 123456789AB: milter-reject: DATA from example.com[123.45.67.89]: 123 1.2.3 Reasons; from=<user@example.com> to=<user@example.com> proto=ESMTP helo=<example.com>",
			F{"kind": "reject", "queue_id": "123456789AB", "action": "milter-reject", "reject_stage": "data", "client_host": "example.com", "client_ip": "123.45.67.89",
				"response": "123 1.2.3 Reasons", "dsn": "1.2.3", "sender": "user@example.com", "recipient": "user@example.com", "protocol": "ESMTP", "helo": "example.com"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0038.yaml
		{"milter-reject rcpt", smtpdFamilyLine("smtpd", "NOQUEUE: milter-reject: RCPT from mailrelay.example.com[8.8.8.8]: 451 4.7.1 Greylisting in action, please come back later; from=<support@example.com> to=<example@example.org> proto=ESMTP helo=<mailrelay.example.com>"),
			F{"kind": "reject", "action": "milter-reject", "reject_stage": "rcpt", "client_host": "mailrelay.example.com", "client_ip": "8.8.8.8",
				"response": "451 4.7.1 Greylisting in action, please come back later", "dsn": "4.7.1", "sender": "support@example.com", "recipient": "example@example.org", "protocol": "ESMTP", "helo": "mailrelay.example.com"}},
		// synthetic: a milter's reply at end of message has no three-digit code
		{"milter-reject eom", "Feb 16 22:23:11 mx postfix/smtpd[17727]: 769FF2E0760: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.1 Command rejected; from=<a@example.com> to=<b@example.org> proto=ESMTP helo=<x>",
			F{"kind": "reject", "queue_id": "769FF2E0760", "action": "milter-reject", "reject_stage": "eom", "client_host": "localhost", "client_ip": "127.0.0.1",
				"response": "5.7.1 Command rejected", "dsn": "5.7.1", "sender": "a@example.com", "recipient": "b@example.org", "protocol": "ESMTP", "helo": "x"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0020.yaml
		{"proxy-accept", smtpdFamilyLine("smtpd", "proxy-accept: END-OF-MESSAGE: 250 2.0.0 from MTA(smtp:[127.0.0.1]:10013): 250 2.0.0 Ok: queued as DF66E940333; from=<user1@test.example.com> to=<user2@example2.com> proto=ESMTP helo=<[127.0.0.1]>"),
			F{"kind": "notice", "action": "proxy-accept", "response": "250 2.0.0 from MTA(smtp:[127.0.0.1]:10013): 250 2.0.0 Ok: queued as DF66E940333", "dsn": "2.0.0",
				"next_queue_id": "DF66E940333", "sender": "user1@test.example.com", "recipient": "user2@example2.com", "protocol": "ESMTP", "helo": "[127.0.0.1]"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0021.yaml: empty reply
		{"proxy-reject empty", smtpdFamilyLine("smtpd", "proxy-reject: END-OF-MESSAGE: ; from=<user1@test.example.com> to=<user2@example2.com> proto=ESMTP helo=<[192.168.0.16]>"),
			F{"kind": "reject", "action": "proxy-reject", "reject_stage": "eom", "sender": "user1@test.example.com", "recipient": "user2@example2.com", "protocol": "ESMTP", "helo": "[192.168.0.16]"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0022.yaml
		{"proxy-reject", smtpdFamilyLine("smtpd", "proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, contact postmaster@example.com, id=31619-02 - spam; from=<> to=<user2@example2.com> proto=SMTP helo=<17.33.12.53>"),
			F{"kind": "reject", "action": "proxy-reject", "reject_stage": "eom", "response": "554 5.7.0 Reject, contact postmaster@example.com, id=31619-02 - spam", "dsn": "5.7.0",
				"recipient": "user2@example2.com", "protocol": "SMTP", "helo": "17.33.12.53"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"tls established", "Jan 28 06:40:37 mail postfix/smtpd[15061]: Anonymous TLS connection established from h-2bf83754162e1[224.73.110.132]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
			F{"kind": "tls", "client_host": "h-2bf83754162e1", "client_ip": "224.73.110.132", "tls_trust": "Anonymous", "tls_protocol": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0010.yaml
		{"tls established 1.2", smtpdFamilyLine("smtpd", "Anonymous TLS connection established from julie.example.com[10.163.89.202]: TLSv1.2 with cipher AECDH-AES256-SHA (256/256 bits)"),
			F{"kind": "tls", "client_host": "julie.example.com", "client_ip": "10.163.89.202", "tls_trust": "Anonymous", "tls_protocol": "TLSv1.2", "tls_cipher": "AECDH-AES256-SHA"}},
		// synthetic: a client certificate that verified
		{"tls trusted", smtpdFamilyLine("smtpd", "Trusted TLS connection established from relay.example.com[192.0.2.4]: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"),
			F{"kind": "tls", "client_host": "relay.example.com", "client_ip": "192.0.2.4", "tls_trust": "Trusted", "tls_protocol": "TLSv1.3", "tls_cipher": "TLS_AES_128_GCM_SHA256"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn
		{"hostname does not resolve", "Jan 24 18:46:56 mail postfix/submission/smtpd[8219]: warning: hostname kraken-2-0-587-20000-lon1-1.1.1.1-0 does not resolve to address 185.150.209.117: Name or service not known",
			F{"kind": "warning", "level": "warning", "client_host": "kraken-2-0-587-20000-lon1-1.1.1.1-0", "client_ip": "185.150.209.117",
				"detail": "hostname kraken-2-0-587-20000-lon1-1.1.1.1-0 does not resolve to address 185.150.209.117: Name or service not known"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0006.yaml
		{"hostname does not resolve bare", smtpdFamilyLine("smtpd", "warning: hostname exemple.com does not resolve to address 185.14.29.32"),
			F{"kind": "warning", "level": "warning", "client_host": "exemple.com", "client_ip": "185.14.29.32", "detail": "hostname exemple.com does not resolve to address 185.14.29.32"}},
		// synthetic: the forward lookup names no such address
		{"address not listed", smtpdFamilyLine("smtpd", "warning: 192.0.2.5: address not listed for hostname mail.example.com"),
			F{"kind": "warning", "level": "warning", "client_host": "mail.example.com", "client_ip": "192.0.2.5", "detail": "192.0.2.5: address not listed for hostname mail.example.com"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.3.gz
		{"non-SMTP command", "Jan  5 08:48:54 mail postfix/submission/smtpd[32125]: warning: non-SMTP command from 224.35.140.53.h-e12e667d28f2b80dd76ca2[224.35.140.53]: GET / HTTP/1.1",
			F{"kind": "warning", "level": "warning", "client_host": "224.35.140.53.h-e12e667d28f2b80dd76ca2", "client_ip": "224.35.140.53",
				"detail": "non-SMTP command from 224.35.140.53.h-e12e667d28f2b80dd76ca2[224.35.140.53]: GET / HTTP/1.1"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.1
		{"tls library problem", "Jan 17 16:10:41 mail postfix/submission/smtpd[26152]: warning: TLS library problem: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol:../ssl/statem/h-0b4fa0295b4be:1661:",
			F{"kind": "warning", "level": "warning", "detail": "TLS library problem: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol:../ssl/statem/h-0b4fa0295b4be:1661:"}},
		// kumina+postfix_exporter/lines_from_exporter_test.log
		{"fatal", "Mar 16 12:28:02 123-mail postfix/smtpd[16268]: fatal: file /etc/postfix/main.cf: parameter default_privs: unknown user name value: nobody",
			F{"kind": "warning", "level": "fatal", "detail": "file /etc/postfix/main.cf: parameter default_privs: unknown user name value: nobody"}},
		// kumina+postfix_exporter/lines_from_exporter_test.log
		{"table changed", "Feb 14 19:05:25 123-mail postfix/smtpd[1517]: table hash:/etc/postfix/virtual_mailbox_maps(0,lock|fold_fix) has changed -- restarting",
			F{"kind": "notice", "detail": "table hash:/etc/postfix/virtual_mailbox_maps(0,lock|fold_fix) has changed -- restarting"}},
		// whyscream+postfix-grok-patterns/test/smtpd_0039.yaml
		{"discarding ehlo keywords", smtpdFamilyLine("smtpd", "discarding EHLO keywords: CHUNKING ETRN DSN 8BITMIME"),
			F{"kind": "notice", "detail": "CHUNKING ETRN DSN 8BITMIME"}},
		// sergeymakinen+postfix_exporter/mail.log: a cut reject keeps its action
		{"reject cut", "Jan 01 00:00:00 hostname postfix/smtpd[12345]: NOQUEUE: reject: Unsupported",
			F{"kind": "reject", "action": "reject", "detail": "Unsupported"}},
		// sergeymakinen+postfix_exporter/mail.log: not a Postfix message
		{"garbage", "Jan 01 00:00:00 hostname postfix/smtpd[12345]: Unsupported",
			F{"kind": "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLine(t, tt.line, tt.want) })
	}
}

// TestSmtpdCutLines feeds prefixes of real lines and odd spacing: nothing may
// panic, and a line cut inside the trailing fields keeps what it has.
func TestSmtpdCutLines(t *testing.T) {
	// lightmeterio+ControlCenter/individual_files/17-smtpd-reject-with-milter-reject.log
	// (the corpus line is itself cut inside to=<...>)
	checkLine(t, "Feb 16 22:23:11 mx postfix/smtpd[17727]: 769FF2E0760: reject: RCPT from h-72f555a0840e4b9553[117.165.155.187]: 550 5.1.1 <h-0b38f31d8f5146498e8862@h-ff6b5e9182fd933.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<h-59bd@h-183bcda0e2fe4.com> to=<h-0b38f31d8f5146498e8862@h-ff6b5e9182fd",
		F{"kind": "reject", "queue_id": "769FF2E0760", "action": "reject", "reject_stage": "rcpt", "client_host": "h-72f555a0840e4b9553", "client_ip": "117.165.155.187",
			"response": "550 5.1.1 <h-0b38f31d8f5146498e8862@h-ff6b5e9182fd933.com>: Recipient address rejected: User unknown in virtual mailbox table", "dsn": "5.1.1",
			"sender": "h-59bd@h-183bcda0e2fe4.com", "recipient": "h-0b38f31d8f5146498e8862@h-ff6b5e9182fd"})
	full := []string{
		"Sep 23 15:53:33 mail postfix/smtpd[3643150]: NOQUEUE: reject: RCPT from unknown[0.0.0.0]: 450 4.7.25 Client host rejected: cannot find your hostname, [0.0.0.0]; from=<spam@example.com> to=<inbox@example.org> proto=ESMTP helo=<mail.port25.com>",
		"Jan 28 06:40:37 mail postfix/smtpd[15061]: Anonymous TLS connection established from h-2bf83754162e1[224.73.110.132]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		"Oct 13 16:40:42 ucs postfix/smtpd[18581]: ED01244770: client=localhost[127.0.0.1], orig_queue_id=4F5C64474F, orig_client=unknown[28.55.140.112]",
		"Jan 22 21:03:32 mail postfix/smtpd[29746]: warning: unknown[177.20.170.112]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=x",
		"Jan 28 06:40:37 mail postfix/smtpd[15061]: proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as DF66E940333; from=<a> to=<b> proto=ESMTP helo=<[127.0.0.1]>",
		"Jan 28 06:40:37 mail postfix/smtpd[15061]: lost connection after DATA (7774180 bytes) from unknown[72.13.58.7]",
		"Jan 28 06:40:37 mail postfix/smtpd[15061]: warning: hostname x does not resolve to address 1.2.3.4: Name or service not known",
		"Jan 28 06:40:37 mail postfix/postscreen[15061]: COMMAND PIPELINING from [112.103.155.150]:45414 after ?: \\001",
		"Jan 28 06:40:37 mail postfix/postscreen[15061]: NOQUEUE: reject: RCPT from [155.63.95.6]:63966: 550 5.7.1 x; from=<a>, to=<b>, proto=ESMTP, helo=<c>",
		"Jan 28 06:40:37 mail postfix/postscreen[15061]: PREGREET 18 after 0 from [222.85.244.30]:46794: EHLO zg\\r\\n",
		"Jan 28 06:40:37 mail postfix/postscreen[15061]: CONNECT from [1.2.3.4]:5678 to [5.6.7.8]:25",
		"Jan 28 06:40:37 mail postfix/dnsblog[15061]: addr 1.2.3.4 listed by domain zen.spamhaus.org as 127.0.0.3",
		"Jan 28 06:40:37 mail postfix/tlsproxy[15061]: Anonymous TLS connection established from [147.95.50.135]:48198: TLSv1.2 with cipher X (256/256 bits)",
	}
	p := &Parser{Location: time.UTC}
	for _, line := range full {
		for i := range len(line) {
			p.Parse(line[:i], testRef)
		}
	}
	// Odd spacing and empty parts.
	for _, msg := range []string{
		"connect from ", "connect from [", "disconnect from x[", "lost connection after  from ", "timeout after",
		"NOQUEUE: ", "NOQUEUE: reject:", "NOQUEUE: reject: RCPT from x[1.2.3.4]", "ABCDE12345: client=",
		"warning: x[1.2.3.4]: SASL  authentication failed", "warning: hostname  does not resolve to address ",
		"Anonymous TLS connection established from x[1.2.3.4]", "proxy-reject: ", "proxy-accept: END-OF-MESSAGE:",
		"x[1.2.3.4]: ", "[", "]", ":", "SSL_accept error from ",
	} {
		p.Parse("Jan 28 06:40:37 mail postfix/smtpd[1]: "+msg, testRef)
	}
}
