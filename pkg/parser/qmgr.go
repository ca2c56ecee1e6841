package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseQmgr handles the queue manager (qmgr, nqmgr, a second instance's
// qmgr):
//
//	QUEUEID: from=<a>, size=123, nrcpt=1 (queue active)      → queued
//	QUEUEID: removed                                         → removed
//	QUEUEID: from=<a>, status=expired, returned to sender    → expired
//	QUEUEID: to=<r>, relay=none, ..., status=deferred (...)  → delivery
//	QUEUEID: skipped, still being delivered                  → notice
func parseQmgr(e *event.Event, msg string) {
	if id, rest, ok := queueIDPrefix(msg); ok {
		e.QueueID = id
		switch {
		case rest == "removed":
			e.Kind = event.KindRemoved
			return
		case strings.HasPrefix(rest, "from="):
			parseQmgrFrom(e, rest[len("from="):])
			return
		case parseDeliveryRecord(e, rest):
			return
		case strings.HasPrefix(rest, "skipped, "):
			e.Kind = event.KindNotice
			e.Detail = rest
			return
		}
	}
	parseLevel(e, msg)
}

// parseQmgrFrom reads what follows "from=": the sender, then either
// "size=, nrcpt= (queue active)" or "status=expired, returned to sender"
// (status=force-expired after "postsuper -e").
func parseQmgrFrom(e *event.Event, s string) {
	if sender, rest, ok := angle(s); ok {
		e.Sender, s = sender, rest
	} else {
		// No brackets: the sender runs to the next comma.
		end := strings.IndexByte(s, ',')
		if end < 0 {
			end = len(s)
		}
		e.Sender, s = s[:end], s[end:]
	}
	if status, ok := kvValue(s, "status"); ok {
		e.Status = status
		if strings.HasSuffix(status, "expired") {
			e.Kind = event.KindExpired
		} else {
			e.Kind = event.KindNotice
			e.Detail = strings.TrimLeft(s, ">, ")
		}
		return
	}
	e.Kind = event.KindQueued
	if v, ok := kvValue(s, "size"); ok {
		e.Size = int64(atoi(v))
	}
	if v, ok := kvValue(s, "nrcpt"); ok {
		e.Nrcpt = atoi(v)
	}
}
