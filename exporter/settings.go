package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// settingFlags binds command-line flags to configuration settings. The
// configuration starts from config.DefaultConfig, the file is decoded over
// it, and then exactly the flags the user gave are applied (kingpin knows
// which), so a flag can set a setting to empty or false and a flag left at
// its default never overrides the file.
type settingFlags struct {
	configFile string
	bound      []boundFlag
	// merge are flags that add to a setting rather than replace it (the
	// retention per kind), applied after the bound ones.
	merge []func(*config.Config)
}

// boundFlag is one flag: the setting it overrides and whether it was given.
type boundFlag struct {
	flag, key string
	given     *bool
	apply     func(*config.Config)
	shown     func() string
}

// bind declares a flag for the setting key. value registers the flag's
// variable with kingpin; set puts its value into the configuration. The
// flag's default shown in --help is the configuration's.
func bind[T any](s *settingFlags, cmd *kingpin.CmdClause, name, key, help, def string, value func(*kingpin.FlagClause) *T, set func(*config.Config, T)) {
	fc := cmd.Flag(name, help)
	if def != "" {
		fc = fc.Default(def)
	}
	given := new(bool)
	fc.IsSetByUser(given)
	v := value(fc)
	s.bound = append(s.bound, boundFlag{
		flag: name, key: key, given: given,
		apply: func(c *config.Config) { set(c, *v) },
		shown: func() string { return fmt.Sprint(*v) },
	})
}

func flagString(fc *kingpin.FlagClause) *string    { return fc.String() }
func flagStrings(fc *kingpin.FlagClause) *[]string { return fc.Strings() }
func flagBool(fc *kingpin.FlagClause) *bool        { return fc.Bool() }

// flagInt and flagDuration name the flag in a bad value's error (see
// intVar).
func flagInt(fc *kingpin.FlagClause) *int {
	v := new(int)
	intVar(fc, v)
	return v
}

func flagDuration(fc *kingpin.FlagClause) *time.Duration {
	v := new(time.Duration)
	durationVar(fc, v)
	return v
}

// addSourceFlags declares the flags that say how to read logs into a
// journal; serve, replay, forget, doctor and the suspension commands
// share them.
func addSourceFlags(cmd *kingpin.CmdClause) *settingFlags {
	d := config.DefaultConfig()
	s := &settingFlags{}
	cmd.Flag("config.file", "Optional YAML configuration file; flags override it.").StringVar(&s.configFile)
	bind(s, cmd, "instance", "instance", "Name of this Postfix instance (default: the host name).", "", flagString,
		func(c *config.Config, v string) { c.Instance = v })
	bind(s, cmd, "log.timezone", "timezone", "IANA time zone of log timestamps that carry none (default: the machine's).", "", flagString,
		func(c *config.Config, v string) { c.Timezone = v })
	bind(s, cmd, "log.max-line-bytes", "logs.max_line_bytes", "Longer log lines are cut (and counted).", fmt.Sprint(d.Logs.MaxLineBytes), flagInt,
		func(c *config.Config, v int) { c.Logs.MaxLineBytes = v })
	bind(s, cmd, "journal.path", "journal.path", "SQLite event journal.", d.Journal.Path, flagString,
		func(c *config.Config, v string) { c.Journal.Path = v })
	bind(s, cmd, "journal.signing-key", "journal.signing_key", "Key that signs the journal's checkpoints, created with its public half (.pub) when missing (default: the journal's path + .key).", "", flagString,
		func(c *config.Config, v string) { c.Journal.SigningKey = v })
	bind(s, cmd, "journal.compression", "journal.compression", "Codec of new journal blocks: s2 (ingest is CPU-bound) or zstd (a fifth less disk, 10-15% less ingest speed).", d.Journal.Compression,
		func(fc *kingpin.FlagClause) *string { return fc.Enum("s2", "zstd") },
		func(c *config.Config, v string) { c.Journal.Compression = v })
	return s
}

// addShipFlags declares the shipping flags, on the commands that ship
// (serve), delete in the store (forget) or check the settings (doctor):
// replay and the suspension commands never reach the store, so offering
// them there would only mislead.
func addShipFlags(cmd *kingpin.CmdClause, s *settingFlags) {
	d := config.DefaultConfig()
	bind(s, cmd, "ship.victorialogs.url", "ship.victorialogs.url", "Ship the journal to this VictoriaLogs (base URL, an insert node in a cluster; see docs/shipping.md); forget deletes the subject's rows there too.", "", flagString,
		func(c *config.Config, v string) { c.Ship.VictoriaLogs.URL = v })
	bind(s, cmd, "ship.victorialogs.select-url", "ship.victorialogs.select_url", "VictoriaLogs' select node in a cluster, where forget's deletions and the shipper's rechecks go (default: --ship.victorialogs.url).", "", flagString,
		func(c *config.Config, v string) { c.Ship.VictoriaLogs.SelectURL = v })
	bind(s, cmd, "ship.victorialogs.batch-size", "ship.victorialogs.batch_size", "Events per request to VictoriaLogs.", fmt.Sprint(d.Ship.VictoriaLogs.BatchSize), flagInt,
		func(c *config.Config, v int) { c.Ship.VictoriaLogs.BatchSize = v })
	bind(s, cmd, "ship.victorialogs.max-age", "ship.victorialogs.max_age", "Events older than this are not shipped but counted as rejected: VictoriaLogs drops rows older than its -retentionPeriod (set the same; 0: ship all).", d.Ship.VictoriaLogs.MaxAge, flagString,
		func(c *config.Config, v string) { c.Ship.VictoriaLogs.MaxAge = v })
	bind(s, cmd, "ship.victorialogs.recheck-after", "ship.victorialogs.recheck_after", "Ask VictoriaLogs this long after it accepted a batch whether it still holds it, and send what it lost again (it keeps its last -inmemoryDataFlushInterval, 5s, in memory: a crash loses that); 0: never.", d.Ship.VictoriaLogs.RecheckAfter.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Ship.VictoriaLogs.RecheckAfter = config.Duration(v) })
	bind(s, cmd, "ship.otlp.url", "ship.otlp.url", "Ship the journal as OpenTelemetry logs to this OTLP/HTTP endpoint (the whole URL, e.g. http://collector:4318/v1/logs).", "", flagString,
		func(c *config.Config, v string) { c.Ship.OTLP.URL = v })
}

// settings reads the configuration file over the defaults, applies the
// flags given and validates the result. Problems with a setting a flag
// gave are told in the flag's terms.
func (s *settingFlags) settings() (*config.Config, error) {
	c := config.DefaultConfig()
	if s.configFile != "" {
		var err error
		if c, err = config.Load(s.configFile); err != nil {
			return nil, err
		}
	}
	for _, b := range s.bound {
		if *b.given {
			b.apply(c)
		}
	}
	for _, m := range s.merge {
		m(c)
	}
	if err := c.Resolve(); err != nil {
		return nil, err
	}
	return c, s.explain(c.Validate())
}

// explain rewrites the problems of settings given by flags as
// "--flag=value: what is wrong".
func (s *settingFlags) explain(err error) error {
	var probs config.Problems
	if !errors.As(err, &probs) {
		return err
	}
	out := make(config.Problems, 0, len(probs))
	for _, p := range probs {
		for _, b := range s.bound {
			if b.key == p.Key && *b.given {
				// The flag, with its value when the message lacks it,
				// stands where the key stood.
				p.Key = "--" + b.flag
				if p.Value != "" {
					p.Key += "=" + b.shown()
					p.Value = ""
				}
				break
			}
		}
		out = append(out, p)
	}
	return out
}
