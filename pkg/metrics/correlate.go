package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/correlate"
)

// RegisterCorrelator exports the correlator's state, which is how an
// operator sees that --correlate.max-bytes is too small.
func RegisterCorrelator(reg prometheus.Registerer, c *correlate.Correlator) {
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
