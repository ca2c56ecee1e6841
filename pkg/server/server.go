// Package server assembles the exporter from its parts — journal, parser,
// privacy policy, correlator, sources, ingest, metrics, offender windows,
// enrichment, query API and background jobs — and runs it, for `serve`
// (following the logs until stopped) and `replay` (journaling files once)
// alike. The exporter command only maps flags to a configuration and
// results to output and exit codes.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/mailtrail/mailtrail/pkg/api"
	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/coldstore"
	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/ingest"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/metrics"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// Server is an exporter with its journal open: what serve and replay
// share.
type Server struct {
	cfg      *config.Config
	logger   *slog.Logger
	parser   *parser.Parser
	journal  *journal.Journal
	vkey     string
	redactor *privacy.Redactor
	corr     *correlate.Correlator
}

// NewParser is the parser the configuration asks for.
func NewParser(c *config.Config) (*parser.Parser, error) {
	loc := time.Local
	if c.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(c.Timezone); err != nil {
			return nil, fmt.Errorf("time zone %q: %w", c.Timezone, err)
		}
	}
	return &parser.Parser{Instance: c.Instance, Location: loc}, nil
}

// OpenJournal opens the configured journal with its checkpoint signer,
// creating the signing key on first use, and returns the verifier key too.
func OpenJournal(ctx context.Context, c *config.Config, logger *slog.Logger) (*journal.Journal, string, error) {
	signer, vkey, created, err := integrity.LoadOrCreateKey(c.Journal.SigningKey, c.Instance)
	if err != nil {
		return nil, "", fmt.Errorf("journal signing key %s: %w", c.Journal.SigningKey, err)
	}
	if created {
		logger.Info("generated a checkpoint signing key; keep a copy of its public half off this host", "key", c.Journal.SigningKey, "public", c.Journal.SigningKey+".pub")
	}
	cold, err := ColdStore(c)
	if err != nil {
		return nil, "", err
	}
	j, err := journal.Open(ctx, c.Journal.Path, journal.Options{
		Signer: signer, VerifierKey: vkey, Origin: c.Instance,
		CheckpointEvery: c.Journal.CheckpointEvery, CheckpointInterval: time.Duration(c.Journal.CheckpointInterval),
		Compression: c.Journal.Compression, ArchiveDir: c.Journal.ArchiveDirectory(), Cold: cold,
	})
	return j, vkey, err
}

// ColdStore is the client of the archive bucket (journal.archive_url); nil
// without one.
func ColdStore(c *config.Config) (journal.ColdStore, error) {
	if c.Journal.ArchiveURL == "" {
		return nil, nil
	}
	store, err := coldstore.New(c.Journal.ColdStore())
	if err != nil {
		return nil, fmt.Errorf("journal.archive_url %s: %w", c.Journal.ArchiveURL, err)
	}
	return store, nil
}

// APITokens reads the query API's tokens from the configuration.
func APITokens(c *config.Config) ([]api.Token, error) {
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

// Check tells what serve would refuse in a valid configuration, by building
// what reads files (enrichment, API tokens, the privacy secret) and
// opening nothing else.
func Check(c *config.Config) error {
	if err := c.ValidateSources(); err != nil {
		return err
	}
	// The files are read now so that a wrong path fails --config.check and
	// the start, not the first query.
	if _, err := enrich.New(enrich.Options{GeoIP: c.Enrich.GeoIP, Blocklist: c.Enrich.Blocklist}); err != nil {
		return err
	}
	tokens, err := APITokens(c)
	if err != nil {
		return err
	}
	if _, err := api.New(api.Config{Tokens: tokens}); err != nil {
		return err
	}
	if _, err := FleetStore(c.API.FleetStore); err != nil {
		return err
	}
	if _, err := c.Redactor(); err != nil {
		return err
	}
	if c.Journal.ArchiveURL != "" {
		if err := c.Journal.ColdStore().CheckCredentials(); err != nil {
			return fmt.Errorf("journal.archive_url %s: %w", c.Journal.ArchiveURL, err)
		}
	}
	if _, err := c.Policy.DovecotAPIKey(); err != nil {
		return err
	}
	return nil
}

// Open opens the journal and rebuilds the correlator from it.
func Open(ctx context.Context, c *config.Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := NewParser(c)
	if err != nil {
		return nil, err
	}
	redactor, err := c.Redactor()
	if err != nil {
		return nil, err
	}
	j, vkey, err := OpenJournal(ctx, c, logger)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, logger: logger, parser: p, journal: j, vkey: vkey, redactor: redactor,
		corr: correlate.New(correlate.Config{MaxBytes: c.Correlate.MaxBytes})}
	if err := s.rebuild(ctx); err != nil {
		j.Close()
		return nil, err
	}
	return s, nil
}

// Journal is the open journal.
func (s *Server) Journal() *journal.Journal { return s.journal }

// Close signs a last checkpoint, so that a clean stop leaves nothing
// journaled outside one, and closes the journal.
func (s *Server) Close() error {
	err := s.journal.Checkpoint(context.Background())
	if cerr := s.journal.Close(); err == nil {
		err = cerr
	}
	return err
}

// rebuild gives the fresh correlator the state the last run had, so that a
// message received before a restart is still enriched after it.
func (s *Server) rebuild(ctx context.Context) error {
	start := time.Now()
	n := 0
	err := s.journal.Recent(ctx, correlate.RebuildEvents, func(e *event.Event) error {
		if correlate.Stateful(e.Kind) {
			s.corr.Observe(e)
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild correlation state: %w", err)
	}
	if n > 0 {
		s.logger.Info("correlation state rebuilt from the journal", "events", n, "took", time.Since(start))
	}
	return nil
}

// ReplayOptions are what a replay reports while it runs.
type ReplayOptions struct {
	// Observer sees every event (the replay's summary).
	Observer ingest.Observer
	// Read, when set, is told the offset each read reached in the file
	// being read, and File each file finished: a progress line's input.
	Read func(offset int64)
	File func(path string)
}

// replayBatch is how many events a replay commits at once.
const replayBatch = 6144

// readsQueued is how many reads' lines (up to 64 KiB each) wait for the
// parser in Serve and Replay: 16 are 1 MiB, a batch's worth of the
// simulated log, enough to keep the parser fed while the readers wake. At
// 64 the lines waiting held 7 MB of heap, and the collector let the heap
// grow twice that.
const readsQueued = 16

// Replay journals files once, each from where the journal's saved position
// for it ends. Its RFC 3164 lines take their year from the file's
// modification time.
func (s *Server) Replay(ctx context.Context, files []string, o ReplayOptions) error {
	positions, err := s.journal.Positions(ctx)
	if err != nil {
		return err
	}
	mtimes := map[string]time.Time{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		mtimes[f] = st.ModTime()
	}
	lines := make(chan []tailer.Line, readsQueued)
	read := lines
	if o.Read != nil {
		// A hand-off more per read, so only when someone looks.
		read = make(chan []tailer.Line, readsQueued)
		go func() {
			defer close(lines)
			for ls := range read {
				o.Read(ls[len(ls)-1].Pos.Offset)
				lines <- ls
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(read)
		for _, f := range files {
			if _, err := tailer.ReadFile(ctx, f, positions[f], s.cfg.Logs.MaxLineBytes, nil, read); err != nil {
				readErr <- err
				return
			}
			if o.File != nil {
				o.File(f)
			}
		}
		readErr <- nil
	}()
	// Nobody waits for a replay's events before it ends: it commits whole
	// batches only (a timed commit of part of one would leave events in
	// the hot table, written there only to be moved into a block next).
	// Three blocks a batch: three batches are alive at once (parsed,
	// queued, committing), and at 8192 events replay's peak RSS was
	// 135-144 MiB; 6144 takes 1.8% less CPU and 21 MiB less for 3.5% more
	// wall clock, and 4096 (serve's default) 15% more wall clock.
	err = ingest.Run(ctx, ingest.Config{
		Parser: s.parser, Journal: s.journal, Correlator: s.corr, Redactor: s.redactor, Observer: o.Observer,
		BatchSize: replayBatch, FlushInterval: 24 * time.Hour,
		Ref: func(source string) time.Time { return mtimes[source] },
	}, lines)
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// Options are what serve needs beyond the configuration.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	// Web are the exporter-toolkit's listen and TLS flags.
	Web         *web.FlagConfig
	MetricsPath string
	// VerifyEvery is how often the journal is re-verified (0: never).
	VerifyEvery time.Duration
	Version     string
}

// Serve follows the configured sources and serves metrics and the query
// API until ctx ends or every source has ended (stdin at EOF).
func (s *Server) Serve(ctx context.Context, o Options) error {
	c, logger, j := s.cfg, s.logger, s.journal
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
	metrics.RegisterCorrelator(reg, s.corr)
	var verifier *journal.BackgroundVerifier
	if o.VerifyEvery > 0 {
		verifier = journal.NewBackgroundVerifier(reg, c.Journal.Path, s.vkey, logger)
	}
	retention, err := c.Journal.RetentionPolicy()
	if err != nil {
		return err
	}
	retention.Cold = j.ColdStore()
	var retentionJob *journal.RetentionJob
	if retention.Default > 0 || len(retention.Kinds) > 0 {
		retentionJob = journal.NewRetentionJob(reg, j, retention, logger)
	}
	shipper, err := NewShipper(c, j, reg, logger)
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

	var syslogL *tailer.SyslogListener
	if c.Syslog.ListenUDP != "" || c.Syslog.ListenTCP != "" {
		if syslogL, err = tailer.ListenSyslog(c.Syslog.ListenUDP, c.Syslog.ListenTCP, c.Logs.MaxLineBytes, im); err != nil {
			return err
		}
		udp, tcp := syslogL.Addrs()
		logger.Info("receiving syslog", "udp", udp, "tcp", tcp)
	}
	var relpL *tailer.RELPListener
	if c.Syslog.ListenRELP != "" {
		if relpL, err = tailer.ListenRELP(c.Syslog.ListenRELP, c.Logs.MaxLineBytes, im, positions[tailer.RELPSource]); err != nil {
			if syslogL != nil {
				syslogL.Close()
			}
			return err
		}
		logger.Info("receiving RELP", "addr", relpL.Addr())
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mailtrail_relp_resent_frames_total",
			Help: "RELP frames a sender sent again (after a crash or a broken session) that were already journaled: acknowledged, not journaled twice.",
		}, func() float64 { return float64(relpL.Resent()) }))
	}
	var jd *tailer.JournaldConfig
	if c.Journald.Enabled {
		jd = &tailer.JournaldConfig{Command: c.Journald.Command, Matches: c.Journald.Matches, MaxLineBytes: c.Logs.MaxLineBytes, Observer: im}
	}

	// Bind the web listeners before reading anything: a port in use must
	// not leave stdin half consumed.
	listeners, err := listen(*o.Web.WebListenAddresses)
	if err != nil {
		if syslogL != nil {
			syslogL.Close()
		}
		if relpL != nil {
			relpL.Close()
		}
		return err
	}
	// The policy services answer Postfix and Dovecot from the offender
	// windows and the suspensions (pkg/suspend, docs/responding.md); their
	// listeners too are bound before anything is read.
	pol, err := s.startPolicy(ctx, reg, off)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		if syslogL != nil {
			syslogL.Close()
		}
		if relpL != nil {
			relpL.Close()
		}
		return err
	}
	defer pol.close()
	if pf, dc := pol.addrs(); pf != "" || dc != "" {
		fmt.Fprintf(o.Stdout, "  policy: postfix %s dovecot %s\n", orOff(pf), orOff(dc))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each send carries what one read gave.
	lines := make(chan []tailer.Line, readsQueued)
	sourcesDone := make(chan error, 1)
	go func() {
		sourcesDone <- ingest.RunSources(ctx, ingest.Sources{
			Paths: c.Logs.Paths, RotatedGlobs: c.Logs.RotatedGlobs, MaxLineBytes: c.Logs.MaxLineBytes,
			PollInterval: time.Duration(c.Logs.PollInterval), RotateWait: time.Duration(c.Logs.RotateWait),
			Stdin: o.Stdin, Journald: jd, Syslog: syslogL, RELP: relpL, Positions: positions, Observer: im, Logger: logger,
		}, lines)
		close(lines)
	}()
	var ready atomic.Bool
	ingestDone := make(chan error, 1)
	go func() {
		ingestDone <- ingest.Run(ctx, ingest.Config{
			Parser: s.parser, Journal: j, Correlator: s.corr, Redactor: s.redactor, BatchSize: c.Journal.BatchSize, FlushInterval: time.Duration(c.Journal.FlushInterval),
			Observer: pipeline{ingest: im, mail: mail, offenders: off}, Logger: logger,
		}, lines)
	}()

	tokens, err := APITokens(c)
	if err != nil {
		return err
	}
	apiCfg := api.Config{
		Journal: j, Instance: c.Instance, Version: o.Version, Tokens: tokens, AllowAnonymous: c.API.AllowAnonymous,
		Offenders: off, Enricher: enricher, Privacy: s.redactor, Logger: logger,
		Forgotten: func(subjects []string, standIn string) {
			s.corr.Reset()
			off.Forget(subjects)
			pol.store.Forget(subjects, standIn)
		},
		Suspensions: pol.store,
		Queues:      []*journal.Queue{pol.recorder},
	}
	if shipper != nil {
		apiCfg.Erase = func(ctx context.Context, subjects []string, actor string) (journal.EraseResult, []apiv1.ForgetStore, error) {
			res, answers, err := shipper.Forget(ctx, subjects, actor, 0)
			return res, StoreAnswers(answers), err
		}
	}
	if apiCfg.Fleet, err = FleetStore(c.API.FleetStore); err != nil {
		return err
	}
	queryAPI, err := api.New(apiCfg)
	if err != nil {
		return err
	}
	defer queryAPI.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/", queryAPI)
	mux.Handle(o.MetricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError), Registry: reg}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if o.MetricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name: "mailtrail", Description: "Postfix and Dovecot mail-log monitor", Version: o.Version,
			Links: []web.LandingLinks{{Address: o.MetricsPath, Text: "Metrics"}, {Address: "/-/healthy", Text: "Health"}, {Address: "/-/ready", Text: "Readiness"}},
		})
		if err != nil {
			return fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	for _, l := range listeners {
		fmt.Fprintf(o.Stdout, "mailtrail %s (instance %s) journaling to %s\n  metrics: http://%s%s\n", o.Version, c.Instance, c.Journal.Path, displayAddr(l.Addr()), o.MetricsPath)
	}
	if verifier != nil {
		go verifier.Run(ctx, o.VerifyEvery)
	}
	if retentionJob != nil {
		go retentionJob.Run(ctx, time.Hour)
	}
	go enricher.Run(ctx)
	// shipDone stays nil (never ready) without a shipper.
	var shipDone chan error
	if shipper != nil {
		logShipping(shipper, logger)
		shipDone = make(chan error, 1)
		go func() { shipDone <- shipper.Run(ctx) }()
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- web.ServeMultiple(listeners, server, o.Web, logger) }()
	ready.Store(true)

	var runErr, ingestErr error
	ingestFinished := false
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		runErr = fmt.Errorf("web server: %w", err)
	case err := <-shipDone:
		// Only a cursor that cannot be read ends shipping early; the
		// store's failures are retried inside.
		if err != nil {
			runErr = fmt.Errorf("ship: %w", err)
		}
		shipDone = nil
	case runErr = <-sourcesDone:
		// Every source ended (stdin at EOF): ingest drains the lines
		// still queued, then the exporter stops.
		ingestErr, ingestFinished = <-ingestDone, true
	}
	cancel()
	if !ingestFinished {
		ingestErr = <-ingestDone
	}
	// The shipper stops before the journal is closed under it.
	if shipDone != nil {
		<-shipDone
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

// pipeline hands each correlated event to everything that counts it: the
// ingest metrics, the mail metrics and the offender windows.
type pipeline struct {
	ingest    *metrics.Ingest
	mail      *metrics.Postfix
	offenders *offenders.Tracker
}

func (p pipeline) Observed(source string, e *event.Event, n correlate.Note) {
	p.ingest.Parsed(source, e)
	p.mail.Observe(e, n)
	p.offenders.Observe(e)
}

func (p pipeline) Committed(n int, took time.Duration) { p.ingest.Committed(n, took) }

func (p pipeline) CommitFailed(err error) { p.ingest.CommitFailed(err) }

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
