// Package apiv1 is the exporter's /api/v1 contract: the JSON shape of
// every answer, the endpoints and the parameters each takes (Endpoints),
// and a typed client (Client). The exporter (pkg/query, pkg/api) writes
// these shapes, the Grafana plugin (pkg/datasource) and its test exporter
// (estatetest) read and serve them; no other package declares one (a test
// checks). It depends on nothing but the event, so the plugin, built
// without cgo, need not link the journal.
package apiv1

import (
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Event is a journaled event as the API returns it: the event's fields and
// its sequence number in the journal.
type Event struct {
	Seq int64 `json:"seq"`
	event.Event
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

// EventsPage is one page of events; NextCursor is empty on the last.
type EventsPage struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
}

// Logins is the answer of logins: the audit rows.
type Logins struct {
	Logins []Login `json:"logins"`
}

// Offender is one source over its threshold, now or recently, as the
// offender tracker reports it.
type Offender struct {
	// Scope is ip, user or send.
	Scope string `json:"scope"`
	Key   string `json:"key"`
	// Count is the count within the window at the newest observed time.
	Count int `json:"count"`
	// Peak is the highest count seen while an offender.
	Peak      int       `json:"peak"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// AfterFailures marks a send offender whose sending IP had
	// authentication failures in the window.
	AfterFailures bool `json:"after_failures,omitempty"`
	// Active says the count is over the threshold right now.
	Active bool `json:"active"`
}

// Offender scopes.
const (
	ScopeIP   = "ip"   // a client address with authentication failures
	ScopeUser = "user" // a user name with authentication failures
	ScopeSend = "send" // a SASL user sending to many recipients
)

// Offenders is the answer of offenders.
type Offenders struct {
	Offenders []Offender `json:"offenders"`
}

// InstanceInfo describes an exporter and its journal.
type InstanceInfo struct {
	Instance   string          `json:"instance"`
	Version    string          `json:"version"`
	Hosts      []string        `json:"hosts"`
	Journal    JournalInfo     `json:"journal"`
	Checkpoint *CheckpointInfo `json:"checkpoint,omitempty"`
}

// JournalInfo is the journal's span and size.
type JournalInfo struct {
	FirstTime time.Time `json:"first_time,omitzero"`
	LastTime  time.Time `json:"last_time,omitzero"`
	Events    int64     `json:"events"`
	SizeBytes int64     `json:"size_bytes"`
}

// CheckpointInfo is the newest signed checkpoint; Root is base64, as in
// the signed note.
type CheckpointInfo struct {
	Size uint64    `json:"size"`
	Root string    `json:"root"`
	Time time.Time `json:"time,omitzero"`
}

// Stats is a count per step, every step present.
type Stats struct {
	StepSeconds int64   `json:"step_seconds"`
	Points      []Point `json:"points"`
}

// Point is one step's count; Time is the step's start.
type Point struct {
	Time  time.Time `json:"time"`
	Count int64     `json:"count"`
}

// Values is the answer of values: distinct values of one field.
type Values struct {
	Values []string `json:"values"`
}

// AccessEntry is one API call as the access log keeps it.
type AccessEntry struct {
	Time     time.Time `json:"time"`
	Token    string    `json:"token"`
	Role     string    `json:"role"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query"`
	Status   int       `json:"status"`
	Results  int       `json:"results"`
	ClientIP string    `json:"client_ip,omitempty"`
}

// AccessLogPage is one page of the access log, newest first.
type AccessLogPage struct {
	Entries    []AccessEntry `json:"entries"`
	NextCursor string        `json:"next_cursor"`
}

// ForgetResult is what POST forget answers: how many events the erasure
// rewrote and the erasure record's sequence number; with dry_run=true, how
// many it would rewrite, nothing changed.
type ForgetResult struct {
	DryRun       bool   `json:"dry_run,omitempty"`
	Events       int64  `json:"events"`
	Archived     int64  `json:"archived_events"`
	ArchiveFiles int    `json:"archive_files"`
	Seq          int64  `json:"seq,omitempty"`
	StandIn      string `json:"stand_in,omitempty"`
	WALTruncated bool   `json:"wal_truncated"`
	// Stores are the fleet stores the exporter ships to and what each did
	// with its copies of the subject's events.
	Stores []ForgetStore `json:"stores,omitempty"`
}

// ForgetStore is one fleet store's part in an erasure: Deleted false
// means its copies still name the subject (Detail says why).
type ForgetStore struct {
	Sink    string `json:"sink"`
	URL     string `json:"url"`
	Deleted bool   `json:"deleted"`
	Detail  string `json:"detail"`
}

// Error is every error answer: Code a short word (bad_request, not_found,
// unauthorized, forbidden, unavailable, internal, ...), Detail what was
// wrong, naming the parameter. Status is the HTTP status it came with.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"error"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return e.Code + ": " + e.Detail
	}
	if e.Detail != "" {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Detail)
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
}

// FleetRow is one journaled event as the fleet store (VictoriaLogs) holds
// it: the event's own fields (as the API returns them), its sequence number
// in its instance's journal and its Merkle leaf hash (hex), so that a copy
// in the store can be checked against the journal and deduplicated by
// (instance, seq). _time is the event's time and _msg the raw line; the
// stream fields are instance and service. The shipper writes it; central
// queries read it back.
type FleetRow struct {
	StoreTime time.Time `json:"_time"`
	Msg       string    `json:"_msg"`
	Seq       int64     `json:"seq"`
	Leaf      string    `json:"leaf"`
	event.Event
}

// FleetStreamFields are the fields of a FleetRow that name its log stream
// in the store (VictoriaLogs' _stream_fields).
var FleetStreamFields = []string{"instance", "service"}
