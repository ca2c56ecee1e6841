package report

import (
	"context"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Delivery is one step of a delivery timeline: a delivery attempt (sent,
// deferred, bounced), a mailbox save, or a message expiring in the queue.
type Delivery struct {
	Time         time.Time `json:"time"`
	QueueID      string    `json:"queue_id"`
	MessageID    string    `json:"message_id,omitempty"`
	Sender       string    `json:"sender"`
	SASLUsername string    `json:"sasl_username,omitempty"`
	ClientIP     string    `json:"client_ip,omitempty"`
	Country      string    `json:"country,omitempty"`
	Listed       bool      `json:"listed,omitempty"`
	Recipient    string    `json:"recipient,omitempty"`
	// Via is the transport: postfix/smtp, postfix/lmtp, dovecot/lmtp, ...
	Via         string  `json:"via"`
	Relay       string  `json:"relay,omitempty"`
	Status      string  `json:"status"`
	DSN         string  `json:"dsn,omitempty"`
	Delay       float64 `json:"delay_seconds"`
	Response    string  `json:"response,omitempty"`
	NextQueueID string  `json:"next_queue_id,omitempty"`
}

// BuildDeliveries lists the deliveries in the range, oldest first: of one
// message (QueueID or MessageID), one submitting user (User) or one domain
// (Domain: sender or recipient), or all of them.
func BuildDeliveries(ctx context.Context, j *journal.Journal, o Options) ([]Delivery, error) {
	f := journal.Filter{
		Since: o.Since, Until: o.Until, QueueID: o.QueueID, MessageID: o.MessageID, SASLUsername: o.User,
		Kinds: []event.Kind{event.KindDelivery, event.KindExpired},
	}
	if o.Domain != "" {
		f.Match = func(s *journal.Stored) bool {
			return inDomain(s.Event.Sender, o.Domain) || inDomain(s.Event.Recipient, o.Domain)
		}
	}
	out := []Delivery{}
	err := j.Scan(ctx, f, func(s *journal.Stored) error {
		e := &s.Event
		d := Delivery{
			Time: e.Time, QueueID: e.QueueID, MessageID: e.MessageID, Sender: e.Sender, SASLUsername: e.SASLUsername,
			ClientIP: e.ClientIP, Recipient: e.Recipient, Via: e.Service + "/" + e.Program, Status: e.Status,
			DSN: e.DSN, Delay: e.Delay, Response: e.Response, NextQueueID: e.NextQueueID,
		}
		if e.Kind == event.KindExpired {
			d.Status = "expired"
		}
		if e.Service == "dovecot" && d.Status == "" {
			d.Status = "sent"
		}
		if e.RelayHost != "" || e.RelayIP != "" {
			d.Relay = e.RelayHost
			if e.RelayIP != "" {
				d.Relay += "[" + e.RelayIP + "]"
			}
			if e.RelayPort != 0 {
				d.Relay += fmt.Sprintf(":%d", e.RelayPort)
			}
		}
		if d.ClientIP != "" && o.Enricher != nil {
			d.Country = o.Enricher.Country(d.ClientIP)
			d.Listed = o.Enricher.Listed(d.ClientIP)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// DeliveriesDoc renders a delivery timeline.
func DeliveriesDoc(ds []Delivery, params []Param) *Doc {
	t := Table{
		Title:   "Delivery timeline",
		Columns: cols("time", "queue id", "sender", "user", "client", "recipient", "via", "relay", "status", "dsn", "#delay", "response"),
		Empty:   "No deliveries in this range.",
	}
	var sent, deferred, bounced, other int
	for _, d := range ds {
		client := d.ClientIP
		if d.Country != "" {
			client += " (" + d.Country + ")"
		}
		t.add(d.Listed, fmtTime(d.Time), d.QueueID, orNull(d.Sender), d.SASLUsername, client, d.Recipient, d.Via, d.Relay,
			d.Status, d.DSN, fmt.Sprintf("%.2f", d.Delay), d.Response)
		switch d.Status {
		case "sent":
			sent++
		case "deferred":
			deferred++
		case "bounced":
			bounced++
		default:
			other++
		}
	}
	params = append(params, Param{"Steps", fmt.Sprintf("%d (%d sent, %d deferred, %d bounced, %d other)", len(ds), sent, deferred, bounced, other)})
	return &Doc{Kind: "deliveries", Title: "Delivery timeline", Params: params, Tables: []Table{t}, Data: ds}
}

// orNull shows the null sender of bounces as Postfix writes it.
func orNull(sender string) string {
	if sender == "" {
		return "<>"
	}
	return sender
}
