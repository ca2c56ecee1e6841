package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Dovecot writes every process's lines under the ident "dovecot" and puts the
// process name first: "imap-login: Login: ...", "imap(user)<pid><session>:
// ...", "auth-worker(123): ...", "lmtp(31740): Connect from local". Older
// releases (2.2) write "lmtp(31740, user): ..." and no "<pid><session>".
//
// Field choices that are not obvious from the contract:
//   - protocol is the network protocol a process serves (imap, pop3, lmtp,
//     managesieve, submission), taken from the process name with "-login"
//     cut; auth, master and lda lines carry none.
//   - tls_level is "TLS" when the login process reports the bare TLS flag
//     (or "TLS: ..." after the session was encrypted). Dovecot has no
//     Postfix-style security levels; its flag only says the connection was
//     encrypted, so we pass its word through rather than invent "encrypt".
//     "secured" (trusted network or localhost without TLS) sets nothing,
//     because consumers read a non-empty tls_level as "encrypted".
//   - A failed TLS handshake ("TLS handshaking: SSL_accept() failed: ...")
//     is a disconnect whose detail is the handshake error: the "no auth
//     attempts" reason beside it is only a consequence.

// parseDovecot handles lines logged under the "dovecot" ident.
func parseDovecot(e *event.Event, msg string) {
	if strings.HasPrefix(msg, "pam_") {
		// A PAM module loaded by the auth worker, logging under its ident.
		if fn, text, ok := pamModuleLine(msg); ok {
			e.Program = fn[:strings.IndexByte(fn, '(')]
			parsePAMModule(e, fn, text)
			return
		}
	}
	n := dovecotNameLen(msg)
	if n == 0 {
		// 1.x wrote the post-login processes in capitals: "IMAP(user): ...".
		n = dovecotOldNameLen(msg)
	}
	if n == 0 || n == len(msg) || (msg[n] != '(' && msg[n] != ':') {
		// The master of old releases logs without a process prefix; the
		// program stays "dovecot" because the line names no process.
		if strings.HasPrefix(msg, "Dovecot v") {
			e.Kind = event.KindNotice
			e.Detail = msg
			return
		}
		parseLevel(e, msg)
		return
	}
	name := msg[:n]
	rest := msg[n:]
	if rest[0] == ':' {
		// "imap-login: Login: ..." — a level word ("Warning: ") is handled
		// below, so only the process name is cut here.
		rest = strings.TrimPrefix(rest[1:], " ")
	}
	e.Program = name
	parseDovecotProcess(e, name, rest)
}

// dovecotNameLen measures a leading Dovecot process name: lower-case
// letters, digits and '-' ("imap-login", "auth-worker", "pop3").
func dovecotNameLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if (c >= 'a' && c <= 'z') || isDigit(c) || (c == '-' && i > 0) || c == '_' {
			i++
			continue
		}
		break
	}
	return i
}

// dovecotOldNameLen measures 1.x's "IMAP" and "POP3" before "(user)".
func dovecotOldNameLen(s string) int {
	if strings.HasPrefix(s, "IMAP(") || strings.HasPrefix(s, "POP3(") {
		return 4
	}
	return 0
}

// parseDovecotProcess handles one Dovecot process's text. msg may still
// begin with the "(user)<pid><session>: " groups; with a per-process syslog
// ident it is just the text.
func parseDovecotProcess(e *event.Event, program, msg string) {
	var user, inner string
	if len(msg) > 0 && (msg[0] == '(' || msg[0] == '<') {
		var ok bool
		user, inner, msg, ok = dovecotSessionPrefix(msg)
		if !ok {
			parseLevel(e, msg)
			return
		}
	}
	proto := dovecotProtocol(program)
	switch {
	case strings.HasSuffix(program, "-login"):
		parseDovecotLogin(e, proto, msg)
	case program == "auth" || program == "auth-worker" || program == "dovecot-auth":
		parseDovecotAuth(e, inner, msg)

	case program == "master":
		parseDovecotMaster(e, msg)
	case program == "config" || program == "ssl-params" || program == "log" || program == "anvil" ||
		program == "stats" || program == "dict" || program == "indexer" || program == "replicator":
		// Service processes with no client session: what they say at info
		// level is operational news, as the master's is.
		parseDovecotMaster(e, msg)
	default:
		parseDovecotMail(e, program, proto, user, msg)
	}
}

// dovecotSessionPrefix reads "(user)<pid><session>: ", "(pid): ",
// "(pid, user): " and returns the user (empty when the parentheses hold
// only a pid), what the parentheses held and the text after ": ".
func dovecotSessionPrefix(s string) (user, inner, rest string, ok bool) {
	if s[0] == '(' {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", "", s, false
		}
		inner = s[1:end]
		s = s[end+1:]
		if p, u, found := strings.Cut(inner, ", "); found && allDigits(p) {
			user = u // 2.2: "lmtp(31740, user@example.com)"
		} else if !allDigits(inner) {
			user = inner
		}
	}
	for len(s) > 0 && s[0] == '<' {
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return "", "", s, false
		}
		s = s[end+1:]
	}
	if strings.HasPrefix(s, ": ") {
		return user, inner, s[2:], true
	}
	if s == ":" || s == "" {
		return user, inner, "", true
	}
	return "", "", s, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// dovecotProtocol names the network protocol a process serves, or "".
func dovecotProtocol(program string) string {
	p := strings.TrimSuffix(program, "-login")
	switch p {
	case "imap", "pop3", "lmtp", "managesieve", "submission":
		return p
	case "IMAP":
		return "imap"
	case "POP3":
		return "pop3"
	}
	return ""
}

// dovecotLevel strips a Dovecot level word. Info and Debug are dropped (they
// add nothing a kind does not say); for Warning, Error, Fatal and Panic the
// text is returned unchanged with severe=true so parseLevel can read it.
func dovecotLevel(s string) (rest string, severe bool) {
	if len(s) < 6 || s[0] < 'A' || s[0] > 'Z' {
		return s, false
	}
	if r, ok := strings.CutPrefix(s, "Info: "); ok {
		return r, false
	}
	if r, ok := strings.CutPrefix(s, "Debug: "); ok {
		return r, false
	}
	if strings.HasPrefix(s, "Warning: ") || strings.HasPrefix(s, "Error: ") ||
		strings.HasPrefix(s, "Fatal: ") || strings.HasPrefix(s, "Panic: ") {
		return s, true
	}
	return s, false
}

// parseDovecotLogin handles the pre-login processes (imap-login,
// pop3-login, managesieve-login, submission-login):
//
//	Login: user=<u>, method=PLAIN, rip=IP, lip=IP, mpid=N, TLS, session=<s>
//	Disconnected (auth failed, 3 attempts in 12 secs): user=<u>, ...
//	Disconnected: Too many invalid commands (no auth attempts in 0 secs): ...
//	Aborted login (no auth attempts in 0 secs): ...
//	Login aborted: Connection closed (auth failed, 1 attempts in 2 secs) (auth_failed): ...
func parseDovecotLogin(e *event.Event, proto, msg string) {
	msg, severe := dovecotLevel(msg)
	head, list, found := dovecotCutList(msg)
	if !found {
		if severe {
			parseLevel(e, msg)
			return
		}
		if strings.HasPrefix(msg, "proxy(") {
			parseDovecotProxy(e, proto, msg)
			return
		}
		if strings.HasPrefix(msg, "ID sent: ") {
			e.Kind = event.KindNotice
			e.Protocol = proto
			e.Detail = msg
		}
		return
	}
	e.Protocol = proto
	tlsDetail := dovecotLoginList(e, list)
	if severe {
		// "Error: ...: user=<>, rip=...": a fault first, but keep the client.
		parseLevel(e, head)
		return
	}
	if head == "Login" {
		e.Kind = event.KindLogin
		return
	}
	if r, ok := strings.CutPrefix(head, "Login failed: "); ok {
		// auth_verbose: the login process refused an attempt itself
		// ("Plaintext authentication disabled", "SSL required for
		// authentication"); the disconnect line counts the attempt.
		e.Kind = event.KindAuthBackend
		e.Check = "login"
		e.Result = authResultDenied
		e.Detail = r
		return
	}
	if strings.HasPrefix(head, "proxy(") {
		parseDovecotProxy(e, proto, head)
		return
	}
	e.Kind = event.KindDisconnect
	e.Detail = head
	if tlsDetail != "" {
		e.Detail = tlsDetail
	}
	// The reason is the first parenthesised group; 2.4 adds a second one
	// with a machine-readable code ("(auth_failed)").
	reason, after, ok := paren(head)
	if !ok {
		return
	}
	if dovecotAuthFailedReason(reason) {
		e.Kind = event.KindAuthFailure
	} else if code, _, ok := paren(after); ok && dovecotAuthFailedCode(code) {
		e.Kind = event.KindAuthFailure
	}
	// "auth failed, 3 attempts in 12 secs"; "internal failure, 1/2
	// successful auths in 0 secs" counts the attempts after the slash.
	if i := strings.Index(reason, ", "); i >= 0 {
		r := reason[i+2:]
		if j := strings.IndexByte(r, '/'); j >= 0 && strings.Contains(r, " successful auths") {
			r = r[j+1:]
		} else if !strings.Contains(r, " attempts") {
			// 2.3's "(internal failure, 1 successful auths)" counts
			// successes, not attempts.
			r = ""
		}
		if len(r) > 0 && isDigit(r[0]) {
			e.Attempts = atoi(r)
		}
	}
}

// dovecotAuthFailedReason tells the disconnect reasons that mean the
// client's credentials or way of authenticating were refused
// (client_get_extra_disconnect_reason, 1.2-2.4). "authorization failed" is a
// master-user login whose target was refused. Attempts that never got a
// verdict ("client didn't finish SASL auth", "aborted authentication",
// "auth process communication failure") are not failures.
func dovecotAuthFailedReason(r string) bool {
	return strings.HasPrefix(r, "auth failed") || strings.HasPrefix(r, "authorization failed") ||
		strings.HasPrefix(r, "tried to use ") ||
		strings.HasPrefix(r, "proxy dest auth failed") || strings.HasPrefix(r, "proxy dest authentication failure") ||
		strings.HasPrefix(r, "user disabled") || strings.HasPrefix(r, "password expired")
}

// dovecotAuthFailedCode tells 2.4's machine-readable disconnect reasons
// ("(auth_failed)" after the human one) that mean the same.
func dovecotAuthFailedCode(c string) bool {
	switch c {
	case "auth_failed", "authorization_failed", "user_disabled", "password_expired",
		"invalid_mech", "cleartext_auth_disabled", "proxy_dest_auth_failed":
		return true
	}
	return false
}

// dovecotCutList splits a login-process text at the ": " that starts its
// "user=<...>, rip=..." list; the text before it may contain ": " itself.
func dovecotCutList(s string) (head, list string, ok bool) {
	if i := strings.Index(s, ": user=<"); i >= 0 {
		return s[:i], s[i+2:], true
	}
	if i := strings.Index(s, ": rip="); i >= 0 {
		return s[:i], s[i+2:], true
	}
	if i := strings.Index(s, " rip="); i >= 0 {
		// A list that does not start with user= or rip= (a custom
		// login_log_format_elements): it starts after the last ": ".
		if j := strings.LastIndex(s[:i], ": "); j >= 0 {
			return s[:j], s[j+2:], true
		}
	}
	return s, "", false
}

// dovecotLoginList reads login_log_format_elements: "user=<u>, method=M,
// rip=IP, lip=IP, rport=N, lport=N, mpid=N, TLS, session=<s>". The
// connection-security element is free text ("TLS", "secured", "TLS: Connection
// closed", "TLS handshaking: SSL_accept() failed: ...", "TLSv1.3 with cipher
// X (256/256 bits)"); it returns a handshake failure's text.
func dovecotLoginList(e *event.Event, s string) (tlsDetail string) {
	for len(s) > 0 {
		var item string
		if eq := strings.IndexByte(s, '='); eq > 0 && eq+1 < len(s) && s[eq+1] == '<' && eq < 10 {
			// user=<...>, session=<...>: the value may hold ", ".
			end := strings.IndexByte(s, '>')
			if end < 0 {
				item, s = s, ""
			} else {
				item, s = s[:end+1], s[end+1:]
			}
		} else {
			end := dovecotItemEnd(s)
			item, s = s[:end], s[end:]
		}
		for len(s) > 0 && (s[0] == ',' || s[0] == ' ') {
			s = s[1:]
		}
		key, val, isKV := strings.Cut(item, "=")
		if sp := strings.LastIndexByte(key, ' '); sp >= 0 && isKV && !strings.HasPrefix(item, "TLS") {
			// A custom element before the key ("XYZ rip=...").
			key = key[sp+1:]
		}
		if isKV && strings.IndexByte(key, ' ') < 0 {
			switch key {
			case "user":
				e.SASLUsername = unangle(val)
			case "method":
				e.SASLMethod = val
			case "rip":
				e.ClientIP = val
			case "lip":
				e.ServerIP = val
			case "rport":
				e.ClientPort = atoi(val)
			case "lport":
				e.ServerPort = atoi(val)
			}
			continue
		}
		switch {
		case item == "TLS" || strings.HasPrefix(item, "TLS: "):
			e.TLSLevel = "TLS"
		case strings.HasPrefix(item, "TLS handshaking"):
			tlsDetail = item
		case strings.HasPrefix(item, "TLSv") || strings.HasPrefix(item, "SSLv"):
			// %k (ssl_security_string): "TLSv1.3 with cipher X (256/256 bits)"
			if p, c, ok := strings.Cut(item, " with cipher "); ok {
				e.TLSLevel = "TLS"
				e.TLSProtocol = p
				c, _, _ = strings.Cut(c, " ")
				e.TLSCipher = c
			}
		}
	}
	return tlsDetail
}

// dovecotItemEnd finds the ", " that ends a login list item: one followed by
// another "key=" item or a TLS flag, so a TLS error text containing ", "
// stays whole.
func dovecotItemEnd(s string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], ", ")
		if j < 0 {
			return len(s)
		}
		j += i
		next := s[j+2:]
		k := 0
		for k < len(next) && ((next[k] >= 'a' && next[k] <= 'z') || next[k] == '_') {
			k++
		}
		if (k > 0 && k < len(next) && next[k] == '=') || strings.HasPrefix(next, "TLS") || strings.HasPrefix(next, "secured") {
			return j
		}
		i = j + 2
	}
}

// parseDovecotProxy handles "proxy(user): started proxying to host:port"
// and "proxy(user): disconnecting IP (reason)".
func parseDovecotProxy(e *event.Event, proto, s string) {
	inner, rest, ok := paren(s)
	if !ok {
		return
	}
	rest = strings.TrimPrefix(rest, ": ")
	e.Protocol = proto
	if e.SASLUsername == "" {
		e.SASLUsername = inner
	}
	switch {
	case strings.HasPrefix(rest, "started proxying"), strings.HasPrefix(rest, "Started proxying"):
		// 2.2 wrote it in lower case, 2.3 on in capitals: the proxied
		// login succeeded, and no "Login:" line follows.
		e.Kind = event.KindLogin
		e.Detail = rest
	case strings.HasPrefix(rest, "disconnecting"), strings.HasPrefix(rest, "disconnected"),
		strings.HasPrefix(rest, "Disconnected"):
		e.Kind = event.KindDisconnect
		e.Detail = rest
		if ip, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(rest, "disconnecting "), "disconnected "), " "); ok && e.ClientIP == "" && looksLikeIP(ip) {
			e.ClientIP = ip
		}
	case strings.HasPrefix(rest, "Login failed"):
		// The next hop refused the credentials of one attempt; the
		// client's disconnect line ("proxy dest auth failed") counts it.
		e.Kind = event.KindAuthBackend
		e.Check = "proxy"
		e.Result = authResultFailed
		e.Detail = rest
	default:
		e.Kind = event.KindNotice
		e.Detail = rest
	}
}

// parseDovecotMaster: the master process reports start, reload and signals.
func parseDovecotMaster(e *event.Event, msg string) {
	msg, severe := dovecotLevel(msg)
	if severe {
		parseLevel(e, msg)
		return
	}
	if msg != "" {
		e.Kind = event.KindNotice
		e.Detail = msg
	}
}

// parseDovecotMail handles the post-login and delivery processes (imap,
// pop3, lmtp, lda, managesieve, submission, indexer-worker ...).
func parseDovecotMail(e *event.Event, program, proto, user, msg string) {
	msg, severe := dovecotLevel(msg)
	text := msg
	if severe {
		_, text, _ = strings.Cut(msg, ": ")
	}
	e.Protocol = proto
	// "KqpVFMzzHGJkixYArqg3ow: msgid=..." — lmtp of 2.2 and some 2.3
	// builds put the session id before the text.
	if i := strings.Index(text, ": "); i >= 8 && dovecotSessionID(text[:i]) {
		if r := text[i+2:]; strings.HasPrefix(r, "msgid=") || strings.HasPrefix(r, "sieve: ") {
			text = r
		}
	}
	sieve := false
	if r, ok := strings.CutPrefix(text, "sieve: "); ok {
		text, sieve = r, true
	}
	if strings.HasPrefix(text, "msgid=") {
		parseDovecotDeliver(e, user, text)
		return
	}
	if severe || sieve {
		if severe {
			parseLevel(e, msg)
		} else {
			e.Kind = event.KindNotice
			e.Detail = text
		}
		if user != "" {
			e.SASLUsername = user
		}
		return
	}
	switch {
	case strings.HasPrefix(text, "Connect from "):
		e.Kind = event.KindConnect
		if ip := text[len("Connect from "):]; looksLikeIP(ip) {
			e.ClientIP = ip
		}
		return
	case strings.HasPrefix(text, "Disconnect from "):
		e.Kind = event.KindDisconnect
		from, reason, _ := strings.Cut(text[len("Disconnect from "):], ": ")
		if looksLikeIP(from) {
			e.ClientIP = from
		}
		e.Detail = reason
		return
	}
	if user != "" {
		e.SASLUsername = user
	}
	switch {
	case strings.HasPrefix(text, "Logged out"), strings.HasPrefix(text, "Disconnected"),
		strings.HasPrefix(text, "Connection closed"), strings.HasPrefix(text, "Server shutting down"),
		strings.HasPrefix(text, "Client has quit"):
		e.Kind = event.KindDisconnect
		e.Detail = text[:dovecotStatsStart(text)]
	case strings.Contains(text, "box="):
		// mail_log plugin: "expunge: box=INBOX, uid=1, msgid=<x>, size=9".
		e.Kind = event.KindNotice
		e.Detail = text
		if id, ok := kvValue(text, "msgid"); ok {
			e.MessageID = id
		}
	}
}

// dovecotSessionID accepts Dovecot's base64 session and delivery ids.
func dovecotSessionID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return len(s) >= 8
}

// dovecotStatsStart finds where the logout statistics ("in=12 out=345",
// "top=0/0, retr=0/0") begin: the first " key=" outside parentheses.
func dovecotStatsStart(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth > 0 {
				continue
			}
			k := i + 1
			for k < len(s) && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '_') {
				k++
			}
			if k > i+1 && k < len(s) && s[k] == '=' {
				return i
			}
		}
	}
	return len(s)
}

// parseDovecotDeliver handles mail_deliver's "msgid=<id>: saved mail to
// INBOX" (lmtp, lda) and Sieve's "msgid=<id>: stored mail into mailbox 'X'".
//
// A failed save is "bounced" when the reason is a full quota, because
// Dovecot's default (quota_full_tempfail=no) answers 552 5.2.2 and the MTA
// returns the message; any other save failure is "deferred", because Dovecot
// answers those with a 4xx temporary error and the MTA retries.
func parseDovecotDeliver(e *event.Event, user, text string) {
	v := text[len("msgid="):]
	var rest string
	if id, r, ok := angle(v); ok {
		e.MessageID = id
		rest = strings.TrimSpace(strings.TrimPrefix(r, ":"))
	} else {
		// No Message-ID header: "msgid=: saved mail" or "msgid=? ...".
		id, r, _ := strings.Cut(v, ": ")
		if id != "" && id != "?" {
			e.MessageID = id
		}
		rest = r
	}
	e.Detail = rest
	dovecotDeliverStatus(e, user, rest)
}

func dovecotDeliverStatus(e *event.Event, user, what string) {
	// Pigeonhole 0.5 names the Sieve action first: "fileinto action:
	// stored mail into mailbox 'Spam'", "keep action: ...".
	if i := strings.Index(what, " action: "); i > 0 && strings.IndexByte(what[:i], ' ') < 0 {
		what = what[i+len(" action: "):]
	}
	status := ""
	switch {
	case strings.HasPrefix(what, "saved mail to "), strings.HasPrefix(what, "stored mail into mailbox "),
		strings.HasPrefix(what, "left message in mailbox "), strings.HasPrefix(what, "forwarded to "),
		strings.HasPrefix(what, "redirected "), strings.HasPrefix(what, "discarded"),
		strings.HasPrefix(what, "marked message to be discarded"):
		// Forwards and discards are final dispositions too; Postfix logs
		// them as status=sent (forwarded as ..., discarded) likewise.
		status = "sent"
	case strings.HasPrefix(what, "rejected"):
		status = "bounced"
	case strings.HasPrefix(what, "save failed"), strings.HasPrefix(what, "failed to store"):
		status = "deferred"
		if strings.Contains(what, "Quota exceeded") || strings.Contains(what, "quota exceeded") {
			status = "bounced"
		}
	}
	if status == "" {
		// Vacation replies, notifications: about the message, not its fate.
		e.Kind = event.KindNotice
		return
	}
	e.Kind = event.KindDelivery
	e.Status = status
	e.Recipient = user
}
