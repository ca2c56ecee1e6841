package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parsePickup handles "QUEUEID: uid=1000 from=<user>": a message submitted
// with sendmail(1)/postdrop(1) entering the queue. The submitting uid is kept
// in detail as "uid=N".
func parsePickup(e *event.Event, msg string) {
	id, rest, ok := queueIDPrefix(msg)
	if ok {
		e.QueueID = id
	}
	if ok && (strings.HasPrefix(rest, "uid=") || strings.HasPrefix(rest, "from=")) {
		e.Kind = event.KindPickup
		if strings.HasPrefix(rest, "uid=") {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			e.Detail = rest[:end]
		}
		if from, ok := kvValue(rest, "from"); ok {
			e.Sender = from
		}
		return
	}
	parseLevel(e, msg)
}
