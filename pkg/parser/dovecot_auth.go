package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Dovecot's auth process and its workers check credentials for the login
// processes (imap-login, pop3-login, submission-login, managesieve-login),
// for Postfix's smtpd (Dovecot SASL) and look users up for lmtp and lda.
// With auth_verbose (or auth_debug) they log each passdb/userdb verdict:
//
//	1.2:     auth(default): passwd-file(bob,10.0.0.1): unknown user
//	         auth-worker(default): pam(bob,10.0.0.1): pam_authenticate() failed: ...
//	2.0-2.2: auth: passwd-file(bob,10.0.0.1): Password mismatch
//	         auth-worker(1234): sql(bob,10.0.0.1,<sess>): unknown user
//	2.3:     auth: passwd-file(bob,10.0.0.1,<sess>): Password mismatch (given password: x)
//	         auth-worker(1234): conn unix:auth-worker (pid=1,uid=2): auth-worker<3>: sql(bob,10.0.0.1): unknown user
//	         auth: policy(bob,10.0.0.1): Authentication failure due to policy server refusal
//	2.4:     auth(bob,10.0.0.1,sasl:plain)<sess>: Info: passwd-file: Password mismatch
//	         auth-worker(bob,10.0.0.1,sasl:plain)<1234><sess>: request [4]: Info: sql: unknown user
//
// and PAM modules running inside the worker log under its ident:
//
//	auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=bob rhost=10.0.0.1  user=bob
//
// Every such line is a back end's verdict (event.KindAuthBackend): the front end
// that took the attempt writes its own line for it (smtpd's "SASL LOGIN
// authentication failed", imap-login's "auth failed, N attempts"), and a
// userdb lookup by lmtp or lda is no login at all. Check is the passdb or
// userdb driver ("passwd-file", "sql", "ldap", "pam", "pam_unix",
// "policy"), Result the verdict in a closed vocabulary (authResult*), Detail
// the text as written. Lines that carry no verdict (auth_debug's lookups,
// cache notes) are notices; Warning and Error lines stay warnings, since a
// broken back end is a fault to see.

// The verdicts a back end line can carry (event.Event.Result of event.KindAuthBackend).
const (
	authResultOK               = "ok"
	authResultPasswordMismatch = "password_mismatch"
	authResultUnknownUser      = "unknown_user"
	authResultInvalidCreds     = "invalid_credentials"
	authResultDisabled         = "disabled"
	authResultExpired          = "expired"
	authResultDenied           = "denied"
	authResultPolicy           = "policy_refused"
	authResultFailed           = "failed"
)

// parseDovecotAuth handles the auth and auth-worker processes. procInner is
// what stood in the parentheses after the process name ("", a pid, 1.x's
// "default", or 2.4's "user,ip,sasl:mech").
func parseDovecotAuth(e *event.Event, procInner, msg string) {
	msg, severe := dovecotLevel(msg)
	text := msg
	if severe {
		_, text, _ = strings.Cut(msg, ": ")
	}
	if strings.HasPrefix(text, "conn ") {
		// 2.3's worker: "conn unix:auth-worker (pid=1,uid=2): auth-worker<3>: ..."
		if i := strings.Index(text, "auth-worker<"); i >= 0 {
			if j := strings.Index(text[i:], ">: "); j >= 0 {
				text = text[i+j+3:]
			}
		}
	}
	if r, ok := strings.CutPrefix(text, "request ["); ok {
		// 2.4's worker: "request [4]: Info: sql: unknown user"
		if _, after, ok := strings.Cut(r, "]: "); ok {
			text = after
			if !severe {
				text, severe = dovecotLevel(text)
				if severe {
					msg = text
					_, text, _ = strings.Cut(text, ": ")
				}
			}
		}
	}
	if strings.HasPrefix(text, "pam_") {
		if fn, rest, ok := pamModuleLine(text); ok && !severe {
			parsePAMModule(e, fn, rest)
			return
		}
	}
	var db, inner, what string
	n := dovecotNameLen(text)
	switch {
	case n > 0 && n < len(text) && text[n] == '(':
		// 1.2-2.3: "passwd-file(user,ip,<session>): text"
		end := strings.Index(text[n:], "): ")
		if end < 0 {
			if severe {
				parseLevel(e, msg)
			}
			return
		}
		db, inner, what = text[:n], text[n+1:n+end], text[n+end+3:]
	case procInner != "" && procInner != "default" && !allDigits(procInner):
		// 2.4: the user and address were in the process prefix; the text
		// may start with the driver ("passwd-file: Password mismatch").
		inner, what = procInner, text
		if n > 0 && n+1 < len(text) && text[n] == ':' && text[n+1] == ' ' {
			db, what = text[:n], text[n+2:]
		}
	default:
		if severe {
			parseLevel(e, msg)
			return
		}
		dovecotAuthDebug(e, text)
		return
	}
	switch {
	case severe:
		parseLevel(e, msg)
	default:
		if r := dovecotAuthResult(what); r != "" {
			e.Kind = event.KindAuthBackend
			e.Check = db
			e.Result = r
		} else {
			e.Kind = event.KindNotice
		}
		e.Detail = what
	}
	dovecotAuthSubject(e, inner)
}

// dovecotAuthSubject reads the "user,ip,<session>" (1.2-2.3) or
// "user,ip,sasl:mech,master" (2.4) of an auth line: the session and the
// flags go, an address-looking field is the client, the rest (which may
// itself hold commas) the user.
func dovecotAuthSubject(e *event.Event, inner string) {
	if i := strings.LastIndex(inner, ",<"); i >= 0 && strings.HasSuffix(inner, ">") {
		inner = inner[:i]
	}
	// "ldap(bob,10.0.0.1,): ..." — an empty last field.
	inner = strings.TrimSuffix(inner, ",")
	inner = strings.TrimSuffix(inner, ",master")
	if i := strings.LastIndex(inner, ",sasl:"); i >= 0 {
		if m := inner[i+len(",sasl:"):]; strings.IndexByte(m, ',') < 0 {
			inner = inner[:i]
		}
	}
	if i := strings.LastIndexByte(inner, ','); i >= 0 && looksLikeIP(inner[i+1:]) && inner[i+1:] != "unknown" {
		e.ClientIP = inner[i+1:]
		inner = inner[:i]
	}
	if inner != "" && inner != "?" {
		e.SASLUsername = inner
	}
}

// dovecotAuthResult names the verdict in a passdb/userdb line, "" when the
// line carries none. It reads the wording of auth-request.c and the passdb
// drivers of 1.2-2.4.
func dovecotAuthResult(s string) string {
	switch {
	case strings.HasPrefix(s, "Password mismatch"), strings.HasPrefix(s, "No password returned"):
		return authResultPasswordMismatch
	case strings.HasPrefix(s, "unknown user"), strings.HasPrefix(s, "Unknown user"),
		strings.HasPrefix(s, "User not found"), strings.HasPrefix(s, "user not found"):
		return authResultUnknownUser
	case strings.HasPrefix(s, "pam_authenticate() failed: "):
		// Dovecot's own gloss on PAM_AUTH_ERR is "(password mismatch?)":
		// PAM does not tell a wrong password from a missing user.
		r := s[len("pam_authenticate() failed: "):]
		switch {
		case strings.HasPrefix(r, "User not known"), strings.HasPrefix(r, "No such user"):
			return authResultUnknownUser
		case strings.HasPrefix(r, "Authentication failure"):
			return authResultPasswordMismatch
		}
		return authResultFailed
	case strings.HasPrefix(s, "pam_acct_mgmt() failed: "):
		if strings.Contains(s, "expired") {
			return authResultExpired
		}
		return authResultDenied
	case strings.HasPrefix(s, "invalid credentials"), strings.HasPrefix(s, "Invalid credentials"):
		// LDAP auth_bind: a wrong password or a DN that does not exist.
		return authResultInvalidCreds
	case strings.HasPrefix(s, "User found from deny passdb"), strings.Contains(s, " check failed"),
		strings.HasPrefix(s, "Attempted login with password having illegal chars"):
		return authResultDenied
	case strings.Contains(s, "policy server refusal"):
		return authResultPolicy
	case strings.HasPrefix(s, "Policy check action is drop"):
		return authResultPolicy
	case strings.HasPrefix(s, "Falling back to expired data"):
		return ""
	case strings.Contains(s, "expired"):
		return authResultExpired
	case strings.Contains(s, "disabled") || strings.Contains(s, "nologin"):
		return authResultDisabled
	case strings.HasPrefix(s, "Login failed"), strings.HasPrefix(s, "login failed"),
		strings.HasPrefix(s, "Authentication failed"), strings.HasPrefix(s, "authentication failed"):
		return authResultFailed
	}
	return ""
}

// dovecotAuthDebug handles auth_debug lines without a passdb prefix. The
// one carrying a verdict is the auth server's answer to its client:
// "client passdb out: FAIL\t1\tuser=bob" (2.2-2.4), "client out: OK\t..."
// (2.0-2.1). Everything else is a notice.
func dovecotAuthDebug(e *event.Event, text string) {
	e.Kind = event.KindNotice
	e.Detail = text
	for _, p := range [...]string{"client passdb out: ", "client out: "} {
		r, ok := strings.CutPrefix(text, p)
		if !ok {
			continue
		}
		verdict, fields, _ := strings.Cut(r, "\t")
		switch verdict {
		case "OK":
			e.Result = authResultOK
		case "FAIL":
			e.Result = authResultFailed
		default:
			return
		}
		e.Kind = event.KindAuthBackend
		e.Check = "auth"
		if u, ok := tabValue(fields, "user"); ok {
			e.SASLUsername = u
		}
		return
	}
}

// tabValue finds key=value among tab-separated fields.
func tabValue(s, key string) (string, bool) {
	for s != "" {
		var f string
		f, s, _ = strings.Cut(s, "\t")
		if v, ok := strings.CutPrefix(f, key); ok && strings.HasPrefix(v, "=") {
			return v[1:], true
		}
	}
	return "", false
}

// pamModuleLine splits "pam_unix(dovecot:auth): text" into the module with
// its service and the text; the colon inside the parentheses is not the end
// of the name.
func pamModuleLine(s string) (fn, text string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || strings.IndexByte(s[:open], ' ') >= 0 {
		return "", s, false
	}
	end := strings.Index(s[open:], "):")
	if end < 0 {
		return "", s, false
	}
	end += open + 1
	return s[:end], strings.TrimLeft(s[end+1:], " "), true
}

// parsePAMModule handles a PAM module's own line under the ident of the
// process that loaded it (Dovecot's auth worker, saslauthd):
// "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0
// tty=dovecot ruser=bob rhost=10.0.0.1  user=bob" and "pam_unix(smtp:auth):
// check pass; user unknown". Check is the module, protocol the PAM service.
// Other module chatter (session opened, ...) is a notice.
func parsePAMModule(e *event.Event, fn, text string) {
	module := fn[:strings.IndexByte(fn, '(')]
	svc, _, _ := paren(fn)
	if svc, _, _ = strings.Cut(svc, ":"); svc != "" {
		e.Protocol = svc
	}
	e.Detail = text
	switch {
	case strings.Contains(text, "user unknown"):
		e.Result = authResultUnknownUser
	case strings.Contains(text, "authentication failure"):
		e.Result = authResultFailed
	default:
		e.Kind = event.KindNotice
		return
	}
	e.Kind = event.KindAuthBackend
	e.Check = module
	user := pamField(text, " user=")
	if user == "" {
		// Dovecot hands PAM the user as PAM_RUSER too; the logged user=
		// is missing when PAM could not map it to an account.
		user = pamField(text, " ruser=")
	}
	e.SASLUsername = user
	if h := pamField(text, " rhost="); looksLikeIP(h) && h != "unknown" {
		e.ClientIP = h
	}
}

// pamField reads a "key=value" of a pam_unix line; the value ends at a space.
func pamField(text, key string) string {
	i := strings.LastIndex(text, key)
	if i < 0 {
		return ""
	}
	v := text[i+len(key):]
	if sp := strings.IndexByte(v, ' '); sp >= 0 {
		v = v[:sp]
	}
	return v
}
