package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func TestParseGood(t *testing.T) {
	c, err := Parse([]byte(`
instance: mx1
timezone: Europe/Berlin
logs:
  paths: [/var/log/mail.log, "/var/log/mail-*.log", "-"]
  rotated_globs: ["{path}.*"]
  max_line_bytes: 4096
  poll_interval: 100ms
  rotate_wait: 2s
journald:
  enabled: true
  matches: [SYSLOG_IDENTIFIER=postfix/smtpd]
syslog:
  listen_udp: ":5514"
  listen_tcp: "127.0.0.1:5514"
  listen_relp: "127.0.0.1:2514"
journal:
  path: /var/lib/mailtrail/journal.db
  flush_interval: 500ms
  batch_size: 100
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Instance != "mx1" || len(c.Logs.Paths) != 3 || time.Duration(c.Logs.RotateWait) != 2*time.Second ||
		!c.Journald.Enabled || c.Syslog.ListenTCP != "127.0.0.1:5514" || c.Syslog.ListenRELP != "127.0.0.1:2514" || c.Journal.BatchSize != 100 ||
		time.Duration(c.Journal.FlushInterval) != 500*time.Millisecond {
		t.Errorf("decoded %+v", c)
	}
	if c, err := Parse(nil); err != nil || c.Instance != "" {
		t.Errorf("an empty file is an empty config: %+v, %v", c, err)
	}
}

// TestParseBad maps each bad configuration to the message a user sees: the
// key, the line where YAML knows it, and what is wrong.
func TestParseBad(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"unknown key", "instance: a\nlogs:\n  pahts: [x]\n", "line 3: field pahts not found in type config.Logs"},
		{"unknown top-level key", "instanse: a\n", "line 1: field instanse not found in type config.Config"},
		{"bad duration", "logs:\n  poll_interval: soon\n", `line 2: time: invalid duration "soon"`},
		{"duration not a string", "journal:\n  flush_interval: [1]\n", "line 2: want a duration like 1s or 5m"},
		{"bad timezone", "timezone: Mars/Olympus\n", "timezone: unknown time zone Mars/Olympus"},
		{"bad glob", "logs:\n  paths: [\"/var/log/[mail\"]\n", `logs.paths: bad glob "/var/log/[mail": syntax error in pattern`},
		{"empty path", "logs:\n  paths: [\"\"]\n", "logs.paths: empty path"},
		{"negative size", "logs:\n  max_line_bytes: -1\n", "logs.max_line_bytes: must not be negative"},
		{"negative batch", "journal:\n  batch_size: -5\n", "journal.batch_size: must not be negative"},
		{"unknown codec", "journal:\n  compression: lz4\n", `journal.compression: "lz4" (want s2 or zstd)`},
		{"negative duration", "logs:\n  rotate_wait: -1s\n", "logs.rotate_wait: must not be negative, got -1s"},
		{"syslog address without port", "syslog:\n  listen_udp: \"514\"\n", "syslog.listen_udp: address 514: missing port in address"},
		{"relp address without port", "syslog:\n  listen_relp: \"2514\"\n", "syslog.listen_relp: address 2514: missing port in address"},
		{"wrong type", "journal:\n  batch_size: many\n", "cannot unmarshal !!str `many` into int"},
		{"two problems at once", "timezone: Nowhere/None\njournal:\n  batch_size: -1\n", "timezone: unknown time zone Nowhere/None; journal.batch_size: must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailtrail.yml")
	if err := os.WriteFile(path, []byte("bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), "config "+path+": ") {
		t.Errorf("error %v does not name the file", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPrivacyConfig(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"privacy:\n  fields:\n    sender: encrypt\n", `privacy.fields.sender: unknown privacy policy "encrypt"`},
		{"privacy:\n  fields:\n    sender: hmac\n", "privacy.fields.sender: hmac needs privacy.secret_file"},
	} {
		if _, err := Parse([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.want)
		}
	}
	c, err := Parse([]byte("privacy:\n  fields:\n    passwd: drop\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Redactor(); err == nil || !strings.Contains(err.Error(), `no field "passwd"`) {
		t.Errorf("unknown field: %v", err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Parse([]byte("privacy:\n  secret_file: " + secret + "\n  fields:\n    sasl_username: hmac\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Redactor()
	if err != nil || r.Query("sasl_username", "u@example.com") == "u@example.com" {
		t.Errorf("redactor %v, %v", r, err)
	}
}

func TestParseRetention(t *testing.T) {
	r, err := Journal{Retention: "90d", RetentionKinds: map[string]string{"auth_failure": "365d", "access": "36h"}, ArchiveDir: "/a"}.RetentionPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if r.Default != 90*24*time.Hour || r.Kinds[event.KindAuthFailure] != 365*24*time.Hour || r.Kinds[event.KindAccess] != 36*time.Hour || r.ArchiveDir != "/a" {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []Journal{
		{Retention: "ninety days"}, {Retention: "-3d"}, {RetentionKinds: map[string]string{"nope": "1d"}}, {RetentionKinds: map[string]string{"login": "x"}},
	} {
		if _, err := bad.RetentionPolicy(); err == nil {
			t.Errorf("%+v parsed", bad)
		}
	}
}

// TestParseWholeNumbers: a fraction where a count is wanted is an error
// naming the key; yaml.v3 alone took batch_size: 2.5 as 2. A float that is
// a whole number (1e3) is one.
func TestParseWholeNumbers(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"batch", "journal:\n  batch_size: 2.5\n", "journal.batch_size: want a whole number, got 2.5 (line 2)"},
		{"threshold", "auth:\n  threshold: 0.5\n", "auth.threshold: want a whole number, got 0.5 (line 2)"},
		{"through an alias", "instance: &n 7.5\njournal:\n  batch_size: *n\n", "journal.batch_size: want a whole number, got 7.5 (line 1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	c, err := Parse([]byte("journal:\n  batch_size: 1e3\n  flush_interval: 2s\ncorrelate:\n  max_bytes: 1.5e8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Journal.BatchSize != 1000 || c.Correlate.MaxBytes != 150_000_000 || time.Duration(c.Journal.FlushInterval) != 2*time.Second {
		t.Errorf("batch_size %d, max_bytes %d, flush_interval %v", c.Journal.BatchSize, c.Correlate.MaxBytes, c.Journal.FlushInterval)
	}
}
