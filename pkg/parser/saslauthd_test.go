package parser

import "testing"

func TestSaslauthd(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:28:56 sm02 saslauthd[94963]: auth_zimbra: sender@sender.example.com auth OK`,
			F{"program": "saslauthd", "kind": "auth_backend", "check": "zimbra", "result": "ok", "sasl_username": "sender@sender.example.com", "protocol": "sasl"}},
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:28:56 sm02 saslauthd[94963]: zmauth: authenticating against elected url 'https://some.server.with.soap:7073/service/admin/soap/' ...`,
			F{"kind": "notice", "detail": "authenticating against elected url 'https://some.server.with.soap:7073/service/admin/soap/' ..."}},
		// lightmeterio+ControlCenter/individual_files/5_zimbra_amavisd.log
		{`Dec 17 06:28:56 sm02 saslauthd[94963]: zmpost: url='https://some.server.with.soap:7073/service/admin/soap/' returned buffer->data='<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>', hti->error=''`,
			F{"kind": "notice", "detail": `url='https://some.server.with.soap:7073/service/admin/soap/' returned buffer->data='<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>', hti->error=''`}},
		// synthetic: Cyrus saslauthd's padded function column
		{`Mar  3 09:00:01 mx saslauthd[811]: do_auth         : auth failure: [user=bob] [service=smtp] [realm=example.org] [mech=pam] [reason=PAM auth error]`,
			F{"kind": "auth_backend", "check": "pam", "result": "failed", "sasl_username": "bob", "protocol": "smtp", "detail": "PAM auth error"}},
		// synthetic
		{`Mar  3 09:00:01 mx saslauthd[811]: do_auth         : auth success: [user=bob] [service=imap] [realm=] [mech=shadow]`,
			F{"kind": "auth_backend", "check": "shadow", "result": "ok", "sasl_username": "bob", "protocol": "imap"}},
		// synthetic: a PAM module under saslauthd's ident
		{`Mar  3 09:00:01 mx saslauthd[811]: pam_unix(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=  user=bob`,
			F{"kind": "auth_backend", "check": "pam_unix", "result": "failed", "sasl_username": "bob", "protocol": "smtp", "detail": "authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=  user=bob"}},
		// synthetic
		{`Mar  3 09:00:01 mx saslauthd[811]: pam_unix(smtp:auth): check pass; user unknown`,
			F{"kind": "auth_backend", "check": "pam_unix", "result": "unknown_user", "protocol": "smtp", "detail": "check pass; user unknown"}},
		// synthetic: start-up
		{`Mar  3 09:00:01 mx saslauthd[811]: ipc_init        : listening on socket: /var/run/saslauthd/mux`,
			F{"kind": "notice", "detail": "listening on socket: /var/run/saslauthd/mux"}},
		// synthetic: no function column
		{`Mar  3 09:00:01 mx saslauthd[811]: something odd`, F{"kind": "unknown"}},
		// synthetic: cut line
		{`Mar  3 09:00:01 mx saslauthd[811]: do_auth : auth failure: [user=bo`, F{"kind": "auth_backend", "result": "failed", "sasl_username": "bo", "protocol": "sasl"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}
