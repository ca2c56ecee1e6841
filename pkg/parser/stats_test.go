package parser

import "testing"

func TestAnvil(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:37:29 mail postfix/anvil[13314]: statistics: max connection rate 1/60s for (submission:202.239.45.60) at Jan 28 06:33:59`,
			F{"kind": "stats", "client_ip": "202.239.45.60", "detail": "max connection rate 1/60s for (submission:202.239.45.60) at Jan 28 06:33:59"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:37:29 mail postfix/anvil[13314]: statistics: max connection count 1 for (submission:202.239.45.60) at Jan 28 06:33:59`,
			F{"kind": "stats", "client_ip": "202.239.45.60", "detail": "max connection count 1 for (submission:202.239.45.60) at Jan 28 06:33:59"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 06:37:29 mail postfix/anvil[13314]: statistics: max cache size 1 at Jan 28 06:33:59`,
			F{"kind": "stats", "detail": "max cache size 1 at Jan 28 06:33:59"}},
		// lightmeterio+ControlCenter/individual_files/6_deferred_message_retry.log
		{`Dec  7 13:33:34 mail postfix/anvil[18492]: statistics: max connection rate 2/60s for (submission:68.183.218.8) at Dec  7 13:28:01`,
			F{"kind": "stats", "client_ip": "68.183.218.8", "detail": "max connection rate 2/60s for (submission:68.183.218.8) at Dec  7 13:28:01"}},
		// whyscream+postfix-grok-patterns/test/anvil_0004.yaml
		{`Oct 26 17:46:59 mx postfix/anvil[123]: statistics: max connection count 1 for (smtpd:2604:8d00:0:1::3) at Oct 26 17:46:59`,
			F{"kind": "stats", "client_ip": "2604:8d00:0:1::3", "detail": "max connection count 1 for (smtpd:2604:8d00:0:1::3) at Oct 26 17:46:59"}},
		// whyscream+postfix-grok-patterns/test/anvil_0007.yaml
		{`Oct 26 18:13:50 mx postfix/anvil[123]: statistics: max connection rate 1/2h for (127.0.0.1:2525:127.0.0.1) at Oct 26 18:13:50`,
			F{"kind": "stats", "client_ip": "127.0.0.1", "detail": "max connection rate 1/2h for (127.0.0.1:2525:127.0.0.1) at Oct 26 18:13:50"}},
		// whyscream+postfix-grok-patterns/test/anvil_0009.yaml
		{`Sep  7 07:14:19 mx postfix/anvil[123]: statistics: max connection rate 1/7d for (smtp:unknown) at Sep 7 07:14:19`,
			F{"kind": "stats", "client_ip": "unknown", "detail": "max connection rate 1/7d for (smtp:unknown) at Sep 7 07:14:19"}},
		// synthetic: the other rates, an IPv4-mapped IPv6 client, a warning, cut lines.
		{`Mar  3 09:00:01 mx postfix/anvil[123]: statistics: max newtls rate 3/60s for (smtp:192.0.2.1) at Mar  3 08:59:01`,
			F{"kind": "stats", "client_ip": "192.0.2.1", "detail": "max newtls rate 3/60s for (smtp:192.0.2.1) at Mar  3 08:59:01"}},
		{`Mar  3 09:00:01 mx postfix/anvil[123]: statistics: max message rate 9/60s for (smtp:::ffff:192.0.2.1) at Mar  3 08:59:01`,
			F{"kind": "stats", "client_ip": "::ffff:192.0.2.1", "detail": "max message rate 9/60s for (smtp:::ffff:192.0.2.1) at Mar  3 08:59:01"}},
		{`Mar  3 09:00:01 mx postfix/anvil[123]: warning: connection rate limit exceeded`,
			F{"kind": "warning", "level": "warning", "detail": "connection rate limit exceeded"}},
		{`Mar  3 09:00:01 mx postfix/anvil[123]: statistics: max connection count 1 for (smtp:192.0.2`,
			F{"kind": "stats", "detail": "max connection count 1 for (smtp:192.0.2"}},
		{`Mar  3 09:00:01 mx postfix/anvil[123]: statistics: max connection count 1 for (smtp:1.2.3.4.5) at`,
			F{"kind": "stats", "detail": "max connection count 1 for (smtp:1.2.3.4.5) at"}},
		{`Mar  3 09:00:01 mx postfix/anvil[123]: statistics`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

func TestScache(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: start interval Jan 28 16:10:55`,
			F{"kind": "stats", "detail": "start interval Jan 28 16:10:55"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: domain lookup hits=0 miss=1 success=0%`,
			F{"kind": "stats", "detail": "domain lookup hits=0 miss=1 success=0%"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: address lookup hits=0 miss=1 success=0%`,
			F{"kind": "stats", "detail": "address lookup hits=0 miss=1 success=0%"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: max simultaneous domains=1 addresses=1 connection=1`,
			F{"kind": "stats", "detail": "max simultaneous domains=1 addresses=1 connection=1"}},
		// synthetic
		{`Jan 28 16:14:16 mail postfix/scache[3794]: statistics: `, F{"kind": "stats"}},
		{`Jan 28 16:14:16 mail postfix/scache[3794]: fatal: open lock file: Permission denied`,
			F{"kind": "warning", "level": "fatal", "detail": "open lock file: Permission denied"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

func TestAnvilClientAddr(t *testing.T) {
	for in, want := range map[string]string{
		"smtp:1.2.3.4":               "1.2.3.4",
		"smtpd:2604:8d00:0:1::3":     "2604:8d00:0:1::3",
		"127.0.0.1:2525:127.0.0.1":   "127.0.0.1",
		"127.0.0.1:2525:::1":         "::1",
		"smtp:1:2:3:4:5:6:7:8":       "1:2:3:4:5:6:7:8",
		"smtp:unknown":               "unknown",
		"smtp:256.1.1.1":             "",
		"smtp:":                      "",
		"":                           "",
		"smtp:1.2.3":                 "",
		"smtp:fe80::1%eth0":          "",
		"inet:10025:2001:db8::1.2.3": "",
	} {
		if got := anvilClientAddr(in); got != want {
			t.Errorf("anvilClientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
