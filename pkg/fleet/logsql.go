package fleet

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// Filter selects events as the events and stats endpoints' filters do,
// plus the instance (empty: every instance).
type Filter struct {
	Instance     string
	Since, Until time.Time // Since inclusive, Until exclusive
	Kinds        []event.Kind
	QueueID      string
	MessageID    string
	SASLUsername string
	ClientIP     string
	// Sender and Recipient match the address exactly, in any letter case.
	Sender, Recipient string
	Status            string
	// Text matches events whose raw line contains it, in any letter case.
	Text string
}

// q quotes a LogsQL string.
func q(s string) string { return strconv.Quote(s) }

// systemFilter leaves out the journal's own records (API accesses,
// erasures), which the API shows only to admins and central mode never.
const systemFilter = `-kind:in("access","erasure")`

// logsql is f as a LogsQL filter: exact matches, so that server-side
// counts (stats) are the journal's counts.
func (f *Filter) logsql() string {
	var parts []string
	if f.Instance != "" {
		parts = append(parts, "{instance="+q(f.Instance)+"}")
	}
	if r := timeRange(f.Since, f.Until); r != "" {
		parts = append(parts, r)
	}
	if len(f.Kinds) > 0 {
		ks := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			ks[i] = q(k.String())
		}
		parts = append(parts, "kind:in("+strings.Join(ks, ",")+")")
	}
	for _, kv := range [][2]string{{"queue_id", f.QueueID}, {"message_id", f.MessageID}, {"sasl_username", f.SASLUsername}, {"client_ip", f.ClientIP}, {"status", f.Status}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+":="+q(kv[1]))
		}
	}
	if f.Sender != "" {
		parts = append(parts, "sender:~"+q("(?i)^"+regexp.QuoteMeta(f.Sender)+"$"))
	}
	if f.Recipient != "" {
		parts = append(parts, "recipient:~"+q("(?i)^"+regexp.QuoteMeta(f.Recipient)+"$"))
	}
	if f.Text != "" {
		parts = append(parts, "raw:~"+q("(?i)"+regexp.QuoteMeta(f.Text)))
	}
	parts = append(parts, systemFilter)
	return strings.Join(parts, " ")
}

// match is the journal's own test of f (pkg/journal's Filter), applied
// again to the rows the store returned.
func (f *Filter) match(r *Row) bool {
	e := &r.Event.Event
	switch {
	case f.Instance != "" && r.Instance != f.Instance,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until),
		len(f.Kinds) > 0 && !hasKind(f.Kinds, e.Kind),
		assemble.SystemKind(e.Kind),
		f.QueueID != "" && e.QueueID != f.QueueID,
		f.MessageID != "" && e.MessageID != f.MessageID,
		f.SASLUsername != "" && e.SASLUsername != f.SASLUsername,
		f.ClientIP != "" && e.ClientIP != f.ClientIP,
		f.Sender != "" && !strings.EqualFold(e.Sender, f.Sender),
		f.Recipient != "" && !strings.EqualFold(e.Recipient, f.Recipient),
		f.Status != "" && e.Status != f.Status,
		f.Text != "" && !strings.Contains(strings.ToLower(e.Raw), strings.ToLower(f.Text)):
		return false
	}
	return true
}

func hasKind(ks []event.Kind, k event.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// timeRange is a LogsQL _time filter for [since, until); either may be
// zero (open).
func timeRange(since, until time.Time) string {
	if since.IsZero() && until.IsZero() {
		return ""
	}
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	if until.IsZero() {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return "_time:[" + since.UTC().Format(time.RFC3339Nano) + ", " + until.UTC().Format(time.RFC3339Nano) + ")"
}
