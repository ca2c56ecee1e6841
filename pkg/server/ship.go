package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/ship"
)

// NewShipper builds the shipper of j to the fleet stores c.Ship names, its
// metrics registered with reg (nil: none); nil when no store is named.
// Serve runs it; forget uses it to delete the store's copies.
func NewShipper(c *config.Config, j *journal.Journal, reg prometheus.Registerer, logger *slog.Logger) (*ship.Shipper, error) {
	var sinks []ship.Sink
	var recheck time.Duration
	if s := c.Ship.VictoriaLogs; s.URL != "" {
		vl, err := ship.NewVictoriaLogs(s.URL, time.Duration(s.Timeout))
		if err != nil {
			return nil, fmt.Errorf("ship.victorialogs.url: %w", err)
		}
		if s.SelectURL != "" {
			if err := vl.SetSelectURL(s.SelectURL); err != nil {
				return nil, fmt.Errorf("ship.victorialogs.select_url: %w", err)
			}
		}
		if vl.MaxAge, err = s.MaxAgeDuration(); err != nil {
			return nil, fmt.Errorf("ship.victorialogs.max_age: %w", err)
		}
		recheck = time.Duration(s.RecheckAfter)
		vl.Batch = s.BatchSize
		sinks = append(sinks, vl)
	}
	if s := c.Ship.OTLP; s.URL != "" {
		o, err := ship.NewOTLP(s.URL, time.Duration(s.Timeout))
		if err != nil {
			return nil, fmt.Errorf("ship.otlp.url: %w", err)
		}
		o.Batch = s.BatchSize
		sinks = append(sinks, o)
	}
	if len(sinks) == 0 {
		return nil, nil
	}
	opts := ship.Options{Instance: c.Instance, RecheckAfter: recheck, Metrics: ship.NewMetrics(reg), Logger: logger.With("component", "ship")}
	return ship.New(j, opts, sinks...), nil
}

// logShipping says where serve ships the journal (URLs without
// passwords).
func logShipping(s *ship.Shipper, logger *slog.Logger) {
	for _, k := range s.Sinks() {
		if u, ok := k.(interface{ URL() string }); ok {
			logger.Info("shipping the journal", "sink", k.Name(), "url", u.URL())
		}
	}
}

// StoreAnswers are the answers in the API's terms.
func StoreAnswers(as []ship.StoreAnswer) []apiv1.ForgetStore {
	out := make([]apiv1.ForgetStore, len(as))
	for i, a := range as {
		out[i] = apiv1.ForgetStore{Sink: a.Sink, URL: a.URL, Deleted: a.Deleted, Detail: a.Detail}
	}
	return out
}
