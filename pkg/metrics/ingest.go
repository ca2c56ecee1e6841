// Package metrics holds mailtrail's Prometheus collectors. Label values come
// from closed sets only: never a queue id, address, IP or user name.
package metrics

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/shape"
)

// Ingest counts what the tailer and the journal do. It implements
// tailer.Observer and ingest.Observer.
type Ingest struct {
	lines        *prometheus.CounterVec
	unparsed     *prometheus.CounterVec
	rotations    prometheus.Counter
	truncations  prometheus.Counter
	cut          prometheus.Counter
	lost         prometheus.Counter
	events       prometheus.Counter
	batchSeconds prometheus.Histogram
	errors       prometheus.Counter
	newest       atomic.Int64 // Unix ns of the newest event time seen
	logger       *slog.Logger
	shapes       *shape.Set // unparsed shapes already logged
	// lastLines is the lines counter of the source counted last: a log
	// comes from one source at a time, and looking its child up by label
	// value (hashing the name) cost 60 ns a line.
	lastLines atomic.Pointer[sourceCounter]
}

type sourceCounter struct {
	source string
	c      prometheus.Counter
}

// MaxUnparsedShapes bounds how many distinct shapes of unparsed lines are
// logged (each once); past it, one more warning says that no more will be.
const MaxUnparsedShapes = 1000

// NewIngest registers the ingest metrics with reg. now is the clock for the
// lag gauge; size reports the journal's size in bytes (nil: not exported);
// logger hears about lost files (nil: nobody does).
func NewIngest(reg prometheus.Registerer, now func() time.Time, size func() int64, logger *slog.Logger) *Ingest {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Ingest{
		logger: logger,
		shapes: shape.NewSet(MaxUnparsedShapes),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_log_lines_total", Help: "Log lines read, by source.",
		}, []string{"source"}),
		unparsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_log_lines_unparsed_total", Help: "Log lines journaled as kind unknown, by service family.",
		}, []string{"service"}),
		rotations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_log_rotations_total", Help: "Log file rotations followed.",
		}),
		truncations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_log_truncations_total", Help: "Log files found truncated under the reader (copytruncate); the rest is read from the copy, then the file from 0.",
		}),
		cut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_log_lines_cut_total", Help: "Log lines longer than --log.max-line-bytes, journaled cut.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_log_lost_files_total", Help: "Saved positions whose file could not be found again (its unread lines are lost).",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_events_total", Help: "Events committed to the journal.",
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mailtrail_journal_batch_seconds", Help: "Time to commit one batch of events and positions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_errors_total", Help: "Failed journal commits (each is retried; nothing is dropped).",
		}),
	}
	reg.MustRegister(m.lines, m.unparsed, m.rotations, m.truncations, m.cut, m.lost, m.events, m.batchSeconds, m.errors)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mailtrail_ingest_lag_seconds", Help: "Now minus the time of the newest event journaled (0 before the first).",
	}, func() float64 {
		n := m.newest.Load()
		if n == 0 {
			return 0
		}
		// A writer whose clock runs ahead stamps lines in the future: that
		// is no lag.
		return max(0, now().Sub(time.Unix(0, n)).Seconds())
	}))
	if size != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mailtrail_journal_size_bytes", Help: "Size of the journal database and its write-ahead log.",
		}, func() float64 { return float64(size()) }))
	}
	return m
}

// Rotated implements tailer.Observer.
func (m *Ingest) Rotated(string) { m.rotations.Inc() }

// Truncated implements tailer.Observer.
func (m *Ingest) Truncated(string) { m.truncations.Inc() }

// LineCut implements tailer.Observer.
func (m *Ingest) LineCut(string) { m.cut.Inc() }

// Lost implements tailer.Observer: the count says that lines were lost, the
// log says which file and why.
func (m *Ingest) Lost(source, why string) {
	m.lost.Inc()
	m.logger.Warn("log lines lost", "source", source, "why", why)
}

// Parsed counts a line and the event it gave.
func (m *Ingest) Parsed(source string, e *event.Event) {
	if c := m.lastLines.Load(); c != nil && c.source == source {
		c.c.Inc()
	} else {
		c := &sourceCounter{source: source, c: m.lines.WithLabelValues(source)}
		m.lastLines.Store(c)
		c.c.Inc()
	}
	if e.Kind == event.KindUnknown {
		family := ServiceFamily(e.Service)
		m.unparsed.WithLabelValues(family).Inc()
		m.logShape(family, e)
	}
	if !e.Time.IsZero() {
		t := e.Time.UnixNano()
		for {
			old := m.newest.Load()
			if t <= old || m.newest.CompareAndSwap(old, t) {
				break
			}
		}
	}
}

// logShape logs the shape of an unparsed line the first time it is seen:
// what kind of line the parser missed, without the values of this one, for
// the operator to report. The count is in mailtrail_log_lines_unparsed_total.
func (m *Ingest) logShape(family string, e *event.Event) {
	if m.shapes.Full() {
		return
	}
	s := shape.OfLine(e.Raw)
	switch isNew, filled := m.shapes.Add(s); {
	case isNew:
		m.logger.Warn("log line of a new unparsed shape", "service", family, "shape", s)
	case filled:
		m.logger.Warn("unparsed shapes: no more new ones will be logged", "logged", MaxUnparsedShapes)
	}
}

// Committed implements ingest.Observer.
func (m *Ingest) Committed(n int, took time.Duration) {
	m.events.Add(float64(n))
	m.batchSeconds.Observe(took.Seconds())
}

// CommitFailed implements ingest.Observer.
func (m *Ingest) CommitFailed(error) { m.errors.Inc() }

// ServiceFamily maps a syslog service to a closed set of label values: the
// service of an unparsed line may be anything a foreign program wrote.
func ServiceFamily(service string) string {
	switch {
	case service == "":
		return "none"
	case strings.HasPrefix(service, "postfix"):
		return "postfix"
	}
	switch service {
	case "dovecot", "imap-login", "pop3-login", "imap", "pop3", "lmtp", "auth", "auth-worker":
		return "dovecot"
	case "opendkim", "opendmarc", "saslauthd", "amavis":
		return service
	case "amavisd", "amavisd-new":
		return "amavis"
	case "policyd-spf", "policyd-spf-perl", "policy-spf":
		return "policyd-spf"
	}
	return "other"
}
