package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parsePostsuper reads the administrator's queue operations. Per message:
//
//	QUEUEID: removed              → removed (the message is gone for good)
//	QUEUEID: requeued             → notice
//	QUEUEID: placed on hold       → notice
//	QUEUEID: released from hold   → notice
//
// and the summary after a bulk operation ("Deleted: 115 messages",
// "Requeued: 1 message", "Placed on hold: 67 messages", "Released from
// hold: 13 messages", 3.7+ "Force-expired: 2 messages") → notice. action carries the operation in postsuper's
// own words, as the grok patterns extract it.
func parsePostsuper(e *event.Event, msg string) {
	if id, rest, ok := queueIDPrefix(msg); ok {
		switch rest {
		case "removed":
			e.Kind = event.KindRemoved
		case "requeued", "placed on hold", "released from hold", "expired":
			e.Kind = event.KindNotice
		default:
			parseLevel(e, msg)
			return
		}
		e.QueueID = id
		e.Action = rest
		return
	}
	if what, count, ok := strings.Cut(msg, ": "); ok && len(count) > 0 && isDigit(count[0]) &&
		(strings.HasSuffix(count, " message") || strings.HasSuffix(count, " messages")) {
		switch what {
		case "Deleted", "Requeued", "Placed on hold", "Released from hold", "Expired", "Force-expired":
			e.Kind = event.KindNotice
			e.Action = what
			e.Detail = msg
			return
		}
	}
	parseLevel(e, msg)
}
