package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parsePostgrey reads postgrey, the greylisting policy server. Its verdict
// line (postgrey 1.x; the queue id first when Postfix passed one):
//
//	action=greylist, reason=new, client_name=mx.example.com, client_address=192.0.2.1, sender=a@example.com, recipient=b@example.net
//	4F2B1C0A11: action=pass, reason=triplet found, delay=311, client_name=..., client_address=..., sender=..., recipient=...
//	action=pass, reason=client whitelist, client_name=..., client_address=..., recipient=...
//
// becomes a policy event with check greylist, the action as result
// (greylist or pass), the reason in detail and the seconds the triplet was
// held back (delay=) in delay. Postgrey before 1.28 wrote "delayed 603
// seconds: client=h, from=a, to=b" when a greylisted triplet came back.
// Its other lines are the Net::Server start-up and database upkeep
// ("cleaning main database finished. before: 3800, after: 2539", "Process
// Backgrounded", "Binding to TCP port 10023 on host 127.0.0.1"): notices,
// and warnings when they report a failure.
func parsePostgrey(e *event.Event, msg string) {
	if parseLevel(e, msg) {
		return
	}
	rest := msg
	if id, r, ok := queueIDPrefix(msg); ok {
		rest = r
		if strings.HasPrefix(rest, "action=") {
			e.QueueID = id
		}
	}
	if strings.HasPrefix(rest, "action=") {
		pgVerdict(e, rest)
		return
	}
	if r, ok := strings.CutPrefix(msg, "delayed "); ok {
		secs, tail, ok := strings.Cut(r, " seconds: ")
		if ok && secs != "" && !strings.ContainsFunc(secs, func(c rune) bool { return c < '0' || c > '9' }) {
			setPolicy(e, "greylist", "pass")
			e.Delay = float64(atoi(secs))
			kvEachComma(tail, func(k, v string) {
				switch k {
				case "from":
					e.Sender = v
				case "to":
					e.Recipient = v
				}
			})
			e.Detail = msg
			return
		}
	}
	if msg == "" {
		return
	}
	e.Kind = event.KindNotice
	e.Detail = msg
	for _, w := range [...]string{"Couldn't ", "ignoring garbage", "unrecognized request", "Pid_file already exists", "aborting", "ERROR", "Error", "error:"} {
		if strings.Contains(msg, w) {
			e.Kind = event.KindWarning
			e.Level = "warning"
			return
		}
	}
}

// pgVerdict reads "action=A, reason=R, k=v, ..." (the reason may hold
// spaces and parentheses: "early-retry (295s missing)").
func pgVerdict(e *event.Event, s string) {
	kvEachComma(s, func(k, v string) {
		switch k {
		case "action":
			e.Kind = event.KindPolicy
			e.Check = "greylist"
			switch v {
			case "pass", "greylist":
				e.Result = v
			default:
				// A custom greylist_action text: what postgrey did is
				// still a greylisting.
				e.Result = "greylist"
			}
		case "reason":
			e.Detail = v
		case "delay":
			e.Delay = float64(atoi(v))
		case "client_name":
			e.ClientHost = v
		case "client_address":
			e.ClientIP = v
		case "sender":
			e.Sender = v
		case "recipient":
			e.Recipient = v
		}
	})
}

// kvEachComma calls fn for each "key=value" of a ", "-separated list, whose
// values may hold spaces (kvEach ends a value at a space).
func kvEachComma(s string, fn func(k, v string)) {
	s = strings.TrimRight(s, " ")
	for s != "" {
		item := s
		s = ""
		if i := strings.Index(item, ", "); i >= 0 {
			item, s = item[:i], item[i+2:]
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		fn(k, v)
	}
}
