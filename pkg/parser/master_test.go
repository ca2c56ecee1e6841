package parser

import "testing"

func TestPostfixMisc(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// lightmeterio+ControlCenter/individual_files/19_postfix_version.log
		{`Mar 29 12:55:50 test1 postfix/postfix-script[15017]: starting the Postfix mail system`,
			F{"kind": "notice", "detail": "starting the Postfix mail system"}},
		// lightmeterio+ControlCenter/individual_files/19_postfix_version.log
		{`Mar 29 12:55:50 test1 postfix/master[15019]: daemon started -- version 3.4.14, configuration /etc/postfix`,
			F{"kind": "notice", "detail": "daemon started -- version 3.4.14, configuration /etc/postfix"}},
		// lightmeterio+ControlCenter/individual_files/19_postfix_version.log
		{`Mar 29 13:20:11 test1 postfix/postfix-script[15548]: stopping the Postfix mail system`,
			F{"kind": "notice", "detail": "stopping the Postfix mail system"}},
		// lightmeterio+ControlCenter/individual_files/19_postfix_version.log
		{`Mar 29 13:20:11 test1 postfix/master[15019]: terminating on signal 15`,
			F{"kind": "notice", "detail": "terminating on signal 15"}},
		// lightmeterio+ControlCenter/individual_files/28_received_bounce.log
		{`Feb 16 15:23:04 outreach postfix/trivial-rewrite[2432]: warning: do not list domain example.com in BOTH mydestination and virtual_mailbox_domains`,
			F{"kind": "warning", "level": "warning", "detail": "do not list domain example.com in BOTH mydestination and virtual_mailbox_domains"}},
		// whyscream+postfix-grok-patterns/test/master_0003.yaml
		{`Mar  3 09:00:01 mx postfix/master[1]: reload -- version 2.11.0, configuration /etc/postfix`,
			F{"kind": "notice", "detail": "reload -- version 2.11.0, configuration /etc/postfix"}},
		// whyscream+postfix-grok-patterns/test/master_0004.yaml
		{`Mar  3 09:00:01 mx postfix/master[1]: warning: process /usr/local/libexec/postfix/smtpd pid 46234 killed by signal 11`,
			F{"kind": "warning", "level": "warning", "detail": "process /usr/local/libexec/postfix/smtpd pid 46234 killed by signal 11"}},
		// whyscream+postfix-grok-patterns/test/postdrop_0001.yaml
		{`Mar  3 09:00:01 mx postfix/postdrop[77]: warning: uid=0: File too large`,
			F{"kind": "warning", "level": "warning", "detail": "uid=0: File too large"}},
		// whyscream+postfix-grok-patterns/test/postmap_0001.yaml
		{`Mar  3 09:00:01 mx postfix/postmap[77]: warning: /etc/postfix/conf.d/users.db: duplicate entry: "xxx@yyy.com"`,
			F{"kind": "warning", "level": "warning", "detail": `/etc/postfix/conf.d/users.db: duplicate entry: "xxx@yyy.com"`}},
		// whyscream+postfix-grok-patterns/test/sendmail_0001.yaml
		{`Mar  3 09:00:01 mx postfix/sendmail[77]: fatal: root(0): message file too big`,
			F{"kind": "warning", "level": "fatal", "detail": "root(0): message file too big"}},
		// whyscream+postfix-grok-patterns/test/script_0001.yaml
		{`Mar  3 09:00:01 mx postfix/postfix-script[77]: warning: symlink leaves directory: /etc/postfix/./makedefs.out`,
			F{"kind": "warning", "level": "warning", "detail": "symlink leaves directory: /etc/postfix/./makedefs.out"}},
		// whyscream+postfix-grok-patterns/test/verify_0001.yaml
		{`Mar  3 09:00:01 mx postfix/verify[77]: cache lmdb:/var/lib/postfix/verify_cache full cleanup: retained=724 dropped=6 entries`,
			F{"kind": "stats", "detail": "cache lmdb:/var/lib/postfix/verify_cache full cleanup: retained=724 dropped=6 entries"}},
		// whyscream+postfix-grok-patterns/test/verify_0002.yaml
		{`Mar  3 09:00:01 mx postfix/verify[77]: cache ??????????????????????????????????? partial cleanup: retained=1 dropped=0 entries`,
			F{"kind": "stats", "detail": "cache ??????????????????????????????????? partial cleanup: retained=1 dropped=0 entries"}},
		// whyscream+postfix-grok-patterns/test/trivial_rewrite_0002.yaml (trailing space kept)
		{`Mar  3 09:00:01 mx postfix/trivial-rewrite[77]: warning: dict_ldap_lookup: Search error -1: Can't contact LDAP server `,
			F{"kind": "warning", "level": "warning", "detail": "dict_ldap_lookup: Search error -1: Can't contact LDAP server "}},
		// synthetic: the postfix command's compatibility notice, the old
		// reload message, postqueue, unknown master text, empty and cut lines.
		{`Mar  3 09:00:01 mx postfix[77]: Postfix is running with backwards-compatible default settings`,
			F{"kind": "notice", "detail": "Postfix is running with backwards-compatible default settings"}},
		{`Mar  3 09:00:01 mx postfix/master[1]: reload configuration /etc/postfix`,
			F{"kind": "notice", "detail": "reload configuration /etc/postfix"}},
		{`Mar  3 09:00:01 mx postfix/postqueue[77]: fatal: Queue report unavailable - mail system is down`,
			F{"kind": "warning", "level": "fatal", "detail": "Queue report unavailable - mail system is down"}},
		{`Mar  3 09:00:01 mx postfix/master[1]: something new`, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/postfix-script[77]:`, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/verify[77]: cache btree:/x full cleanup`, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/showq[77]: warning:`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}
