package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseSaslauthd handles Cyrus saslauthd, which prefixes its lines with the
// logging function's name padded to a column ("do_auth         : auth
// failure: [user=u] [service=smtp] [realm=r] [mech=pam] [reason=...]") and
// lets its backends and PAM modules log under its ident ("auth_zimbra: u auth
// OK", "pam_unix(smtp:auth): authentication failure; ... user=u").
//
// Every verdict is a back end's (event.KindAuthBackend, never counted as an
// attempt): saslauthd checks passwords for smtpd (Cyrus SASL) or an IMAP
// server, and that front end logs the attempt itself ("SASL LOGIN
// authentication failed", client= with sasl_username=). Check is saslauthd's
// mechanism (mech=pam, shadow, ldap, rimap, ...) or the backend's name,
// Result "ok" or the failure; protocol is the service the check was made for
// (service=smtp, the PAM service) and "sasl" when the line does not say.
func parseSaslauthd(e *event.Event, msg string) {
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
		e.Kind = event.KindAuthBackend
		e.Result = authResultFailed
		saslauthdFields(e, text[len("auth failure: "):])
		if strings.Contains(e.Detail, "nknown user") || strings.Contains(e.Detail, "User not known") {
			e.Result = authResultUnknownUser
		}
		return
	case strings.HasPrefix(text, "auth success: "):
		e.Kind = event.KindAuthBackend
		e.Result = authResultOK
		saslauthdFields(e, text[len("auth success: "):])
		return
	case strings.HasPrefix(fn, "pam_") && strings.IndexByte(fn, '(') > 0:
		parsePAMModule(e, fn, text)
		return
	case strings.HasPrefix(fn, "auth_"):
		// Backends: "auth_zimbra: user@example.com auth OK".
		user, verdict, found := strings.Cut(text, " auth ")
		if found && strings.IndexByte(user, ' ') < 0 {
			switch {
			case strings.HasPrefix(verdict, "OK"):
				e.Result = authResultOK
			case strings.HasPrefix(verdict, "fail"):
				e.Result = authResultFailed
				e.Detail = verdict
			}
			if e.Result != "" {
				e.Kind = event.KindAuthBackend
				e.Check = fn[len("auth_"):]
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
	e.Kind = event.KindNotice
	e.Detail = text
}

// saslauthdFields reads "[user=u] [service=smtp] [realm=r] [mech=pam]
// [reason=PAM auth error]".
func saslauthdFields(e *event.Event, s string) {
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
			e.Check = val
		case "reason":
			e.Detail = val
		}
	}
}
