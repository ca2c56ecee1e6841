package parser

import "testing"

// TestPostgrey: postgrey's lines as postgrey 1.x writes them (mylog_action:
// "action=A, reason=R[, delay=N], client_name=..., client_address=...,
// sender=..., recipient=..."), its pre-1.28 "delayed" line and the
// Net::Server and database upkeep lines.
func TestPostgrey(t *testing.T) {
	const h = "Jun 20 16:46:17 mx postgrey[919]: "
	cases := []struct {
		line string
		want F
	}{
		{h + "action=greylist, reason=new, client_name=mx.example.org, client_address=192.0.2.1, sender=a@example.org, recipient=b@example.net",
			F{"kind": "policy", "check": "greylist", "result": "greylist", "detail": "new", "client_host": "mx.example.org",
				"client_ip": "192.0.2.1", "sender": "a@example.org", "recipient": "b@example.net"}},
		{h + "action=greylist, reason=early-retry (295s missing), client_name=mx.example.org, client_address=192.0.2.1, sender=a@example.org, recipient=b@example.net",
			F{"kind": "policy", "check": "greylist", "result": "greylist", "detail": "early-retry (295s missing)", "client_host": "mx.example.org",
				"client_ip": "192.0.2.1", "sender": "a@example.org", "recipient": "b@example.net"}},
		{h + "4F2B1C0A11: action=pass, reason=triplet found, delay=311, client_name=unknown, client_address=2001:db8::25, sender=a@example.org, recipient=b@example.net",
			F{"kind": "policy", "queue_id": "4F2B1C0A11", "check": "greylist", "result": "pass", "detail": "triplet found", "delay": 311,
				"client_host": "unknown", "client_ip": "2001:db8::25", "sender": "a@example.org", "recipient": "b@example.net"}},
		{h + "action=pass, reason=client whitelist, client_name=mail.example.com, client_address=198.51.100.4, recipient=b@example.net",
			F{"kind": "policy", "check": "greylist", "result": "pass", "detail": "client whitelist", "client_host": "mail.example.com",
				"client_ip": "198.51.100.4", "recipient": "b@example.net"}},
		{h + "delayed 603 seconds: client=mx.example.org, from=a@example.org, to=b@example.net",
			F{"kind": "policy", "check": "greylist", "result": "pass", "delay": 603, "sender": "a@example.org", "recipient": "b@example.net",
				"detail": "delayed 603 seconds: client=mx.example.org, from=a@example.org, to=b@example.net"}},
		{h + "cleaning main database finished. before: 3800, after: 2539", F{"kind": "notice", "detail": "cleaning main database finished. before: 3800, after: 2539"}},
		{h + "Process Backgrounded", F{"kind": "notice", "detail": "Process Backgrounded"}},
		{h + "Binding to TCP port 10023 on host 127.0.0.1", F{"kind": "notice", "detail": "Binding to TCP port 10023 on host 127.0.0.1"}},
		{h + `Couldn't unlink "/var/run/postgrey.pid" [Permission denied]`, F{"kind": "warning", "level": "warning", "detail": `Couldn't unlink "/var/run/postgrey.pid" [Permission denied]`}},
		{h + "fatal: can't open database", F{"kind": "warning", "level": "fatal", "detail": "can't open database"}},
		{h + "", F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}

// TestPolicydSPFDebug: the SPF policy servers' lines beyond the verdicts
// TestPolicydSPF covers, as python-policyd-spf (syslog.syslog calls of
// debugLevel 1-4) and postfix-policyd-spf-perl write them.
func TestPolicydSPFDebug(t *testing.T) {
	const py = "Jan 28 06:40:37 mail policyd-spf[15067]: "
	const pl = "Jan 28 06:40:37 mail postfix/policy-spf[2301]: "
	cases := []struct {
		line string
		want F
	}{
		// debugLevel 3 repeats the verdict the next line carries: a debug notice, not a second verdict.
		{py + "Action: prepend: Text: Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=<UNKNOWN> Reject action: 550 5.7.23",
			F{"kind": "notice", "level": "debug", "detail": "Action: prepend: Text: Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=<UNKNOWN> Reject action: 550 5.7.23"}},
		{py + `Read line: "request=smtpd_access_policy"`, F{"kind": "notice", "level": "debug", "detail": `Read line: "request=smtpd_access_policy"`}},
		{py + "Normal exit", F{"kind": "notice", "level": "debug", "detail": "Normal exit"}},
		{py + `ERROR: Could not match line "garbage"`, F{"kind": "warning", "level": "error", "detail": `Could not match line "garbage"`}},
		// debugLevel 1: the verdict without a header field, and a deferral.
		{py + "Header field not prepended: Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=mx.example.org; envelope-from=a@example.org; receiver=<UNKNOWN>",
			F{"kind": "policy", "check": "spf", "result": "softfail", "client_ip": "192.0.2.1", "helo": "mx.example.org", "sender": "a@example.org", "domain": "example.org"}},
		{py + "defer_if_permit 4.7.24 SPF temperror (DNS Timeout)",
			F{"kind": "policy", "check": "spf", "result": "temperror", "action": "defer", "response": "4.7.24 SPF temperror (DNS Timeout)", "dsn": "4.7.24"}},
		// postfix-policyd-spf-perl: an empty queue id, verbose and error lines.
		{pl + ": SPF none: smtp_comment=SPF: domain of sender a@example.org does not designate mailers, header_comment=mx.example.net: domain of a@example.org does not designate permitted sender hosts",
			F{"kind": "policy", "check": "spf", "result": "none"}},
		{pl + "testing: stripped sender=a@example.org, stripped rcpt=b@example.net", F{"kind": "notice", "level": "debug", "detail": "testing: stripped sender=a@example.org, stripped rcpt=b@example.net"}},
		{pl + "HELO check failed - Mail::SPF->new(, , ) failed: Missing required 'identity' option",
			F{"kind": "warning", "level": "error", "detail": "HELO check failed - Mail::SPF->new(, , ) failed: Missing required 'identity' option"}},
		{pl + "SPF not applicable to localhost connection - skipped check", F{"kind": "notice", "detail": "SPF not applicable to localhost connection - skipped check"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}
