package parser

import (
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func TestOpenDKIM(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:17:35 mail opendkim[289]: 723393012026: DKIM verification successful`,
			F{"kind": "policy", "queue_id": "723393012026", "check": "dkim", "result": "pass"}},
		// lightmeterio+ControlCenter/logparser_corpus/unsupported_opendkim.txt
		{`Feb  5 19:00:02 mail opendkim[195]: 407032C4FF6A: DKIM-Signature field added (s=mail, d=lightmeter.io)`,
			F{"kind": "policy", "queue_id": "407032C4FF6A", "check": "dkim", "result": "signed", "domain": "lightmeter.io"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 09:12:40 mail opendkim[289]: BC69D3012026: s=mail d=h-dfcca603110 SSL error:04091068:rsa routines:int_rsa_verify:bad signature`,
			F{"kind": "notice", "queue_id": "BC69D3012026", "check": "dkim", "domain": "h-dfcca603110",
				"detail": "error:04091068:rsa routines:int_rsa_verify:bad signature"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:17:35 mail opendkim[289]: 723393012026: s=mail d=h-e4af9ca9d7912 SSL`,
			F{"kind": "policy", "queue_id": "723393012026", "check": "dkim", "result": "fail", "domain": "h-e4af9ca9d7912"}},
		// lightmeterio+ControlCenter/individual_files/27_one_sent_one_received.log (trailing space kept)
		{`Apr 27 16:45:44 lightmetermail opendkim[67]: ABD4E13D6B0: s=google d=werecover.com a=rsa-sha256 SSL `,
			F{"kind": "policy", "queue_id": "ABD4E13D6B0", "check": "dkim", "result": "fail", "domain": "werecover.com"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 09:12:40 mail opendkim[289]: BC69D3012026: bad signature data`,
			F{"kind": "policy", "queue_id": "BC69D3012026", "check": "dkim", "result": "fail"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail opendkim[289]: 8BD903012026: no signature data`,
			F{"kind": "policy", "queue_id": "8BD903012026", "check": "dkim", "result": "none"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 07:52:03 mail opendkim[289]: B08573012026: key retrieval failed (s=2020, d=h-0ab4766f): '2020.h-c47f906a910431d6765' record not found`,
			F{"kind": "policy", "queue_id": "B08573012026", "check": "dkim", "result": "permerror", "domain": "h-0ab4766f",
				"detail": "'2020.h-c47f906a910431d6765' record not found"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.err
		{`Dec 31 08:19:33 mail opendkim[289]: 65D74300414D: key retrieval failed (s=default, d=h-bf0ca83f7d)`,
			F{"kind": "policy", "queue_id": "65D74300414D", "check": "dkim", "result": "temperror", "domain": "h-bf0ca83f7d"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail opendkim[289]: 8BD903012026: h-2bf83754162e1 [224.73.110.132] not internal`,
			F{"kind": "notice", "queue_id": "8BD903012026", "client_host": "h-2bf83754162e1", "client_ip": "224.73.110.132",
				"detail": "h-2bf83754162e1 [224.73.110.132] not internal"}},
		// lightmeterio+ControlCenter/individual_files/31_inbound_reply.log
		{`Apr 27 16:45:44 lightmetermail opendkim[67]: ABD4E13D6B0: [2.2.2.2] [2.2.2.2] not internal`,
			F{"kind": "notice", "queue_id": "ABD4E13D6B0", "client_ip": "2.2.2.2", "detail": "[2.2.2.2] [2.2.2.2] not internal"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail opendkim[289]: 8BD903012026: not authenticated`,
			F{"kind": "notice", "queue_id": "8BD903012026", "detail": "not authenticated"}},
		// lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log
		{`Jun 20 05:02:55 ns4 opendkim[2216]: 848F1657D: no signing table match for 'h-195704c@h-20b651e8120a33ec11.com'`,
			F{"kind": "notice", "queue_id": "848F1657D", "detail": "no signing table match for 'h-195704c@h-20b651e8120a33ec11.com'"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 07:52:03 mail opendkim[289]: B08573012026: message has signatures from h-0ab4766f, h-afca987e`,
			F{"kind": "notice", "queue_id": "B08573012026", "detail": "message has signatures from h-0ab4766f, h-afca987e"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn
		{`Jan 27 16:48:54 mail opendkim[289]: 07FB53012026: failed to parse authentication-results: header field`,
			F{"kind": "notice", "queue_id": "07FB53012026", "detail": "failed to parse authentication-results: header field"}},
		// synthetic: OpenDKIM's start-up line and a verification failure.
		{`Jan 28 06:00:00 mail opendkim[289]: OpenDKIM Filter v2.11.0 starting (args: -x /etc/opendkim.conf)`,
			F{"kind": "notice", "detail": "OpenDKIM Filter v2.11.0 starting (args: -x /etc/opendkim.conf)"}},
		{`Jan 28 06:00:00 mail opendkim[289]: 8BD903012026: signature verification failed: body hash mismatch`,
			F{"kind": "policy", "queue_id": "8BD903012026", "check": "dkim", "result": "fail", "detail": "body hash mismatch"}},
		// synthetic: cut lines.
		{`Jan 28 06:00:00 mail opendkim[289]: 8BD903012026: key retrieval failed (s=2020, d=exa`,
			F{"kind": "policy", "queue_id": "8BD903012026", "check": "dkim", "result": "temperror", "domain": "exa"}},
		{`Jan 28 06:00:00 mail opendkim[289]: 8BD903012026: h [1.2.3`,
			F{"kind": "notice", "queue_id": "8BD903012026", "detail": "h [1.2.3"}},
		{`Jan 28 06:00:00 mail opendkim[289]: garbage`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

func TestOpenDMARC(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail opendmarc[295]: 8BD903012026: h-51363726f1 pass`,
			F{"kind": "policy", "queue_id": "8BD903012026", "check": "dmarc", "result": "pass", "domain": "h-51363726f1"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{`Jan 27 17:13:05 mail opendmarc[295]: 547253012026: h-8aaadbc16f fail`,
			F{"kind": "policy", "queue_id": "547253012026", "check": "dmarc", "result": "fail", "domain": "h-8aaadbc16f"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:34:52 mail opendmarc[295]: 841D53012026: h-6c646dc1f0 none`,
			F{"kind": "policy", "queue_id": "841D53012026", "check": "dmarc", "result": "none", "domain": "h-6c646dc1f0"}},
		// lightmeterio+ControlCenter/individual_files/10_pickup.log
		{`Feb  1 13:17:02 mail opendmarc[893]: 08ACF1541B01: SPF(mailfrom): h-dc76@h-ac7182297368ddc0f.com pass`,
			F{"kind": "policy", "queue_id": "08ACF1541B01", "check": "spf", "result": "pass",
				"sender": "h-dc76@h-ac7182297368ddc0f.com", "domain": "h-ac7182297368ddc0f.com"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.1
		{`Jan 17 13:47:33 mail opendmarc[295]: F2F163012026: opendmarc_policy_query_dmarc(h-029c615) returned status 4`,
			F{"kind": "notice", "queue_id": "F2F163012026", "detail": "opendmarc_policy_query_dmarc(h-029c615) returned status 4"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 07:52:03 mail opendmarc[295]: B08573012026 ignoring Authentication-Results at 11 from h-375683b23003739fbae`,
			F{"kind": "notice", "queue_id": "B08573012026", "detail": "ignoring Authentication-Results at 11 from h-375683b23003739fbae"}},
		// synthetic: HELO-scope SPF, start-up, cut lines.
		{`Feb  1 13:17:02 mail opendmarc[893]: 08ACF1541B01: SPF(helo): mx.example.com none`,
			F{"kind": "policy", "queue_id": "08ACF1541B01", "check": "spf", "result": "none", "helo": "mx.example.com", "domain": "mx.example.com"}},
		{`Feb  1 13:17:02 mail opendmarc[893]: OpenDMARC Filter v1.3.2 starting (args: -c /etc/opendmarc.conf)`,
			F{"kind": "notice", "detail": "OpenDMARC Filter v1.3.2 starting (args: -c /etc/opendmarc.conf)"}},
		{`Feb  1 13:17:02 mail opendmarc[893]: 08ACF1541B01: SPF(mailfrom`,
			F{"kind": "notice", "queue_id": "08ACF1541B01", "detail": "SPF(mailfrom"}},
		{`Feb  1 13:17:02 mail opendmarc[893]: 08ACF1541B01 ignoring`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

func TestPolicydSPF(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail policyd-spf[15067]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=224.73.110.132; helo=h-2bf83754162e1; envelope-from=h-2c4a691bf4126f@h-51363726f1.com; receiver=<UNKNOWN>`,
			F{"kind": "policy", "check": "spf", "result": "pass", "client_ip": "224.73.110.132", "helo": "h-2bf83754162e1",
				"sender": "h-2c4a691bf4126f@h-51363726f1.com", "domain": "h-51363726f1.com"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 08:34:52 mail policyd-spf[12744]: prepend Received-SPF: None (mailfrom) identity=mailfrom; client-ip=162.247.1.15; helo=h-01a5866bef45957dd30d4d39.net; envelope-from=h-2ec4580e5e8a39646bf@h-146071b6ed4.com; receiver=<UNKNOWN>`,
			F{"kind": "policy", "check": "spf", "result": "none", "client_ip": "162.247.1.15", "helo": "h-01a5866bef45957dd30d4d39.net",
				"sender": "h-2ec4580e5e8a39646bf@h-146071b6ed4.com", "domain": "h-146071b6ed4.com"}},
		// synthetic (pypolicyd-spf formats): a HELO verdict for the null
		// sender, the debug line, a rejection, Authentication-Results.
		{`Jan 28 08:34:52 mail policyd-spf[12744]: prepend Received-SPF: Softfail (no SPF record) identity=helo; client-ip=192.0.2.1; helo=mx.example.org; envelope-from=<>; receiver=<UNKNOWN> `,
			F{"kind": "policy", "check": "spf", "result": "softfail", "client_ip": "192.0.2.1", "helo": "mx.example.org", "domain": "mx.example.org"}},
		{`Jan 28 08:34:52 mail policyd-spf[12744]: Neutral; identity=mailfrom; client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=b@example.net `,
			F{"kind": "policy", "check": "spf", "result": "neutral", "client_ip": "192.0.2.1", "helo": "mx.example.org",
				"sender": "a@example.org", "domain": "example.org"}},
		{`Jun 18 05:26:46 mail policyd-spf[3792]: 550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=security@facebookmail.com;ip=209.85.128.52;r=<UNKNOWN>`,
			F{"kind": "policy", "check": "spf", "result": "fail", "action": "reject", "dsn": "5.7.23",
				"response": "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=security@facebookmail.com;ip=209.85.128.52;r=<UNKNOWN>",
				"sender":   "security@facebookmail.com", "domain": "facebookmail.com", "client_ip": "209.85.128.52"}},
		{`Jun 18 05:26:46 mail policyd-spf[3792]: prepend Authentication-Results: mx.example.net; spf=pass (sender SPF authorized) smtp.mailfrom=example.org (client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=<UNKNOWN>)`,
			F{"kind": "policy", "check": "spf", "result": "pass", "client_ip": "192.0.2.1", "helo": "mx.example.org",
				"sender": "a@example.org", "domain": "example.org"}},
		// synthetic (postfix-policyd-spf-perl formats, ident postfix/policy-spf
		// or policyd-spf-perl).
		{`May 13 18:23:51 mx policyd-spf-perl[5509]: : Policy action=PREPEND Received-SPF: pass (meta.ua: 194.0.131.41 is authorized to use 'nullsender@meta.ua' in 'mfrom' identity (mechanism 'ip4:194.0.131.0/24' matched)) receiver=mail.example.com.ua; identity=mailfrom; envelope-from="nullsender@meta.ua"; helo=smtp.meta.ua; client-ip=194.0.131.41`,
			F{"kind": "policy", "check": "spf", "result": "pass", "client_ip": "194.0.131.41", "helo": "smtp.meta.ua",
				"sender": "nullsender@meta.ua", "domain": "meta.ua"}},
		{`May 13 18:23:51 mx policyd-spf-perl[5509]: 4F2B1C0A11: SPF pass (Mechanism 'ip4:194.0.131.0/24' matched): Envelope-from: nullsender@meta.ua, IP Address: 194.0.131.41, Recipient: a@example.net`,
			F{"kind": "policy", "queue_id": "4F2B1C0A11", "check": "spf", "result": "pass", "client_ip": "194.0.131.41",
				"sender": "nullsender@meta.ua", "domain": "meta.ua"}},
		{`May 13 18:23:51 mx policyd-spf-perl[5509]: : Policy action=550 Please see http://www.openspf.net/Why?s=helo;id=bad.example;ip=192.0.2.9;r=mx`,
			F{"kind": "policy", "check": "spf", "result": "fail", "action": "reject",
				"response": "550 Please see http://www.openspf.net/Why?s=helo;id=bad.example;ip=192.0.2.9;r=mx",
				"helo":     "bad.example", "domain": "bad.example", "client_ip": "192.0.2.9"}},
		{`May 13 18:23:51 mx policyd-spf-perl[5509]: : Policy action=DEFER_IF_PERMIT SPF-Result=DNS timeout`,
			F{"kind": "policy", "check": "spf", "result": "temperror", "action": "defer", "detail": "SPF-Result=DNS timeout"}},
		{`May 13 18:23:51 mx policyd-spf-perl[5509]: : Policy action=DUNNO`,
			F{"kind": "notice", "detail": "DUNNO"}},
		// synthetic: cut and odd lines.
		{`May 13 18:23:51 mx policyd-spf[5509]: prepend Received-SPF: Pass (mailfr`,
			F{"kind": "policy", "check": "spf", "result": "pass"}},
		{`May 13 18:23:51 mx policyd-spf[5509]: 550`,
			F{"kind": "policy", "check": "spf", "result": "fail", "action": "reject", "response": "550"}},
		// policyd-spf's debugLevel 3 start-up line (it was unknown before
		// the debug lines were read from the source).
		{`May 13 18:23:51 mx policyd-spf[5509]: Starting`, F{"kind": "notice", "level": "debug", "detail": "Starting"}},
		{`May 13 18:23:51 mx policyd-spf[5509]: Stopping by request`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

func TestAmavis(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail amavis[4336]: (04336-07) Passed CLEAN {RelayedInbound}, [224.73.110.132]:34764 [112.194.3.105] <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>, Queue-ID: 8BD903012026, Message-ID: <h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com>, mail_id: ULkC_-k7N-TY, Hits: -, size: 4641, queued_as: BF76C3012027, 91 ms`,
			F{"kind": "policy", "check": "content", "result": "clean", "action": "passed", "queue_id": "8BD903012026",
				"next_queue_id": "BF76C3012027", "client_ip": "224.73.110.132", "client_port": 34764,
				"sender": "h-2c4a691bf4126f@h-51363726f1.com", "recipient": "h-f16@h-ffeb17e38996c.com",
				"message_id": "h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com", "size": 4641}},
		// lightmeterio+ControlCenter/individual_files/8_weird_log_file.log
		{`Oct 13 16:40:42 ucs amavis[10410]: (10410-08) Passed SPAM {RelayedTaggedInbound}, [28.55.140.112]:54908 [224.222.170.185] <> -> <h-14a52d@h-d6b1ceccbb3bc48.com>, Queue-ID: 4F5C64474F, mail_id: eFtKEm8YvMkT, Hits: 5.397, size: 1315, queued_as: ED01244770, 2426 ms`,
			F{"kind": "policy", "check": "content", "result": "spam", "action": "passed", "queue_id": "4F5C64474F",
				"next_queue_id": "ED01244770", "client_ip": "28.55.140.112", "client_port": 54908,
				"recipient": "h-14a52d@h-d6b1ceccbb3bc48.com", "size": 1315}},
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:28:58 sm02 amavis[11205]: (11205-08) Passed CLEAN {RelayedOutbound}, ORIGINATING LOCAL [11.22.33.44]:51018 [11.22.33.44] <sender@sender.example.com> -> <recipient@recipient.example.com>, Queue-ID: E8759DC24C3, Message-ID: <00000messageid00000@msgid.example.com>, mail_id: V5iNwvibD8Ch, Hits: -, size: 344000, queued_as: 218BEDC28EC, 698 ms`,
			F{"kind": "policy", "check": "content", "result": "clean", "action": "passed", "queue_id": "E8759DC24C3",
				"next_queue_id": "218BEDC28EC", "client_ip": "11.22.33.44", "client_port": 51018,
				"sender": "sender@sender.example.com", "recipient": "recipient@recipient.example.com",
				"message_id": "00000messageid00000@msgid.example.com", "size": 344000}},
		// lightmeterio+ControlCenter/individual_files/10_pickup.log (a cut line)
		{`Feb  1 13:17:08 mail amavis[28236]: (28236-10) Passed,`,
			F{"kind": "policy", "check": "content", "action": "passed"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail amavis[4336]: (04336-07) Checking: ULkC_-k7N-TY [224.73.110.132] <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>`,
			F{"kind": "notice", "detail": "Checking: ULkC_-k7N-TY [224.73.110.132] <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail amavis[4336]: (04336-07) ULkC_-k7N-TY FWD from <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>, BODY=7BIT 250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027`,
			F{"kind": "notice", "detail": "ULkC_-k7N-TY FWD from <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>, BODY=7BIT 250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:40:37 mail amavis[4336]: (04336-07) p001 1 Content-Type: text/plain, base64, size: 1673, SHA1 digest: 9904687d77fb324ae00eeb6eadc3ee6923e7d685`,
			F{"kind": "notice", "detail": "p001 1 Content-Type: text/plain, base64, size: 1673, SHA1 digest: 9904687d77fb324ae00eeb6eadc3ee6923e7d685"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 14:00:08 mail amavis[316]: sd_notify (no socket): STATUS=Starting child process(es), ready for work.`,
			F{"kind": "notice", "detail": "sd_notify (no socket): STATUS=Starting child process(es), ready for work."}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 14:00:08 mail amavis[3457]: (03457-20) Requesting process rundown after 20 tasks (and 20 sessions)`,
			F{"kind": "notice", "detail": "Requesting process rundown after 20 tasks (and 20 sessions)"}},
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:29:01 sm02 amavis[115131]: (11202-06) SA info: util: setuid: ruid=997 euid=997 rgid=994 5 89 994 egid=994 5 89 994`,
			F{"kind": "notice", "detail": "SA info: util: setuid: ruid=997 euid=997 rgid=994 5 89 994 egid=994 5 89 994"}},
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:29:01 sm02 amavis[11202]: (11202-06) _WARN: Use of uninitialized value $name in lc at /opt/zimbra/common/lib/perl5/Mail/SpamAssassin/Plugin/Attachments.pm line 135.`,
			F{"kind": "warning", "level": "warning", "detail": "Use of uninitialized value $name in lc at /opt/zimbra/common/lib/perl5/Mail/SpamAssassin/Plugin/Attachments.pm line 135."}},
		// synthetic (amavisd-new formats): blocked verdicts, several
		// recipients, the old format without a policy bank, an error.
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-01) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [192.0.2.7]:41234 [192.0.2.7] <a@example.org> -> <b@example.net>,<c@example.net>, quarantine: virus-Zx1, Queue-ID: 4F2B1C0A11, Message-ID: <x@y>, mail_id: Zx1, Hits: -, size: 2042, 250 ms`,
			F{"kind": "policy", "check": "content", "result": "infected", "action": "blocked", "detail": "Eicar-Signature",
				"queue_id": "4F2B1C0A11", "client_ip": "192.0.2.7", "client_port": 41234, "sender": "a@example.org",
				"recipient": "b@example.net", "message_id": "x@y", "size": 2042}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-02) Passed BAD-HEADER-0 {RelayedInbound}, [192.0.2.7]:41234 <a@example.org> -> <b@example.net>, Queue-ID: 4F2B1C0A11, size: 10, queued_as: 5A6B7C8D9E, 5 ms`,
			F{"kind": "policy", "check": "content", "result": "bad-header", "action": "passed", "queue_id": "4F2B1C0A11",
				"next_queue_id": "5A6B7C8D9E", "client_ip": "192.0.2.7", "client_port": 41234, "sender": "a@example.org",
				"recipient": "b@example.net", "size": 10}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-03) Passed SPAMMY, [192.0.2.7] [192.0.2.7] <a@example.org> -> <b@example.net>, Message-ID: <m@x>, Hits: 4.1, size: 10, queued_as: 5A6B7C8D9E, 5 ms`,
			F{"kind": "policy", "check": "content", "result": "spammy", "action": "passed", "next_queue_id": "5A6B7C8D9E",
				"client_ip": "192.0.2.7", "sender": "a@example.org", "recipient": "b@example.net", "message_id": "m@x", "size": 10}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-04) (!!)TROUBLE in check_mail: parts_decode_ext FAILED`,
			F{"kind": "warning", "level": "error", "detail": "TROUBLE in check_mail: parts_decode_ext FAILED"}},
		// synthetic: cut lines.
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-05) Blocked SPAM {Discard`,
			F{"kind": "policy", "check": "content", "result": "spam", "action": "blocked"}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-05) Passed CLEAN {RelayedInbound}, [192.0.2.7]:41234 <a@exa`,
			F{"kind": "policy", "check": "content", "result": "clean", "action": "passed", "client_ip": "192.0.2.7", "client_port": 41234}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-05) Passed CLEAN, <a@b> -> <c@d>, Queue-ID`,
			F{"kind": "policy", "check": "content", "result": "clean", "action": "passed", "sender": "a@b", "recipient": "c@d"}},
		{`Mar  3 09:00:01 mx amavis[1234]: (01234-05) `, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

// TestMilterFamiliesAllocs guards the zero-allocation rule for the lines of
// milter.go, stats.go, postsuper.go and master.go.
func TestMilterFamiliesAllocs(t *testing.T) {
	lines := []string{
		`Jan 28 09:12:40 mail opendkim[289]: BC69D3012026: s=mail d=h-dfcca603110 SSL error:04091068:rsa routines:int_rsa_verify:bad signature`,
		`Jan 28 07:52:03 mail opendkim[289]: B08573012026: key retrieval failed (s=2020, d=h-0ab4766f): '2020.h-c47f906a910431d6765' record not found`,
		`Jan 28 06:40:37 mail opendkim[289]: 8BD903012026: h-2bf83754162e1 [224.73.110.132] not internal`,
		`Jan 28 07:52:03 mail opendmarc[295]: B08573012026 ignoring Authentication-Results at 11 from h-375683b23003739fbae`,
		`Feb  1 13:17:02 mail opendmarc[893]: 08ACF1541B01: SPF(mailfrom): h-dc76@h-ac7182297368ddc0f.com pass`,
		`Jan 28 06:40:37 mail policyd-spf[15067]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=224.73.110.132; helo=h-2bf83754162e1; envelope-from=h-2c4a691bf4126f@h-51363726f1.com; receiver=<UNKNOWN>`,
		`Jun 18 05:26:46 mail policyd-spf[3792]: 550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=security@facebookmail.com;ip=209.85.128.52;r=<UNKNOWN>`,
		`Jun 18 05:26:46 mail policyd-spf[3792]: prepend Authentication-Results: mx.example.net; spf=pass (sender SPF authorized) smtp.mailfrom=example.org (client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=<UNKNOWN>)`,
		`Jan 28 06:40:37 mail amavis[4336]: (04336-07) Passed CLEAN {RelayedInbound}, [224.73.110.132]:34764 [112.194.3.105] <h-2c4a691bf4126f@h-51363726f1.com> -> <h-f16@h-ffeb17e38996c.com>, Queue-ID: 8BD903012026, Message-ID: <h-e13b9e542677f148e385fc59c75afc08c78f6aa1@h-de82e022d99.com>, mail_id: ULkC_-k7N-TY, Hits: -, size: 4641, queued_as: BF76C3012027, 91 ms`,
		`Mar  3 09:00:01 mx amavis[1234]: (01234-01) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [192.0.2.7]:41234 [192.0.2.7] <a@example.org> -> <b@example.net>,<c@example.net>, quarantine: virus-Zx1, Queue-ID: 4F2B1C0A11, Message-ID: <x@y>, mail_id: Zx1, Hits: -, size: 2042, 250 ms`,
		`Oct 26 17:46:59 mx postfix/anvil[123]: statistics: max connection count 1 for (smtpd:2604:8d00:0:1::3) at Oct 26 17:46:59`,
		`Oct 26 18:13:50 mx postfix/anvil[123]: statistics: max connection rate 1/2h for (127.0.0.1:2525:127.0.0.1) at Oct 26 18:13:50`,
		`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: domain lookup hits=0 miss=1 success=0%`,
		`Mar  3 09:00:01 mx postfix/postsuper[4242]: Placed on hold: 67 messages`,
		`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: removed`,
		`Mar 29 12:55:50 test1 postfix/master[15019]: daemon started -- version 3.4.14, configuration /etc/postfix`,
		`Mar  3 09:00:01 mx postfix/verify[77]: cache lmdb:/var/lib/postfix/verify_cache full cleanup: retained=724 dropped=6 entries`,
	}
	p := &Parser{}
	var e event.Event
	for _, line := range lines {
		if n := testing.AllocsPerRun(100, func() { p.ParseInto(&e, line, testRef) }); n != 0 {
			t.Errorf("%.1f allocations parsing %s", n, line)
		}
	}
}
