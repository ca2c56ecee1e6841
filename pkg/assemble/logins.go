package assemble

import (
	"sort"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// Login outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// LoginKinds are the kinds a login table reads.
var LoginKinds = []event.Kind{event.KindClient, event.KindLogin, event.KindAuthFailure}

// LoginOf classifies e: a SASL submission (smtpd client= with a user) or
// a Dovecot login is a success, an authentication failure a failure. A back
// end's verdict (auth_backend) is neither: the front end that took the
// attempt wrote its own line.
func LoginOf(e *event.Event) (outcome string, ok bool) {
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

type loginKey struct{ user, ip, service, outcome string }

// LoginTable aggregates logins and failures into the audit's rows: one
// per (user, client IP, service, outcome).
type LoginTable struct {
	// Outcome, when set, keeps only that outcome.
	Outcome string
	rows    map[loginKey]*apiv1.Login
}

// Add counts e when it is a login or a failure.
func (t *LoginTable) Add(e *event.Event) {
	outcome, ok := LoginOf(e)
	if !ok || (t.Outcome != "" && outcome != t.Outcome) {
		return
	}
	if t.rows == nil {
		t.rows = map[loginKey]*apiv1.Login{}
	}
	k := loginKey{e.SASLUsername, e.ClientIP, loginService(e), outcome}
	l := t.rows[k]
	if l == nil {
		l = &apiv1.Login{User: k.user, ClientIP: k.ip, Service: k.service, Outcome: outcome, FirstSeen: e.Time}
		t.rows[k] = l
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
}

// Rows returns at most limit rows, the most recently seen first.
func (t *LoginTable) Rows(limit int) []apiv1.Login {
	out := make([]apiv1.Login, 0, len(t.rows))
	for _, l := range t.rows {
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
	return out
}
