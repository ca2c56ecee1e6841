package parser

import "testing"

func TestTLSDaemons(t *testing.T) {
	tests := []struct {
		name string
		line string
		want F
	}{
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"tlsproxy connect", "Jan 28 06:28:13 mail postfix/tlsproxy[11682]: CONNECT from [147.95.50.135]:48198",
			F{"kind": "connect", "program": "tlsproxy", "client_ip": "147.95.50.135", "client_port": 48198}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"tlsproxy established", "Jan 28 06:28:14 mail postfix/tlsproxy[11682]: Anonymous TLS connection established from [147.95.50.135]:48198: TLSv1.2 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",
			F{"kind": "tls", "client_ip": "147.95.50.135", "client_port": 48198, "tls_trust": "Anonymous", "tls_protocol": "TLSv1.2", "tls_cipher": "ECDHE-RSA-AES256-SHA"}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.log
		{"tlsproxy disconnect", "Jan 28 06:28:14 mail postfix/tlsproxy[11682]: DISCONNECT [147.95.50.135]:48198",
			F{"kind": "disconnect", "client_ip": "147.95.50.135", "client_port": 48198}},
		// lightmeterio+ControlCenter/complete/logs_sample/mail.warn.3.gz
		{"tlsproxy warning", "Jan  4 08:14:50 mail postfix/tlsproxy[28945]: warning: TLS library problem: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol:../ssl/statem/h-0b4fa0295b4be:1661:",
			F{"kind": "warning", "level": "warning", "detail": "TLS library problem: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol:../ssl/statem/h-0b4fa0295b4be:1661:"}},
		// synthetic: tlsproxy as the client side of smtp connection reuse
		{"tlsproxy outbound", "Jan 28 06:28:14 mail postfix/tlsproxy[11682]: Verified TLS connection established to mx.example.com[192.0.2.25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
			F{"kind": "tls", "relay_host": "mx.example.com", "relay_ip": "192.0.2.25", "relay_port": 25, "tls_trust": "Verified", "tls_protocol": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384"}},
		// whyscream+postfix-grok-patterns/test/tlsmgr_0001.yaml
		{"tlsmgr warning", smtpdFamilyLine("tlsmgr", "warning: request to update table btree:/var/spool/postfix/smtpd_scache in non-postfix directory /var/spool/postfix"),
			F{"kind": "warning", "program": "tlsmgr", "level": "warning", "detail": "request to update table btree:/var/spool/postfix/smtpd_scache in non-postfix directory /var/spool/postfix"}},
		// synthetic edge cases
		{"connect cut", "Jan 28 06:28:13 mail postfix/tlsproxy[11682]: CONNECT from [",
			F{"kind": "unknown"}},
		{"established cut", "Jan 28 06:28:13 mail postfix/tlsproxy[11682]: Anonymous TLS connection established from [1.2.3.4]:5",
			F{"kind": "tls", "client_ip": "1.2.3.4", "client_port": 5, "tls_trust": "Anonymous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLine(t, tt.line, tt.want) })
	}
}
