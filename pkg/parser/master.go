package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parsePostfixMisc handles the Postfix programs that say little besides
// warnings: the master daemon, the start/stop script, the command-line tools
// (postfix, postdrop, sendmail, postmap, postalias, postqueue, postlog) and the small
// servers (verify, trivial-rewrite, proxymap, showq, flush, spawn). Their
// informational lines become notices with the text in detail; verify's cache
// cleanup report is a stats line.
func parsePostfixMisc(e *event.Event, msg string) {
	if e.Program == "oqmgr" {
		// The old queue manager logs exactly what qmgr does.
		parseQmgr(e, msg)
		return
	}
	if parseLevel(e, msg) {
		return
	}
	switch e.Program {
	case "master":
		// "daemon started -- version 3.5.6, configuration /etc/postfix",
		// "reload -- version 3.5.6, configuration /etc/postfix",
		// "terminating on signal 15"; Postfix before 2.2 wrote
		// "reload configuration /etc/postfix".
		// "master exit time has arrived" (master -e) and "ignoring
		// status update from child pid 123 generation 4" are its other
		// informational lines.
		if strings.HasPrefix(msg, "daemon started") || strings.HasPrefix(msg, "reload ") ||
			strings.HasPrefix(msg, "terminating on signal") || msg == "master exit time has arrived" ||
			strings.HasPrefix(msg, "ignoring status update from child pid ") {
			setNoticeDetail(e, msg)
		}
	case "postfix-script", "script", "postfix", "postlog":
		// postfix-script speaks only to the administrator ("starting the
		// Postfix mail system", "stopping ...", "refreshing ...", "the
		// Postfix mail system is running: PID: 123"), and so does the
		// postfix command (the backwards-compatibility notices). postlog(1)
		// (Postfix 3.4+) logs whatever text a script gives it; with
		// maillog_file, postfix-script itself writes through it.
		if msg != "" {
			setNoticeDetail(e, msg)
		}
	case "verify":
		// "cache lmdb:/var/lib/postfix/verify_cache full cleanup: retained=724 dropped=6 entries"
		if strings.HasPrefix(msg, "cache ") && strings.Contains(msg, " cleanup: retained=") {
			e.Kind = event.KindStats
			e.Detail = msg
		}
	}
}

// setNoticeDetail marks a recognised informational line.
func setNoticeDetail(e *event.Event, detail string) {
	e.Kind = event.KindNotice
	e.Detail = detail
}
