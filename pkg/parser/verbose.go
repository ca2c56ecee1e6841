package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

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
// TLS logging at smtp(d)_tls_loglevel 2 and above is debug output too
// ("SSL_accept:SSLv3/TLS write server hello", "save session ... to smtpd
// cache", "read from 55D8 [55D8] (5 bytes => 5 (0x5))", hex dumps).
//
// It also reads the few informational lines every Postfix daemon may write
// whatever its family (see parsePostfixCommon).
func parseVerbose(e *event.Event, msg string) bool {
	if parsePostfixCommon(e, msg) {
		return true
	}
	text := msg
	if id, rest, ok := queueIDPrefix(msg); ok {
		// "QUEUEID: recipient limit 5000" (qmgr) and the like.
		if !strings.HasPrefix(rest, "recipient limit ") && !isVerbose(rest) {
			return false
		}
		e.QueueID = id
		text = rest
	} else if !isVerbose(msg) {
		return false
	}
	e.Kind = event.KindNotice
	e.Level = "debug"
	e.Detail = text
	return true
}

// parsePostfixCommon reads the informational lines of the library code
// every Postfix daemon shares:
//
//	master disconnect -- exiting                       (the master went away; 3.9 may say "-- slow exit")
//	QUEUEID: status=deferred (bounce failed)           (bounce_append could not reach bounce/defer/trace; the message stays queued)
//	table hash:/etc/postfix/x has changed -- restarting
//	table hash:/etc/postfix/x has changed - finishing in the background   (postscreen)
//	using backwards-compatible default setting relay_domains=$mydestination ...
//	cache btree:/var/lib/postfix/smtpd_scache full cleanup: retained=2 dropped=1 entries
//	database lmdb:/etc/postfix/x: using size limit 20971520 during open
//	close database /etc/postfix/x.db: No such file or directory (possible Berkeley DB bug)
//	skipping address family 10 for host x
//	QUEUEID: passing <a@example.org> to transport=lmtp     (deliver_pass)
//
// and those of the TLS library (smtpd, smtp, tlsproxy):
//
//	cannot load Certificate Authority data: disabling TLS support      (3.x: "Certification Authority data, CAfile=...")
//	cannot set default OpenSSL certificate verification paths: disabling TLS support
//	TLS SNI mx.example.org from h[addr] not matched, using default chain   (3.4+)
//	client certificate verification failed for h[addr]: certificate has expired
//	certificate verification failed for h[addr]: untrusted issuer /CN=x
func parsePostfixCommon(e *event.Event, msg string) bool {
	switch {
	case strings.HasPrefix(msg, "cannot load Certificat"),
		strings.HasPrefix(msg, "cannot set ") && strings.Contains(msg, "verification paths"),
		strings.HasPrefix(msg, "TLS SNI "), strings.HasPrefix(msg, "TLS support is not compiled in"),
		strings.HasPrefix(msg, "certificate verification failed for "),
		strings.HasPrefix(msg, "client certificate verification failed for "),
		strings.HasPrefix(msg, "server certificate verification failed for "),
		strings.HasPrefix(msg, "skipping address family "):
		setNoticeDetail(e, msg)
		return true
	case strings.HasPrefix(msg, "master disconnect -- "),
		strings.HasPrefix(msg, "table ") && (strings.HasSuffix(msg, " has changed -- restarting") || strings.HasSuffix(msg, " has changed - finishing in the background")),
		strings.HasPrefix(msg, "using backwards-compatible default setting "),
		strings.HasPrefix(msg, "database ") && strings.Contains(msg, ": using size limit "),
		strings.HasPrefix(msg, "database ") && strings.Contains(msg, ": pausing after MDB_READERS_FULL"),
		strings.HasPrefix(msg, "close database ") && strings.HasSuffix(msg, "(possible Berkeley DB bug)"):
		setNoticeDetail(e, msg)
		return true
	case strings.HasPrefix(msg, "cache ") && strings.Contains(msg, " cleanup: retained="):
		e.Kind = event.KindStats
		e.Detail = msg
		return true
	}
	if id, rest, ok := queueIDPrefix(msg); ok {
		if s, ok := strings.CutPrefix(rest, "status=deferred ("); ok && strings.HasSuffix(s, " failed)") ||
			strings.HasPrefix(rest, "passing <") && strings.Contains(rest, "> to transport=") {
			e.QueueID = id
			setNoticeDetail(e, rest)
			return true
		}
	}
	return false
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
	// TLS at loglevel 2 and above.
	"SSL_accept:", "SSL_connect:", "read from ", "write to ", "looking for session ",
	"looking up session ", "save session ", "reloaded session ", "remove session ",
	"SSL3 alert ", "depth=", "issuer=", "Reusing old session", "Decrypting session ticket",
	"matched peername", "Matched ",
}

func isVerbose(msg string) bool {
	if len(msg) < 3 {
		return false
	}
	switch {
	case (msg[0] == '>' || msg[0] == '<') && msg[1] == ' ':
		// The SMTP conversation, "> host[addr]: text": the peer's name
		// and address come first.
		// and address come first (postscreen: "[addr]:port").
		peer, _, ok := strings.Cut(msg[2:], ": ")
		return ok && strings.IndexByte(peer, '[') >= 0 && strings.IndexByte(peer, ' ') < 0
	case strings.HasPrefix(msg, ">>> ") && strings.HasSuffix(msg, " <<<"):
		return true
	case strings.Contains(msg, " TLS cache ") || strings.Contains(msg, " session id="):
		// "open smtpd TLS cache btree:/x", "put smtp session id=..."
		return true
	case len(msg) > 5 && msg[4] == ' ' && isHex4(msg[:4]) && strings.Count(msg[5:min(len(msg), 12)], " ") >= 2:
		// A TLS hex dump at loglevel 4: "0000 16 03 01 00 f1 01 00 ...".
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

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s) == 4
}
