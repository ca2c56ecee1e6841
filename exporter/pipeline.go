package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/metrics"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// pipeline hands each correlated event to everything that counts it: the
// ingest metrics, the mail metrics and the offender windows.
type pipeline struct {
	ingest    *metrics.Ingest
	mail      *metrics.Postfix
	offenders *offenders.Tracker
}

func (p pipeline) Observed(source string, e *parser.Event, n correlate.Note) {
	p.ingest.Parsed(source, e)
	p.mail.Observe(e, n)
	p.offenders.Observe(e)
}

func (p pipeline) Committed(n int, took time.Duration) { p.ingest.Committed(n, took) }

func (p pipeline) CommitFailed(err error) { p.ingest.CommitFailed(err) }

// registerCorrelator exports the correlator's state, which is how an
// operator sees that --correlate.max-bytes is too small.
func registerCorrelator(reg prometheus.Registerer, c *correlate.Correlator) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mailtrail_correlate_sessions", Help: "smtpd sessions the correlator holds (an upper estimate).",
		}, func() float64 { return float64(c.Stats().Sessions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mailtrail_correlate_messages", Help: "Messages in flight the correlator holds (an upper estimate).",
		}, func() float64 { return float64(c.Stats().Messages) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mailtrail_correlate_bytes", Help: "Memory the correlator's state takes.",
		}, func() float64 { return float64(c.Stats().Bytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mailtrail_correlate_evictions_total", Help: "Sessions and messages dropped to stay within --correlate.max-bytes.",
		}, func() float64 { return float64(c.Stats().Evictions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mailtrail_correlate_expirations_total", Help: "Sessions and messages forgotten after their TTL.",
		}, func() float64 { return float64(c.Stats().Expirations) }),
	)
}

// rebuildEvents is how many of the newest journaled events a restart
// replays into the correlator: enough for the messages in flight on a busy
// server (a million events is hours of mail), few enough to start in
// seconds.
const rebuildEvents = 1_000_000

// rebuild gives a fresh correlator the state the last run had, so that a
// message received before a restart is still enriched after it.
func rebuild(ctx context.Context, j *journal.Journal, c *correlate.Correlator, logger *slog.Logger) error {
	start := time.Now()
	n := 0
	err := j.Recent(ctx, rebuildEvents, func(e *parser.Event) error {
		if correlate.Stateful(e.Kind) {
			c.Observe(e)
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild correlation state: %w", err)
	}
	if n > 0 {
		logger.Info("correlation state rebuilt from the journal", "events", n, "took", time.Since(start))
	}
	return nil
}
