package ship

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Error reasons, the closed set of mailtrail_ship_errors_total's reason.
const (
	ReasonConnect = "connect"
	ReasonTimeout = "timeout"
	Reason4xx     = "http_4xx"
	Reason5xx     = "http_5xx"
	ReasonEncode  = "encode"
)

// Metrics are the shipper's Prometheus collectors, labelled by sink
// (victorialogs or otlp) and, for errors, by reason: closed sets only.
type Metrics struct {
	events, batches, rejected *prometheus.CounterVec
	resent                    *prometheus.CounterVec
	errors                    *prometheus.CounterVec
	lagEvents, lagSeconds     *prometheus.GaugeVec
	cursor                    *prometheus.GaugeVec
}

// NewMetrics makes the shipper's metrics and registers them with reg (nil:
// not exported, as in tests and Drain).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_ship_events_total", Help: "Journaled events the fleet store accepted, by sink.",
		}, []string{"sink"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_ship_batches_total", Help: "Batches the fleet store accepted, by sink.",
		}, []string{"sink"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_ship_errors_total", Help: "Failed sends to the fleet store, by sink and reason (connect, timeout, http_4xx, http_5xx, encode); the batch is sent again after a pause.",
		}, []string{"sink", "reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_ship_rejected_events_total", Help: "Events the fleet store refused (a 400/413/422 answer for that one row) or that are older than the sink's max_age (the store's retention): counted and passed over, not retried.",
		}, []string{"sink"}),
		resent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_ship_resent_events_total", Help: "Events sent again because the store, asked recheck_after later, no longer held them (it lost what it had not saved when it crashed).",
		}, []string{"sink"}),
		lagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mailtrail_ship_lag_events", Help: "Journaled events not yet accepted by the fleet store: the journal's newest sequence number minus the sink's cursor.",
		}, []string{"sink"}),
		lagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mailtrail_ship_lag_seconds", Help: "How long the oldest event not yet accepted by the fleet store has been journaled (as the shipper saw it appear); 0 when caught up.",
		}, []string{"sink"}),
		cursor: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mailtrail_ship_cursor", Help: "The sequence number up to which the fleet store accepted the journal's events, by sink.",
		}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.batches, m.errors, m.rejected, m.resent, m.lagEvents, m.lagSeconds, m.cursor)
	}
	return m
}

// sinkMetrics are one sink's children of m, looked up once.
type sinkMetrics struct {
	events, batches, rejected prometheus.Counter
	resent                    prometheus.Counter
	errors                    map[string]prometheus.Counter
	lagEvents, lagSeconds     prometheus.Gauge
	cursor                    prometheus.Gauge
}

func (m *Metrics) sink(name string) *sinkMetrics {
	sm := &sinkMetrics{
		events: m.events.WithLabelValues(name), batches: m.batches.WithLabelValues(name), rejected: m.rejected.WithLabelValues(name),
		resent:    m.resent.WithLabelValues(name),
		lagEvents: m.lagEvents.WithLabelValues(name), lagSeconds: m.lagSeconds.WithLabelValues(name), cursor: m.cursor.WithLabelValues(name),
		errors: map[string]prometheus.Counter{},
	}
	// Every reason is exported from the start at 0, so rate() and
	// increase() see the first error.
	for _, r := range []string{ReasonConnect, ReasonTimeout, Reason4xx, Reason5xx, ReasonEncode} {
		sm.errors[r] = m.errors.WithLabelValues(name, r)
	}
	return sm
}
