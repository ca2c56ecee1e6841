package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Login outcomes.
const (
	OutcomeSuccess = assemble.OutcomeSuccess
	OutcomeFailure = assemble.OutcomeFailure
)

// LoginRequest asks for the login history.
type LoginRequest struct {
	Since, Until time.Time
	// User and IP select one SASL/IMAP user or one client address.
	User, IP string
	// Outcome is OutcomeSuccess, OutcomeFailure or "" for both.
	Outcome string
	// Limit caps the rows (the most recently seen first); 0 means 100.
	Limit int
	// Enricher, when set, gives each row's country.
	Enricher Enricher
	Access   Access
}

// Login is one row of the login history (shared with the plugin).
type Login = apiv1.Login

// Logins aggregates the logins and failures in the range, most recently
// seen first.
func Logins(ctx context.Context, j *journal.Journal, req LoginRequest) ([]Login, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	table := assemble.LoginTable{Outcome: req.Outcome}
	f := journal.Filter{Since: req.Since, Until: req.Until, SASLUsername: req.User, ClientIP: req.IP, Kinds: assemble.LoginKinds}
	if req.Access.scoped() {
		f.Match = req.Access.match
	}
	err := j.Scan(ctx, f, func(s *journal.Stored) error {
		table.Add(&s.Event)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := table.Rows(limit)
	for i := range out {
		if req.Enricher != nil && out[i].ClientIP != "" {
			out[i].Country = req.Enricher.Country(out[i].ClientIP)
		}
		if r := req.Access.Redact; r != nil {
			out[i].User = r.User(out[i].User)
		}
	}
	return out, nil
}
