package query

import (
	"context"
	"sort"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Login outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
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

// loginOf classifies e: a SASL submission (smtpd client= with a user) or
// a Dovecot login is a success, an authentication failure a failure. A back
// end's verdict (auth_backend) is neither: the front end that took the
// attempt wrote its own line.
func loginOf(e *event.Event) (outcome string, ok bool) {
	switch e.Kind {
	case event.KindClient:
		return OutcomeSuccess, e.SASLUsername != ""
	case event.KindLogin:
		return OutcomeSuccess, true
	case event.KindAuthFailure:
		return OutcomeFailure, true
	}
	return "", false
}

// loginService names where a login happened: Postfix's syslog name
// ("postfix/submission") or the daemon's ("dovecot/imap-login").
func loginService(e *event.Event) string {
	if e.Program == "" || e.Program == "smtpd" {
		return e.Service
	}
	return e.Service + "/" + e.Program
}

// Logins aggregates the logins and failures in the range, most recently
// seen first.
func Logins(ctx context.Context, j *journal.Journal, req LoginRequest) ([]Login, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	type key struct{ user, ip, service, outcome string }
	rows := map[key]*Login{}
	f := journal.Filter{
		Since: req.Since, Until: req.Until, SASLUsername: req.User, ClientIP: req.IP,
		Kinds: []event.Kind{event.KindClient, event.KindLogin, event.KindAuthFailure},
	}
	if req.Access.scoped() {
		f.Match = req.Access.match
	}
	err := j.Scan(ctx, f, func(s *journal.Stored) error {
		e := &s.Event
		outcome, ok := loginOf(e)
		if !ok || (req.Outcome != "" && outcome != req.Outcome) {
			return nil
		}
		k := key{e.SASLUsername, e.ClientIP, loginService(e), outcome}
		l := rows[k]
		if l == nil {
			l = &Login{User: k.user, ClientIP: k.ip, Service: k.service, Outcome: outcome, FirstSeen: e.Time}
			rows[k] = l
		}
		if outcome == OutcomeFailure {
			// One row counts attempts: "auth failed, 3 attempts" is three.
			l.Count += e.FailedAttempts()
		} else {
			l.Count += e.Weight()
		}
		if e.Time.Before(l.FirstSeen) {
			l.FirstSeen = e.Time
		}
		if e.Time.After(l.LastSeen) {
			l.LastSeen = e.Time
		}
		if e.TLSLevel != "" || e.TLSProtocol != "" {
			l.TLS = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Login, 0, len(rows))
	for _, l := range rows {
		out = append(out, *l)
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].LastSeen.Equal(out[b].LastSeen) {
			return out[a].LastSeen.After(out[b].LastSeen)
		}
		if out[a].User != out[b].User {
			return out[a].User < out[b].User
		}
		if out[a].ClientIP != out[b].ClientIP {
			return out[a].ClientIP < out[b].ClientIP
		}
		if out[a].Service != out[b].Service {
			return out[a].Service < out[b].Service
		}
		return out[a].Outcome < out[b].Outcome
	})
	if len(out) > limit {
		out = out[:limit]
	}
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
