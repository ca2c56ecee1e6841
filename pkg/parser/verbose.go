package parser

import "strings"

// parseVerbose reads the debug output of a Postfix daemon run with -v (or a
// client listed in debug_peer_list): masses of msg_info() lines that trace
// the daemon's inner workings and mean nothing to a monitor. They become
// notices at level debug, so that they are neither unparsed nor mistaken for
// anything that counts. It runs only on lines the daemon's own family left
// unknown, so it costs nothing on ordinary lines. The shapes, as Postfix
// 2.11–3.9 write them:
//
//	> host[addr]: 250 2.0.0 Ok                         (smtpd_chat, smtp_chat, both directions)
//	< host[addr]:25: EHLO mx.example.com
//	>>> START Recipient address RESTRICTIONS <<<       (smtpd_check)
//	send attr queue_id = 4F2B1                        (attr_print)
//	input attribute name: queue_id                    (attr_scan)
//	private/rewrite socket: wanted attribute: transport
//	match_string: mynetworks ~? debug_peer_list       (function-name prefixes: dict_, match_, maps_, ...)
//	unverified_sender_tempfail_action = defer_if_permit
//	connect to subsystem private/rewrite
//	rewrite stream disconnect
//	process generation: 10 (10)
//	request: 1 (W)                                   (qmgr triggers)
//	done incoming queue scan
//	start move queue active -> incoming
//	wakeup 4F2B1 after 300 secs
//	pref   10 host mx.example.com/192.0.2.1         (smtp_addr)
//	lookup example.com type MX flags 0               (dns_lookup)
//
// It also reads the few informational lines every Postfix daemon may write
// whatever its family: "master disconnect -- exiting" (the master went away;
// Postfix 3.9 may say "-- slow exit") and "QUEUEID: status=deferred (bounce
// failed)" (bounce_append could not reach the bounce service; the message
// stays queued).
func parseVerbose(e *Event, msg string) bool {
	if strings.HasPrefix(msg, "master disconnect -- ") {
		setNoticeDetail(e, msg)
		return true
	}
	text := msg
	if id, rest, ok := queueIDPrefix(msg); ok {
		if rest == "status=deferred (bounce failed)" {
			e.QueueID = id
			setNoticeDetail(e, rest)
			return true
		}
		// "QUEUEID: recipient limit 5000" (qmgr) and the like.
		if !strings.HasPrefix(rest, "recipient limit ") && !isVerbose(rest) {
			return false
		}
		e.QueueID = id
		text = rest
	} else if !isVerbose(msg) {
		return false
	}
	e.Kind = KindNotice
	e.Level = "debug"
	e.Detail = text
	return true
}

// verbosePrefixes start debug lines whose first word is not a function name.
var verbosePrefixes = [...]string{
	"send attr ", "input attribute name: ", "input attribute value: ",
	"connect to subsystem ", "connection established", "connection closed",
	"process generation: ", "idle timeout -- exiting", "request ignored", "request: ",
	"start move queue ", "end move queue ", "start sorted recipient list",
	"wakeup ", "pref ", "lookup ", "begin ", "end ", "connecting to ",
	"host name lookup methods: ", "mynetworks: ", "fsspace: ",
	"Compiled against Berkeley DB", "Run-time linked against Berkeley DB",
	"before input_transp_cleanup: ", "after input_transp_cleanup: ",
}

func isVerbose(msg string) bool {
	if len(msg) < 3 {
		return false
	}
	switch {
	case (msg[0] == '>' || msg[0] == '<') && msg[1] == ' ':
		// The SMTP conversation, "> host[addr]: text": the peer's name
		// and address come first.
		peer, _, ok := strings.Cut(msg[2:], ": ")
		return ok && strings.IndexByte(peer, '[') > 0 && strings.IndexByte(peer, ' ') < 0
	case strings.HasPrefix(msg, ">>> ") && strings.HasSuffix(msg, " <<<"):
		return true
	case strings.HasPrefix(msg, "done ") && strings.HasSuffix(msg, " queue scan"),
		strings.HasSuffix(msg, " stream disconnect"),
		strings.Contains(msg, " socket: wanted attribute: "):
		return true
	}
	for _, p := range verbosePrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	// "function_name: ..." and "parameter_name = value": a lower-case C
	// identifier with an underscore, which no ordinary line starts with.
	i := 0
	underscore := false
	for i < len(msg) {
		c := msg[i]
		if c == '_' {
			underscore = true
		} else if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			break
		}
		i++
	}
	if !underscore || i == 0 || msg[0] == '_' {
		return false
	}
	rest := msg[i:]
	return rest == ":" || strings.HasPrefix(rest, ": ") || strings.HasPrefix(rest, " = ")
}
