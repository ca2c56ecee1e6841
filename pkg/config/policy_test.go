package config

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/suspend"
)

func TestPolicyConfig(t *testing.T) {
	c, err := Parse([]byte(`
policy:
  listen: unix:/run/mailtrail/policy
  dovecot_listen: 127.0.0.1:10041
  dry_run: true
  allow_networks: [192.0.2.0/24, 127.0.0.1, "2001:db8::/32"]
  allow_users: [postmaster@example.com]
  default_for: 12h
  rules:
    - {detection: brute_force_ip, for: 15m}
    - {detection: compromised, for: 24h, response: hold}
`))
	if err != nil {
		t.Fatal(err)
	}
	rules := c.Policy.SuspendRules()
	if !c.Policy.DryRun || len(rules) != 2 || rules[0] != (suspend.Rule{Detection: "brute_force_ip", For: 15 * time.Minute, Response: "reject"}) ||
		rules[1].Response != "hold" || time.Duration(c.Policy.DefaultFor) != 12*time.Hour {
		t.Errorf("read %+v", c.Policy)
	}
	nets, err := c.Policy.AllowPrefixes()
	if err != nil || len(nets) != 3 || nets[1].String() != "127.0.0.1/32" {
		t.Errorf("allow_networks: %v %v", nets, err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"policy: {listen: 10040}", "policy.listen: want host:port or unix:/path, got 10040"},
		{"policy: {listen: 'unix:'}", "policy.listen: unix: needs a socket path"},
		{"policy: {dovecot_listen: localhost}", "policy.dovecot_listen: want host:port"},
		{"policy: {allow_networks: [example.com]}", `policy.allow_networks: "example.com" is neither`},
		{"policy: {rules: [{detection: spam}]}", `policy.rules: rule 1: detection "spam"`},
		{"policy: {rules: [{detection: send_volume, response: drop}]}", `policy.rules: rule 1: response "drop"`},
		{"policy: {default_for: -1h}", "policy.default_for: must not be negative"},
		{"policy: {rulez: []}", "rulez"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
