package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// Policy configures the Postfix policy and Dovecot auth-policy services
// and the suspensions they enforce (docs/responding.md). Both services are
// off until given an address.
type Policy struct {
	// Listen is the Postfix policy service's address: host:port (TCP) or
	// unix:/path (a socket, mode 0666 so that smtpd can reach it).
	Listen string `yaml:"listen"`
	// DovecotListen is the HTTP address Dovecot's auth_policy_server_url
	// points at (host:port).
	DovecotListen string `yaml:"dovecot_listen"`
	// DovecotAPIKeyFile holds the key Dovecot must send in X-API-Key
	// (auth_policy_server_api_header); empty: none asked.
	DovecotAPIKeyFile string `yaml:"dovecot_api_key_file"`
	// DryRun refuses nobody but journals and counts what it would refuse.
	DryRun bool `yaml:"dry_run"`
	// AllowNetworks (CIDR or address) and AllowUsers are never refused.
	AllowNetworks []string `yaml:"allow_networks"`
	AllowUsers    []string `yaml:"allow_users"`
	// DefaultFor is how long a suspension without a duration lasts
	// (default 24h): every suspension expires unless made permanent.
	DefaultFor Duration `yaml:"default_for"`
	// Rules are the automatic responses, first match wins.
	Rules []PolicyRule `yaml:"rules"`
}

// PolicyRule suspends what a detection finds: brute_force_ip,
// brute_force_user, send_volume or compromised, for a duration (default
// policy.default_for), with a response (reject, defer_if_permit, hold;
// default reject).
type PolicyRule struct {
	Detection string   `yaml:"detection"`
	For       Duration `yaml:"for"`
	Response  string   `yaml:"response"`
}

// ParsePolicyRule reads a rule as --policy.rule gives it:
// DETECTION[:FOR[:RESPONSE]].
func ParsePolicyRule(s string) (PolicyRule, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return PolicyRule{}, fmt.Errorf("%q: want DETECTION[:FOR[:RESPONSE]]", s)
	}
	r := PolicyRule{Detection: parts[0]}
	if len(parts) > 1 && parts[1] != "" {
		d, err := time.ParseDuration(parts[1])
		if err != nil {
			return PolicyRule{}, fmt.Errorf("%q: duration %q: %v", s, parts[1], err)
		}
		r.For = Duration(d)
	}
	if len(parts) > 2 {
		r.Response = parts[2]
	}
	return r, nil
}

// DovecotAPIKey reads dovecot_api_key_file ("" when not set).
func (p *Policy) DovecotAPIKey() (string, error) {
	if p.DovecotAPIKeyFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(p.DovecotAPIKeyFile)
	if err != nil {
		return "", fmt.Errorf("policy.dovecot_api_key_file: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if len(k) < 16 {
		return "", fmt.Errorf("policy.dovecot_api_key_file: the key is %d bytes, want at least 16", len(k))
	}
	return k, nil
}

// SuspendRules are the rules as pkg/suspend takes them.
func (p *Policy) SuspendRules() []suspend.Rule {
	var out []suspend.Rule
	for _, r := range p.Rules {
		resp := r.Response
		if resp == "" {
			resp = suspend.Reject
		}
		out = append(out, suspend.Rule{Detection: r.Detection, For: time.Duration(r.For), Response: resp})
	}
	return out
}

// AllowPrefixes reads allow_networks.
func (p *Policy) AllowPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, n := range p.AllowNetworks {
		if pr, err := netip.ParsePrefix(n); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(n)
		if err != nil {
			return nil, fmt.Errorf("policy.allow_networks: %q is neither a CIDR network nor an address", n)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (p *Policy) problems() Problems {
	var probs Problems
	if p.Listen != "" {
		if path, ok := strings.CutPrefix(p.Listen, "unix:"); ok {
			if path == "" {
				probs = append(probs, Problem{Key: "policy.listen", Msg: "unix: needs a socket path"})
			}
		} else if _, _, err := net.SplitHostPort(p.Listen); err != nil {
			probs = append(probs, Problem{Key: "policy.listen", Value: p.Listen, Msg: "want host:port or unix:/path"})
		}
	}
	if p.DovecotListen != "" {
		if _, _, err := net.SplitHostPort(p.DovecotListen); err != nil {
			probs = append(probs, Problem{Key: "policy.dovecot_listen", Value: p.DovecotListen, Msg: "want host:port"})
		}
	}
	if _, err := p.AllowPrefixes(); err != nil {
		_, m, _ := strings.Cut(err.Error(), ": ")
		probs = append(probs, Problem{Key: "policy.allow_networks", Msg: m})
	}
	if p.DefaultFor < 0 {
		probs = append(probs, Problem{Key: "policy.default_for", Value: p.DefaultFor.String(), Msg: "must not be negative"})
	}
	for i, r := range p.SuspendRules() {
		if err := suspend.CheckRule(r); err != nil {
			probs = append(probs, Problem{Key: "policy.rules", Msg: fmt.Sprintf("rule %d: %v", i+1, err)})
		}
	}
	return probs
}
