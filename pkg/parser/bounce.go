package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseBounce handles the bounce, defer and trace daemons, which log one
// line per notification they queue:
//
//	QUEUEID: sender non-delivery notification: NDRID
//	QUEUEID: sender delivery status notification: NDRID
//	QUEUEID: sender delay notification: NDRID
//	QUEUEID: postmaster non-delivery notification: NDRID
//
// The notification's own queue id is next_queue_id, its type the action.
func parseBounce(e *event.Event, msg string) {
	if id, rest, ok := queueIDPrefix(msg); ok {
		e.QueueID = id
		if head, next, ok := strings.Cut(rest, " notification: "); ok {
			e.Kind = event.KindBounceNotice
			e.Action = bounceAction(head)
			e.NextQueueID = strings.TrimSpace(next)
			return
		}
		// "QUEUEID: not sending trace/success notification for
		// double-bounce message" (or single-bounce): a delivery report
		// that would go to a bounce's null sender.
		if strings.HasPrefix(rest, "not sending ") {
			setNoticeDetail(e, rest)
			return
		}
	}
	parseLevel(e, msg)
}

// bounceAction names a notification type: who receives it, then what it
// reports. The names are constants so the event holds no new string.
func bounceAction(head string) string {
	switch head {
	case "sender non-delivery":
		return "non-delivery"
	case "sender delivery status":
		return "delivery-status"
	case "sender delay":
		return "delay"
	case "postmaster non-delivery":
		return "postmaster-non-delivery"
	case "postmaster delay":
		return "postmaster-delay"
	case "postmaster delivery status":
		return "postmaster-delivery-status"
	}
	// Unknown types are kept as written.
	return head
}
