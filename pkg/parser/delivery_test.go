package parser

import (
	"testing"
	"time"
)

func dly(a, b, c, d float64) F {
	return F{"before_qmgr": a, "in_qmgr": b, "conn_setup": c, "transmission": d}
}

func TestDelivery(t *testing.T) {
	const grok = "whyscream+postfix-grok-patterns/test/"
	cases := []struct {
		src, line string
		want      F
	}{
		// Delivery records.
		{"lightmeterio+ControlCenter/individual_files/14_reuse_of_queueid.log",
			`Sep  4 01:25:10 smtpnode06 postfix-170.55.103.23/smtp[6980]: 8A2373D47C: to=<h-8bbf27f9689@h-05c3ae107.com>, relay=170.55.103.23[170.55.103.23]:2501, conn_use=2, delay=0.74, delays=0.13/0.55/0/0.06, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 31DF53D477)`,
			F{"queue_id": "8A2373D47C", "kind": "delivery", "recipient": "h-8bbf27f9689@h-05c3ae107.com",
				"relay_host": "170.55.103.23", "relay_ip": "170.55.103.23", "relay_port": 2501, "delay": 0.74,
				"delays": dly(0.13, 0.55, 0, 0.06), "dsn": "2.0.0", "status": "sent",
				"response": "250 2.0.0 Ok: queued as 31DF53D477", "next_queue_id": "31DF53D477"}},
		{"lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log",
			`Jun 20 05:02:35 ns4 postfix/smtp[16629]: E389F657C: to=<h-94723d9c85e1@h-a85427309c70.com>, orig_to=<h-94723d9c85e1@h-20b651e8120a33ec11.com>, relay=h-a85427309c70[199.3.254.155]:25, delay=0.26, delays=0.09/0.01/0.13/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2ACE7800D0)`,
			F{"queue_id": "E389F657C", "kind": "delivery", "recipient": "h-94723d9c85e1@h-a85427309c70.com",
				"orig_recipient": "h-94723d9c85e1@h-20b651e8120a33ec11.com",
				"relay_host":     "h-a85427309c70", "relay_ip": "199.3.254.155", "relay_port": 25, "delay": 0.26,
				"delays": dly(0.09, 0.01, 0.13, 0.02), "dsn": "2.0.0", "status": "sent",
				"response": "250 2.0.0 Ok: queued as 2ACE7800D0", "next_queue_id": "2ACE7800D0"}},
		// An after-queue content filter (amavisd) answers with the reinjected id last.
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.log",
			`Jan 28 06:40:37 mail postfix/smtp[15076]: 8BD903012026: to=<h-f16@h-ffeb17e38996c.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.55, delays=0.44/0.01/0/0.09, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027)`,
			F{"queue_id": "8BD903012026", "kind": "delivery", "recipient": "h-f16@h-ffeb17e38996c.com",
				"relay_host": "127.0.0.1", "relay_ip": "127.0.0.1", "relay_port": 10024, "delay": 0.55,
				"delays": dly(0.44, 0.01, 0, 0.09), "dsn": "2.0.0", "status": "sent",
				"response": "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027", "next_queue_id": "BF76C3012027"}},
		// relay=none: nothing was contacted; the response holds parentheses of its own.
		{"lightmeterio+ControlCenter/individual_files/2_multiple_recipients_some_bounces_no_last_remove.log",
			`Dec  9 10:18:24 mail postfix/smtp[20054]: 1310930001DB: to=<recipient42@example.com>, relay=none, delay=0.09, delays=0.02/0.05/0.02/0, dsn=5.1.0, status=bounced (Domain example.com does not accept mail (nullMX))`,
			F{"queue_id": "1310930001DB", "kind": "delivery", "recipient": "recipient42@example.com", "delay": 0.09,
				"delays": dly(0.02, 0.05, 0.02, 0), "dsn": "5.1.0", "status": "bounced",
				"response": "Domain example.com does not accept mail (nullMX)"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Dec 29 02:54:12 mail postfix/smtp[7648]: 732BB407C3: to=<redacted@domain.com>, relay=mail.domain.com[1.1.1.1]:25, delay=6.2, delays=0.1/0/5.2/0.87, dsn=4.0.0, status=deferred (host mail.domain.com[1.1.1.1] said: 451 DT:SPM 163 mx40,WsCowAAnEhlCoEVa5GjcAA--.20089S3 1514512452, please try again 15min later (in reply to end of DATA command))`,
			F{"queue_id": "732BB407C3", "kind": "delivery", "recipient": "redacted@domain.com",
				"relay_host": "mail.domain.com", "relay_ip": "1.1.1.1", "relay_port": 25, "delay": 6.2,
				"delays": dly(0.1, 0, 5.2, 0.87), "dsn": "4.0.0", "status": "deferred",
				"response": "host mail.domain.com[1.1.1.1] said: 451 DT:SPM 163 mx40,WsCowAAnEhlCoEVa5GjcAA--.20089S3 1514512452, please try again 15min later (in reply to end of DATA command)"}},
		{"lightmeterio+ControlCenter/individual_files/31_inbound_reply.log",
			`Apr 22 16:04:30 lightmetermail postfix/smtp[2153]: 97B24177716: to=<original_recipient@example2.com>, relay=email-smtp.us-east-1.amazonaws.com[3.3.3.3]:587, delay=2.1, delays=0.59/0.04/0.89/0.6, dsn=2.0.0, status=sent (250 Ok 010001805204880d-1c44c665-2190-439a-be35-87019be5e2b5-000000)`,
			F{"queue_id": "97B24177716", "kind": "delivery", "recipient": "original_recipient@example2.com",
				"relay_host": "email-smtp.us-east-1.amazonaws.com", "relay_ip": "3.3.3.3", "relay_port": 587, "delay": 2.1,
				"delays": dly(0.59, 0.04, 0.89, 0.6), "dsn": "2.0.0", "status": "sent",
				"response": "250 Ok 010001805204880d-1c44c665-2190-439a-be35-87019be5e2b5-000000"}},
		// lmtp over a unix socket: the host stays, the socket is no relay_ip.
		{"lightmeterio+ControlCenter/individual_files/25_authclean_cleanup.log",
			`2022-01-08T19:42:13.582889+00:00 mail postfix/lmtp[19195]: 1F5A2194AA9: to=<user@recipient.example.com>, orig_to=<recipient@recipient.example.com>, relay=localrelay.example.com[private/dovecot-lmtp], delay=0.5, delays=0.47/0.01/0.01/0.01, dsn=2.0.0, status=sent (250 2.0.0 <user@sender.example.com> JwAdIhXp2WH8SgAA7gYhOg Saved)`,
			F{"queue_id": "1F5A2194AA9", "kind": "delivery", "recipient": "user@recipient.example.com",
				"orig_recipient": "recipient@recipient.example.com", "relay_host": "localrelay.example.com", "delay": 0.5,
				"delays": dly(0.47, 0.01, 0.01, 0.01), "dsn": "2.0.0", "status": "sent",
				"response": "250 2.0.0 <user@sender.example.com> JwAdIhXp2WH8SgAA7gYhOg Saved"}},
		{"proxmox+pmg-log-tracker/test_input_time_rfc3339_mixed",
			`2023-06-23T14:26:33.418637+02:00 pmg1 postfix/lmtp[1186]: 520C9C0192: to=<test@mydomain.tld>, relay=127.0.0.1[127.0.0.1]:10024, delay=4.1, delays=0.06/0/0.05/4, dsn=2.5.0, status=sent (250 2.5.0 OK (C019B64958F756CDA5))`,
			F{"queue_id": "520C9C0192", "kind": "delivery", "recipient": "test@mydomain.tld",
				"relay_host": "127.0.0.1", "relay_ip": "127.0.0.1", "relay_port": 10024, "delay": 4.1,
				"delays": dly(0.06, 0, 0.05, 4), "dsn": "2.5.0", "status": "sent",
				"response": "250 2.5.0 OK (C019B64958F756CDA5)"}},
		{"sergeymakinen+postfix_exporter/mail.log",
			`2023-02-01T01:02:04.123456+00:00 hostname postfix/lmtp[12345]: 123456789AB: to=<user@example.com>, relay=example.com[123.45.67.89]:25, delay=1.23, delays=1.23/1.23/1.23/1.23, dsn=1.2.3, status=bounced (123 #1.2.3 Reasons)`,
			F{"queue_id": "123456789AB", "kind": "delivery", "recipient": "user@example.com",
				"relay_host": "example.com", "relay_ip": "123.45.67.89", "relay_port": 25, "delay": 1.23,
				"delays": dly(1.23, 1.23, 1.23, 1.23), "dsn": "1.2.3", "status": "bounced", "response": "123 #1.2.3 Reasons"}},
		// local, virtual, pipe: the transport is the relay.
		{"lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log",
			`Jun 20 05:02:07 ns4 postfix/local[16460]: 95154657C: to=<h-493fac8f3@h-ea3f4afa.com>, orig_to=<h-195704c@h-20b651e8120a33ec11.com>, relay=local, delay=0.1, delays=0.09/0/0/0.01, dsn=2.0.0, status=sent (delivered to command: procmail -a "$EXTENSION" DEFAULT=$HOME/Maildir/)`,
			F{"queue_id": "95154657C", "kind": "delivery", "recipient": "h-493fac8f3@h-ea3f4afa.com",
				"orig_recipient": "h-195704c@h-20b651e8120a33ec11.com", "relay_host": "local", "delay": 0.1,
				"delays": dly(0.09, 0, 0, 0.01), "dsn": "2.0.0", "status": "sent",
				"response": `delivered to command: procmail -a "$EXTENSION" DEFAULT=$HOME/Maildir/`}},
		// A line cut by syslog keeps what arrived.
		{"lightmeterio+ControlCenter/individual_files/18_expired.log",
			`Sep 30 20:46:08 smtpnode16 postfix-239.58.50.50/local[23557]: A7E673C067: to=<h-498b874f2bf0cf639807ad80e1@h-5e67b9b4406.com>, relay=local, delay=0.14, delays=0.01/0/0.11/0.02, dsn=2.0.0, status=sent (delivered to command: procmail -a "$EXTENSION" DEFAULT=$HOME/Maild`,
			F{"queue_id": "A7E673C067", "kind": "delivery", "recipient": "h-498b874f2bf0cf639807ad80e1@h-5e67b9b4406.com",
				"relay_host": "local", "delay": 0.14, "delays": dly(0.01, 0, 0.11, 0.02), "dsn": "2.0.0", "status": "sent",
				"response": `delivered to command: procmail -a "$EXTENSION" DEFAULT=$HOME/Maild`}},
		{"lightmeterio+ControlCenter/individual_files/22_virtual_delivery.log",
			`Jul  8 17:05:25 mail postfix/virtual[21138]: EA015DF2B6: to=<recipient@recipient.example.com>, relay=virtual, delay=0.16, delays=0.11/0.03/0/0.02, dsn=2.0.0, status=sent (delivered to maildir)`,
			F{"queue_id": "EA015DF2B6", "kind": "delivery", "recipient": "recipient@recipient.example.com",
				"relay_host": "virtual", "delay": 0.16, "delays": dly(0.11, 0.03, 0, 0.02), "dsn": "2.0.0", "status": "sent",
				"response": "delivered to maildir"}},
		{"lightmeterio+ControlCenter/individual_files/16_corrupted_messageid.log",
			`Jan 26 15:50:22 mx postfix/pipe[1565]: 1A3642E0C5C: to=<h-3595419e35f@h-ff6b5e9182fd933.com>, relay=dovecot, delay=1.9, delays=1.7/0.01/0/0.15, dsn=2.0.0, status=sent (delivered via dovecot service)`,
			F{"queue_id": "1A3642E0C5C", "kind": "delivery", "recipient": "h-3595419e35f@h-ff6b5e9182fd933.com",
				"relay_host": "dovecot", "delay": 1.9, "delays": dly(1.7, 0.01, 0, 0.15), "dsn": "2.0.0", "status": "sent",
				"response": "delivered via dovecot service"}},
		// Grok cases (message text with a syslog header prepended).
		{grok + "local_0001.yaml",
			`Jun  3 10:40:57 mx postfix/local[4242]: 2A22C263F6: to=user@hostname.example.com, orig_to=root@localhost, relay=local, delay=0.07, delays=0.04/0/0/0.03, dsn=2.0.0, status=sent (delivered to command: procmail -a "$EXTENSION")`,
			F{"queue_id": "2A22C263F6", "kind": "delivery", "recipient": "user@hostname.example.com", "orig_recipient": "root@localhost",
				"relay_host": "local", "delay": 0.07, "delays": dly(0.04, 0, 0, 0.03), "dsn": "2.0.0", "status": "sent",
				"response": `delivered to command: procmail -a "$EXTENSION"`}},
		{grok + "discard_0001.yaml",
			`Jun  3 10:40:57 mx postfix/discard[4242]: 25F2E5E061: to=<george.desantis@test.example.com>, relay=none, delay=0.05, delays=0.05/0/0/0, dsn=2.0.0, status=sent (test.example.com)`,
			F{"queue_id": "25F2E5E061", "kind": "delivery", "recipient": "george.desantis@test.example.com",
				"delay": 0.05, "delays": dly(0.05, 0, 0, 0), "dsn": "2.0.0", "status": "sent", "response": "test.example.com"}},
		{grok + "error_0002.yaml",
			`Jun  3 10:40:57 mx postfix/error[4242]: 3E29030F8637E: to=<user@yahoo.com>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, status=undeliverable-but-not-cached (User unknown in virtual alias table)`,
			F{"queue_id": "3E29030F8637E", "kind": "delivery", "recipient": "user@yahoo.com",
				"delay": 0.01, "delays": dly(0.01, 0, 0, 0), "dsn": "5.1.1", "status": "undeliverable-but-not-cached",
				"response": "User unknown in virtual alias table"}},
		{grok + "smtp_0017.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: AD6E41CDC05C: to=<admin@example.com>, relay=sub1.example.com[private/dovecot-lmtp], delay=0.15, delays=0.04/0/0.02/0.08, dsn=2.0.0, status=sent (250 2.0.0 <admin@example.com> qYyyBMsl9FRuZQAAA15QOA Saved)`,
			F{"queue_id": "AD6E41CDC05C", "kind": "delivery", "recipient": "admin@example.com", "relay_host": "sub1.example.com",
				"delay": 0.15, "delays": dly(0.04, 0, 0.02, 0.08), "dsn": "2.0.0", "status": "sent",
				"response": "250 2.0.0 <admin@example.com> qYyyBMsl9FRuZQAAA15QOA Saved"}},
		{grok + "tls_features_0005.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: 7EE668039: to=<user@example.com>, relay=mail.example.com[1.2.3.4]:25, delay=3.6, delays=0.08/0.02/0.85/0.14, tls=dane/!requiretls:nocertmatch, dsn=2.1.5, status=sent (250 2.0.0 Ok: queued as 153053D)`,
			F{"queue_id": "7EE668039", "kind": "delivery", "recipient": "user@example.com",
				"relay_host": "mail.example.com", "relay_ip": "1.2.3.4", "relay_port": 25, "delay": 3.6,
				"delays": dly(0.08, 0.02, 0.85, 0.14), "tls_level": "dane", "dsn": "2.1.5", "status": "sent",
				"response": "250 2.0.0 Ok: queued as 153053D", "next_queue_id": "153053D"}},

		// Sessions with remote servers.
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.log",
			`Jan 28 16:10:56 mail postfix/smtp[3793]: E83BB301202A: lost connection with h-bbc4b9165ca87161771776f10f217c9a551bfc[254.112.58.83] while sending RCPT TO`,
			F{"queue_id": "E83BB301202A", "kind": "lost_connection", "relay_host": "h-bbc4b9165ca87161771776f10f217c9a551bfc",
				"relay_ip": "254.112.58.83", "after": "RCPT",
				"detail": "lost connection with h-bbc4b9165ca87161771776f10f217c9a551bfc[254.112.58.83] while sending RCPT TO"}},
		{grok + "smtp_0022.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: 78D6B41: conversation with mx00.gmx.com[74.208.5.4] timed out while receiving the initial server greeting`,
			F{"queue_id": "78D6B41", "kind": "lost_connection", "relay_host": "mx00.gmx.com", "relay_ip": "74.208.5.4", "after": "CONNECT",
				"detail": "conversation with mx00.gmx.com[74.208.5.4] timed out while receiving the initial server greeting"}},
		{grok + "smtp_0005.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: connect to intern.nl[194.109.6.98]:25: Connection timed out`,
			F{"kind": "lost_connection", "relay_host": "intern.nl", "relay_ip": "194.109.6.98", "relay_port": 25, "detail": "Connection timed out"}},
		{grok + "smtp_0025.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: connect to aspmx.l.google.com[2a00:1450:400b:c02::1a]:25: Network is unreachable`,
			F{"kind": "lost_connection", "relay_host": "aspmx.l.google.com", "relay_ip": "2a00:1450:400b:c02::1a", "relay_port": 25, "detail": "Network is unreachable"}},
		{grok + "smtp_0029.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: SSL_connect error to mail.example.org[112.63.65.2]:25: lost connection`,
			F{"kind": "lost_connection", "relay_host": "mail.example.org", "relay_ip": "112.63.65.2", "relay_port": 25, "detail": "lost connection"}},
		{grok + "smtp_0034.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: 40197AA: host mg2.egov.bg[213.91.191.86] refused to talk to me: 450 4.3.2 try again later`,
			F{"queue_id": "40197AA", "kind": "lost_connection", "relay_host": "mg2.egov.bg", "relay_ip": "213.91.191.86",
				"dsn": "4.3.2", "response": "450 4.3.2 try again later"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Dec 29 02:54:09 mail postfix/smtp[7648]: 732BB407C3: host mail.domain.com[1.1.1.1] said: 451 DT:SPM 163 mx13,P8CowECpNVM_oEVaenoEAQ--.23796S3 1514512449, please try again 15min later (in reply to end of DATA command)`,
			F{"queue_id": "732BB407C3", "kind": "notice", "relay_host": "mail.domain.com", "relay_ip": "1.1.1.1", "after": "END-OF-MESSAGE",
				"response": "451 DT:SPM 163 mx13,P8CowECpNVM_oEVaenoEAQ--.23796S3 1514512449, please try again 15min later"}},
		{"lightmeterio+ControlCenter/individual_files/6_deferred_message_retry.log",
			`Dec  7 13:28:02 mail postfix/smtp[18832]: A17F830001CA: host mailin5.zih.recipient.relay.example.com[11.22.33.44] said: 451-You have been greylisted. This is part of our standard anti-spam measures 451-and your mail system should automatically try again later. We will accept 451 this mail from you in 42 seconds (in reply to RCPT TO command)`,
			F{"queue_id": "A17F830001CA", "kind": "notice", "relay_host": "mailin5.zih.recipient.relay.example.com", "relay_ip": "11.22.33.44", "after": "RCPT",
				"response": "451-You have been greylisted. This is part of our standard anti-spam measures 451-and your mail system should automatically try again later. We will accept 451 this mail from you in 42 seconds"}},
		{grok + "smtp_0024.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: 2690D8044: host mta7.am0.yahoodns.net[66.196.118.34] said: 451 4.3.2 Internal error reading data (in reply to MAIL FROM command)`,
			F{"queue_id": "2690D8044", "kind": "notice", "relay_host": "mta7.am0.yahoodns.net", "relay_ip": "66.196.118.34", "after": "MAIL",
				"dsn": "4.3.2", "response": "451 4.3.2 Internal error reading data"}},
		{grok + "smtp_0023.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: 644D53D: host gmail-smtp-in.l.google.com[74.125.136.26] said: 421-4.7.0 [1.2.3.4      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/answer/81126 to review our Bulk Email 421 4.7.0 Senders Guidelines. bv15si15610322wjb.142 - gsmtp (in reply to end of DATA command)`,
			F{"queue_id": "644D53D", "kind": "notice", "relay_host": "gmail-smtp-in.l.google.com", "relay_ip": "74.125.136.26", "after": "END-OF-MESSAGE",
				"dsn": "4.7.0", "response": "421-4.7.0 [1.2.3.4      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/answer/81126 to review our Bulk Email 421 4.7.0 Senders Guidelines. bv15si15610322wjb.142 - gsmtp"}},
		{grok + "smtp_0032.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: D0F29603B4: SASL authentication failed; server xyz.example.com[1.2.3.4] said: 535 5.7.8 Error: authentication failed: authentication failure`,
			F{"queue_id": "D0F29603B4", "kind": "auth_failure", "relay_host": "xyz.example.com", "relay_ip": "1.2.3.4",
				"dsn": "5.7.8", "response": "535 5.7.8 Error: authentication failed: authentication failure"}},

		// TLS.
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.log",
			`Jan 28 07:00:05 mail postfix/smtp[20205]: Untrusted TLS connection established to h-213dce00be4cedefd[199.170.45.30]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)`,
			F{"kind": "tls", "relay_host": "h-213dce00be4cedefd", "relay_ip": "199.170.45.30", "relay_port": 25,
				"tls_trust": "Untrusted", "tls_protocol": "TLSv1.2", "tls_cipher": "ECDHE-RSA-AES256-GCM-SHA384"}},
		{"lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log",
			`Jun 20 05:02:35 ns4 postfix/smtp[16629]: Anonymous TLS connection established to h-a85427309c70[199.3.254.155]:25: TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)`,
			F{"kind": "tls", "relay_host": "h-a85427309c70", "relay_ip": "199.3.254.155", "relay_port": 25,
				"tls_trust": "Anonymous", "tls_protocol": "TLSv1.2", "tls_cipher": "ADH-AES256-GCM-SHA384"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Jul 24 03:28:15 mail postfix/smtp[24052]: Verified TLS connection established to mx2.comcast.net[2001:558:fe21:2a::6]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)`,
			F{"kind": "tls", "relay_host": "mx2.comcast.net", "relay_ip": "2001:558:fe21:2a::6", "relay_port": 25,
				"tls_trust": "Verified", "tls_protocol": "TLSv1.2", "tls_cipher": "ECDHE-RSA-AES256-GCM-SHA384"}},
		{grok + "smtp_0035.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: Untrusted TLS connection established to gmail-smtp-in.l.google.com[74.125.128.27]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256`,
			F{"kind": "tls", "relay_host": "gmail-smtp-in.l.google.com", "relay_ip": "74.125.128.27", "relay_port": 25,
				"tls_trust": "Untrusted", "tls_protocol": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384"}},
		{grok + "smtp_0027.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: certificate verification failed for mail.example.com[113.169.17.115]:25: self-signed certificate.`,
			F{"kind": "notice", "relay_host": "mail.example.com", "relay_ip": "113.169.17.115", "relay_port": 25, "detail": "self-signed certificate."}},

		// Notices.
		{grok + "smtp_0031.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: B0ADE20FC7: enabling PIX workarounds: disable_esmtp delay_dotcrlf for example.com[93.184.216.34]:25`,
			F{"queue_id": "B0ADE20FC7", "kind": "notice", "relay_host": "example.com", "relay_ip": "93.184.216.34", "relay_port": 25,
				"detail": "disable_esmtp delay_dotcrlf"}},
		{"lightmeterio+ControlCenter/individual_files/14_reuse_of_queueid.log",
			`Sep  4 01:24:11 smtpnode06 postfix-170.55.103.23/smtp[6980]: discarding EHLO keywords: 8BITMIME STARTTLS`,
			F{"kind": "notice", "detail": "discarding EHLO keywords: 8BITMIME STARTTLS"}},

		// Warnings.
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.warn.1",
			`Jan 21 16:00:07 mail postfix/smtp[21795]: warning: no MX host for h-79b8754e6 has a valid address record`,
			F{"kind": "warning", "level": "warning", "detail": "no MX host for h-79b8754e6 has a valid address record"}},
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.warn.4.gz",
			`Dec 30 08:00:47 mail postfix/smtp[756]: warning: TLS library problem: error:1425F102:SSL routines:ssl_choose_client_version:unsupported protocol:../ssl/statem/h-e5bbe8e27039:1929:`,
			F{"kind": "warning", "level": "warning", "detail": "TLS library problem: error:1425F102:SSL routines:ssl_choose_client_version:unsupported protocol:../ssl/statem/h-e5bbe8e27039:1929:"}},
		{grok + "smtp_0019.yaml",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: warning: problem talking to service private/scache: Connection timed out`,
			F{"kind": "warning", "level": "warning", "detail": "problem talking to service private/scache: Connection timed out"}},
		// Synthetic: a warning naming a server puts it in relay_*.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/smtp[4242]: warning: host mx.example.com[192.0.2.7]:25 greeted me with my own hostname mx.example.com`,
			F{"kind": "warning", "level": "warning", "relay_host": "mx.example.com", "relay_ip": "192.0.2.7", "relay_port": 25,
				"detail": "host mx.example.com[192.0.2.7]:25 greeted me with my own hostname mx.example.com"}},
		// Synthetic: "forwarded as" from local(8) names the next queue id.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/local[4242]: 3B1C2D4E5F: to=<a@example.com>, relay=local, delay=0.01, delays=0/0/0/0.01, dsn=2.0.0, status=sent (forwarded as 4C2D3E5F6A)`,
			F{"queue_id": "3B1C2D4E5F", "kind": "delivery", "recipient": "a@example.com", "relay_host": "local", "delay": 0.01,
				"delays": dly(0, 0, 0, 0.01), "dsn": "2.0.0", "status": "sent", "response": "forwarded as 4C2D3E5F6A", "next_queue_id": "4C2D3E5F6A"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
}

// TestDeliveryAnonymisedIDs covers corpus lines whose queue ids were
// replaced by letter patterns ("BABABABABA") that read like words.
func TestDeliveryAnonymisedIDs(t *testing.T) {
	// lightmeterio+ControlCenter/individual_files/14_reuse_of_queueid.log
	checkLine(t, `Sep  4 01:24:11 smtpnode06 postfix-170.55.103.23/smtp[6980]: DADADADADA: to=<h-4037cdee42da82c8d@h-526472e87.com>, relay=170.55.103.23[170.55.103.23]:2501, delay=0.15, delays=0.13/0/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as BABABABABA)`,
		F{"queue_id": "DADADADADA", "kind": "delivery", "recipient": "h-4037cdee42da82c8d@h-526472e87.com",
			"relay_host": "170.55.103.23", "relay_ip": "170.55.103.23", "relay_port": 2501, "delay": 0.15,
			"delays": dly(0.13, 0, 0, 0.02), "dsn": "2.0.0", "status": "sent",
			"response": "250 2.0.0 Ok: queued as BABABABABA", "next_queue_id": "BABABABABA"})
}

// TestDeliverySergeymakinen covers that exporter's test lines, among them
// deliberately malformed ones.
func TestDeliverySergeymakinen(t *testing.T) {
	// sergeymakinen+postfix_exporter/mail.log
	checkLine(t, `Jan 1 00:00:00 hostname postfix/lmtp[12345]: 123456789AB: to=<user@example.com>, relay=example.com[path], delay=0.12, delays=0.12/0.12/0.12/0.12, dsn=1.2.3, status=sent (250 2.0.0 Ok: queued as aaaaaaaaaaaaa)`,
		F{"queue_id": "123456789AB", "kind": "delivery", "recipient": "user@example.com", "relay_host": "example.com",
			"delay": 0.12, "delays": dly(0.12, 0.12, 0.12, 0.12), "dsn": "1.2.3", "status": "sent",
			"response": "250 2.0.0 Ok: queued as aaaaaaaaaaaaa", "next_queue_id": "aaaaaaaaaaaaa"})
	// The recipient lost its "to=" key: still a delivery, without recipient.
	checkLine(t, `Jan 1 00:00:00 hostname postfix/smtp[12345]: 123456789AB: user@example.com, relay=example.com[123.45.67.89]:25, delay=2, delays=2/2/2/2, dsn=1.2.3, status=deferred (host example.com[123.45.67.89] said: 12 Malformed (in reply to RCPT TO command))`,
		F{"queue_id": "123456789AB", "kind": "delivery", "relay_host": "example.com", "relay_ip": "123.45.67.89", "relay_port": 25,
			"delay": 2, "delays": dly(2, 2, 2, 2), "dsn": "1.2.3", "status": "deferred",
			"response": "host example.com[123.45.67.89] said: 12 Malformed (in reply to RCPT TO command)"})
	checkLine(t, `Jan 1 00:00:00 hostname postfix/smtp[12345]: 123456789AB: host example.com[123.45.67.89] said: 12 Malformed (in reply to RCPT TO command)`,
		F{"queue_id": "123456789AB", "kind": "notice", "relay_host": "example.com", "relay_ip": "123.45.67.89", "after": "RCPT",
			"response": "12 Malformed"})
	checkLine(t, `Jan 1 00:00:00 hostname postfix/smtp[12345]: Unsupported`, F{"kind": "unknown"})
}

// TestDeliveryOddInput feeds cut and malformed lines: none may panic, and
// what cannot be read stays unknown.
func TestDeliveryOddInput(t *testing.T) {
	p := &Parser{}
	prefix := "Jun  3 10:40:57 mx postfix/smtp[4242]: "
	full := []string{
		`8A2373D47C: to=<h-8bbf27f9689@h-05c3ae107.com>, orig_to=<x@y>, relay=170.55.103.23[170.55.103.23]:2501, conn_use=2, delay=0.74, delays=0.13/0.55/0/0.06, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 31DF53D477)`,
		`E83BB301202A: lost connection with h-bbc[254.112.58.83] while performing the EHLO handshake`,
		`40197AA: host mg2.egov.bg[213.91.191.86] refused to talk to me: 450 4.3.2 try again later`,
		`D0F29603B4: SASL authentication failed; server xyz.example.com[1.2.3.4] said: 535 5.7.8 Error`,
		`Untrusted TLS connection established to h[1.2.3.4]:25: TLSv1.2 with cipher X (256/256 bits)`,
		`B0ADE20FC7: enabling PIX workarounds: disable_esmtp delay_dotcrlf for example.com[93.184.216.34]:25`,
		`connect to intern.nl[194.109.6.98]:25: Connection timed out`,
		`mx.example.com[192.0.2.1]:25: subject_CN=mx.example.com, issuer_CN=R3`,
	}
	for _, msg := range full {
		for i := 0; i <= len(msg); i++ {
			p.Parse(prefix+msg[:i], time.Time{})
		}
	}
	for _, line := range []string{
		prefix + `8A2373D47C: to=<a@b`,
		prefix + `8A2373D47C: to=<a@b>, status=`,
		prefix + `8A2373D47C: to=, relay=, delay=, delays=1/2, status=sent (`,
		prefix + `8A2373D47C:  to=<a>,,  relay=x[1.2.3.4]:,  status=sent  (ok)`,
		prefix + `E83BB301202A: lost connection with while performing the  handshake`,
		prefix + `host [`,
		prefix + `connect to `,
	} {
		p.Parse(line, time.Time{})
	}
	checkLine(t, prefix+`E83BB301202A: lost connection with h-bbc[254.112.58.83] while performing the EHLO handshake`,
		F{"queue_id": "E83BB301202A", "kind": "lost_connection", "relay_host": "h-bbc", "relay_ip": "254.112.58.83", "after": "EHLO",
			"detail": "lost connection with h-bbc[254.112.58.83] while performing the EHLO handshake"})
	checkLine(t, prefix+`mx.example.com[192.0.2.1]:25: subject_CN=mx.example.com, issuer_CN=R3`,
		F{"kind": "notice", "relay_host": "mx.example.com", "relay_ip": "192.0.2.1", "relay_port": 25, "detail": "subject_CN=mx.example.com, issuer_CN=R3"})
	checkLine(t, prefix+`8A2373D47C: to=<a@b`, F{"queue_id": "8A2373D47C", "kind": "unknown"})
}

// TestDlvFloat checks the fast decimal reader against strconv.
func TestDlvFloat(t *testing.T) {
	for _, s := range []string{"0", "0.74", "18910", "0.01", "63495", "3.3", "0.1", "1.23", "123456789012345", "0.000000000000001",
		"1234567890123456", "1e3", "", ".", "5.", ".5", "1.2.3", "-1", "0.30000000000000004"} {
		want := atof(s)
		if got := dlvFloat(s); got != want {
			t.Errorf("dlvFloat(%q) = %v, want %v", s, got, want)
		}
	}
}
