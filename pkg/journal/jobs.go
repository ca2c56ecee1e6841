package journal

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// RetentionJob enforces a retention in the background and counts what it
// removed.
type RetentionJob struct {
	j       *Journal
	r       Retention
	logger  *slog.Logger
	deleted prometheus.Counter
	errors  prometheus.Counter
}

// NewRetentionJob registers the job's metrics.
func NewRetentionJob(reg prometheus.Registerer, j *Journal, r Retention, logger *slog.Logger) *RetentionJob {
	rj := &RetentionJob{j: j, r: r, logger: logger,
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

// Run enforces the retention now and every interval until ctx ends (serve
// runs it hourly: blocks expire a few thousand events at a time).
func (rj *RetentionJob) Run(ctx context.Context, every time.Duration) {
	everyTick(ctx, every, rj.Once)
}

// Once enforces the retention now.
func (rj *RetentionJob) Once(ctx context.Context) {
	res, err := rj.j.Expire(ctx, rj.r)
	rj.deleted.Add(float64(res.Deleted))
	if err != nil {
		if ctx.Err() == nil {
			rj.errors.Inc()
			rj.logger.Error("journal retention", "err", err, "deleted", res.Deleted)
		}
		return
	}
	if res.Deleted > 0 || res.Folded > 0 || len(res.Uploaded) > 0 {
		rj.logger.Info("journal retention", "deleted", res.Deleted, "folded", res.Folded, "archives", len(res.Archives), "uploaded", len(res.Uploaded))
	}
}

// BackgroundVerifier re-verifies a journal file every interval and exports
// the outcome, so that tampering shows on a dashboard, not only when
// someone runs `exporter verify`.
type BackgroundVerifier struct {
	path     string
	vkey     string
	logger   *slog.Logger
	verified prometheus.Gauge
	failures prometheus.Counter
}

// NewBackgroundVerifier registers the verifier's metrics; vkey is the
// checkpoints' verifier key ("" checks the tree only).
func NewBackgroundVerifier(reg prometheus.Registerer, path, vkey string, logger *slog.Logger) *BackgroundVerifier {
	v := &BackgroundVerifier{path: path, vkey: vkey, logger: logger,
		verified: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mailtrail_journal_verified_events", Help: "Events the last background verification found intact.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_verify_failures_total", Help: "Background verifications that found the journal tampered with or could not read it.",
		}),
	}
	reg.MustRegister(v.verified, v.failures)
	return v
}

// Run verifies at once, then every interval, until ctx ends.
func (v *BackgroundVerifier) Run(ctx context.Context, every time.Duration) {
	everyTick(ctx, every, v.Once)
}

// Once verifies now.
func (v *BackgroundVerifier) Once(ctx context.Context) {
	var verifiers integrity.Verifiers
	if v.vkey != "" {
		ver, err := integrity.NewVerifier(v.vkey)
		if err != nil {
			v.failures.Inc()
			v.logger.Error("journal verification: verifier key", "err", err)
			return
		}
		verifiers = integrity.NewVerifiers(ver)
	}
	start := time.Now()
	r, err := Verify(ctx, v.path, verifiers, nil)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		v.failures.Inc()
		v.logger.Error("journal verification could not read the journal", "err", err)
	case r.Problem != nil:
		v.failures.Inc()
		v.logger.Error("journal verification found tampering", "problem", r.Problem.String())
	default:
		v.verified.Set(float64(r.Events))
		v.logger.Debug("journal verified", "events", r.Events, "checkpoints", r.Checkpoints, "took", time.Since(start))
	}
}

// everyTick runs fn now and every interval until ctx ends.
func everyTick(ctx context.Context, every time.Duration, fn func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
