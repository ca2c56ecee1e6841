package parser

import "testing"

func TestPostscreen(t *testing.T) {
	tests := []struct {
		name string
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"connect", "Jan 28 06:40:36 mail postfix/postscreen[15049]: CONNECT from [224.73.110.132]:34764 to [170.45.1.1]:25",
			F{"kind": "connect", "client_ip": "224.73.110.132", "client_port": 34764, "server_ip": "170.45.1.1", "server_port": 25}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"pass new", "Jan 28 11:05:26 mail postfix/postscreen[20088]: PASS NEW [199.229.127.90]:50001",
			F{"kind": "postscreen", "verdict": "PASS NEW", "client_ip": "199.229.127.90", "client_port": 50001}},
		// whyscream+postfix-grok-patterns/test/postscreen_0005.yaml
		{"pass old ipv6", smtpdFamilyLine("postscreen", "PASS OLD [2604:8d00:0:1::3]:52237"),
			F{"kind": "postscreen", "verdict": "PASS OLD", "client_ip": "2604:8d00:0:1::3", "client_port": 52237}},
		// proxmox+pmg-log-tracker/test_input_time_rfc3339_mixed
		{"whitelisted", "2023-06-23T14:26:29.324181+02:00 pmg1 postfix/postscreen[1180]: WHITELISTED [192.168.1.001]:58320",
			F{"kind": "postscreen", "verdict": "WHITELISTED", "client_ip": "192.168.1.001", "client_port": 58320}},
		// Hsn723+postfix_exporter/lines_from_exporter_test.log
		{"allowlisted", "Feb 24 16:18:40 letterman postfix/postscreen[3508454]: ALLOWLISTED [69.171.232.146]:61236",
			F{"kind": "postscreen", "verdict": "ALLOWLISTED", "client_ip": "69.171.232.146", "client_port": 61236}},
		// Hsn723+postfix_exporter/lines_from_exporter_test.log
		{"denylisted", "Feb 24 16:18:40 letterman postfix/postscreen[3508454]: DENYLISTED [1.2.3.4]:5678",
			F{"kind": "postscreen", "verdict": "DENYLISTED", "client_ip": "1.2.3.4", "client_port": 5678}},
		// whyscream+postfix-grok-patterns/test/postscreen_0008.yaml
		{"blacklisted", smtpdFamilyLine("postscreen", "BLACKLISTED [61.238.241.86]:53024"),
			F{"kind": "postscreen", "verdict": "BLACKLISTED", "client_ip": "61.238.241.86", "client_port": 53024}},
		// whyscream+postfix-grok-patterns/test/postscreen_0009.yaml
		{"whitelist veto", smtpdFamilyLine("postscreen", "WHITELIST VETO [61.238.241.86]:53024"),
			F{"kind": "postscreen", "verdict": "WHITELIST VETO", "client_ip": "61.238.241.86", "client_port": 53024}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"dnsbl rank", "Jan 27 07:49:18 mail postfix/postscreen[8291]: DNSBL rank 3 for [155.63.95.6]:63966",
			F{"kind": "postscreen", "verdict": "DNSBL", "dnsbl_rank": 3, "client_ip": "155.63.95.6", "client_port": 63966}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"pregreet", `Jan 28 08:43:48 mail postfix/postscreen[15108]: PREGREET 18 after 0 from [222.85.244.30]:46794: EHLO zg-1218a-54\r\n`,
			F{"kind": "postscreen", "verdict": "PREGREET", "client_ip": "222.85.244.30", "client_port": 46794, "detail": `EHLO zg-1218a-54\r\n`}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1: binary junk
		{"pregreet rdp", `Jan 27 14:33:52 mail postfix/postscreen[18999]: PREGREET 47 after 0 from [112.103.155.150]:45414: \003\000\000/*\340\000\000\000\000\000Cookie: mstshash=Administr\r\n\001\000\b\000\003\000\000\000`,
			F{"kind": "postscreen", "verdict": "PREGREET", "client_ip": "112.103.155.150", "client_port": 45414,
				"detail": `\003\000\000/*\340\000\000\000\000\000Cookie: mstshash=Administr\r\n\001\000\b\000\003\000\000\000`}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"hangup before", "Jan 27 08:42:46 mail postfix/postscreen[22436]: HANGUP after 0.27 from [88.147.247.93]:58264 in tests before SMTP handshake",
			F{"kind": "postscreen", "verdict": "HANGUP", "client_ip": "88.147.247.93", "client_port": 58264, "detail": "tests before SMTP handshake"}},
		// Hsn723+postfix_exporter/lines_from_exporter_test.log
		{"hangup after", "Feb 24 16:18:40 letterman postfix/postscreen[1234]: HANGUP after 2.5 from [1.2.3.4]:5678 in tests after SMTP handshake",
			F{"kind": "postscreen", "verdict": "HANGUP", "client_ip": "1.2.3.4", "client_port": 5678, "detail": "tests after SMTP handshake"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"command pipelining", `Jan 27 14:33:53 mail postfix/postscreen[18999]: COMMAND PIPELINING from [112.103.155.150]:45414 after ?: \001\000\b\000\003\000\000\000`,
			F{"kind": "postscreen", "verdict": "COMMAND PIPELINING", "client_ip": "112.103.155.150", "client_port": 45414, "after": "?", "detail": `\001\000\b\000\003\000\000\000`}},
		// whyscream+postfix-grok-patterns/test/postscreen_0022.yaml
		{"non-smtp command", smtpdFamilyLine("postscreen", "NON-SMTP COMMAND from [93.174.93.51]:45284 after CONNECT: GET http://ipv4scan.com/hello/check.txt HTTP/1.1"),
			F{"kind": "postscreen", "verdict": "NON-SMTP COMMAND", "client_ip": "93.174.93.51", "client_port": 45284, "after": "CONNECT", "detail": "GET http://ipv4scan.com/hello/check.txt HTTP/1.1"}},
		// whyscream+postfix-grok-patterns/test/postscreen_0026.yaml
		{"bare newline", smtpdFamilyLine("postscreen", "BARE NEWLINE from [88.208.233.4]:42606 after ."),
			F{"kind": "postscreen", "verdict": "BARE NEWLINE", "client_ip": "88.208.233.4", "client_port": 42606, "after": "."}},
		// whyscream+postfix-grok-patterns/test/postscreen_0014.yaml
		{"command time limit", smtpdFamilyLine("postscreen", "COMMAND TIME LIMIT from [182.246.250.243]:51799 after CONNECT"),
			F{"kind": "postscreen", "verdict": "COMMAND TIME LIMIT", "client_ip": "182.246.250.243", "client_port": 51799, "after": "CONNECT"}},
		// whyscream+postfix-grok-patterns/test/postscreen_0020.yaml
		{"command count limit", smtpdFamilyLine("postscreen", "COMMAND COUNT LIMIT from [182.246.250.243]:51796 after RCPT"),
			F{"kind": "postscreen", "verdict": "COMMAND COUNT LIMIT", "client_ip": "182.246.250.243", "client_port": 51796, "after": "RCPT"}},
		// whyscream+postfix-grok-patterns/test/postscreen_0021.yaml
		{"command length limit", smtpdFamilyLine("postscreen", "COMMAND LENGTH LIMIT from [182.246.250.243]:51796 after RCPT"),
			F{"kind": "postscreen", "verdict": "COMMAND LENGTH LIMIT", "client_ip": "182.246.250.243", "client_port": 51796, "after": "RCPT"}},
		// sergeymakinen+postfix_exporter/mail.log (day zero-padded)
		{"data without rcpt", "Jan 01 00:00:00 hostname postfix/postscreen[12345]: DATA without valid RCPT from [123.45.67.89]:12345",
			F{"kind": "postscreen", "verdict": "DATA without valid RCPT", "client_ip": "123.45.67.89", "client_port": 12345}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"disconnect", "Jan 28 08:43:48 mail postfix/postscreen[15108]: DISCONNECT [222.85.244.30]:46794",
			F{"kind": "postscreen", "verdict": "DISCONNECT", "client_ip": "222.85.244.30", "client_port": 46794}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log.1
		{"reject rcpt", "Jan 27 07:49:18 mail postfix/postscreen[8291]: NOQUEUE: reject: RCPT from [155.63.95.6]:63966: 550 5.7.1 Service unavailable; client [155.63.95.6] blocked using h-b8ce05d1c068e5c0; from=<h-9a34f8b@h-8ed5c3b550.com>, to=<h-9a34f8b@h-8ed5c3b550.com>, proto=ESMTP, helo=<WIN-QGFOVKPDT6T>",
			F{"kind": "reject", "action": "reject", "reject_stage": "rcpt", "client_ip": "155.63.95.6", "client_port": 63966,
				"response": "550 5.7.1 Service unavailable; client [155.63.95.6] blocked using h-b8ce05d1c068e5c0", "dsn": "5.7.1",
				"sender": "h-9a34f8b@h-8ed5c3b550.com", "recipient": "h-9a34f8b@h-8ed5c3b550.com", "protocol": "ESMTP", "helo": "WIN-QGFOVKPDT6T"}},
		// Hsn723+postfix_exporter/lines_from_exporter_test.log
		{"reject connect", "Feb 24 16:18:40 letterman postfix/postscreen[1234]: NOQUEUE: reject: CONNECT from [1.2.3.4]:5678: all screening ports busy",
			F{"kind": "reject", "action": "reject", "reject_stage": "connect", "client_ip": "1.2.3.4", "client_port": 5678, "detail": "all screening ports busy"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"cache cleanup", "Jan 28 10:49:57 mail postfix/postscreen[16031]: cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained=105 dropped=3 entries",
			F{"kind": "stats", "detail": "retained=105 dropped=3 entries"}},
		// proxmox+pmg-log-tracker/test_input_time_rfc3339_mixed
		{"backwards-compatible", "2023-06-23T14:26:29.324224+02:00 pmg1 postfix/postscreen[1180]: using backwards-compatible default setting respectful_logging=no for client [192.168.1.001]:58320",
			F{"kind": "notice", "client_ip": "192.168.1.001", "client_port": 58320, "detail": "using backwards-compatible default setting respectful_logging=no for client [192.168.1.001]:58320"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn
		{"dnsblog timeout", "Jan  3 10:49:58 mail postfix/postscreen[11889]: warning: dnsblog reply timeout 10s for h-4b87b7ab42a1a1t",
			F{"kind": "warning", "level": "warning", "dnsbl_domain": "h-4b87b7ab42a1a1t", "detail": "dnsblog reply timeout 10s for h-4b87b7ab42a1a1t"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn
		{"getpeername", "Jan 27 14:33:52 mail postfix/postscreen[18999]: warning: getpeername: Transport endpoint is not connected -- dropping this connection",
			F{"kind": "warning", "level": "warning", "detail": "getpeername: Transport endpoint is not connected -- dropping this connection"}},
		// sergeymakinen+postfix_exporter/mail.log (day zero-padded)
		{"error", "Jan 01 00:00:00 hostname postfix/postscreen[12345]: error: open /example: No such file or directory",
			F{"kind": "warning", "level": "error", "detail": "open /example: No such file or directory"}},
		// sergeymakinen+postfix_exporter/mail.log (day zero-padded)
		{"garbage", "Jan 01 00:00:00 hostname postfix/postscreen[12345]: foo",
			F{"kind": "unknown"}},
		// synthetic edge cases
		{"verdict without address", "Jan 28 08:43:48 mail postfix/postscreen[15108]: PASS NEW [",
			F{"kind": "unknown"}},
		{"connect cut", "Jan 28 08:43:48 mail postfix/postscreen[15108]: CONNECT from [1.2.3.4]:5",
			F{"kind": "connect", "client_ip": "1.2.3.4", "client_port": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLine(t, tt.line, tt.want) })
	}
}

func TestDnsblog(t *testing.T) {
	tests := []struct {
		name string
		line string
		want F
	}{
		// lightmeterio+ControlCenter/individual_files/22_virtual_delivery.log
		{"listed", "Jul  8 17:05:18 mail postfix/dnsblog[21133]: addr 1.2.3.4 listed by domain zen.spamhaus.org as 127.0.0.3",
			F{"kind": "postscreen", "client_ip": "1.2.3.4", "dnsbl_domain": "zen.spamhaus.org", "detail": "127.0.0.3"}},
		// whyscream+postfix-grok-patterns/test/dnsblog_0002.yaml
		{"listed ipv6", smtpdFamilyLine("dnsblog", "addr 2607:f8b0:4003:c01::23a listed by domain list.dnswl.org as 127.0.5.1"),
			F{"kind": "postscreen", "client_ip": "2607:f8b0:4003:c01::23a", "dnsbl_domain": "list.dnswl.org", "detail": "127.0.5.1"}},
		// whyscream+postfix-grok-patterns/test/dnsblog_0003.yaml
		{"lookup error", smtpdFamilyLine("dnsblog", "warning: dnsblog_query: lookup error for DNS query 198.204.82.110.list.dnswl.org: Host or domain name not found. Name service error for name=198.204.82.110.list.dnswl.org type=A: Host not found, try again"),
			F{"kind": "warning", "level": "warning", "detail": "dnsblog_query: lookup error for DNS query 198.204.82.110.list.dnswl.org: Host or domain name not found. Name service error for name=198.204.82.110.list.dnswl.org type=A: Host not found, try again"}},
		// synthetic: cut line
		{"cut", smtpdFamilyLine("dnsblog", "addr 1.2.3.4 listed by domain zen"),
			F{"kind": "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLine(t, tt.line, tt.want) })
	}
}
