package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/query"
)

// BuildTrace follows one message (QueueID) or every message with a
// Message-ID, with pkg/query's Trace: the same messages, events and links
// as the API's /api/v1/trace. It returns query.ErrNotFound when there is
// none.
func BuildTrace(ctx context.Context, j *journal.Journal, o Options) (*query.TraceResult, error) {
	req := query.TraceRequest{QueueID: o.QueueID, MessageID: o.MessageID, Since: o.Since, Until: o.Until, Limit: 1000}
	if o.Domain != "" {
		req.Access.Tenants = []string{o.Domain}
	}
	return query.Trace(ctx, j, req)
}

// TraceDoc renders traced messages: for each, what is known of it, its
// links to other messages, and every event of its queue id.
func TraceDoc(r *query.TraceResult, o Options, params []Param) *Doc {
	var tables []Table
	for _, m := range r.Messages {
		info := Table{Title: "Message " + m.QueueID, Columns: cols("field", "value")}
		client := m.ClientIP
		if m.ClientHost != "" && m.ClientIP != "" {
			client = m.ClientHost + "[" + m.ClientIP + "]"
		}
		if c := o.Enricher.Country(m.ClientIP); c != "" {
			client += " (" + c + ")"
		}
		listed := o.Enricher.Listed(m.ClientIP)
		if listed {
			client += " — on the threat list"
		}
		for _, f := range []struct {
			name, value string
			mark        bool
		}{
			{"instance", m.Instance, false},
			{"queue id", m.QueueID, false},
			{"message id", m.MessageID, false},
			{"sender", orNull(m.Sender), false},
			{"sasl user", m.SASLUsername, false},
			{"client", client, listed},
			{"origin", m.Origin, false},
			{"received", fmtTime(m.Received), false},
			{"finished", fmtTime(m.Finished), false},
			{"size", fmt.Sprint(m.Size), false},
		} {
			if f.value != "" {
				info.add(f.mark, f.name, f.value)
			}
		}
		for _, l := range m.Links {
			v := l.QueueID
			if l.RelayHost != "" {
				v += " at " + l.RelayHost
				if l.RelayIP != "" {
					v += "[" + l.RelayIP + "]"
				}
			}
			info.add(false, "link "+l.Relation, v)
		}
		tables = append(tables, info)
		ev := Table{Title: "Events of " + m.QueueID, Columns: cols("time", "kind", "program", "recipient", "relay", "status", "dsn", "detail")}
		for _, e := range m.Events {
			detail := e.Response
			if detail == "" {
				detail = e.Detail
			}
			if detail == "" && e.Check != "" {
				detail = strings.TrimSpace(e.Check + " " + e.Result + " " + e.Domain)
			}
			if detail == "" && e.NextQueueID != "" {
				detail = "next queue id " + e.NextQueueID
			}
			ev.add(false, fmtTime(e.Time), e.Kind.String(), e.Service+"/"+e.Program, e.Recipient, e.RelayHost, e.Status, e.DSN, detail)
		}
		tables = append(tables, ev)
	}
	params = append(params, Param{"Messages", fmt.Sprint(len(r.Messages))})
	return &Doc{Kind: "trace", Title: "Message trace", Params: params, Tables: tables, Data: r}
}
