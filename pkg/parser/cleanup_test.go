package parser

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestCleanup(t *testing.T) {
	const grok = "whyscream+postfix-grok-patterns/test/"
	cases := []struct {
		src, line string
		want      F
	}{
		{"digineo+postfix_exporter/mail.log",
			`Sep 23 15:57:40 mail postfix/cleanup[3646045]: 838FC8A5F: message-id=<341d97ec-c42a-6b0d-a49d-00d44a4f9753@example.org>`,
			F{"queue_id": "838FC8A5F", "kind": "message_id", "message_id": "341d97ec-c42a-6b0d-a49d-00d44a4f9753@example.org"}},
		{"lightmeterio+ControlCenter/individual_files/18_expired.log",
			`Sep 25 18:26:34 smtpnode16 postfix-239.58.50.50/cleanup[5021]: 23EBE3D5C0: message-id=<h-dea85411b67a40a063ef58e0ab590721@h-daa2fe3dd7fc0b5c2017db90829038b.com>`,
			F{"queue_id": "23EBE3D5C0", "kind": "message_id", "message_id": "h-dea85411b67a40a063ef58e0ab590721@h-daa2fe3dd7fc0b5c2017db90829038b.com"}},
		// An empty Message-ID is still the message_id event, without a value.
		{"lightmeterio+ControlCenter/individual_files/8_weird_log_file.log",
			`Oct 13 16:40:40 ucs postfix/cleanup[18571]: 4F5C64474F: message-id=<>`,
			F{"queue_id": "4F5C64474F", "kind": "message_id"}},
		{"proxmox+pmg-log-tracker/test_input_time_rfc3339_mixed",
			`2023-06-23T14:26:29.377880+02:00 pmg1 postfix/cleanup[1184]: 520C9C0192: message-id=<redacted:msgid>`,
			F{"queue_id": "520C9C0192", "kind": "message_id", "message_id": "redacted:msgid"}},
		{grok + "cleanup_0010.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: ADD961003206D: message-id==?UTF-8?B?PDE5?=? =?UTF-8?B?MTIyMDExMjkxNjYxMUBDbGllbnQtMDQ1LnJ1YmluZXR0ZXJpZS5sb2NhbD4=?=`,
			F{"queue_id": "ADD961003206D", "kind": "message_id", "message_id": "=?UTF-8?B?PDE5?=? =?UTF-8?B?MTIyMDExMjkxNjYxMUBDbGllbnQtMDQ1LnJ1YmluZXR0ZXJpZS5sb2NhbD4=?="}},

		// Milter actions read as smtpd's.
		{"lightmeterio+ControlCenter/individual_files/15_milter-reject.log",
			`Jan 25 18:54:52 mx postfix/cleanup[8966]: B37FD2E05B9: milter-reject: END-OF-MESSAGE from h-ca74a0a011076cd81347f8f11e[254.65.43.194]: 4.7.1 Try again later; from=<bounce+1b6a63.922c68-christoph=h-ffd2115d4f@h-79b594737831a5d176dabf9.com> to=<h-7abde52c2@h-ffd2115d4f.com> proto=ESMTP helo=<h-ca74a0a011076cd81347f8f11e>`,
			F{"queue_id": "B37FD2E05B9", "kind": "reject", "action": "milter-reject", "reject_stage": "eom",
				"client_host": "h-ca74a0a011076cd81347f8f11e", "client_ip": "254.65.43.194", "dsn": "4.7.1", "response": "4.7.1 Try again later",
				"sender": "bounce+1b6a63.922c68-christoph=h-ffd2115d4f@h-79b594737831a5d176dabf9.com", "recipient": "h-7abde52c2@h-ffd2115d4f.com",
				"protocol": "ESMTP", "helo": "h-ca74a0a011076cd81347f8f11e"}},
		{grok + "cleanup_0004.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 4104E3D: milter-reject: END-OF-MESSAGE from 061238241086.static.ctinets.com[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; from=<wumt5@cchfdc.com> to=<voorzitter@example.com> proto=ESMTP helo=<ecsolved.com>`,
			F{"queue_id": "4104E3D", "kind": "reject", "action": "milter-reject", "reject_stage": "eom",
				"client_host": "061238241086.static.ctinets.com", "client_ip": "61.238.241.86", "dsn": "5.7.1", "response": "5.7.1 Blocked by SpamAssassin",
				"sender": "wumt5@cchfdc.com", "recipient": "voorzitter@example.com", "protocol": "ESMTP", "helo": "ecsolved.com"}},
		// Synthetic: a milter's discard is no reply, so its text is detail.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 4104E3D: milter-discard: END-OF-MESSAGE from mail.example.com[192.0.2.1]: milter triggers DISCARD action; from=<a@example.com> to=<b@example.net> proto=ESMTP helo=<mail.example.com>`,
			F{"queue_id": "4104E3D", "kind": "reject", "action": "milter-discard", "reject_stage": "eom",
				"client_host": "mail.example.com", "client_ip": "192.0.2.1", "detail": "milter triggers DISCARD action",
				"sender": "a@example.com", "recipient": "b@example.net", "protocol": "ESMTP", "helo": "mail.example.com"}},

		// Header and body checks.
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.log",
			`Jan 28 07:00:03 mail postfix/sender-cleanup/cleanup[20200]: D310A3012026: replace: header MIME-Version: 1.0 from unknown[165.199.26.15]; from=<h-a163e9c@h-ffeb17e38996c.com> to=<h-8629463e55008@h-5e67b9b4406.com> proto=ESMTP helo=<h-f769f372ccd868a8db1d5>: Mime-Version: 1.0`,
			F{"queue_id": "D310A3012026", "kind": "notice", "action": "replace", "detail": "header MIME-Version: 1.0",
				"client_host": "unknown", "client_ip": "165.199.26.15", "sender": "h-a163e9c@h-ffeb17e38996c.com",
				"recipient": "h-8629463e55008@h-5e67b9b4406.com", "protocol": "ESMTP", "helo": "h-f769f372ccd868a8db1d5"}},
		// The matched header holds " from " itself: the client is the last one.
		{"lightmeterio+ControlCenter/individual_files/25_authclean_cleanup.log",
			`2022-01-08T19:42:13.269106+00:00 mail postfix/authclean/cleanup[19193]: 1F5A2194AA9: replace: header Received: from smtpclient.apple (client.example.com [1.2.3.4])??(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))??(No client certificate requested)??by mail.enough. from client.example.com[1.2.3.4]; from=<sender@sender.example.com> to=<recipient@recipient.example.com> proto=ESMTP helo=<smtpclient.apple>: Received: from authenticated-user (localrelay.example.com [127.0.0.1])??(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))??(No client certificate requested)??by localrelay.example.com (Postfix) with ESMTPSA id 1F5A2194AA9??for <recipient@recipient.example.com>; Sat,  8 Jan 2022 19:42:13 +0000 (UTC)`,
			F{"queue_id": "1F5A2194AA9", "kind": "notice", "action": "replace",
				"detail":      "header Received: from smtpclient.apple (client.example.com [1.2.3.4])??(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))??(No client certificate requested)??by mail.enough.",
				"client_host": "client.example.com", "client_ip": "1.2.3.4", "sender": "sender@sender.example.com",
				"recipient": "recipient@recipient.example.com", "protocol": "ESMTP", "helo": "smtpclient.apple"}},
		{grok + "cleanup_0003.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 4104E3D: milter-header-redirect: header X-Spam-Status: Yes, score=39.3 required=5.0 tests=ADVANCE_FE from 061238241086.static.ctinets.com[61.238.241.86]; from=<wumt5@cchfdc.com> to=<voorzitter@example.com> proto=ESMTP helo=<ecsolved.com>: tom@example.com`,
			F{"queue_id": "4104E3D", "kind": "notice", "action": "milter-header-redirect",
				"detail":      "header X-Spam-Status: Yes, score=39.3 required=5.0 tests=ADVANCE_FE",
				"client_host": "061238241086.static.ctinets.com", "client_ip": "61.238.241.86", "sender": "wumt5@cchfdc.com",
				"recipient": "voorzitter@example.com", "protocol": "ESMTP", "helo": "ecsolved.com"}},
		{grok + "cleanup_0006.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: D8B07E3DB6: warning: header Subject: https://drive.google.com/file/d/0B8wxcvprDYVdlVsdf1kzOVkdisarmed/view?usp=sharing from o1678917x173.outbound-mail.sendgrid.net[167.89.17.173]; from=<bounces+2320708-7653-frank.test=hsdjasdd.co.uk@sendgrid.net> to=<frank.test@hsdjasdd.co.uk> proto=ESMTP helo=<o1678917x173.outbound-mail.sendgrid.net>`,
			F{"queue_id": "D8B07E3DB6", "kind": "warning", "level": "warning", "action": "warning",
				"detail":      "header Subject: https://drive.google.com/file/d/0B8wxcvprDYVdlVsdf1kzOVkdisarmed/view?usp=sharing",
				"client_host": "o1678917x173.outbound-mail.sendgrid.net", "client_ip": "167.89.17.173",
				"sender": "bounces+2320708-7653-frank.test=hsdjasdd.co.uk@sendgrid.net", "recipient": "frank.test@hsdjasdd.co.uk",
				"protocol": "ESMTP", "helo": "o1678917x173.outbound-mail.sendgrid.net"}},
		// Local submission: "from local", no proto or helo.
		{grok + "cleanup_0007.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: D95341E50350: info: header Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_=E2=80=92?= test from local; from=<from@example.com> to=<to@example.com>`,
			F{"queue_id": "D95341E50350", "kind": "notice", "action": "info",
				"detail": "header Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_=E2=80=92?= test", "sender": "from@example.com", "recipient": "to@example.com"}},
		{grok + "cleanup_0009.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 48rT2v1hQrz1J0N: prepend: header X-Spam-Status: Yes, score=45.1 required=10.0 tests=ADVANCE_FE from mx2.example.org[192.0.2.41]; from=<SRS0=1sN3=5P=example.org=noreply@srs.example.org> to=<recipient@example.net> proto=ESMTP helo=<mx2.example.org>: X-Spam-Status: Yes`,
			F{"queue_id": "48rT2v1hQrz1J0N", "kind": "notice", "action": "prepend",
				"detail":      "header X-Spam-Status: Yes, score=45.1 required=10.0 tests=ADVANCE_FE",
				"client_host": "mx2.example.org", "client_ip": "192.0.2.41", "sender": "SRS0=1sN3=5P=example.org=noreply@srs.example.org",
				"recipient": "recipient@example.net", "protocol": "ESMTP", "helo": "mx2.example.org"}},
		// Synthetic: a header check reject carries the reply sent back.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 5A1B2C3D4E: reject: body Click here to claim from mail.example.com[192.0.2.1]; from=<a@example.com> to=<b@example.net> proto=SMTP: 5.7.1 Spam not welcome`,
			F{"queue_id": "5A1B2C3D4E", "kind": "reject", "action": "reject", "detail": "body Click here to claim",
				"client_host": "mail.example.com", "client_ip": "192.0.2.1", "sender": "a@example.com", "recipient": "b@example.net",
				"protocol": "SMTP", "dsn": "5.7.1", "response": "5.7.1 Spam not welcome"}},
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: 5A1B2C3D4E: resent-message-id=<r1@example.com>`,
			F{"queue_id": "5A1B2C3D4E", "kind": "notice", "message_id": "r1@example.com", "detail": "resent-message-id"}},

		// Warnings.
		{grok + "cleanup_0012.yaml",
			`Jun  3 10:40:57 mx postfix/cleanup[4242]: warning: 9BECF3F19D: sender_canonical_maps map lookup problem for sender@example.com -- message not accepted, try again later`,
			F{"queue_id": "9BECF3F19D", "kind": "warning", "level": "warning",
				"detail": "sender_canonical_maps map lookup problem for sender@example.com -- message not accepted, try again later"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
}

// TestCleanupCorruptedMessageID reads the 3.5 kB line of a damaged
// Message-ID (its closing bracket was lost) from the corpus: what is there
// is kept, without the opening bracket.
func TestCleanupCorruptedMessageID(t *testing.T) {
	const path = "testdata/corpus/lightmeterio+ControlCenter/individual_files/16_corrupted_messageid.log"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		_, id, ok := strings.Cut(line, "postfix/cleanup[22403]: 1A3642E0C5C: message-id=<")
		if !ok {
			continue
		}
		if strings.Contains(id, ">") {
			t.Fatalf("the corpus line is no longer the damaged one")
		}
		checkLine(t, line, F{"queue_id": "1A3642E0C5C", "kind": "message_id", "message_id": id})
		return
	}
	t.Fatalf("%s: message-id line not found", path)
}

func TestCleanupAnonymisedIDs(t *testing.T) {
	// lightmeterio+ControlCenter/individual_files/12_two_independent_deliveries_in_the_same_smtpd_process_in_order.log
	checkLine(t, `Dec  9 10:18:23 mail postfix/sender-cleanup/cleanup[20048]: BABABABABA: message-id=<lalalacacaca@lala.com>`,
		F{"queue_id": "BABABABABA", "kind": "message_id", "message_id": "lalalacacaca@lala.com"})
	checkLine(t, `Dec  9 10:18:23 mail postfix/sender-cleanup/cleanup[20048]: BABABABABA: replace: header MIME-Version: 1.0 from client2.another.example.com[89.247.252.53]; from=<sender@mydomain.com> to=<dst2@dst2.com> proto=ESMTP helo=<[192.168.0.170]>: Mime-Version: 1.0`,
		F{"queue_id": "BABABABABA", "kind": "notice", "action": "replace", "detail": "header MIME-Version: 1.0",
			"client_host": "client2.another.example.com", "client_ip": "89.247.252.53", "sender": "sender@mydomain.com",
			"recipient": "dst2@dst2.com", "protocol": "ESMTP", "helo": "[192.168.0.170]"})
}

func TestCleanupOddInput(t *testing.T) {
	p := &Parser{}
	prefix := "Jun  3 10:40:57 mx postfix/cleanup[4242]: "
	for _, msg := range []string{
		`4104E3D: milter-reject: END-OF-MESSAGE from a.example[61.238.241.86]: 5.7.1 Blocked; from=<w@c.com> to=<v@e.com> proto=ESMTP helo=<e.com>`,
		`48rT2v1hQrz1J0N: prepend: header X-Spam: Yes from mx2.example.org[192.0.2.41]; from=<a@b> to=<c@d> proto=ESMTP helo=<mx2>: X-Spam: Yes`,
		`0F5383D: message-id=<544D2523.30609@rhsoft.net>`,
	} {
		for i := 0; i <= len(msg); i++ {
			p.Parse(prefix+msg[:i], time.Time{})
		}
	}
	checkLine(t, prefix+`4104E3D: message-id=<`, F{"queue_id": "4104E3D", "kind": "message_id"})
	checkLine(t, prefix+`4104E3D: hold: header X-Foo: bar from h[192.0.2.1]; from=<a@b> proto=`,
		F{"queue_id": "4104E3D", "kind": "reject", "action": "hold", "detail": "header X-Foo: bar",
			"client_host": "h", "client_ip": "192.0.2.1", "sender": "a@b"})
	checkLine(t, prefix+`4104E3D: replace: nothing we know`, F{"queue_id": "4104E3D", "kind": "unknown"})
}
