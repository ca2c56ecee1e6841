package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// A syslog repeat line is one event standing for N occurrences: counted N
// times (Weight), beside the single lines counted once.
func TestRepeatWeight(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewPostfix(reg, PostfixConfig{})
	c := newTestCorrelator()
	p := &parser.Parser{}
	for _, line := range []string{
		"Jun  3 10:40:57 mx postfix/smtpd[9708]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
		"Jun  3 10:41:30 mx postfix/smtpd[9708]: message repeated 3 times: [ warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6]",
		"Jun  3 10:41:31 mx postfix/smtpd[9708]: connect from unknown[192.0.2.9]",
		"Jun  3 10:41:32 mx postfix/smtpd[9708]: message repeated 4 times: [ connect from unknown[192.0.2.9]]",
		"Jun  3 10:41:33 mx postfix/smtpd[9708]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <a@example.test>: Relay access denied; from=<b@example.test> to=<a@example.test> proto=ESMTP helo=<x>",
		"Jun  3 10:41:34 mx postfix/smtpd[9708]: message repeated 2 times: [ NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <a@example.test>: Relay access denied; from=<b@example.test> to=<a@example.test> proto=ESMTP helo=<x>]",
	} {
		feed(m, c, p, line)
	}
	want := `
# HELP postfix_auth_failures_total Failed authentication attempts taken by smtpd (SASL) and Dovecot's login processes; back-end verdicts are not counted.
# TYPE postfix_auth_failures_total counter
postfix_auth_failures_total{method="LOGIN",program="smtpd",service="postfix"} 4
# HELP postfix_smtpd_connects_total Connections smtpd accepted (postscreen's CONNECT lines are not counted).
# TYPE postfix_smtpd_connects_total counter
postfix_smtpd_connects_total{service="postfix"} 5
# HELP postfix_rejects_total Mail refused by smtpd restrictions, postscreen and milters, by stage and reply class.
# TYPE postfix_rejects_total counter
postfix_rejects_total{class="5xx",service="postfix",stage="rcpt"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "postfix_auth_failures_total", "postfix_smtpd_connects_total", "postfix_rejects_total"); err != nil {
		t.Error(err)
	}
}
