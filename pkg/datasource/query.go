package datasource

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// The query types (contract B).
const (
	QueryTrace     = "trace"
	QueryEvents    = "events"
	QueryLogins    = "logins"
	QueryOffenders = "offenders"
	QueryInstances = "instances"
	QueryStats     = "stats"
)

// Query is the plugin's query model (contract B).
type Query struct {
	RefID        string `json:"refId"`
	QueryType    string `json:"queryType"`
	Instance     string `json:"instance"`
	QueueID      string `json:"queueId"`
	MessageID    string `json:"messageId"`
	Kind         string `json:"kind"`
	SASLUsername string `json:"saslUsername"`
	ClientIP     string `json:"clientIp"`
	Sender       string `json:"sender"`
	Recipient    string `json:"recipient"`
	Status       string `json:"status"`
	Text         string `json:"text"`
	User         string `json:"user"`
	IP           string `json:"ip"`
	Outcome      string `json:"outcome"`
	Limit        int    `json:"limit"`
}

const (
	defaultLimit = 100
	maxLimit     = apiv1.MaxLimit
)

// ParseQuery reads and checks one query; errors name the field.
func ParseQuery(dq backend.DataQuery) (Query, error) {
	var q Query
	if len(dq.JSON) > 0 {
		if err := json.Unmarshal(dq.JSON, &q); err != nil {
			return q, fmt.Errorf("query %s is not valid JSON: %w", dq.RefID, err)
		}
	}
	if q.QueryType == "" {
		q.QueryType = dq.QueryType
	}
	if q.QueryType == "" {
		q.QueryType = QueryEvents
	}
	switch {
	case q.Limit == 0:
		q.Limit = defaultLimit
	case q.Limit < 0 || q.Limit > maxLimit:
		return q, fmt.Errorf("limit %d: want 1 to %d", q.Limit, maxLimit)
	}
	switch q.QueryType {
	case QueryTrace:
		if strings.TrimSpace(q.QueueID) == "" && strings.TrimSpace(q.MessageID) == "" {
			return q, errors.New("trace: give a queueId or a messageId")
		}
	case QueryEvents, QueryStats:
		for _, k := range splitList(q.Kind) {
			if _, err := event.ParseKind(k); err != nil {
				return q, fmt.Errorf("kind: %w", err)
			}
		}
	case QueryLogins:
		if q.Outcome != "" && q.Outcome != "success" && q.Outcome != "failure" {
			return q, fmt.Errorf("outcome %q: want success, failure or empty", q.Outcome)
		}
	case QueryOffenders, QueryInstances:
	default:
		return q, fmt.Errorf("queryType %q: want trace, events, logins, offenders, instances or stats", q.QueryType)
	}
	return q, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// rangeParams turns Grafana's time range into since/until. The API refuses
// more than 31 days, so a longer range is cut to its newest 31 days and
// the caller tells the user so.
func rangeParams(tr backend.TimeRange) (url.Values, bool) {
	from, to := tr.From, tr.To
	if to.IsZero() {
		to = time.Now()
	}
	if from.IsZero() || !from.Before(to) {
		from = to.Add(-24 * time.Hour)
	}
	cut := false
	if limit := to.Add(-maxRangeDays * 24 * time.Hour); from.Before(limit) {
		from, cut = limit.Add(time.Second), true
	}
	return url.Values{
		"since": {from.UTC().Format(time.RFC3339Nano)},
		"until": {to.UTC().Format(time.RFC3339Nano)},
	}, cut
}

// setNonEmpty adds the filters that are set.
func setNonEmpty(v url.Values, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if s := strings.TrimSpace(kv[i+1]); s != "" {
			v.Set(kv[i], s)
		}
	}
}

// eventFilters are the events API's filters of q (shared by stats).
func eventFilters(v url.Values, q Query) {
	setNonEmpty(v, "kind", strings.Join(splitList(q.Kind), ","), "sasl_username", q.SASLUsername,
		"client_ip", q.ClientIP, "sender", q.Sender, "recipient", q.Recipient,
		"status", q.Status, "q", q.Text)
}
