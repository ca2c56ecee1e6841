package parser

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"

	"gopkg.in/yaml.v3"
)

// The whyscream/postfix-grok-patterns test cases pair a Postfix message (no
// syslog header) with the fields its Logstash grok pattern extracts. This test
// runs every case through our parser and asserts the same values in our
// field names, so two independent parsers agree on the same real lines.

type grokCase struct {
	Pattern string         `yaml:"pattern"`
	Data    string         `yaml:"data"`
	Results map[string]any `yaml:"results"`
}

// grokPrograms maps a grok pattern to the syslog identifier whose line it
// matches. Patterns for fragments of a line (delays=, relay=, command
// counters) have no identifier: grokFragments tests them.
var grokPrograms = map[string]string{
	"POSTFIX_ANVIL": "postfix/anvil", "POSTFIX_BOUNCE": "postfix/bounce", "POSTFIX_CLEANUP": "postfix/cleanup",
	"POSTFIX_DISCARD": "postfix/discard", "POSTFIX_DNSBLOG": "postfix/dnsblog", "POSTFIX_ERROR": "postfix/error",
	"POSTFIX_LMTP": "postfix/lmtp", "POSTFIX_LOCAL": "postfix/local", "POSTFIX_MASTER": "postfix/master",
	"POSTFIX_PICKUP": "postfix/pickup", "POSTFIX_PIPE": "postfix/pipe", "POSTFIX_POSTDROP": "postfix/postdrop",
	"POSTFIX_POSTMAP": "postfix/postmap", "POSTFIX_POSTSCREEN": "postfix/postscreen", "POSTFIX_POSTSUPER": "postfix/postsuper",
	"POSTFIX_QMGR": "postfix/qmgr", "POSTFIX_SCACHE": "postfix/scache", "POSTFIX_SCRIPT": "postfix/postfix-script",
	"POSTFIX_SENDMAIL": "postfix/sendmail", "POSTFIX_SMTP": "postfix/smtp",
	"POSTFIX_SMTPD": "postfix/smtpd", "POSTFIX_TLSMGR": "postfix/tlsmgr", "POSTFIX_TLSPROXY": "postfix/tlsproxy",
	"POSTFIX_TRIVIAL_REWRITE": "postfix/trivial-rewrite", "POSTFIX_VERIFY": "postfix/verify", "POSTFIX_VIRTUAL": "postfix/virtual",
}

// grokFields maps grok result names to event.Event JSON fields. A grok name may
// match one of several fields (smtp_stage is a reject's stage or the command
// a session ended after); values are compared after grokNormalize.
var grokFields = map[string][]string{
	"postfix_client_ip":             {"client_ip"},
	"postfix_client_hostname":       {"client_host"},
	"postfix_client_port":           {"client_port"},
	"postfix_queueid":               {"queue_id"},
	"postfix_relay_hostname":        {"relay_host"},
	"postfix_relay_ip":              {"relay_ip"},
	"postfix_relay_port":            {"relay_port"},
	"postfix_status":                {"status"},
	"postfix_status_code_enhanced":  {"dsn"},
	"postfix_tls_version":           {"tls_protocol"},
	"postfix_tls_cipher":            {"tls_cipher"},
	"postfix_tls_trustlevel":        {"tls_trust"},
	"postfix_tls_security_level":    {"tls_level"},
	"postfix_message-id":            {"message_id"},
	"postfix_bounce_queueid":        {"next_queue_id"},
	"postfix_postscreen_violation":  {"verdict"},
	"postfix_postscreen_access":     {"verdict"},
	"postfix_action":                {"action"},
	"postfix_smtp_stage":            {"reject_stage", "after"},
	"postfix_message_level":         {"level", "action"},
	"postfix_from":                  {"sender"},
	"postfix_dnsbl_domain":          {"dnsbl_domain"},
	"postfix_postscreen_dnsbl_rank": {"dnsbl_rank"},
	"postfix_smtp_response":         {"response"},
	"postfix_local_response":        {"response"},
	"postfix_pipe_response":         {"response"},
	"postfix_error_response":        {"response"},
	"postfix_milter_result":         {"action"},
}

// grokIgnored are grok results we do not assert, each for a reason.
var grokIgnored = map[string]string{
	"postfix_keyvalue_data":               "expanded below by grokKeyValues",
	"postfix_message":                     "free text; our detail keeps it with its context",
	"postfix_status_data":                 "part of response",
	"postfix_status_message":              "part of response",
	"postfix_status_code":                 "part of response",
	"postfix_smtpd_lostconn_data":         "a description of the kind",
	"postfix_smtp_lostconn_data":          "part of response/detail",
	"postfix_smtp_lostconn_reason":        "part of response/detail",
	"postfix_service":                     "Postfix's service name inside the text, not the syslog name",
	"postfix_anvil_timestamp":             "statistics text, kept in detail",
	"postfix_anvil_conn_rate":             "statistics text, kept in detail",
	"postfix_anvil_conn_period":           "statistics text, kept in detail",
	"postfix_anvil_conn_count":            "statistics text, kept in detail",
	"postfix_anvil_cache_size":            "statistics text, kept in detail",
	"postfix_scache_timestamp":            "statistics text, kept in detail",
	"postfix_scache_domains":              "statistics text, kept in detail",
	"postfix_scache_addresses":            "statistics text, kept in detail",
	"postfix_scache_connection":           "statistics text, kept in detail",
	"postfix_scache_hits":                 "statistics text, kept in detail",
	"postfix_scache_miss":                 "statistics text, kept in detail",
	"postfix_scache_success":              "statistics text, kept in detail",
	"postfix_postscreen_cache_retained":   "statistics text, kept in detail",
	"postfix_postscreen_cache_dropped":    "statistics text, kept in detail",
	"postfix_verify_cache_retained":       "statistics text, kept in detail",
	"postfix_verify_cache_dropped":        "statistics text, kept in detail",
	"postfix_verify_cleanup_type":         "statistics text, kept in detail",
	"postfix_postscreen_violation_time":   "timing detail of a verdict",
	"postfix_postscreen_toobusy_data":     "free text",
	"postfix_postsuper_action":            "summary text, kept in detail",
	"postfix_postsuper_summary_action":    "summary text, kept in detail",
	"postfix_postsuper_summary_count":     "summary text, kept in detail",
	"postfix_command_counter_data":        "kept whole in commands",
	"postfix_tls_cipher_size":             "key size, not kept",
	"postfix_tls_key_exchange":            "TLS 1.3 detail, not kept",
	"postfix_tls_server_signature":        "TLS 1.3 detail, not kept",
	"postfix_tls_server_signature_size":   "TLS 1.3 detail, not kept",
	"postfix_tls_server_signature_curve":  "TLS 1.3 detail, not kept",
	"postfix_tls_server_digest":           "TLS 1.3 detail, not kept",
	"postfix_tls_error":                   "kept in response/detail",
	"postfix_tls_policy_undecided":        "TLS policy detail, not kept",
	"postfix_tls_downgrade_level":         "TLS policy detail, not kept",
	"postfix_requiretls":                  "REQUIRETLS detail, not kept",
	"postfix_requiretls_policy_violation": "REQUIRETLS detail, not kept",
	"postfix_requiretls_policy_undecided": "REQUIRETLS detail, not kept",
	"postfix_requiretls_downgrade_level":  "REQUIRETLS detail, not kept",
	"postfix_proxy_smtp_stage":            "kept in reject_stage",
	"postfix_proxy_result":                "kept in action",
	"postfix_proxy_message":               "part of response",
	"postfix_proxy_status_code":           "part of response",
	"postfix_proxy_status_code_enhanced":  "part of response",
	"postfix_milter_message":              "part of response",
	"postfix_milter_data":                 "part of response",
	"postfix_version":                     "daemon start text, kept in detail",
	"postfix_config_path":                 "daemon start text, kept in detail",
	"postfix_termination_signal":          "daemon stop text, kept in detail",
	"postfix_dnsbl_result":                "the DNSBL answer, kept in detail",
	"postfix_client_ip_unknown":           "grok's flag for unknown[unknown]",
	"postfix_server_ip":                   "postscreen's local address; asserted by TestPostscreen",
	"postfix_server_port":                 "postscreen's local port; asserted by TestPostscreen",
	"postfix_relay_service":               "relay fragment; see grokFragments",
	"postfix_pix_workaround":              "free text",
	"postfix_prepend_type":                "header check detail",
	"postfix_prepend_trigger":             "header check detail",
	"postfix_prepend_value":               "header check detail",
	"postfix_discarded_ehlo_keywords":     "free text",
	"postfix_bounce_recipient":            "NDR detail",
	"postfix_bounce_reason":               "NDR detail",
}

// grokKeyValues maps the keys of Postfix "k=v" lists (grok leaves them to a
// Logstash kv filter) to event.Event fields.
var grokKeyValues = map[string]string{
	"to": "recipient", "orig_to": "orig_recipient", "from": "sender", "dsn": "dsn", "delay": "delay",
	"size": "size", "nrcpt": "nrcpt", "proto": "protocol", "helo": "helo", "tls": "tls_level",
}

func grokNormalize(field string, v any) string {
	s := strings.TrimSpace(fmt.Sprint(v))
	switch field {
	case "reject_stage":
		// Our stage is a closed, lower-case set (a metric label).
		s = strings.ToLower(s)
		switch s {
		case "rcpt to":
			s = "rcpt"
		case "mail from":
			s = "mail"
		case "end-of-message":
			s = "eom"
		case "ehlo":
			s = "helo"
		}
	case "after":
		// Postfix's smtp client says "in reply to RCPT TO command" of the
		// stage its smtpd calls RCPT; we use smtpd's words for both.
		s = strings.ToUpper(s)
		switch s {
		case "RCPT TO":
			s = "RCPT"
		case "MAIL FROM":
			s = "MAIL"
		case "END OF DATA":
			s = "END-OF-MESSAGE"
		}
	case "tls_level":
		// tls=dane/!requiretls:nostarttls: we keep the security level.
		if i := strings.IndexAny(s, "/:?"); i >= 0 {
			s = s[:i]
		}
	case "action":
		// milter-reject in cleanup is grok's milter_result "reject".
		s = strings.TrimPrefix(s, "milter-")
	case "queue_id":
		// NOQUEUE says there is no queue id; grok captures the word.
		if s == "NOQUEUE" {
			s = ""
		}
	case "sender", "recipient", "orig_recipient", "helo", "message_id":
		s = unangle(s)
	case "delay":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return s
}

func TestGrokCases(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/whyscream+postfix-grok-patterns/test/*.yaml")
	if err != nil || len(files) < 150 {
		t.Fatalf("grok cases: %v (%d files)", err, len(files))
	}
	p := &Parser{}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c grokCase
			if err := yaml.Unmarshal(b, &c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			pattern := strings.TrimSuffix(strings.TrimPrefix(strings.Trim(c.Pattern, `"^$`), "%{"), "}")
			ident, ok := grokPrograms[pattern]
			if !ok {
				t.Skipf("pattern %s is a fragment of a line; see TestGrokFragments", pattern)
			}
			line := "Jun  3 10:40:57 mx " + ident + "[4242]: " + c.Data
			e := p.Parse(line, testRef)
			if e.Kind == event.KindUnknown {
				t.Fatalf("unknown: %s", line)
			}
			got := eventFields(t, e)
			want := map[string]string{}
			for k, v := range c.Results {
				if k == "postfix_keyvalue_data" {
					kvEach(fmt.Sprint(v), func(key, val string) bool {
						if f, ok := grokKeyValues[key]; ok {
							want[f] = grokNormalize(f, val)
						}
						return true
					})
					continue
				}
				fields, ok := grokFields[k]
				if !ok {
					if _, ignored := grokIgnored[k]; !ignored {
						t.Errorf("grok result %s is neither mapped nor ignored", k)
					}
					continue
				}
				matched := false
				for _, f := range fields {
					// grokNormalize is applied to both sides: the parser keeps
					// Postfix's words (after=END-OF-MESSAGE) where grok does too.
					if grokNormalize(f, got[f]) == grokNormalize(f, v) {
						matched = true
					}
				}
				if !matched {
					t.Errorf("%s=%q: none of %v matches (event: %v)\n  line: %s", k, fmt.Sprint(v), fields, got, line)
				}
			}
			for f, w := range want {
				if got[f] != w {
					t.Errorf("k=v %s: got %q want %q\n  line: %s", f, got[f], w, line)
				}
			}
		})
	}
}

// eventFields renders an event's JSON fields as strings.
func eventFields(t *testing.T, e event.Event) map[string]string {
	t.Helper()
	var m map[string]any
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if f, ok := v.(float64); ok {
			out[k] = strconv.FormatFloat(f, 'f', -1, 64)
			continue
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// TestGrokFragments checks the grok cases that match part of a line
// (delays=, relay=) against the helpers that read those parts.
func TestGrokFragments(t *testing.T) {
	var d event.Delays
	if !parseDelays("0.2/0.02/0.04/3.3", &d) || d != (event.Delays{BeforeQmgr: 0.2, InQmgr: 0.02, ConnSetup: 0.04, Transmission: 3.3}) {
		t.Errorf("delays_0001: got %+v", d)
	}
	host, addr, _, _, ok := hostAddr("1.example.com.si[private/dovecot-lmtp]")
	if !ok || host != "1.example.com.si" || addr != "private/dovecot-lmtp" {
		t.Errorf("relay_0001: got %q %q", host, addr)
	}
	// Command counters are the tail of smtpd's disconnect line.
	files, _ := filepath.Glob("testdata/corpus/whyscream+postfix-grok-patterns/test/command_counter_data_*.yaml")
	if len(files) == 0 {
		t.Fatal("no command counter cases")
	}
	p := &Parser{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c grokCase
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		line := "Jun  3 10:40:57 mx postfix/smtpd[1]: disconnect from unknown[192.0.2.1] " + c.Data
		if e := p.Parse(line, testRef); e.Kind != event.KindDisconnect || e.Commands != c.Data {
			t.Errorf("%s: kind %v commands %q, want disconnect with %q", file, e.Kind, e.Commands, c.Data)
		}
	}
	// TLS features are the value of tls= on an outbound delivery line; our
	// tls_level keeps the security level.
	files, _ = filepath.Glob("testdata/corpus/whyscream+postfix-grok-patterns/test/tls_features_*.yaml")
	if len(files) < 6 {
		t.Fatal("no TLS feature cases")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c grokCase
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.Pattern, "POSTFIX_TLS_FEATURES") {
			continue // whole lines, tested by TestGrokCases
		}
		line := "Jun  3 10:40:57 mx postfix/smtp[1]: 7EE668039: to=<user@example.com>, relay=mail.example.com[192.0.2.4]:25, delay=3.6, delays=0.08/0.02/0.85/0.14, tls=" + c.Data + ", dsn=2.1.5, status=sent (250 2.0.0 Ok)"
		e := p.Parse(line, testRef)
		if want := fmt.Sprint(c.Results["postfix_tls_security_level"]); e.Kind != event.KindDelivery || e.TLSLevel != want {
			t.Errorf("%s: kind %v tls_level %q, want delivery with %q", file, e.Kind, e.TLSLevel, want)
		}
	}
	keys := []string{}
	for k := range grokIgnored {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, both := grokFields[k]; both {
			t.Errorf("%s is both mapped and ignored", k)
		}
	}
}
