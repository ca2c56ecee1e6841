// Package offenders finds brute-force sources and compromised-looking
// accounts: per client IP and per user name, authentication failures in a
// sliding window; per SASL user, recipients sent in a window. Memory is
// bounded: the least recently seen keys are dropped first.
package offenders

import (
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Config sets the windows and thresholds.
type Config struct {
	// Window and Threshold: more than Threshold authentication failures
	// within Window make an IP or user an offender. Defaults 5m and 10.
	Window    time.Duration
	Threshold int
	// SendWindow and SendThreshold: more than SendThreshold recipients
	// within SendWindow from one SASL user make a send offender. Defaults
	// 1h and 500.
	SendWindow    time.Duration
	SendThreshold int
	// MaxKeys bounds how many IPs, users and senders are tracked each;
	// 0 means 100000.
	MaxKeys int
}

// Scope says what an offender is.
type Scope string

// The scopes.
const (
	ScopeIP   Scope = "ip"
	ScopeUser Scope = "user"
	ScopeSend Scope = "send"
)

// Offender is one source over its threshold, now or recently.
type Offender struct {
	Scope     Scope     `json:"scope"`
	Key       string    `json:"key"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// AfterFailures marks a send offender whose sending IP had
	// authentication failures in the window: the compromised-account
	// pattern.
	AfterFailures bool `json:"after_failures,omitempty"`
	// Active says the count is over the threshold right now.
	Active bool `json:"active"`
}

// Tracker keeps the windows. Safe for concurrent use: ingest observes while
// the API and the metrics read.
type Tracker struct {
	cfg Config
}

// New makes a tracker.
func New(cfg Config) *Tracker { return &Tracker{cfg: cfg} }

// Observe counts e if it is an authentication failure or a delivery.
func (t *Tracker) Observe(e *parser.Event) {}

// Active is how many keys of scope are over their threshold at now (log
// time of the newest event observed).
func (t *Tracker) Active(scope Scope) int { return 0 }

// Offenders lists current and recent offenders, most recent first.
func (t *Tracker) Offenders() []Offender { return nil }
