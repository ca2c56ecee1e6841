package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/server"
)

// newLogger builds the promslog logger the Prometheus exporters use.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	cfg := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: w}
	_ = cfg.Level.Set(level)   // the flag's enum admits only valid levels
	_ = cfg.Format.Set(format) // likewise
	return promslog.New(cfg)
}

// defaultListen is the exporter's port.
const defaultListen = ":9744"

func serveCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("serve", "Follow the mail logs, journal every event and serve metrics (the default command).").Default()
	sf := addSourceFlags(cmd)
	addShipFlags(cmd, sf)
	bind(sf, cmd, "api.fleet-store-url", "api.fleet_store.url", "The fleet store (VictoriaLogs base URL, a select node in a cluster) the query API answers source=fleet from (docs/api.md); credentials in api.fleet_store of --config.file.", "", flagString,
		func(c *config.Config, v string) { c.API.FleetStore.URL = v })
	var (
		check               bool
		metricsPath         string
		logLevel, logFormat string
		verifyEvery         time.Duration
	)
	addServeSettings(cmd, sf)
	addPolicyFlags(cmd, sf)
	cmd.Flag("config.check", "Validate the configuration and the web configuration, then exit.").BoolVar(&check)
	durationVar(cmd.Flag("journal.verify-interval", "Re-verify the journal's Merkle tree and checkpoints this often in the background (0: never).").Default("1h"), &verifyEvery)
	addRetentionFlags(cmd, sf)
	addArchiveFlags(cmd, sf)
	webFlags := kingpinflag.AddFlags(cmd, defaultListen)
	cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&metricsPath)
	cmd.Flag("log.level", "Only log messages with this severity or above: debug, info, warn, error.").Default("info").EnumVar(&logLevel, "debug", "info", "warn", "error")
	cmd.Flag("log.format", "Log format: logfmt or json.").Default("logfmt").EnumVar(&logFormat, "logfmt", "json")
	return cmd.FullCommand(), func() error {
		logger := newLogger(stderr, logLevel, logFormat)
		c, err := sf.settings()
		if err == nil {
			err = server.Check(c)
		}
		if err != nil {
			return fail(2, "%v", err)
		}
		if *webFlags.WebConfigFile != "" {
			if err := web.Validate(*webFlags.WebConfigFile); err != nil {
				return fail(2, "--web.config.file: %v", err)
			}
		}
		if !strings.HasPrefix(metricsPath, "/") || metricsPath == "/-/healthy" || metricsPath == "/-/ready" {
			return fail(2, "--web.telemetry-path=%q: must start with / and not be /-/healthy or /-/ready", metricsPath)
		}
		for _, a := range *webFlags.WebListenAddresses {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return fail(2, "--web.listen-address=%q: %v", a, err)
			}
		}
		if check {
			fmt.Fprintln(stdout, "configuration ok")
			return nil
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		srv, err := server.Open(ctx, c, logger)
		if err != nil {
			logger.Error("exporter stopped", "err", err)
			return fail(1, "")
		}
		err = srv.Serve(ctx, server.Options{Stdin: stdin, Stdout: stdout, Web: webFlags, MetricsPath: metricsPath, VerifyEvery: verifyEvery, Version: version})
		if cerr := srv.Close(); cerr != nil {
			logger.Error("final checkpoint", "err", cerr)
		}
		if err != nil {
			logger.Error("exporter stopped", "err", err)
			return fail(1, "")
		}
		return nil
	}
}

// addServeSettings declares serve's flags that override configuration
// settings, beside the source flags.
func addServeSettings(cmd *kingpin.CmdClause, sf *settingFlags) {
	d := config.DefaultConfig()
	bind(sf, cmd, "log.path", "", "Log file or glob to follow, repeatable; '-' reads stdin.", "", flagStrings,
		func(c *config.Config, v []string) { c.Logs.Paths = v })
	bind(sf, cmd, "log.rotated-glob", "logs.rotated_globs", "Glob of a log file's rotated generations, repeatable; {path} stands for the file (default: {path}.* and {path}-*).", "", flagStrings,
		func(c *config.Config, v []string) { c.Logs.RotatedGlobs = v })
	bind(sf, cmd, "log.poll-interval", "logs.poll_interval", "How often files are checked when no inotify event arrives.", d.Logs.PollInterval.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Logs.PollInterval = config.Duration(v) })
	bind(sf, cmd, "log.rotate-wait", "logs.rotate_wait", "How long a rotated file must stay quiet before moving on to its successor.", d.Logs.RotateWait.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Logs.RotateWait = config.Duration(v) })
	bind(sf, cmd, "journald", "journald.enabled", "Read the systemd journal (through journalctl); --no-journald turns off what the configuration file turned on.", "", flagBool,
		func(c *config.Config, v bool) { c.Journald.Enabled = v })
	bind(sf, cmd, "journald.match", "journald.matches", "journalctl match, repeatable (default: SYSLOG_FACILITY=2, the mail facility).", "", flagStrings,
		func(c *config.Config, v []string) { c.Journald.Matches = v })
	bind(sf, cmd, "syslog.listen-udp", "syslog.listen_udp", "Receive syslog (RFC 3164/5424) over UDP on this address.", "", flagString,
		func(c *config.Config, v string) { c.Syslog.ListenUDP = v })
	bind(sf, cmd, "syslog.listen-tcp", "syslog.listen_tcp", "Receive syslog (RFC 3164/5424, RFC 6587 framing) over TCP on this address.", "", flagString,
		func(c *config.Config, v string) { c.Syslog.ListenTCP = v })
	bind(sf, cmd, "syslog.listen-relp", "syslog.listen_relp", "Receive syslog over RELP (rsyslog's omrelp) on this address; a message is acknowledged once it is journaled, so none is lost or repeated across a crash.", "", flagString,
		func(c *config.Config, v string) { c.Syslog.ListenRELP = v })
	bind(sf, cmd, "journal.flush-interval", "journal.flush_interval", "Commit waiting events at least this often.", d.Journal.FlushInterval.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Journal.FlushInterval = config.Duration(v) })
	bind(sf, cmd, "journal.batch-size", "journal.batch_size", "Commit once this many events are waiting.", fmt.Sprint(d.Journal.BatchSize), flagInt,
		func(c *config.Config, v int) { c.Journal.BatchSize = v })
	bind(sf, cmd, "tenant.domains", "tenant.domains", "Sender domain that gets its own sender_domain label value, repeatable (others are \"other\").", "", flagStrings,
		func(c *config.Config, v []string) { c.Tenant.Domains = v })
	bind(sf, cmd, "auth.window", "auth.window", "Sliding window for authentication failures per IP and per user.", d.Auth.Window.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Auth.Window = config.Duration(v) })
	bind(sf, cmd, "auth.threshold", "auth.threshold", "More failures than this within --auth.window make an offender.", fmt.Sprint(d.Auth.Threshold), flagInt,
		func(c *config.Config, v int) { c.Auth.Threshold = v })
	bind(sf, cmd, "auth.send-window", "auth.send_window", "Sliding window for recipients per SASL user.", d.Auth.SendWindow.String(), flagDuration,
		func(c *config.Config, v time.Duration) { c.Auth.SendWindow = config.Duration(v) })
	bind(sf, cmd, "auth.send-threshold", "auth.send_threshold", "More recipients than this within --auth.send-window make a send offender.", fmt.Sprint(d.Auth.SendThreshold), flagInt,
		func(c *config.Config, v int) { c.Auth.SendThreshold = v })
	bind(sf, cmd, "correlate.max-bytes", "correlate.max_bytes", "Memory bound of the session and message state (at least 40 MiB; 64 MiB holds about 85k messages in flight).", fmt.Sprint(d.Correlate.MaxBytes), flagInt,
		func(c *config.Config, v int) { c.Correlate.MaxBytes = v })
	bind(sf, cmd, "postfix.postqueue", "postfix.postqueue", "postqueue binary for the queue metrics; empty turns them off.", d.Postfix.Postqueue, flagString,
		func(c *config.Config, v string) { c.Postfix.Postqueue = v })
	bind(sf, cmd, "api.allow-anonymous", "api.allow_anonymous", "Serve the query API (/api/v1/) to requests without a token, as an auditor; without it and without api.tokens the API is off.", "", flagBool,
		func(c *config.Config, v bool) { c.API.AllowAnonymous = v })
	bind(sf, cmd, "postfix.config-dir", "postfix.config_dir", "Postfix configuration directory of this instance (postqueue -c).", "", flagString,
		func(c *config.Config, v string) { c.Postfix.ConfigDir = v })
	bind(sf, cmd, "enrich.geoip", "enrich.geoip", "MaxMind database (GeoLite2/GeoIP2 Country, City or ASN) for the API's and reports' countries, repeatable; re-read when it changes.", "", flagStrings,
		func(c *config.Config, v []string) { c.Enrich.GeoIP = v })
	bind(sf, cmd, "enrich.blocklist", "enrich.blocklist", "Threat list, one CIDR or address per line ('#' comments), re-read when it changes; events from listed addresses are marked.", "", flagString,
		func(c *config.Config, v string) { c.Enrich.Blocklist = v })
}
