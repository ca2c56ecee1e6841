// Package apiv1 holds the JSON shapes of the exporter's /api/v1 answers
// that both sides use: the exporter (pkg/query) writes them, the Grafana
// plugin (pkg/datasource) reads them. It depends on nothing but the event,
// so the plugin, built without cgo, need not link the journal.
package apiv1

import (
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Event is a journaled event as the API returns it: the event's fields and
// its sequence number in the journal.
type Event struct {
	Seq int64 `json:"seq"`
	parser.Event
}

// TraceResult is every matching message.
type TraceResult struct {
	Instance string    `json:"instance"`
	Messages []Message `json:"messages"`
}

// Message is one message (one queue id's life on one host) with all its
// events and its links to the messages before and after it.
type Message struct {
	Instance     string    `json:"instance,omitempty"`
	Host         string    `json:"host,omitempty"`
	QueueID      string    `json:"queue_id"`
	MessageID    string    `json:"message_id,omitempty"`
	Sender       string    `json:"sender,omitempty"`
	SASLUsername string    `json:"sasl_username,omitempty"`
	ClientIP     string    `json:"client_ip,omitempty"`
	ClientHost   string    `json:"client_host,omitempty"`
	Origin       string    `json:"origin,omitempty"`
	Received     time.Time `json:"received"`
	Finished     time.Time `json:"finished,omitzero"`
	Size         int64     `json:"size,omitempty"`
	Events       []Event   `json:"events"`
	Deliveries   []Event   `json:"deliveries"`
	Links        []Link    `json:"links"`
}

// Link relations.
const (
	RelNDR         = "ndr"          // this message's non-delivery notification
	RelNDRParent   = "ndr_parent"   // the message this notification reports on
	RelNextHop     = "next_hop"     // "queued as X" at the relay a delivery went to
	RelPreviousHop = "previous_hop" // the delivery that handed this message over
)

// Link points from a message to a related one, possibly on another
// instance (InstanceHint names the relay host to look for).
type Link struct {
	QueueID      string `json:"queue_id"`
	Relation     string `json:"relation"`
	InstanceHint string `json:"instance_hint"`
	RelayHost    string `json:"relay_host,omitempty"`
	RelayIP      string `json:"relay_ip,omitempty"`
	MessageID    string `json:"message_id,omitempty"`
}

// Login is one row of the login audit: one (user, client IP, service,
// outcome) with how often and when.
type Login struct {
	User      string    `json:"user"`
	ClientIP  string    `json:"client_ip"`
	Service   string    `json:"service"`
	Outcome   string    `json:"outcome"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	TLS       bool      `json:"tls"`
	Country   string    `json:"country,omitempty"`
}
