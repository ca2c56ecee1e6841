package query

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// ValueFields are the fields Values lists.
var ValueFields = []string{"instance", "sasl_username", "sender_domain", "recipient_domain", "client_ip"}

// ValuesRequest asks for the distinct values of one field in a range.
type ValuesRequest struct {
	Field        string
	Since, Until time.Time
	// Limit caps the values (sorted); 0 means 100.
	Limit  int
	Access Access
}

// valueOf extracts a field's value from an event.
func valueOf(field string, e *event.Event, r *Redactor) string {
	switch field {
	case "instance":
		return e.Instance
	case "sasl_username":
		if r != nil {
			return r.User(e.SASLUsername)
		}
		return e.SASLUsername
	case "sender_domain":
		return domainOf(e.Sender)
	case "recipient_domain":
		return domainOf(e.Recipient)
	case "client_ip":
		return e.ClientIP
	}
	return ""
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(addr[at+1:])
	}
	return ""
}

// Values lists the distinct values of req.Field, sorted, for editors'
// autocomplete.
func Values(ctx context.Context, j *journal.Journal, req ValuesRequest) ([]string, error) {
	ok := false
	for _, f := range ValueFields {
		ok = ok || f == req.Field
	}
	if !ok {
		return nil, &ParamError{Param: "field", Msg: "must be one of " + strings.Join(ValueFields, ", ")}
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	f := journal.Filter{Since: req.Since, Until: req.Until}
	f.Match = req.Access.match
	// Enough distinct values for a sorted first page; a wide range with
	// more is cut at a bound rather than held whole in memory.
	const maxDistinct = 100000
	seen := map[string]bool{}
	err := j.Scan(ctx, f, func(s *journal.Stored) error {
		if v := valueOf(req.Field, &s.Event, req.Access.Redact); v != "" && !seen[v] {
			seen[v] = true
			if len(seen) >= maxDistinct {
				return journal.ErrStop
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
