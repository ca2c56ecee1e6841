package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseSmtpd handles the SMTP server, whatever master.cf service runs it
// (smtpd, submission/smtpd, smtps/smtpd, a second instance's smtpd).
func parseSmtpd(e *event.Event, msg string) {
	if rest, ok := strings.CutPrefix(msg, "NOQUEUE: "); ok {
		parseSmtpdAction(e, rest)
		if e.Kind != event.KindUnknown {
			return
		}
		// Session lines seen with the prefix ("NOQUEUE: lost connection
		// after CONNECT from h[ip]") read as without it.
		msg = rest
	}
	id, rest, ok := queueIDPrefix(msg)
	if ok {
		e.QueueID = id
		if strings.HasPrefix(rest, "client=") {
			parseSmtpdClient(e, rest)
			return
		}
		parseSmtpdAction(e, rest)
		return
	}
	first, rest, _ := strings.Cut(msg, " ")
	switch first {
	case "connect":
		if s, ok := strings.CutPrefix(rest, "from "); ok {
			if setClient(e, s) {
				e.Kind = event.KindConnect
			}
		}
		return
	case "disconnect":
		if s, ok := strings.CutPrefix(rest, "from "); ok {
			host, addr, port, tail, ok := hostAddr(s)
			if !ok {
				return
			}
			e.Kind = event.KindDisconnect
			e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
			e.Commands = strings.TrimSpace(tail)
		}
		return
	case "lost", "timeout", "too", "bare":
		// "lost connection after X from", "timeout after X from",
		// "too many errors after X from", "bare <LF> received after X from":
		// smtpd ends (or is about to end) the session.
		phrase, s, ok := strings.Cut(msg, " after ")
		if !ok || (phrase != "lost connection" && phrase != "timeout" && phrase != "too many errors" && phrase != "bare <LF> received") {
			break
		}
		if parseAfterFrom(e, s) {
			e.Kind = event.KindLostConnection
			e.Detail = phrase
		}
		return
	case "SSL_accept":
		// The TLS handshake of a new session failed; the session is gone.
		if s, ok := strings.CutPrefix(rest, "error from "); ok && setClient(e, s) {
			e.Kind = event.KindLostConnection
			e.Detail = "SSL_accept error"
		}
		return
	case "improper":
		// A protocol violation worth flagging: the client talked before
		// the server answered.
		if s, ok := strings.CutPrefix(msg, "improper command pipelining after "); ok && parseAfterFrom(e, s) {
			e.Kind = event.KindWarning
			e.Detail = msg
		}
		return
	case "Anonymous", "Untrusted", "Trusted", "Verified":
		parseTLSEstablished(e, first, rest)
		return
	case "proxy-accept:", "proxy-reject:":
		parseSmtpdAction(e, msg)
		return
	case "warning:":
		if parseSmtpdWarning(e, msg, rest) {
			return
		}
	case "table":
		// "table hash:/etc/postfix/x(0,lock|fold_fix) has changed -- restarting"
		if strings.HasSuffix(msg, "has changed -- restarting") {
			e.Kind = event.KindNotice
			e.Detail = msg
			return
		}
	case "discarding":
		if s, ok := strings.CutPrefix(msg, "discarding EHLO keywords: "); ok {
			e.Kind = event.KindNotice
			e.Detail = s
			return
		}
	case "reject:", "reject_warning:":
		// An action whose queue-id prefix was lost (log tools and
		// hand-edited logs drop it): the rest reads as usual.
		parseSmtpdAction(e, msg)
		return
	case "looking", "cannot", "mapping", "TLS":
		// The Cyrus SASL library logs through smtpd ("looking for plugins
		// in '/usr/lib/sasl2', failed to open directory, ..."); the TLS
		// set-up says "cannot load Certificate Authority data: ..." (3.x:
		// "Certification Authority data, CAfile=...") or "cannot set
		// [default OpenSSL] certificate verification paths: ..." before its
		// warnings; smtpd_dsn_fix "mapping DSN status 5.1.1 into Sender
		// address status 5.1.7"; "TLS SNI x from h[ip] not matched, using
		// default chain" (3.4+).
		if strings.HasPrefix(msg, "looking for plugins in ") || strings.HasPrefix(msg, "cannot load Certificat") ||
			strings.HasPrefix(msg, "cannot set ") || strings.HasPrefix(msg, "mapping DSN status ") ||
			strings.HasPrefix(msg, "TLS SNI ") {
			e.Kind = event.KindNotice
			e.Detail = msg
			return
		}
	case "abort:":
		// "NOQUEUE: abort: TLS from h[ip]: Client certificate not
		// trusted" (or "No client certificate presented"): smtpd ends a
		// session that smtpd_tls_req_ccert requires a trusted certificate
		// for.
		if s, ok := strings.CutPrefix(rest, "TLS from "); ok && setClient(e, s) {
			e.Kind = event.KindLostConnection
			_, e.Detail, _ = strings.Cut(s, "]: ")
			e.After = "STARTTLS"
		}
		return
	case "certificate", "client":
		// Client certificate checks (smtpd_tls_ask_ccert): "certificate
		// verification failed for h[ip]: untrusted issuer /CN=x", "client
		// certificate verification failed for h[ip]: certificate has
		// expired".
		if _, s, ok := strings.Cut(msg, "certificate verification failed for "); ok && setClient(e, s) {
			e.Kind = event.KindNotice
			e.Detail = msg
			return
		}
	case "using", "initializing":
		// "using backwards-compatible default setting ...", "initializing
		// the server-side TLS engine".
		e.Kind = event.KindNotice
		e.Detail = msg
		return
	case "setting":
		if s, ok := strings.CutPrefix(msg, "setting up TLS connection from "); ok && setClient(e, s) {
			e.Kind = event.KindNotice
			e.Detail = msg
		}
		return
	}
	if parseLevel(e, msg) {
		return
	}
	// TLS logging at smtpd_tls_loglevel >= 1: "host[addr]: TLS cipher list
	// ...", "host[addr]: Issuing session ticket ...".
	if host, addr, port, tail, ok := hostAddr(msg); ok && strings.HasPrefix(tail, ": ") &&
		strings.IndexByte(host, ' ') < 0 && looksLikeIP(addr) {
		e.Kind = event.KindNotice
		e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
		e.Detail = tail[2:]
	}
}

// setClient fills the client fields from "host[addr]" or "host[addr]:port".
func setClient(e *event.Event, s string) bool {
	host, addr, port, _, ok := hostAddr(s)
	if !ok {
		return false
	}
	e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
	return true
}

// parseAfterFrom reads "CMD [junk] from host[addr]..." as in "lost connection
// after DATA (7774180 bytes) from unknown[1.2.3.4]". The command may be
// followed by a byte count, so the client is found by the last " from ".
func parseAfterFrom(e *event.Event, s string) bool {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		return false
	}
	cmd := s[:i]
	if sp := strings.IndexByte(cmd, ' '); sp >= 0 {
		cmd = cmd[:sp]
	}
	if !setClient(e, s[i+len(" from "):]) {
		return false
	}
	e.After = cmd
	return true
}

// parseSmtpdClient handles "client=host[addr], sasl_method=PLAIN,
// sasl_username=u, sasl_sender=s, orig_queue_id=X, orig_client=h[a]".
func parseSmtpdClient(e *event.Event, s string) {
	ok := false
	kvEach(s, func(key, val string) bool {
		switch key {
		case "client":
			ok = setClient(e, val)
		case "sasl_method":
			e.SASLMethod = val
		case "sasl_username":
			e.SASLUsername = val
		}
		return true
	})
	if ok {
		e.Kind = event.KindClient
	}
}

// parseSmtpdWarning handles warnings that mean more than a warning: SASL
// failures, and reverse-DNS complaints whose client has no "host[addr]".
// text is msg without "warning: ".
func parseSmtpdWarning(e *event.Event, msg, text string) bool {
	// "host[addr]: SASL LOGIN authentication failed: reason[, sasl_username=u]"
	if host, addr, port, tail, ok := hostAddr(text); ok && strings.HasPrefix(tail, ": SASL ") && strings.IndexByte(host, ' ') < 0 {
		method, reason, ok := strings.Cut(tail[len(": SASL "):], " authentication failed")
		if !ok || strings.IndexByte(method, ' ') >= 0 {
			return false
		}
		e.Kind = event.KindAuthFailure
		e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
		e.SASLMethod = method
		reason = strings.TrimPrefix(reason, ": ")
		if i := strings.LastIndex(reason, ", sasl_username="); i >= 0 {
			e.SASLUsername = reason[i+len(", sasl_username="):]
			reason = reason[:i]
		}
		e.Detail = reason
		return true
	}
	if !parseLevel(e, msg) {
		return false
	}
	switch {
	case strings.HasPrefix(text, "hostname "):
		// "hostname h does not resolve to address 1.2.3.4[: reason]"
		host, s, _ := strings.Cut(text[len("hostname "):], " ")
		if addr, ok := strings.CutPrefix(s, "does not resolve to address "); ok {
			if i := strings.IndexByte(addr, ' '); i >= 0 {
				addr = addr[:i]
			}
			addr = strings.TrimSuffix(addr, ":")
			if looksLikeIP(addr) {
				e.ClientHost, e.ClientIP = host, addr
			}
		}
	case e.ClientIP == "":
		// "1.2.3.4: hostname h verification failed: ...",
		// "1.2.3.4: address not listed for hostname h"
		addr, s, ok := strings.Cut(text, ": ")
		if !ok || !looksLikeIP(addr) {
			break
		}
		switch {
		case strings.HasPrefix(s, "hostname "):
			host, _, _ := strings.Cut(s[len("hostname "):], " ")
			e.ClientHost, e.ClientIP = host, addr
		case strings.HasPrefix(s, "address not listed for hostname "):
			host, _, _ := strings.Cut(s[len("address not listed for hostname "):], " ")
			e.ClientHost, e.ClientIP = host, addr
		}
	}
	return true
}

// parseSmtpdAction handles what follows "NOQUEUE: " or "QUEUEID: " on an
// access-restriction, milter or before-queue-filter line:
//
//	reject: RCPT from host[addr]: 550 5.1.1 <x>: text; from=<a> to=<b> proto=ESMTP helo=<h>
//	milter-reject: END-OF-MESSAGE from host[addr]: 5.7.1 text; from=<a> ...
//	filter: RCPT from host[addr]: <a>: Sender address triggers FILTER x; from=<a> ...
//	proxy-reject: END-OF-MESSAGE: 554 5.7.0 text; from=<a> ...
//
// postscreen writes the same shape with "[addr]:port" and ", " between the
// trailing fields. Every action but proxy-accept is a reject event; the
// action tells them apart.
func parseSmtpdAction(e *event.Event, s string) {
	action, rest, ok := strings.Cut(s, ": ")
	if !ok {
		action, rest = strings.TrimSuffix(s, ":"), ""
	}
	switch action {
	case "reject", "reject_warning", "discard", "filter", "hold", "redirect", "warn", "bcc", "info",
		"milter-reject", "milter-discard", "milter-hold":
	case "proxy-accept", "proxy-reject":
		parseProxyAction(e, action, rest)
		return
	default:
		return
	}
	e.Kind = event.KindReject
	e.Action = action
	stage, s, ok := strings.Cut(rest, " from ")
	if !ok || strings.IndexByte(stage, ' ') >= 0 {
		// A cut line: the action is all there is to tell.
		e.Detail = rest
		return
	}
	e.RejectStage = smtpStage(stage)
	host, addr, port, s, ok := hostAddr(s)
	if !ok {
		return
	}
	e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
	s = strings.TrimPrefix(s, ": ")
	reply, tail := splitReplyTail(s)
	setReply(e, reply)
	parseEnvelopeTail(e, tail)
}

// parseProxyAction handles smtpd_proxy_filter results:
// "proxy-accept: END-OF-MESSAGE: 250 2.0.0 from MTA(smtp:[127.0.0.1]:10013):
// 250 2.0.0 Ok: queued as X; from=<a> to=<b> proto=ESMTP helo=<h>". A
// proxy-accept is the message being accepted, so it is a notice, not a
// reject.
func parseProxyAction(e *event.Event, action, s string) {
	stage, s, ok := strings.Cut(s, ":")
	if !ok || strings.IndexByte(stage, ' ') >= 0 {
		return
	}
	s = strings.TrimPrefix(s, " ")
	reply, tail := splitReplyTail(s)
	e.Action = action
	if action == "proxy-accept" {
		e.Kind = event.KindNotice
		e.NextQueueID = nextQueueID(reply)
	} else {
		e.Kind = event.KindReject
		e.RejectStage = smtpStage(stage)
	}
	setReply(e, reply)
	parseEnvelopeTail(e, tail)
}

// splitReplyTail separates the reply text from the "; from=<a> to=<b>
// proto=P helo=<h>" that smtpd appends. The reply itself may hold "; " (DNSBL
// texts do), so the tail is the last "; " followed by one of the fields, in
// the order Postfix writes them.
func splitReplyTail(s string) (reply, tail string) {
	for _, k := range [...]string{"; from=<", "; to=<", "; proto=", "; helo=<"} {
		if i := strings.LastIndex(s, k); i >= 0 {
			return s[:i], s[i+2:]
		}
	}
	return s, ""
}

// setReply puts an SMTP reply ("550 5.1.1 ..." or, from milters, "5.7.1
// ...") in response and dsn; other texts (discard, filter, hold reasons,
// postscreen's "too many connections") are not replies and go to detail.
func setReply(e *event.Event, reply string) {
	if reply == "" {
		return
	}
	if dsn := smtpReply(reply); dsn != "" {
		e.Response, e.DSN = reply, dsn
		return
	}
	if dsn := enhancedCode(reply); dsn != "" {
		e.Response, e.DSN = reply, dsn
		return
	}
	if len(reply) >= 3 && isDigit(reply[0]) && isDigit(reply[1]) && isDigit(reply[2]) && (len(reply) == 3 || reply[3] == ' ') {
		e.Response = reply
		return
	}
	e.Detail = reply
}

// enhancedCode returns the "X.Y.Z" status code at the start of s.
func enhancedCode(s string) string {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return ""
	}
	i, dots := 2, 1
	for i < len(s) && s[i] != ' ' {
		switch {
		case s[i] == '.':
			dots++
		case !isDigit(s[i]):
			return ""
		}
		i++
	}
	if dots != 2 || s[i-1] == '.' {
		return ""
	}
	return s[:i]
}

// parseEnvelopeTail reads "from=<a> to=<b> proto=ESMTP helo=<h>" (smtpd) or
// "from=<a>, to=<b>, proto=ESMTP, helo=<h>" (postscreen).
func parseEnvelopeTail(e *event.Event, s string) {
	if s == "" {
		return
	}
	kvEach(s, func(key, val string) bool {
		switch key {
		case "from":
			e.Sender = stripAngles(val)
		case "to":
			e.Recipient = stripAngles(val)
		case "proto":
			e.Protocol = val
		case "helo":
			e.Helo = stripAngles(val)
		}
		return true
	})
}

// stripAngles is unangle that also copes with a line cut inside the
// brackets ("to=<user@exa").
func stripAngles(s string) string {
	s = strings.TrimPrefix(s, "<")
	return strings.TrimSuffix(s, ">")
}

// smtpStage names the SMTP stage of a reject in lower case, with EHLO folded
// into helo, BDAT into data (the same restrictions apply) and END-OF-MESSAGE
// shortened to eom. Unknown stages are kept as written.
func smtpStage(s string) string {
	switch s {
	case "CONNECT":
		return "connect"
	case "HELO", "EHLO":
		return "helo"
	case "MAIL":
		return "mail"
	case "RCPT":
		return "rcpt"
	case "DATA", "BDAT":
		return "data"
	case "END-OF-MESSAGE":
		return "eom"
	case "VRFY":
		return "vrfy"
	case "ETRN":
		return "etrn"
	case "AUTH":
		return "auth"
	case "STARTTLS":
		return "starttls"
	case "XCLIENT":
		return "xclient"
	case "XFORWARD":
		return "xforward"
	case "UNKNOWN":
		return "unknown"
	}
	return s
}

// parseTLSEstablished handles "Anonymous TLS connection established from
// host[addr]: TLSv1.3 with cipher X (256/256 bits) ..." (smtpd, tlsproxy)
// and the "... established to host[addr]:port: ..." of tlsproxy's client
// side. trust is the first word, rest what follows it.
func parseTLSEstablished(e *event.Event, trust, rest string) bool {
	s, ok := strings.CutPrefix(rest, "TLS connection established ")
	if !ok {
		return false
	}
	inbound := true
	switch {
	case strings.HasPrefix(s, "from "):
		s = s[len("from "):]
	case strings.HasPrefix(s, "to "):
		s, inbound = s[len("to "):], false
	default:
		return false
	}
	host, addr, port, s, ok := hostAddr(s)
	if !ok {
		return false
	}
	e.Kind = event.KindTLS
	e.TLSTrust = trust
	if inbound {
		e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
	} else {
		e.RelayHost, e.RelayIP, e.RelayPort = host, addr, port
	}
	s = strings.TrimPrefix(s, ": ")
	proto, s, _ := strings.Cut(s, " ")
	e.TLSProtocol = proto
	if c, ok := strings.CutPrefix(s, "with cipher "); ok {
		c, _, _ = strings.Cut(c, " ")
		e.TLSCipher = c
	}
	return true
}
