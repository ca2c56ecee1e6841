package offenders

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register exposes the tracker to Prometheus. The gauges are computed at
// scrape time from Active, so they drain as log time moves on even when no
// offender is observed again; the only label is the scope, a closed set.
//
//	mailtrail_auth_offenders{scope="ip|user"}     keys over the auth threshold now
//	mailtrail_send_offenders                      SASL users over the send threshold now
//	mailtrail_offenders_tracked_keys{scope}       keys held (bounded by MaxKeys)
//	mailtrail_offenders_evictions_total{scope}    keys dropped to stay within MaxKeys
func (t *Tracker) Register(reg prometheus.Registerer) error {
	var cs []prometheus.Collector
	for _, sc := range []Scope{ScopeIP, ScopeUser} {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "mailtrail_auth_offenders",
			Help:        "Client IPs (scope=ip) and user names (scope=user) with more authentication failures than the threshold within the window, at the newest log time.",
			ConstLabels: prometheus.Labels{"scope": string(sc)},
		}, func() float64 { return float64(t.Active(sc)) }))
	}
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mailtrail_send_offenders",
		Help: "SASL users who sent to more recipients than the send threshold within the send window, at the newest log time.",
	}, func() float64 { return float64(t.Active(ScopeSend)) }))
	for _, sc := range Scopes() {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "mailtrail_offenders_tracked_keys",
				Help:        "Keys (IPs, user names, senders) whose windows the offender tracker holds.",
				ConstLabels: prometheus.Labels{"scope": string(sc)},
			}, func() float64 { return float64(t.Stats(sc).Keys) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "mailtrail_offenders_evictions_total",
				Help:        "Least recently seen keys the offender tracker dropped to stay within its key bound; their counts are lost.",
				ConstLabels: prometheus.Labels{"scope": string(sc)},
			}, func() float64 { return float64(t.Stats(sc).Evictions) }),
		)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("offenders: registering metrics: %w", err)
		}
	}
	return nil
}
