// Package config holds the exporter's settings: their defaults (taken from
// the packages that own them), the optional YAML file that changes them and
// the rules a valid configuration keeps. Decoding is strict: an unknown key
// is an error, so a typo never silently turns a setting off. The file is
// decoded over the defaults, so a key given empty or false means empty or
// false, not "default"; command-line flags the user gave override both.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/ingest"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/ship"
	"github.com/mailtrail/mailtrail/pkg/suspend"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// DefaultConfig is the configuration of a file that sets nothing. Every
// default is the owning package's, so the flags' help, the file and the
// packages cannot disagree.
func DefaultConfig() *Config {
	return &Config{
		Logs: Logs{
			RotatedGlobs: append([]string(nil), tailer.DefaultRotatedGlobs...),
			MaxLineBytes: tailer.DefaultMaxLineBytes,
			PollInterval: Duration(tailer.DefaultPollInterval),
			RotateWait:   Duration(tailer.DefaultRotateWait),
		},
		Journald: Journald{Matches: append([]string(nil), tailer.DefaultJournaldMatches...), Command: "journalctl"},
		Journal: Journal{
			Path:               "mailtrail.db",
			FlushInterval:      Duration(ingest.DefaultFlushInterval),
			BatchSize:          ingest.DefaultBatchSize,
			CheckpointEvery:    journal.DefaultCheckpointEvery,
			CheckpointInterval: Duration(journal.DefaultCheckpointInterval),
			Compression:        "s2",
		},
		Auth: Auth{
			Window:        Duration(offenders.DefaultWindow),
			Threshold:     offenders.DefaultThreshold,
			SendWindow:    Duration(offenders.DefaultSendWindow),
			SendThreshold: offenders.DefaultSendThreshold,
		},
		Correlate: Correlate{MaxBytes: correlate.DefaultMaxBytes},
		Postfix:   Postfix{Postqueue: "postqueue"},
		Enrich:    Enrich{PollInterval: Duration(enrich.DefaultPollInterval)},
		Ship: Ship{
			VictoriaLogs: ShipSink{BatchSize: ship.DefaultBatchSize, Timeout: Duration(ship.DefaultTimeout), MaxAge: "7d", RecheckAfter: Duration(ship.DefaultRecheckAfter)},
			OTLP:         ShipSink{BatchSize: ship.DefaultBatchSize, Timeout: Duration(ship.DefaultTimeout)},
		},
		Policy: Policy{DefaultFor: Duration(suspend.DefaultFor)},
	}
}

// Resolve fills the settings whose default depends on others or on the
// host: the instance name (the host name) and the signing key (beside the
// journal).
func (c *Config) Resolve() error {
	if c.Instance == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("instance: not set and no host name: %w", err)
		}
		c.Instance = h
	}
	if c.Journal.SigningKey == "" {
		c.Journal.SigningKey = c.Journal.Path + ".key"
	}
	return nil
}

// Redactor builds the privacy redactor the configuration asks for, reading
// its secret; with no policies it changes nothing.
func (c *Config) Redactor() (*privacy.Redactor, error) {
	pc := privacy.Config{Fields: map[string]privacy.Policy{}}
	for f, name := range c.Privacy.Fields {
		p, err := privacy.ParsePolicy(name)
		if err != nil {
			return nil, fmt.Errorf("privacy.fields.%s: %w", f, err)
		}
		pc.Fields[f] = p
	}
	if c.Privacy.SecretFile != "" {
		b, err := os.ReadFile(c.Privacy.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("privacy.secret_file: %w", err)
		}
		pc.Secret = bytes.TrimSpace(b)
	}
	return privacy.New(pc)
}

// Config is the whole configuration file.
type Config struct {
	// Instance names this Postfix instance; default: the host name.
	Instance string `yaml:"instance"`
	// Timezone is the IANA zone of log timestamps without one; default:
	// the machine's.
	Timezone  string    `yaml:"timezone"`
	Logs      Logs      `yaml:"logs"`
	Journald  Journald  `yaml:"journald"`
	Syslog    Syslog    `yaml:"syslog"`
	Journal   Journal   `yaml:"journal"`
	Tenant    Tenant    `yaml:"tenant"`
	Auth      Auth      `yaml:"auth"`
	Correlate Correlate `yaml:"correlate"`
	Postfix   Postfix   `yaml:"postfix"`
	Privacy   Privacy   `yaml:"privacy"`
	Enrich    Enrich    `yaml:"enrich"`
	API       API       `yaml:"api"`
	Ship      Ship      `yaml:"ship"`
	Policy    Policy    `yaml:"policy"`
}

// Ship configures copying the journal to fleet stores (docs/shipping.md):
// a sink ships when its url is set.
type Ship struct {
	VictoriaLogs ShipSink `yaml:"victorialogs"`
	OTLP         ShipSink `yaml:"otlp"`
}

// ShipSink is one fleet store.
type ShipSink struct {
	// URL is VictoriaLogs' base URL (an insert node in a cluster), or the
	// whole OTLP/HTTP logs endpoint.
	URL string `yaml:"url"`
	// SelectURL is where erasures and rechecks are sent (VictoriaLogs'
	// /delete and /select APIs, served by a select node in a cluster);
	// default: URL.
	SelectURL string   `yaml:"select_url"`
	BatchSize int      `yaml:"batch_size"`
	Timeout   Duration `yaml:"timeout"`
	// MaxAge passes over (and counts as rejected) events older than this
	// ("7d", "36h"; "0": none): set it to the store's -retentionPeriod,
	// beyond which VictoriaLogs drops rows without saying so.
	MaxAge string `yaml:"max_age"`
	// RecheckAfter is how long after VictoriaLogs accepted a batch the
	// shipper asks whether it still holds it (a crash loses what it had
	// not yet saved) and sends what is missing again; 0: never.
	RecheckAfter Duration `yaml:"recheck_after"`
}

// MaxAgeDuration is MaxAge parsed.
func (s ShipSink) MaxAgeDuration() (time.Duration, error) { return parseDays(s.MaxAge) }

// API configures the HTTP query API. Without tokens (and without
// allow_anonymous) it is off.
type API struct {
	// AllowAnonymous serves requests without a token (as an auditor).
	AllowAnonymous bool       `yaml:"allow_anonymous"`
	Tokens         []APIToken `yaml:"tokens"`
	// FleetStore is the VictoriaLogs that source=fleet asks (fleet.go).
	FleetStore FleetStore `yaml:"fleet_store"`
}

// APIToken is one API client: a bearer token given inline or (better) in
// a file, a role (viewer, auditor, admin) and optionally the tenant
// domains it is limited to.
type APIToken struct {
	Name      string   `yaml:"name"`
	Token     string   `yaml:"token"`
	TokenFile string   `yaml:"token_file"`
	Role      string   `yaml:"role"`
	Tenants   []string `yaml:"tenants"`
}

// Secret returns the token, read from TokenFile when given.
func (t APIToken) Secret() (string, error) {
	if t.TokenFile == "" {
		return t.Token, nil
	}
	b, err := os.ReadFile(t.TokenFile)
	if err != nil {
		return "", fmt.Errorf("api.tokens %s: token_file: %w", t.Name, err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// Enrich names the files the API and reports enrich addresses from;
// each is re-read when it changes.
type Enrich struct {
	// GeoIP are MaxMind databases (Country, City, ASN).
	GeoIP []string `yaml:"geoip"`
	// Blocklist is a threat list: one CIDR or address per line.
	Blocklist string `yaml:"blocklist"`
	// PollInterval is how often the files are checked (default 10s).
	PollInterval Duration `yaml:"poll_interval"`
}

// Privacy sets what the journal keeps of personal fields.
type Privacy struct {
	// Fields maps an event field (sasl_username, sender, recipient,
	// orig_recipient, client_ip, client_host, helo, message_id) to keep,
	// drop_local, hmac or drop.
	Fields map[string]string `yaml:"fields"`
	// SecretFile holds the HMAC key (at least 16 bytes).
	SecretFile string `yaml:"secret_file"`
}

// Tenant lists the domains that get their own sender_domain label value.
type Tenant struct {
	Domains []string `yaml:"domains"`
}

// Auth sets the brute-force and send-volume windows.
type Auth struct {
	Window        Duration `yaml:"window"`
	Threshold     int      `yaml:"threshold"`
	SendWindow    Duration `yaml:"send_window"`
	SendThreshold int      `yaml:"send_threshold"`
}

// Correlate bounds the correlator's memory.
type Correlate struct {
	MaxBytes int `yaml:"max_bytes"`
}

// Postfix says how to ask Postfix for its queue.
type Postfix struct {
	// Postqueue is the postqueue binary; "" turns the queue metrics off.
	Postqueue string `yaml:"postqueue"`
	// ConfigDir is passed as postqueue -c, for a second instance.
	ConfigDir string `yaml:"config_dir"`
}

// Logs are the log files to follow.
type Logs struct {
	// Paths are files or globs; "-" is stdin.
	Paths []string `yaml:"paths"`
	// RotatedGlobs find rotated generations; "{path}" stands for the file.
	RotatedGlobs []string `yaml:"rotated_globs"`
	MaxLineBytes int      `yaml:"max_line_bytes"`
	PollInterval Duration `yaml:"poll_interval"`
	RotateWait   Duration `yaml:"rotate_wait"`
}

// Journald configures reading the systemd journal.
type Journald struct {
	Enabled bool     `yaml:"enabled"`
	Matches []string `yaml:"matches"`
	Command string   `yaml:"command"`
}

// Syslog configures the network syslog listener.
type Syslog struct {
	ListenUDP string `yaml:"listen_udp"`
	ListenTCP string `yaml:"listen_tcp"`
	// ListenRELP receives RELP (rsyslog's omrelp): a message is
	// acknowledged once it is journaled.
	ListenRELP string `yaml:"listen_relp"`
}

// Journal configures the event journal.
type Journal struct {
	Path          string   `yaml:"path"`
	FlushInterval Duration `yaml:"flush_interval"`
	BatchSize     int      `yaml:"batch_size"`
	// SigningKey signs the journal's checkpoints; created (with SigningKey
	// + ".pub") when missing. Default: the journal's path + ".key".
	SigningKey         string   `yaml:"signing_key"`
	CheckpointEvery    int      `yaml:"checkpoint_every"`
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// Retention is how long events are kept ("90d", "36h"; empty: forever),
	// RetentionKinds overrides it per kind; expired blocks are archived
	// to ArchiveDir first when it is set.
	Retention      string            `yaml:"retention"`
	RetentionKinds map[string]string `yaml:"retention_kinds"`
	ArchiveDir     string            `yaml:"archive_dir"`
	// ArchiveURL (s3://bucket/prefix) keeps the archives on S3-compatible
	// storage, staged in ArchiveDir until uploaded (see archive.go).
	ArchiveURL string    `yaml:"archive_url"`
	ArchiveS3  ArchiveS3 `yaml:"archive_s3"`
	// Compression is the codec of new blocks: s2 (default, faster) or
	// zstd (smaller).
	Compression string `yaml:"compression"`
}

// Duration is a time.Duration written as "1s", "5m".
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration like 1s or 5m: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Load reads a configuration file over the defaults and validates it.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a configuration over the defaults and validates it.
func Parse(b []byte) (*Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) == nil {
		if err := wholeNumbers(&doc, reflect.TypeFor[Config](), ""); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks values that decode but make no sense.
func (c *Config) Validate() error {
	var probs Problems
	// add takes a message that starts with its key.
	add := func(msg string) {
		k, m, _ := strings.Cut(msg, ": ")
		probs = append(probs, Problem{Key: k, Msg: m})
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			add(fmt.Sprintf("timezone: %v", err))
		}
	}
	for _, p := range c.Logs.Paths {
		if p == "" {
			add("logs.paths: empty path")
		} else if p != "-" {
			if _, err := filepath.Match(p, p); err != nil {
				add(fmt.Sprintf("logs.paths: bad glob %q: %v", p, err))
			}
		}
	}
	for _, g := range c.Logs.RotatedGlobs {
		if _, err := filepath.Match(g, g); err != nil {
			add(fmt.Sprintf("logs.rotated_globs: bad glob %q: %v", g, err))
		}
	}
	// Counts and durations that must be positive; a value is shown as the
	// user wrote it (5m0s, not 300000000000).
	for _, n := range []struct {
		key string
		v   any
	}{
		{"logs.max_line_bytes", c.Logs.MaxLineBytes},
		{"journal.batch_size", c.Journal.BatchSize},
		{"journal.checkpoint_every", c.Journal.CheckpointEvery},
		{"auth.threshold", c.Auth.Threshold},
		{"auth.send_threshold", c.Auth.SendThreshold},
		{"correlate.max_bytes", c.Correlate.MaxBytes},
		{"logs.poll_interval", c.Logs.PollInterval},
		{"logs.rotate_wait", c.Logs.RotateWait},
		{"journal.flush_interval", c.Journal.FlushInterval},
		{"journal.checkpoint_interval", c.Journal.CheckpointInterval},
		{"auth.window", c.Auth.Window},
		{"auth.send_window", c.Auth.SendWindow},
		{"enrich.poll_interval", c.Enrich.PollInterval},
		{"ship.victorialogs.batch_size", c.Ship.VictoriaLogs.BatchSize},
		{"ship.victorialogs.timeout", c.Ship.VictoriaLogs.Timeout},
		{"ship.otlp.batch_size", c.Ship.OTLP.BatchSize},
		{"ship.otlp.timeout", c.Ship.OTLP.Timeout},
	} {
		var v int64
		switch x := n.v.(type) {
		case int:
			v = int64(x)
		case Duration:
			v = int64(x)
		}
		switch {
		case v < 0:
			probs = append(probs, Problem{Key: n.key, Value: fmt.Sprint(n.v), Msg: "must not be negative"})
		case v == 0:
			probs = append(probs, Problem{Key: n.key, Value: fmt.Sprint(n.v), Msg: "must be positive"})
		}
	}
	if c.Journal.Path == "" {
		probs = append(probs, Problem{Key: "journal.path", Msg: "must not be empty"})
	}
	for _, a := range []struct{ key, addr string }{{"syslog.listen_udp", c.Syslog.ListenUDP}, {"syslog.listen_tcp", c.Syslog.ListenTCP}, {"syslog.listen_relp", c.Syslog.ListenRELP}} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			add(fmt.Sprintf("%s: %v", a.key, err))
		}
	}
	for _, d := range c.Tenant.Domains {
		if d == "" || strings.ContainsAny(d, " @/") {
			add(fmt.Sprintf("tenant.domains: %q is not a domain", d))
		}
	}
	names := make([]string, 0, len(c.Privacy.Fields))
	for f := range c.Privacy.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		p := c.Privacy.Fields[f]
		if _, err := privacy.ParsePolicy(p); err != nil {
			add(fmt.Sprintf("privacy.fields.%s: %v", f, err))
		} else if p == "hmac" && c.Privacy.SecretFile == "" {
			add(fmt.Sprintf("privacy.fields.%s: hmac needs privacy.secret_file", f))
		}
	}
	for _, g := range c.Enrich.GeoIP {
		if g == "" {
			add("enrich.geoip: empty path")
		}
	}
	if c.Journal.Compression != "s2" && c.Journal.Compression != "zstd" {
		add(fmt.Sprintf("journal.compression: %q (want s2 or zstd)", c.Journal.Compression))
	}
	if _, err := c.Journal.RetentionPolicy(); err != nil {
		add(err.Error())
	}
	for _, sk := range []struct {
		key string
		s   ShipSink
	}{{"ship.victorialogs", c.Ship.VictoriaLogs}, {"ship.otlp", c.Ship.OTLP}} {
		if sk.s.URL != "" {
			if err := ship.CheckURL(sk.s.URL); err != nil {
				probs = append(probs, Problem{Key: sk.key + ".url", Msg: err.Error()})
			}
		}
		if sk.s.SelectURL != "" {
			if err := ship.CheckURL(sk.s.SelectURL); err != nil {
				probs = append(probs, Problem{Key: sk.key + ".select_url", Msg: err.Error()})
			}
		}
		if _, err := sk.s.MaxAgeDuration(); err != nil {
			probs = append(probs, Problem{Key: sk.key + ".max_age", Msg: err.Error()})
		}
		if sk.s.RecheckAfter < 0 {
			probs = append(probs, Problem{Key: sk.key + ".recheck_after", Value: sk.s.RecheckAfter.String(), Msg: "must not be negative"})
		}
	}
	if c.Journal.ArchiveURL != "" {
		probs = append(probs, c.Journal.archiveProblems()...)
	}
	tokenNames := map[string]bool{}
	for i, t := range c.API.Tokens {
		switch {
		case t.Name == "":
			add(fmt.Sprintf("api.tokens[%d]: name is required", i))
		case tokenNames[t.Name]:
			add(fmt.Sprintf("api.tokens[%d]: name %q used twice", i, t.Name))
		}
		tokenNames[t.Name] = true
		if (t.Token == "") == (t.TokenFile == "") {
			add(fmt.Sprintf("api.tokens[%d]: give exactly one of token and token_file", i))
		}
		if t.Role != "viewer" && t.Role != "auditor" && t.Role != "admin" {
			add(fmt.Sprintf("api.tokens[%d]: role %q (want viewer, auditor or admin)", i, t.Role))
		}
		for _, d := range t.Tenants {
			if d == "" || strings.ContainsAny(d, " @/") {
				add(fmt.Sprintf("api.tokens[%d]: tenant %q is not a domain", i, d))
			}
		}
	}
	probs = append(probs, c.Policy.problems()...)
	if len(probs) > 0 {
		return probs
	}
	return nil
}

// Problem is one rule a configuration breaks: the setting's key, the value
// where the message does not show it, and what is wrong.
type Problem struct {
	Key, Value, Msg string
}

func (p Problem) Error() string {
	if p.Value != "" {
		return p.Key + ": " + p.Msg + ", got " + p.Value
	}
	return p.Key + ": " + p.Msg
}

// Problems are every rule a configuration breaks, in the order checked.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "; ")
}

// ValidateSources is serve's rule that something must be read.
func (c *Config) ValidateSources() error {
	if len(c.Logs.Paths) == 0 && !c.Journald.Enabled && c.Syslog.ListenUDP == "" && c.Syslog.ListenTCP == "" && c.Syslog.ListenRELP == "" {
		return errors.New("nothing to read: give --log.path, --journald or --syslog.listen-udp/tcp/relp (or the same in --config.file)")
	}
	return nil
}

// RetentionPolicy turns the retention settings into a journal.Retention.
func (c Journal) RetentionPolicy() (journal.Retention, error) {
	r := journal.Retention{ArchiveDir: c.ArchiveDirectory(), Kinds: map[event.Kind]time.Duration{}}
	var err error
	if r.Default, err = parseDays(c.Retention); err != nil {
		return r, fmt.Errorf("journal retention: %w", err)
	}
	for name, v := range c.RetentionKinds {
		k, err := event.ParseKind(name)
		if err != nil {
			return r, fmt.Errorf("journal retention of %q: %w", name, err)
		}
		if r.Kinds[k], err = parseDays(v); err != nil {
			return r, fmt.Errorf("journal retention of %s: %w", name, err)
		}
	}
	return r, nil
}

// parseDays is time.ParseDuration that also takes whole days ("90d").
func parseDays(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 90d or 36h", s)
	}
	return d, nil
}
