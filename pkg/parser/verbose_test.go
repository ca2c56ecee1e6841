package parser

import "testing"

// TestVerbose: Postfix's -v output, written the way the msg_info() calls of
// Postfix 2.11-3.9 write it, is a debug notice; the same daemon's lines that
// are neither ordinary nor debug output stay unknown.
func TestVerbose(t *testing.T) {
	const h = "Feb 26 12:27:16 mx postfix/"
	debug := func(detail string) F { return F{"kind": "notice", "level": "debug", "detail": detail} }
	cases := []struct {
		line string
		want F
	}{
		// smtpd_chat.c / smtp_chat.c: both directions of the conversation.
		{h + "smtpd[6009]: > localhost[127.0.0.1]: 250 2.0.0 Ok: queued as 4F2B1C0A11", debug("> localhost[127.0.0.1]: 250 2.0.0 Ok: queued as 4F2B1C0A11")},
		{h + "smtpd[6009]: < localhost[::1]: MAIL FROM:<a@example.org> SIZE=1024", debug("< localhost[::1]: MAIL FROM:<a@example.org> SIZE=1024")},
		{h + "smtp[6010]: < mx.example.net[192.0.2.7]:25: 250-mx.example.net", debug("< mx.example.net[192.0.2.7]:25: 250-mx.example.net")},
		// smtpd_check.c.
		{h + "smtpd[6009]: >>> START Recipient address RESTRICTIONS <<<", debug(">>> START Recipient address RESTRICTIONS <<<")},
		{h + "smtpd[6009]: >>> CHECKING RECIPIENT MAPS <<<", debug(">>> CHECKING RECIPIENT MAPS <<<")},
		{h + "smtpd[6009]: unverified_sender_tempfail_action = defer_if_permit", debug("unverified_sender_tempfail_action = defer_if_permit")},
		{h + "smtpd[6009]: generic_checks: name=permit_mynetworks status=0", debug("generic_checks: name=permit_mynetworks status=0")},
		// attr_print0.c / attr_scan0.c.
		{h + "qmgr[5898]: send attr queue_id = 4F2B1C0A11", debug("send attr queue_id = 4F2B1C0A11")},
		{h + "smtp[6010]: input attribute name: status", debug("input attribute name: status")},
		{h + "smtp[6010]: input attribute value: (end)", debug("input attribute value: (end)")},
		{h + "smtp[6010]: private/defer socket: wanted attribute: status", debug("private/defer socket: wanted attribute: status")},
		// util and global helpers under their function names.
		{h + "cleanup[6011]: match_string: fast_flush_domains ~? debug_peer_list", debug("match_string: fast_flush_domains ~? debug_peer_list")},
		{h + "cleanup[6011]: name_mask: all", debug("name_mask: all")},
		{h + "smtpd[6009]: dict_open: hash:/etc/aliases", debug("dict_open: hash:/etc/aliases")},
		{h + "cleanup[6011]: mynetworks: 127.0.0.0/8 [::1]/128", debug("mynetworks: 127.0.0.0/8 [::1]/128")},
		{h + "smtpd[6009]: connect to subsystem private/rewrite", debug("connect to subsystem private/rewrite")},
		{h + "smtpd[6009]: rewrite stream disconnect", debug("rewrite stream disconnect")},
		{h + "qmgr[5898]: process generation: 10 (10)", debug("process generation: 10 (10)")},
		{h + "smtpd[6009]: connection established", debug("connection established")},
		// qmgr.
		{h + "qmgr[5898]: request: 1 (W)", debug("request: 1 (W)")},
		{h + "qmgr[5898]: done incoming queue scan", debug("done incoming queue scan")},
		{h + "qmgr[5898]: start move queue active -> incoming", debug("start move queue active -> incoming")},
		{h + "qmgr[5898]: wakeup 4F2B1C0A11 after 300 secs", debug("wakeup 4F2B1C0A11 after 300 secs")},
		{h + "qmgr[5898]: 4F2B1C0A11: recipient limit 5000", F{"kind": "notice", "level": "debug", "queue_id": "4F2B1C0A11", "detail": "recipient limit 5000"}},
		// smtp_addr.c, dns_lookup.c, smtp_connect.c.
		{h + "smtp[6010]: pref   10 host mx.example.net/192.0.2.7", debug("pref   10 host mx.example.net/192.0.2.7")},
		{h + "smtp[6010]: lookup example.net type MX flags 0", debug("lookup example.net type MX flags 0")},
		{h + "smtp[6010]: connecting to mx.example.net port 25", debug("connecting to mx.example.net port 25")},
		// Not debug output: every server's exit when the master goes away,
		// and bounce_append's failure.
		{h + "qmgr[5898]: master disconnect -- exiting", F{"kind": "notice", "detail": "master disconnect -- exiting"}},
		{h + "qmgr[5898]: 4F2B1C0A11: status=deferred (bounce failed)", F{"kind": "notice", "queue_id": "4F2B1C0A11", "detail": "status=deferred (bounce failed)"}},
		// Neither: unknown, with raw.
		{h + "smtpd[6009]: Unsupported", F{"kind": "unknown"}},
		{h + "qmgr[5898]: > not a peer", F{"kind": "unknown"}},
		{h + "qmgr[5898]: _private: x", F{"kind": "unknown"}},
		// Only Postfix daemons: another program's identifier-like text is
		// not taken for Postfix debug output.
		{"Feb 26 12:27:16 mx someapp[1]: name_mask: all", F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}
