package query

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// The access log's shapes are the API's.
type (
	AccessEntry   = apiv1.AccessEntry
	AccessLogPage = apiv1.AccessLogPage
)

// AccessSource is the journal source name of access records.
const AccessSource = "api"

// The access log is journaled as events of kind access, so it shares the
// Merkle tree with the mail it is about. The entry's parts go into Event
// fields whose meaning is closest: the token name is the authenticated
// identity (sasl_username), the role its level, the method the protocol,
// the path the action, the query the detail, the HTTP status the status,
// the result count nrcpt; raw reads as a line.

// AccessRecord makes the journal record of an API call.
func AccessRecord(a *AccessEntry, instance string) journal.Record {
	e := event.Event{
		Time: a.Time, Instance: instance, Service: "mailtrail", Program: "api", Kind: event.KindAccess,
		SASLUsername: a.Token, Level: a.Role, Protocol: a.Method, Action: a.Path, Detail: a.Query,
		Status: strconv.Itoa(a.Status), Nrcpt: a.Results, ClientIP: a.ClientIP,
	}
	e.Raw = fmt.Sprintf("api token=%q role=%s client=%s %s %s?%s status=%d results=%d",
		a.Token, a.Role, a.ClientIP, a.Method, a.Path, a.Query, a.Status, a.Results)
	return journal.Record{Event: e, Source: AccessSource}
}

func accessEntryOf(e *event.Event) AccessEntry {
	status, _ := strconv.Atoi(e.Status)
	return AccessEntry{
		Time: e.Time, Token: e.SASLUsername, Role: e.Level, Method: e.Protocol, Path: e.Action,
		Query: e.Detail, Status: status, Results: e.Nrcpt, ClientIP: e.ClientIP,
	}
}

// AccessLogRequest asks for a page of the access log.
type AccessLogRequest struct {
	Since, Until time.Time
	Limit        int
	Cursor       string
}

// AccessLog lists API calls, newest first.
func AccessLog(ctx context.Context, j *journal.Journal, req AccessLogRequest) (*AccessLogPage, error) {
	page, err := Events(ctx, j, EventsRequest{
		EventFilter: EventFilter{Since: req.Since, Until: req.Until, Kinds: []event.Kind{event.KindAccess}},
		Limit:       req.Limit, Cursor: req.Cursor, Access: Access{System: true},
	})
	if err != nil {
		return nil, err
	}
	out := &AccessLogPage{Entries: make([]AccessEntry, 0, len(page.Events)), NextCursor: page.NextCursor}
	for i := range page.Events {
		out.Entries = append(out.Entries, accessEntryOf(&page.Events[i].Event))
	}
	return out, nil
}
