package parser

import "testing"

func TestPickup(t *testing.T) {
	cases := []struct {
		src, line string
		want      F
	}{
		{"lightmeterio+ControlCenter/individual_files/18_pickup2.log",
			`Mar 30 11:33:58 test1 postfix/pickup[23219]: 81E343F2E2: uid=0 from=<root>`,
			F{"queue_id": "81E343F2E2", "kind": "pickup", "sender": "root", "detail": "uid=0"}},
		{"lightmeterio+ControlCenter/individual_files/21_deliveries_with_local_daemon.log",
			`Jun 20 05:02:55 ns4 postfix/pickup[26756]: 848F1657D: uid=2002 from=<h-195704c@h-20b651e8120a33ec11.com>`,
			F{"queue_id": "848F1657D", "kind": "pickup", "sender": "h-195704c@h-20b651e8120a33ec11.com", "detail": "uid=2002"}},
		{"whyscream+postfix-grok-patterns/test/pickup_0001.yaml",
			`Jun  3 10:40:57 mx postfix/pickup[4242]: D2FAE20586: uid=0 from=<fail2ban>`,
			F{"queue_id": "D2FAE20586", "kind": "pickup", "sender": "fail2ban", "detail": "uid=0"}},
		// Synthetic: cut, odd and warning lines.
		{"synthetic", `Jun  3 10:40:57 mx postfix/pickup[4242]: D2FAE20586: uid=0`, F{"queue_id": "D2FAE20586", "kind": "pickup", "detail": "uid=0"}},
		{"synthetic", `Jun  3 10:40:57 mx postfix/pickup[4242]: D2FAE20586: uid=`, F{"queue_id": "D2FAE20586", "kind": "pickup", "detail": "uid="}},
		{"synthetic", `Jun  3 10:40:57 mx postfix/pickup[4242]: D2FAE20586: from=<>`, F{"queue_id": "D2FAE20586", "kind": "pickup"}},
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/pickup[4242]: warning: maildrop/1A2B3C: error writing 4D5E6F: queue file write error`,
			F{"kind": "warning", "level": "warning", "detail": "maildrop/1A2B3C: error writing 4D5E6F: queue file write error"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
}
