package parser

import "testing"

func TestPostsuper(t *testing.T) {
	cases := []struct {
		line string
		want F
	}{
		// The corpus logs have no postsuper lines; the messages are the
		// grok cases with a syslog header in front.
		// whyscream+postfix-grok-patterns/test/postsuper_0001.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: removed`,
			F{"kind": "removed", "queue_id": "D4F2023DB", "action": "removed"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0002.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: requeued`,
			F{"kind": "notice", "queue_id": "D4F2023DB", "action": "requeued"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0003.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: placed on hold`,
			F{"kind": "notice", "queue_id": "D4F2023DB", "action": "placed on hold"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0004.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: released from hold`,
			F{"kind": "notice", "queue_id": "D4F2023DB", "action": "released from hold"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0005.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Deleted: 115 messages`,
			F{"kind": "notice", "action": "Deleted", "detail": "Deleted: 115 messages"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0006.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Requeued: 1 message`,
			F{"kind": "notice", "action": "Requeued", "detail": "Requeued: 1 message"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0007.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Placed on hold: 67 messages`,
			F{"kind": "notice", "action": "Placed on hold", "detail": "Placed on hold: 67 messages"}},
		// whyscream+postfix-grok-patterns/test/postsuper_0008.yaml
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Released from hold: 13 messages`,
			F{"kind": "notice", "action": "Released from hold", "detail": "Released from hold: 13 messages"}},
		// synthetic: long queue ids, warnings, odd and cut lines.
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: 4Xk3Fq0Ykbz9vBB: removed`,
			F{"kind": "removed", "queue_id": "4Xk3Fq0Ykbz9vBB", "action": "removed"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: warning: D4F2023DB: message not found`,
			F{"kind": "warning", "level": "warning", "queue_id": "D4F2023DB", "detail": "message not found"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: fatal: use of this command is reserved for the superuser`,
			F{"kind": "warning", "level": "fatal", "detail": "use of this command is reserved for the superuser"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: D4F2023DB: remo`, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Deleted: `, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Deleted: 3 apples`, F{"kind": "unknown"}},
		{`Mar  3 09:00:01 mx postfix/postsuper[4242]: Destroyed: 3 messages`, F{"kind": "unknown"}},
	}
	for _, c := range cases {
		checkLine(t, c.line, c.want)
	}
}
