package report

import (
	"context"
	"fmt"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Kinds are the reports, in the order --help lists them.
var Kinds = []string{"summary", "deliveries", "logins", "trace"}

// Build computes report kind over j and renders it with params as its
// header. The CLI, the API and the evidence verifier (over a journal
// rebuilt from a bundle's events) all build reports here, so that the same
// events give the same rows. A trace of no message is query.ErrNotFound.
func Build(ctx context.Context, j *journal.Journal, kind string, o Options, params []Param) (*Doc, error) {
	switch kind {
	case "summary":
		s, err := BuildSummary(ctx, j, o)
		if err != nil {
			return nil, err
		}
		return SummaryDoc(s, params), nil
	case "deliveries":
		ds, err := BuildDeliveries(ctx, j, o)
		if err != nil {
			return nil, err
		}
		return DeliveriesDoc(ds, params), nil
	case "logins":
		ls, err := BuildLogins(ctx, j, o)
		if err != nil {
			return nil, err
		}
		return LoginsDoc(ls, params), nil
	case "trace":
		r, err := BuildTrace(ctx, j, o)
		if err != nil {
			return nil, err
		}
		return TraceDoc(r, o, params), nil
	}
	return nil, fmt.Errorf("unknown report %q (one of summary, deliveries, logins, trace)", kind)
}
