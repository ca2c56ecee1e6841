package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mailtrail/mailtrail/pkg/api"
	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/ingest"
	"github.com/mailtrail/mailtrail/pkg/metrics"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
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

func newParser(c *config.Config) (*parser.Parser, error) {
	loc := time.Local
	if c.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(c.Timezone); err != nil {
			return nil, fmt.Errorf("time zone %q: %w", c.Timezone, err)
		}
	}
	return &parser.Parser{Instance: c.Instance, Location: loc}, nil
}

func serveCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() int) {
	cmd := app.Command("serve", "Follow the mail logs, journal every event and serve metrics (the default command).").Default()
	sf := addSourceFlags(cmd)
	var (
		check               bool
		metricsPath         string
		logLevel, logFormat string
		verifyEvery         time.Duration
	)
	addServeSettings(cmd, sf)
	cmd.Flag("config.check", "Validate the configuration and the web configuration, then exit.").BoolVar(&check)
	cmd.Flag("journal.verify-interval", "Re-verify the journal's Merkle tree and checkpoints this often in the background (0: never).").Default("1h").DurationVar(&verifyEvery)
	rf := addRetentionFlags(cmd)
	webFlags := kingpinflag.AddFlags(cmd, defaultListen)
	cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&metricsPath)
	cmd.Flag("log.level", "Only log messages with this severity or above: debug, info, warn, error.").Default("info").EnumVar(&logLevel, "debug", "info", "warn", "error")
	cmd.Flag("log.format", "Log format: logfmt or json.").Default("logfmt").EnumVar(&logFormat, "logfmt", "json")
	return cmd.FullCommand(), func() int {
		logger := newLogger(stderr, logLevel, logFormat)
		c, err := sf.settings()
		if err == nil {
			err = c.ValidateSources()
		}
		if err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		}
		// The files are read now so that a wrong path fails --config.check
		// and the start, not the first query.
		if _, err := enrich.New(enrich.Options{GeoIP: c.Enrich.GeoIP, Blocklist: c.Enrich.Blocklist}); err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		}
		if tokens, err := apiTokens(c); err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		} else if _, err := api.New(api.Config{Tokens: tokens}); err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		}
		if *webFlags.WebConfigFile != "" {
			if err := web.Validate(*webFlags.WebConfigFile); err != nil {
				fmt.Fprintf(stderr, "exporter serve: --web.config.file: %v\n", err)
				return 2
			}
		}
		if !strings.HasPrefix(metricsPath, "/") || metricsPath == "/-/healthy" || metricsPath == "/-/ready" {
			fmt.Fprintf(stderr, "exporter serve: --web.telemetry-path=%q: must start with / and not be /-/healthy or /-/ready\n", metricsPath)
			return 2
		}
		for _, a := range *webFlags.WebListenAddresses {
			if _, _, err := net.SplitHostPort(a); err != nil {
				fmt.Fprintf(stderr, "exporter serve: --web.listen-address=%q: %v\n", a, err)
				return 2
			}
		}
		rf.apply(c)
		if _, err := parseRetention(c.Journal); err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		}
		if _, err := c.Redactor(); err != nil {
			fmt.Fprintf(stderr, "exporter serve: %v\n", err)
			return 2
		}
		if check {
			fmt.Fprintln(stdout, "configuration ok")
			return 0
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, c, stdin, stdout, webFlags, metricsPath, verifyEvery, logger); err != nil {
			logger.Error("exporter stopped", "err", err)
			return 1
		}
		return 0
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

// serve runs the exporter until ctx ends.
func serve(ctx context.Context, c *config.Config, stdin io.Reader, stdout io.Writer, webFlags *web.FlagConfig, metricsPath string, verifyEvery time.Duration, logger *slog.Logger) error {
	p, err := newParser(c)
	if err != nil {
		return err
	}
	j, vkey, err := openJournal(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() {
		// A clean stop leaves nothing journaled outside a checkpoint.
		if err := j.Checkpoint(context.Background()); err != nil {
			logger.Error("final checkpoint", "err", err)
		}
		j.Close()
	}()
	positions, err := j.Positions(ctx)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), versioncollector.NewCollector("mailtrail"))
	im := metrics.NewIngest(reg, time.Now, j.Size, logger)
	mail := metrics.NewPostfix(reg, metrics.PostfixConfig{TenantDomains: c.Tenant.Domains})
	off := offenders.New(offenders.Config{
		Window: time.Duration(c.Auth.Window), Threshold: c.Auth.Threshold,
		SendWindow: time.Duration(c.Auth.SendWindow), SendThreshold: c.Auth.SendThreshold,
	})
	if err := off.Register(reg); err != nil {
		return err
	}
	if c.Postfix.Postqueue != "" {
		reg.MustRegister(metrics.NewQueue(metrics.QueueConfig{Postqueue: c.Postfix.Postqueue, ConfigDir: c.Postfix.ConfigDir, Logger: logger}))
	}
	var verifier *backgroundVerifier
	if verifyEvery > 0 {
		verifier = newBackgroundVerifier(reg, c.Journal.Path, vkey, verifyEvery, logger)
	}
	if r, err := parseRetention(c.Journal); err != nil {
		return err
	} else if r.Default > 0 || len(r.Kinds) > 0 {
		go newRetentionJob(reg, j, r, logger).run(ctx, time.Hour)
	}
	redactor, err := c.Redactor()
	if err != nil {
		return err
	}
	// Enrichment is read-side only: the API and reports ask it; ingest
	// never waits for it.
	enricher, err := enrich.New(enrich.Options{
		GeoIP: c.Enrich.GeoIP, Blocklist: c.Enrich.Blocklist, PollInterval: time.Duration(c.Enrich.PollInterval),
		Registerer: reg, Logger: logger,
	})
	if err != nil {
		return err
	}
	corr := correlate.New(correlate.Config{MaxBytes: c.Correlate.MaxBytes})
	registerCorrelator(reg, corr)
	if err := rebuild(ctx, j, corr, logger); err != nil {
		return err
	}

	var syslogL *tailer.SyslogListener
	if c.Syslog.ListenUDP != "" || c.Syslog.ListenTCP != "" {
		if syslogL, err = tailer.ListenSyslog(c.Syslog.ListenUDP, c.Syslog.ListenTCP, c.Logs.MaxLineBytes, im); err != nil {
			return err
		}
		udp, tcp := syslogL.Addrs()
		logger.Info("receiving syslog", "udp", udp, "tcp", tcp)
	}
	var jd *tailer.JournaldConfig
	if c.Journald.Enabled {
		jd = &tailer.JournaldConfig{Command: c.Journald.Command, Matches: c.Journald.Matches, MaxLineBytes: c.Logs.MaxLineBytes, Observer: im}
	}

	// Bind the web listeners before reading anything: a port in use must
	// not leave stdin half consumed.
	listeners, err := listen(*webFlags.WebListenAddresses)
	if err != nil {
		if syslogL != nil {
			syslogL.Close()
		}
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each send carries what one read gave, up to 64 KiB of lines.
	lines := make(chan []tailer.Line, 64)
	sourcesDone := make(chan error, 1)
	go func() {
		sourcesDone <- ingest.RunSources(ctx, ingest.Sources{
			Paths: c.Logs.Paths, RotatedGlobs: c.Logs.RotatedGlobs, MaxLineBytes: c.Logs.MaxLineBytes,
			PollInterval: time.Duration(c.Logs.PollInterval), RotateWait: time.Duration(c.Logs.RotateWait),
			Stdin: stdin, Journald: jd, Syslog: syslogL, Positions: positions, Observer: im, Logger: logger,
		}, lines)
		close(lines)
	}()
	var ready atomic.Bool
	ingestDone := make(chan error, 1)
	go func() {
		ingestDone <- ingest.Run(ctx, ingest.Config{
			Parser: p, Journal: j, Correlator: corr, Redactor: redactor, BatchSize: c.Journal.BatchSize, FlushInterval: time.Duration(c.Journal.FlushInterval),
			Observer: pipeline{ingest: im, mail: mail, offenders: off}, Logger: logger,
		}, lines)
	}()

	tokens, err := apiTokens(c)
	if err != nil {
		return err
	}
	queryAPI, err := api.New(api.Config{
		Journal: j, Instance: c.Instance, Version: version, Tokens: tokens, AllowAnonymous: c.API.AllowAnonymous,
		Offenders: off, Enricher: enricher, Privacy: redactor, Logger: logger,
		Forgotten: func(subjects []string) {
			corr.Reset()
			off.Forget(subjects)
		},
	})
	if err != nil {
		return err
	}
	// Deferred after the journal's close, so it runs before it.
	defer queryAPI.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/", queryAPI)
	mux.Handle(metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError), Registry: reg}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name: "mailtrail", Description: "Postfix and Dovecot mail-log monitor", Version: version,
			Links: []web.LandingLinks{{Address: metricsPath, Text: "Metrics"}, {Address: "/-/healthy", Text: "Health"}, {Address: "/-/ready", Text: "Readiness"}},
		})
		if err != nil {
			return fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	for _, l := range listeners {
		fmt.Fprintf(stdout, "mailtrail %s (instance %s) journaling to %s\n  metrics: http://%s%s\n", version, c.Instance, c.Journal.Path, displayAddr(l.Addr()), metricsPath)
	}
	if verifier != nil {
		go verifier.run(ctx)
	}
	go enricher.Run(ctx)
	httpDone := make(chan error, 1)
	go func() { httpDone <- web.ServeMultiple(listeners, server, webFlags, logger) }()
	ready.Store(true)

	var runErr, ingestErr error
	ingestFinished := false
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		runErr = fmt.Errorf("web server: %w", err)
	case runErr = <-sourcesDone:
		// Every source ended (stdin at EOF): ingest drains the lines
		// still queued, then the exporter stops.
		ingestErr, ingestFinished = <-ingestDone, true
	}
	cancel()
	if !ingestFinished {
		ingestErr = <-ingestDone
	}
	if runErr == nil && !errors.Is(ingestErr, context.Canceled) {
		runErr = ingestErr
	}
	if errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	server.Shutdown(shutdownCtx)
	return runErr
}

// apiTokens reads the query API's tokens from the configuration.
func apiTokens(c *config.Config) ([]api.Token, error) {
	var out []api.Token
	for _, t := range c.API.Tokens {
		secret, err := t.Secret()
		if err != nil {
			return nil, err
		}
		out = append(out, api.Token{Name: t.Name, Secret: secret, Role: api.Role(t.Role), Tenants: t.Tenants})
	}
	return out, nil
}

func listen(addrs []string) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
