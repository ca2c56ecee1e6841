package parser

import "testing"

func TestBounce(t *testing.T) {
	const grok = "whyscream+postfix-grok-patterns/test/"
	cases := []struct {
		src, line string
		want      F
	}{
		{"Hsn723+postfix_exporter/lines_from_exporter_test.log",
			`Dec 29 03:03:48 mail postfix/bounce[9321]: 732BB407C3: sender non-delivery notification: 5DE184083C`,
			F{"queue_id": "732BB407C3", "kind": "bounce_notice", "action": "non-delivery", "next_queue_id": "5DE184083C"}},
		{"lightmeterio+ControlCenter/individual_files/18_expired.log",
			`Sep 30 20:46:08 smtpnode16 postfix-239.58.50.50/bounce[23567]: 23EBE3D5C0: sender non-delivery notification: A7E673C067`,
			F{"queue_id": "23EBE3D5C0", "kind": "bounce_notice", "action": "non-delivery", "next_queue_id": "A7E673C067"}},
		{grok + "bounce_0002.yaml",
			`Jun  3 10:40:57 mx postfix/bounce[4242]: 65AFB8B5: sender delivery status notification: 1DF35917`,
			F{"queue_id": "65AFB8B5", "kind": "bounce_notice", "action": "delivery-status", "next_queue_id": "1DF35917"}},
		{grok + "bounce_0003.yaml",
			`Jun  3 10:40:57 mx postfix/bounce[4242]: 264FE1A18: sender delay notification: 0A87A1A08`,
			F{"queue_id": "264FE1A18", "kind": "bounce_notice", "action": "delay", "next_queue_id": "0A87A1A08"}},
		{grok + "bounce_0004.yaml",
			`Jun  3 10:40:57 mx postfix/bounce[4242]: 482E4404AC8: postmaster non-delivery notification: 47335405A44`,
			F{"queue_id": "482E4404AC8", "kind": "bounce_notice", "action": "postmaster-non-delivery", "next_queue_id": "47335405A44"}},
		// Synthetic: the defer and trace daemons, and a warning.
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/defer[4242]: 264FE1A18: postmaster delay notification: 0A87A1A08`,
			F{"queue_id": "264FE1A18", "kind": "bounce_notice", "action": "postmaster-delay", "next_queue_id": "0A87A1A08"}},
		{"synthetic",
			`Jun  3 10:40:57 mx postfix/bounce[4242]: warning: 264FE1A18: undeliverable postmaster notification discarded`,
			F{"queue_id": "264FE1A18", "kind": "warning", "level": "warning", "detail": "undeliverable postmaster notification discarded"}},
		{"synthetic", `Jun  3 10:40:57 mx postfix/trace[4242]: 264FE1A18: sender`, F{"queue_id": "264FE1A18", "kind": "unknown"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) { checkLine(t, c.line, c.want) })
	}
}
