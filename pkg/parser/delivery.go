package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseDelivery handles the delivery agents: smtp, lmtp, local, virtual,
// pipe, error, discard, retry and relay (the smtp client under another
// master.cf name). Their one common line is the delivery record
// "QUEUEID: to=<r>, relay=..., delay=..., delays=..., dsn=..., status=... (...)";
// the smtp/lmtp client also reports its sessions with remote servers, whose
// side of the conversation is always relay_*.
func parseDelivery(e *event.Event, msg string) {
	text := msg
	id, rest, ok := queueIDPrefix(msg)
	if ok {
		e.QueueID = id
		text = rest
		if parseDeliveryRecord(e, rest) {
			return
		}
		// smtp_header_checks/smtp_body_checks (Postfix 2.5+): "QUEUEID:
		// replace: header From: a: From: b", as cleanup logs its checks
		// but without the client and envelope.
		if action, s, ok := strings.Cut(rest, ": "); ok && parseCleanupCheck(e, action, s) {
			return
		}
	}
	if parseSMTPClientLine(e, text) {
		return
	}
	// Postfix writes "warning: QUEUEID: ...", which parseLevel takes apart;
	// "QUEUEID: warning: ..." is accepted too.
	if parseLevel(e, msg) || (ok && parseLevel(e, text)) {
		// The hosts a delivery agent speaks of are servers it delivers to.
		if e.ClientHost != "" || e.ClientIP != "" {
			dlvSetRelay(e, e.ClientHost, e.ClientIP, e.ClientPort)
			e.ClientHost, e.ClientIP, e.ClientPort = "", "", 0
		}
	}
}

// parseDeliveryRecord fills a delivery from the text after the queue id. qmgr
// writes the same record for mail it defers or bounces itself. A record needs
// a status=; "to=" is expected first, but a record whose recipient lost its
// key is still a delivery (the recipient is then left empty).
func parseDeliveryRecord(e *event.Event, s string) bool {
	if !strings.HasPrefix(s, "to=") && !strings.Contains(s, ", relay=") {
		return false
	}
	for len(s) > 0 {
		for len(s) > 0 && (s[0] == ' ' || s[0] == ',') {
			s = s[1:]
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		key := s[:eq]
		// Tolerate debris before a key ("user@example.com, relay=").
		for i := len(key) - 1; i >= 0; i-- {
			if key[i] == ' ' || key[i] == ',' {
				key = key[i+1:]
				break
			}
		}
		s = s[eq+1:]
		if key == "status" {
			e.Kind = event.KindDelivery
			dlvStatus(e, s)
			return true
		}
		var val string
		if len(s) > 0 && s[0] == '<' {
			end := strings.IndexByte(s, '>')
			if end < 0 {
				// A cut line: the address runs to the end.
				val, s = s[1:], ""
			} else {
				val, s = s[1:end], s[end+1:]
			}
		} else {
			end := 0
			for end < len(s) && s[end] != ',' && s[end] != ' ' {
				end++
			}
			val, s = s[:end], s[end:]
		}
		switch key {
		case "to":
			e.Recipient = val
		case "orig_to":
			e.OrigRecipient = val
		case "relay":
			dlvRelay(e, val)
		case "delay":
			e.Delay = dlvFloat(val)
		case "delays":
			dlvDelays(val, &e.Delays)
		case "dsn":
			e.DSN = val
		case "tls":
			// "dane/!requiretls:nocertmatch", "may?", "may:none": the security
			// level comes first; the policy details after it are not kept.
			end := 0
			for end < len(val) && val[end] != '?' && val[end] != ':' && val[end] != '/' {
				end++
			}
			e.TLSLevel = val[:end]
		}
	}
	// No status: not a delivery record after all (a cut line); take back
	// what was read so the line stays unknown.
	e.Recipient, e.OrigRecipient, e.DSN, e.TLSLevel = "", "", "", ""
	e.RelayHost, e.RelayIP, e.RelayPort = "", "", 0
	e.Delay, e.Delays = 0, event.Delays{}
	return false
}

// dlvFloat reads the plain decimals Postfix writes for delays ("0.74",
// "18910") faster than strconv; anything else goes to atof. With at most 15
// digits both the integer and the power of ten are exact, and one division
// rounds correctly, so the result equals strconv.ParseFloat's.
func dlvFloat(s string) float64 {
	var n uint64
	digits, frac := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			n = n*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return atof(s)
		}
	}
	if digits == 0 || digits > 15 {
		return atof(s)
	}
	if frac <= 0 {
		return float64(n)
	}
	return float64(n) / dlvPow10[frac]
}

var dlvPow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// dlvDelays fills d from "a/b/c/d" with dlvFloat.
func dlvDelays(s string, d *event.Delays) {
	a, s, ok1 := strings.Cut(s, "/")
	b, s, ok2 := strings.Cut(s, "/")
	c, x, ok3 := strings.Cut(s, "/")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	d.BeforeQmgr, d.InQmgr, d.ConnSetup, d.Transmission = dlvFloat(a), dlvFloat(b), dlvFloat(c), dlvFloat(x)
}

// dlvStatus reads "sent (250 2.0.0 Ok: queued as X)". Postfix writes the
// status last, so the response is everything inside the outer parentheses:
// remote replies may hold unbalanced parentheses of their own.
func dlvStatus(e *event.Event, s string) {
	status, resp, ok := strings.Cut(s, " (")
	if i := indexAnyOf(status, ", "); i >= 0 {
		status = status[:i]
	}
	e.Status = status
	if !ok {
		return
	}
	// A line cut short keeps what arrived.
	resp = strings.TrimSuffix(resp, ")")
	e.Response = resp
	e.NextQueueID = nextQueueID(resp)
}

// nextQueueID finds the id the next hop gave the message: "queued as X"
// in an SMTP/LMTP reply (deliveries, smtpd's proxy-accept), "forwarded as
// X" from local(8).
func nextQueueID(resp string) string {
	i := strings.Index(resp, "queued as ")
	n := len("queued as ")
	if i < 0 {
		i = strings.Index(resp, "forwarded as ")
		n = len("forwarded as ")
	}
	if i < 0 {
		return ""
	}
	id := resp[i+n:]
	j := 0
	for j < len(id) && (isDigit(id[j]) || (id[j] >= 'A' && id[j] <= 'Z') || (id[j] >= 'a' && id[j] <= 'z')) {
		j++
	}
	return id[:j]
}

// dlvRelay reads relay=: "host[ip]:port", "host[private/dovecot-lmtp]" (a
// unix socket: the host stays, relay_ip stays empty), a transport name
// (local, virtual, dovecot) or "none" (nothing was contacted: no relay).
func dlvRelay(e *event.Event, val string) {
	if val == "none" || val == "" {
		return
	}
	if host, addr, port, _, ok := hostAddr(val); ok {
		dlvSetRelay(e, host, addr, port)
		return
	}
	e.RelayHost = val
}

// dlvSetRelay sets relay_*; a bracketed part that is no IP address (a socket
// path, "unknown") is not put in relay_ip.
func dlvSetRelay(e *event.Event, host, addr string, port int) {
	e.RelayHost = host
	if addr != "unknown" && looksLikeIP(addr) {
		e.RelayIP = addr
	}
	e.RelayPort = port
}

// parseSMTPClientLine handles the smtp/lmtp client's reports on its sessions
// (s is the text after the queue id, if there was one):
//
//	connect to host[ip]:25: Connection timed out
//	lost connection with host[ip] while receiving the initial server greeting
//	conversation with host[ip] timed out while sending message body
//	host host[ip] said: 450 4.7.1 text (in reply to RCPT TO command)
//	host host[ip] refused to talk to me: 554 text
//	SASL authentication failed; server host[ip] said: 535 5.7.8 text
//	SSL_connect error to host[ip]:25: lost connection
//	Untrusted TLS connection established to host[ip]:25: TLSv1.3 with cipher X ...
//	certificate verification failed for host[ip]:25: self-signed certificate
//	enabling PIX workarounds: disable_esmtp delay_dotcrlf for host[ip]:25
//	discarding EHLO keywords: 8BITMIME STARTTLS
//
// Failures to reach or keep a server are lost_connection (the text in
// detail, the SMTP phase in after); a server's reply that is not a delivery
// record is a notice carrying it in response and dsn.
func parseSMTPClientLine(e *event.Event, s string) bool {
	first, rest, _ := strings.Cut(s, " ")
	switch first {
	case "connect":
		r, ok := strings.CutPrefix(rest, "to ")
		if !ok {
			return false
		}
		return dlvRelayReason(e, r, event.KindLostConnection)
	case "lost", "conversation":
		// "lost connection with h[ip] while X", "conversation with h[ip]
		// timed out while X".
		_, r, ok := strings.Cut(rest, "with ")
		if !ok {
			return false
		}
		host, addr, port, _, ok := hostAddr(r)
		if !ok {
			return false
		}
		e.Kind = event.KindLostConnection
		dlvSetRelay(e, host, addr, port)
		e.Detail = s
		if _, phase, ok := strings.Cut(r, " while "); ok {
			e.After = dlvPhase(phase)
		}
		return true
	case "host":
		host, addr, port, r, ok := hostAddr(rest)
		if !ok {
			return false
		}
		switch {
		case strings.HasPrefix(r, " said: "):
			e.Kind = event.KindNotice
			r = r[len(" said: "):]
		case strings.HasPrefix(r, " refused to talk to me: "):
			// The server turned the session down at its greeting.
			e.Kind = event.KindLostConnection
			r = r[len(" refused to talk to me: "):]
		case r == " offers SMTPUTF8 support, but not 8BITMIME":
			e.Kind = event.KindNotice
			dlvSetRelay(e, host, addr, port)
			e.Detail = r[1:]
			return true
		default:
			return false
		}
		dlvSetRelay(e, host, addr, port)
		dlvReply(e, r)
		return true
	case "SASL":
		// "SASL authentication failed; server h[ip] said: 535 ...", or
		// "...; cannot authenticate to server h[ip]: no mechanism
		// available" when the client found no usable mechanism.
		_, r, ok := strings.Cut(rest, "; server ")
		if !ok {
			_, r, ok = strings.Cut(rest, "; cannot authenticate to server ")
		}
		if !ok {
			return false
		}
		host, addr, port, r, ok := hostAddr(r)
		if !ok {
			return false
		}
		e.Kind = event.KindAuthFailure
		dlvSetRelay(e, host, addr, port)
		if d, ok := strings.CutPrefix(r, ": "); ok {
			e.Detail = d
			return true
		}
		dlvReply(e, strings.TrimPrefix(r, " said: "))
		return true
	case "Cannot", "TLS", "Server":
		// A session given up on for its TLS before the next MX host is
		// tried (smtp_sess_fail logs the reason with the queue id):
		// "Cannot start TLS: handshake failure", "TLS is required, but
		// was not offered by host h[ip]", "... but host h[ip] refused to
		// start TLS: reason", "Server certificate not trusted" (or "not
		// verified"). The session is lost.
		if strings.HasPrefix(rest, "start TLS: ") || strings.HasPrefix(rest, "is required, but ") ||
			strings.HasPrefix(rest, "certificate not ") {
			e.Kind = event.KindLostConnection
			e.Detail = s
			if _, h, ok := strings.Cut(rest, " by host "); ok {
				if host, addr, port, _, ok := hostAddr(h); ok {
					dlvSetRelay(e, host, addr, port)
				}
			} else if _, h, ok := strings.Cut(rest, "but host "); ok {
				if host, addr, port, _, ok := hostAddr(h); ok {
					dlvSetRelay(e, host, addr, port)
				}
			}
			return true
		}
	case "replacing", "skipping", "CLIENT", "SMTPS", "instead,":
		// smtp_reply_filter: "QUEUEID: replacing server reply "x" with
		// "y""; "skipping SRV lookup for d: reason" (3.8+); the hints
		// after a wrapper-mode misconfiguration.
		if strings.HasPrefix(rest, "server reply ") || strings.HasPrefix(rest, "SRV lookup for ") ||
			strings.Contains(rest, "wrappermode") || strings.HasPrefix(rest, "send to ") {
			e.Kind = event.KindNotice
			e.Detail = s
			return true
		}
	case "SSL_connect":
		r, ok := strings.CutPrefix(rest, "error to ")
		if !ok {
			return false
		}
		return dlvRelayReason(e, r, event.KindLostConnection)
	case "certificate", "server":
		// "certificate verification failed for h[ip]:25: reason"; newer
		// Postfix says "server certificate ...". The session goes on
		// (untrusted) or ends according to the TLS policy, which a later
		// line tells: this one is a notice.
		_, r, ok := strings.Cut(rest, "verification failed for ")
		if !ok {
			return false
		}
		return dlvRelayReason(e, r, event.KindNotice)
	case "Untrusted", "Trusted", "Verified", "Anonymous":
		return parseTLSEstablished(e, first, rest)
	case "enabling":
		// "enabling PIX workarounds: W for h[ip]:25"
		w, ok := strings.CutPrefix(rest, "PIX workarounds: ")
		if !ok {
			return false
		}
		e.Kind = event.KindNotice
		w, r, ok := strings.Cut(w, " for ")
		if ok {
			if host, addr, port, _, ok := hostAddr(r); ok {
				dlvSetRelay(e, host, addr, port)
			}
		}
		e.Detail = w
		return true
	case "discarding", "Host", "breaking":
		// "discarding EHLO keywords: X", "Host offered STARTTLS: [h]",
		// "breaking line > 990 bytes with <CR><LF>SPACE".
		if strings.HasPrefix(rest, "EHLO keywords: ") || strings.HasPrefix(rest, "offered STARTTLS") || strings.HasPrefix(rest, "line > ") {
			e.Kind = event.KindNotice
			e.Detail = s
			return true
		}
	}
	// TLS details at smtp_tls_loglevel 2: "h[ip]:25: subject_CN=..., issuer_CN=...".
	if i := strings.IndexByte(first, '['); i >= 0 && strings.HasSuffix(first, ":") && rest != "" {
		if host, addr, port, r, ok := hostAddr(first); ok && port > 0 && r == ":" && looksLikeIP(addr) {
			e.Kind = event.KindNotice
			dlvSetRelay(e, host, addr, port)
			e.Detail = rest
			return true
		}
	}
	return false
}

// dlvRelayReason reads "host[ip]:port: reason" into relay_* and detail.
func dlvRelayReason(e *event.Event, s string, k event.Kind) bool {
	host, addr, port, r, ok := hostAddr(s)
	if !ok {
		return false
	}
	e.Kind = k
	dlvSetRelay(e, host, addr, port)
	e.Detail = strings.TrimPrefix(r, ": ")
	return true
}

// dlvReply reads a server's reply, "450 4.7.1 text (in reply to RCPT TO
// command)": the reply goes to response and dsn, the command (in smtpd's
// words) to after.
func dlvReply(e *event.Event, r string) {
	if i := strings.LastIndex(r, " (in reply to "); i >= 0 {
		cmd := r[i+len(" (in reply to "):]
		cmd = strings.TrimSuffix(cmd, ")")
		e.After = dlvCommand(strings.TrimSuffix(cmd, " command"))
		r = r[:i]
	}
	e.Response = r
	e.DSN = dlvReplyDSN(r)
}

// dlvReplyDSN returns the enhanced status code of a (possibly multi-line)
// reply: "550 5.1.1 ...", "550-5.7.1 ..." or a bare "5.7.1 ...".
func dlvReplyDSN(r string) string {
	if len(r) >= 4 && isDigit(r[0]) && isDigit(r[1]) && isDigit(r[2]) && (r[3] == ' ' || r[3] == '-') {
		r = r[4:]
	}
	i := 0
	dots := 0
	for i < len(r) && r[i] != ' ' {
		switch {
		case r[i] == '.':
			dots++
		case !isDigit(r[i]):
			return ""
		}
		i++
	}
	if dots != 2 || i < 5 || r[0] == '.' || r[i-1] == '.' {
		return ""
	}
	return r[:i]
}

// dlvPhase names the SMTP phase of "... while X" the way smtpd's "lost
// connection after X" does, so one after= value means the same in both
// directions: "sending RCPT TO" → RCPT, "sending end of data -- message may
// be sent more than once" → END-OF-MESSAGE, "receiving the initial server
// greeting" → CONNECT, "performing the EHLO handshake" → EHLO.
func dlvPhase(p string) string {
	switch {
	case strings.HasPrefix(p, "sending "):
		p = p[len("sending "):]
		if i := strings.Index(p, " --"); i >= 0 {
			p = p[:i]
		}
		return dlvCommand(strings.TrimSuffix(p, " command"))
	case strings.HasPrefix(p, "receiving the initial server greeting"):
		return "CONNECT"
	case len(p) > len("performing the  handshake") && strings.HasPrefix(p, "performing the ") && strings.HasSuffix(p, " handshake"):
		return p[len("performing the ") : len(p)-len(" handshake")]
	}
	return p
}

// dlvCommand maps the smtp client's names for what it sent ("MAIL FROM",
// "RCPT TO", "end of DATA", "message body", "final RSET") to smtpd's command
// names; others are kept as written.
func dlvCommand(c string) string {
	switch c {
	case "MAIL FROM":
		return "MAIL"
	case "RCPT TO":
		return "RCPT"
	case "end of DATA", "end of data":
		return "END-OF-MESSAGE"
	case "message body":
		return "DATA"
	case "final RSET", "RSET probe":
		return "RSET"
	}
	return c
}
