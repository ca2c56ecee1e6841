package parser

import (
	"testing"
	"time"
)

func TestQmgr(t *testing.T) {
	const grok = "whyscream+postfix-grok-patterns/test/"
	cases := []struct {
		src, line string
		want      F
	}{
		{"digineo+postfix_exporter/mail.log",
			`Sep 23 15:57:41 mail postfix/qmgr[2450825]: 838FC8A5F: from=<out@example.org>, size=939, nrcpt=1 (queue active)`,
			F{"queue_id": "838FC8A5F", "kind": "queued", "sender": "out@example.org", "size": 939, "nrcpt": 1}},
		{"lightmeterio+ControlCenter/complete/logs_sample/mail.log",
			`Jan 28 16:10:56 mail postfix/qmgr[1789]: E93553012026: from=<>, size=4904, nrcpt=1 (queue active)`,
			F{"queue_id": "E93553012026", "kind": "queued", "size": 4904, "nrcpt": 1}},
		// A second instance, and anonymised ids that read like words.
		{"lightmeterio+ControlCenter/individual_files/14_reuse_of_queueid.log",
			`Sep  4 01:24:11 smtpnode06 postfix-170.55.103.23/qmgr[2710]: DADADADADA: from=<h-031a55e5a6a901a7be94@h-5e67b9b4406.com>, size=10593, nrcpt=1 (queue active)`,
			F{"queue_id": "DADADADADA", "kind": "queued", "sender": "h-031a55e5a6a901a7be94@h-5e67b9b4406.com", "size": 10593, "nrcpt": 1}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Feb 11 16:49:24 letterman postfix/qmgr[8204]: AAB4D259B1: removed`,
			F{"queue_id": "AAB4D259B1", "kind": "removed"}},
		{"digineo+postfix_exporter/mail.log",
			`Feb 11 16:49:25 letterman postfix-secondary/qmgr[8204]: AAB4D259B3: removed`,
			F{"queue_id": "AAB4D259B3", "kind": "removed"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Apr 10 14:50:16 mail postfix/qmgr[3663]: BACE842E72: from=<noreply@domain.com>, status=expired, returned to sender`,
			F{"queue_id": "BACE842E72", "kind": "expired", "sender": "noreply@domain.com", "status": "expired"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Apr 10 14:50:16 mail postfix/qmgr[3663]: BACE842E73: from=<noreply@domain.com>, status=force-expired, returned to sender`,
			F{"queue_id": "BACE842E73", "kind": "expired", "sender": "noreply@domain.com", "status": "force-expired"}},
		{grok + "qmgr_0004.yaml",
			`Jun  3 10:40:57 mx postfix/qmgr[4242]: 585BC3F: from=<>, status=expired, returned to sender`,
			F{"queue_id": "585BC3F", "kind": "expired", "status": "expired"}},
		{grok + "qmgr_0006.yaml",
			`Jun  3 10:40:57 mx postfix/qmgr[4242]: ED06590130AA1C9D6D862: skipped, still being delivered`,
			F{"queue_id": "ED06590130AA1C9D6D862", "kind": "notice", "detail": "skipped, still being delivered"}},
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Mar 16 23:30:44 123-mail postfix/qmgr[29980]: warning: please avoid flushing the whole queue when you have`,
			F{"kind": "warning", "level": "warning", "detail": "please avoid flushing the whole queue when you have"}},
		// Synthetic: qmgr writes delivery records for mail it defers itself.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/qmgr[4242]: 2DC5552A34: to=<user@yahoo.com>, relay=none, delay=63495, delays=63350/144/0/0, dsn=4.4.2, status=deferred (delivery temporarily suspended: lost connection with mta7.am0.yahoodns.net[98.136.216.22] while sending RCPT TO)`,
			F{"queue_id": "2DC5552A34", "kind": "delivery", "recipient": "user@yahoo.com", "delay": 63495,
				"delays": dly(63350, 144, 0, 0), "dsn": "4.4.2", "status": "deferred",
				"response": "delivery temporarily suspended: lost connection with mta7.am0.yahoodns.net[98.136.216.22] while sending RCPT TO"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
	// sergeymakinen+postfix_exporter/mail.log: a doubled closing bracket
	// does not hide the status.
	checkLine(t, `Jan 1 00:00:00 hostname postfix/qmgr[12345]: 123456789AB: from=<user@example.com>>, status=expired, returned to sender`,
		F{"queue_id": "123456789AB", "kind": "expired", "sender": "user@example.com", "status": "expired"})
}

func TestQmgrOddInput(t *testing.T) {
	p := &Parser{}
	prefix := "Jun  3 10:40:57 mx postfix/qmgr[4242]: "
	for _, msg := range []string{
		`838FC8A5F: from=<out@example.org>, size=939, nrcpt=1 (queue active)`,
		`BACE842E72: from=<noreply@domain.com>, status=expired, returned to sender`,
	} {
		for i := 0; i <= len(msg); i++ {
			p.Parse(prefix+msg[:i], time.Time{})
		}
	}
	checkLine(t, prefix+`838FC8A5F: from=out@example.org, size=939`,
		F{"queue_id": "838FC8A5F", "kind": "queued", "sender": "out@example.org", "size": 939})
	checkLine(t, prefix+`838FC8A5F: something else`, F{"queue_id": "838FC8A5F", "kind": "unknown"})
}
