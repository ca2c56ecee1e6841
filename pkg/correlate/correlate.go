// Package correlate ties log lines together: an smtpd session (process id,
// from connect to disconnect) to the messages it submitted, and a message
// (queue id) to everything later logged about it, so that a delivery line
// carries the sender, the client address and the SASL user of the session
// that sent the message. State is bounded in memory and expires.
package correlate

import (
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Config bounds the correlator.
type Config struct {
	// MaxBytes bounds the memory held for sessions and messages; 0 means
	// 64 MiB.
	MaxBytes int
	// SessionTTL forgets an smtpd session not heard of for this long (by
	// log time); 0 means 1h.
	SessionTTL time.Duration
	// MessageTTL forgets a message not heard of for this long; 0 means
	// 6 days (Postfix's maximal_queue_lifetime is 5 days).
	MessageTTL time.Duration
}

// Note is what the correlator knows about an event beyond its fields.
type Note struct {
	// NewMessage is set on the first queued (qmgr from=) event of a queue
	// id: the message has been received.
	NewMessage bool
}

// Stats describe the correlator's state.
type Stats struct {
	Sessions, Messages int
	Bytes              int
	Evictions          uint64
}

// Correlator holds sessions and messages. It is not safe for concurrent
// use: ingest calls it from its one goroutine.
type Correlator struct {
	cfg Config
}

// New makes a correlator.
func New(cfg Config) *Correlator {
	return &Correlator{cfg: cfg}
}

// Observe updates the state with e and fills e's empty fields from what
// earlier events said (sender, client, SASL identity, message id, origin).
func (c *Correlator) Observe(e *parser.Event) Note {
	return Note{}
}

// Stats reports the state's size and evictions so far.
func (c *Correlator) Stats() Stats { return Stats{} }
