package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// PostfixConfig configures the mail metrics.
type PostfixConfig struct {
	// TenantDomains are the sender domains that get their own
	// sender_domain label value; every other domain is "other".
	TenantDomains []string
}

// Postfix holds the mail metrics: what Prometheus sees of connections,
// authentication, rejects, messages, deliveries, TLS, postscreen and policy
// checks. Label values come from closed sets only.
type Postfix struct{}

// NewPostfix registers the mail metrics with reg.
func NewPostfix(reg prometheus.Registerer, cfg PostfixConfig) *Postfix { return &Postfix{} }

// Observe counts one (correlated) event.
func (m *Postfix) Observe(e *parser.Event, n correlate.Note) {}
