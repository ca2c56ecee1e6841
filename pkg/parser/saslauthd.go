package parser

import "strings"

// parseSaslauthd handles Cyrus saslauthd, which prefixes its lines with the
// logging function's name padded to a column ("do_auth         : auth
// failure: [user=u] [service=smtp] [realm=r] [mech=pam] [reason=...]") and
// lets its backends and PAM modules log under its ident ("auth_zimbra: u auth
// OK", "pam_unix(smtp:auth): authentication failure; ... user=u").
//
// A successful check is a login: it is the same fact as Dovecot's "Login:",
// a password accepted for a user. protocol is the service the check was made
// for (service=smtp, the PAM service) and "sasl" when the line does not say.
func parseSaslauthd(e *Event, msg string) {
	colon := strings.IndexByte(msg, ':')
	if colon < 0 {
		parseLevel(e, msg)
		return
	}
	if strings.IndexByte(msg[:colon], '(') >= 0 {
		// "pam_unix(smtp:auth): ...": the colon inside the parentheses is
		// not the end of the name.
		if j := strings.Index(msg, "):"); j >= 0 {
			colon = j + 1
		}
	}
	fn, text := msg[:colon], msg[colon+1:]
	fn = strings.TrimRight(fn, " ")
	text = strings.TrimLeft(text, " ")
	if fn == "" || strings.IndexByte(fn, ' ') >= 0 {
		parseLevel(e, msg)
		return
	}
	switch {
	case strings.HasPrefix(text, "auth failure: "):
		e.Kind = KindAuthFailure
		saslauthdFields(e, text[len("auth failure: "):])
		return
	case strings.HasPrefix(text, "auth success: "):
		e.Kind = KindLogin
		saslauthdFields(e, text[len("auth success: "):])
		return
	case strings.HasPrefix(fn, "pam_") && strings.IndexByte(fn, '(') > 0:
		if saslauthdPAM(e, fn, text) {
			return
		}
	case strings.HasPrefix(fn, "auth_"):
		// Backends: "auth_zimbra: user@example.com auth OK".
		user, verdict, found := strings.Cut(text, " auth ")
		if found && strings.IndexByte(user, ' ') < 0 {
			switch {
			case strings.HasPrefix(verdict, "OK"):
				e.Kind = KindLogin
			case strings.HasPrefix(verdict, "fail"):
				e.Kind = KindAuthFailure
				e.Detail = verdict
			}
			if e.Kind != KindUnknown {
				e.SASLUsername = user
				e.Protocol = "sasl"
				return
			}
		}
	}
	if parseLevel(e, text) {
		return
	}
	// Start-up, socket and backend chatter (zmauth, zmpost, ipc_init,
	// detach_tty, server_exit).
	e.Kind = KindNotice
	e.Detail = text
}

// saslauthdFields reads "[user=u] [service=smtp] [realm=r] [mech=pam]
// [reason=PAM auth error]".
func saslauthdFields(e *Event, s string) {
	e.Protocol = "sasl"
	for {
		open := strings.IndexByte(s, '[')
		if open < 0 {
			return
		}
		end := strings.IndexByte(s[open:], ']')
		if end < 0 {
			end = len(s) - open
		}
		item := s[open+1 : open+end]
		if open+end < len(s) {
			s = s[open+end+1:]
		} else {
			s = ""
		}
		key, val, _ := strings.Cut(item, "=")
		switch key {
		case "user":
			e.SASLUsername = val
		case "service":
			if val != "" {
				e.Protocol = val
			}
		case "mech":
			e.SASLMethod = val
		case "reason":
			e.Detail = val
		}
	}
}

// saslauthdPAM handles PAM modules speaking under saslauthd's ident:
// "pam_unix(smtp:auth): authentication failure; logname= uid=0 euid=0 tty=
// ruser= rhost=  user=u" and "pam_unix(smtp:auth): check pass; user unknown".
func saslauthdPAM(e *Event, fn, text string) bool {
	if !strings.Contains(text, "authentication failure") && !strings.Contains(text, "user unknown") {
		return false
	}
	e.Kind = KindAuthFailure
	e.Detail = text
	if svc, _, ok := paren(fn); ok {
		if svc, _, _ = strings.Cut(svc, ":"); svc != "" {
			e.Protocol = svc
		}
	}
	if i := strings.LastIndex(text, " user="); i >= 0 {
		u := text[i+len(" user="):]
		if sp := strings.IndexByte(u, ' '); sp >= 0 {
			u = u[:sp]
		}
		e.SASLUsername = u
	}
	if i := strings.Index(text, " rhost="); i >= 0 {
		h := text[i+len(" rhost="):]
		if sp := strings.IndexByte(h, ' '); sp >= 0 {
			h = h[:sp]
		}
		if looksLikeIP(h) && h != "unknown" {
			e.ClientIP = h
		}
	}
	return true
}
