package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// retentionFlags are serve's retention settings; they override the
// config file's journal.retention, retention_kinds and archive_dir.
type retentionFlags struct {
	retention  string
	kinds      []string
	archiveDir string
}

func addRetentionFlags(cmd *kingpin.CmdClause) *retentionFlags {
	f := &retentionFlags{}
	cmd.Flag("journal.retention", "Remove events older than this (e.g. 90d, 2160h); empty or 0 keeps them forever.").StringVar(&f.retention)
	cmd.Flag("journal.retention-kind", "Retention of one kind, KIND=DURATION (e.g. auth_failure=365d), repeatable.").StringsVar(&f.kinds)
	cmd.Flag("journal.archive-dir", "Write expired blocks here (compressed, checksummed, with their checkpoints) before removing them; exporter restore brings them back.").StringVar(&f.archiveDir)
	return f
}

// apply puts the flags given into c.
func (f *retentionFlags) apply(c *config.Config) {
	if f.retention != "" {
		c.Journal.Retention = f.retention
	}
	if len(f.kinds) > 0 {
		if c.Journal.RetentionKinds == nil {
			c.Journal.RetentionKinds = map[string]string{}
		}
		for _, kv := range f.kinds {
			k, v, _ := strings.Cut(kv, "=")
			c.Journal.RetentionKinds[k] = v
		}
	}
	if f.archiveDir != "" {
		c.Journal.ArchiveDir = f.archiveDir
	}
}

// parseRetention turns the journal settings into a journal.Retention.
func parseRetention(c config.Journal) (journal.Retention, error) {
	r := journal.Retention{ArchiveDir: c.ArchiveDir, Kinds: map[parser.Kind]time.Duration{}}
	var err error
	if r.Default, err = parseDays(c.Retention); err != nil {
		return r, fmt.Errorf("journal retention: %w", err)
	}
	for name, v := range c.RetentionKinds {
		k, err := parser.ParseKind(name)
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

// retentionJob enforces the retention in the background.
type retentionJob struct {
	j       *journal.Journal
	r       journal.Retention
	logger  *slog.Logger
	deleted prometheus.Counter
	errors  prometheus.Counter
}

func newRetentionJob(reg prometheus.Registerer, j *journal.Journal, r journal.Retention, logger *slog.Logger) *retentionJob {
	rj := &retentionJob{j: j, r: r, logger: logger,
		deleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_retention_deleted_events_total", Help: "Events the retention job removed from the journal (archived first when an archive directory is set).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_retention_errors_total", Help: "Retention runs that failed (retried at the next interval).",
		}),
	}
	reg.MustRegister(rj.deleted, rj.errors)
	return rj
}

// run enforces the retention now and every interval until ctx ends (serve
// runs it hourly: blocks expire a few thousand events at a time).
func (rj *retentionJob) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rj.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (rj *retentionJob) once(ctx context.Context) {
	res, err := rj.j.Expire(ctx, rj.r)
	rj.deleted.Add(float64(res.Deleted))
	if err != nil {
		if ctx.Err() == nil {
			rj.errors.Inc()
			rj.logger.Error("journal retention", "err", err, "deleted", res.Deleted)
		}
		return
	}
	if res.Deleted > 0 || res.Folded > 0 {
		rj.logger.Info("journal retention", "deleted", res.Deleted, "folded", res.Folded, "archives", len(res.Archives))
	}
}
