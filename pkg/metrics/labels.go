package metrics

import (
	"strings"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The mail metrics' label values. Each mapping below returns an index into
// one of these closed tables, so a label can never take a value read from a
// log line: whatever a line says, the series count is bounded by the
// product of the table sizes (and the service cap).

var afterNames = [...]string{"CONNECT", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT",
	"END-OF-MESSAGE", "RSET", "QUIT", "NOOP", "VRFY", "ETRN", "XCLIENT", "XFORWARD", "UNKNOWN", "other"}

// afterIndex maps the SMTP command after which a session ended. Postfix
// writes the command name upper-case; anything else (junk a client sent,
// an empty field on "SSL_accept error" lines) is other.
func afterIndex(s string) int {
	switch s {
	case "CONNECT":
		return 0
	case "EHLO":
		return 1
	case "HELO":
		return 2
	case "STARTTLS":
		return 3
	case "AUTH":
		return 4
	case "MAIL":
		return 5
	case "RCPT":
		return 6
	case "DATA":
		return 7
	case "BDAT":
		return 8
	case "END-OF-MESSAGE":
		return 9
	case "RSET":
		return 10
	case "QUIT":
		return 11
	case "NOOP":
		return 12
	case "VRFY":
		return 13
	case "ETRN":
		return 14
	case "XCLIENT":
		return 15
	case "XFORWARD":
		return 16
	case "UNKNOWN":
		return 17
	}
	return len(afterNames) - 1
}

var methodNames = [...]string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "XOAUTH2", "OAUTHBEARER",
	"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "EXTERNAL", "GSSAPI", "none", "other"}

const methodNone = len(methodNames) - 2

// methodIndex maps a SASL mechanism. Mechanism names are case-insensitive
// (RFC 4422), so "plain" is PLAIN; a line without one (Dovecot failures
// before a mechanism was chosen) is none.
func methodIndex(s string) int {
	if s == "" {
		return methodNone
	}
	for i, n := range methodNames[:methodNone] {
		if strings.EqualFold(s, n) {
			return i
		}
	}
	return len(methodNames) - 1
}

var authProgramNames = [...]string{"smtpd", "imap-login", "pop3-login", "submission-login", "managesieve-login",
	"auth", "auth-worker", "saslauthd", "other"}

func authProgramIndex(s string) int {
	switch s {
	case "smtpd":
		return 0
	case "imap-login":
		return 1
	case "pop3-login":
		return 2
	case "submission-login":
		return 3
	case "managesieve-login":
		return 4
	case "auth":
		return 5
	case "auth-worker":
		return 6
	case "saslauthd":
		return 7
	}
	return len(authProgramNames) - 1
}

var stageNames = [...]string{"connect", "helo", "mail", "rcpt", "data", "eom", "postscreen", "milter", "other"}

// stageIndex maps where a reject happened. postscreen's rejects name the
// command they answered (RCPT), but what matters to an operator is that
// postscreen, not smtpd's restrictions, turned the client away; likewise a
// milter's verdict, whichever stage it came at.
func stageIndex(e *event.Event) int {
	if e.Program == "postscreen" {
		return 6
	}
	if strings.HasPrefix(e.Action, "milter-") {
		return 7
	}
	switch e.RejectStage {
	case "connect":
		return 0
	case "helo":
		return 1
	case "mail":
		return 2
	case "rcpt":
		return 3
	case "data":
		return 4
	case "eom":
		return 5
	}
	return len(stageNames) - 1
}

// isReject tells the reject-like actions that refused mail from those that
// only flagged, rerouted or held it (reject_warning, filter, hold, discard,
// redirect, ...), which are not rejects a client saw.
func isReject(action string) bool {
	switch action {
	case "reject", "milter-reject", "proxy-reject", "milter-header-reject", "milter-body-reject":
		return true
	}
	return false
}

var classNames = [...]string{"4xx", "5xx", "other"}

// classIndex takes the class from the enhanced status code, else from the
// reply code. A reject whose line carries neither (postscreen's "too many
// connections", a cut line) is other rather than uncounted.
func classIndex(dsn, response string) int {
	c := byte(0)
	if dsn != "" {
		c = dsn[0]
	} else if len(response) >= 3 && isDigit(response[0]) && isDigit(response[1]) && isDigit(response[2]) {
		c = response[0]
	}
	switch c {
	case '4':
		return 0
	case '5':
		return 1
	}
	return 2
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var originNames = [...]string{"smtpd", "submission", "pickup", "bounce", "other"}

func originIndex(s string) int {
	switch s {
	case "smtpd":
		return 0
	case "submission":
		return 1
	case "pickup":
		return 2
	case "bounce":
		return 3
	}
	return len(originNames) - 1
}

var transportNames = [...]string{"smtp", "lmtp", "local", "virtual", "pipe", "other"}

const transportOther = len(transportNames) - 1

// transportIndex maps the delivery agent. error, discard, retry and relay
// (and anything a master.cf names differently) are other.
func transportIndex(program string) int {
	switch program {
	case "smtp":
		return 0
	case "lmtp":
		return 1
	case "local":
		return 2
	case "virtual":
		return 3
	case "pipe":
		return 4
	}
	return transportOther
}

var statusNames = [...]string{"sent", "deferred", "bounced", "expired"}

const statusExpired = 3

// statusIndex maps a delivery's status; -1 for statuses that are not a
// delivery attempt's outcome (address verification's deliverable and
// undeliverable), which are not counted.
func statusIndex(s string) int {
	switch s {
	case "sent":
		return 0
	case "deferred":
		return 1
	case "bounced":
		return 2
	case "expired", "force-expired":
		return statusExpired
	}
	return -1
}

var delayStageNames = [...]string{"before_qmgr", "in_qmgr", "conn_setup", "transmission", "total"}

var directionNames = [...]string{"inbound", "outbound", "other"}

// directionIndex tells TLS sessions clients opened to us from those we
// opened to other servers. A bare "lmtp" identifier is Dovecot's LMTP
// server; Postfix's lmtp client always logs under a syslog_name with a '/'.
func directionIndex(e *event.Event) int {
	if isDovecot(e) {
		return 0
	}
	switch e.Program {
	case "smtpd", "postscreen", "tlsproxy":
		return 0
	case "smtp", "lmtp":
		return 1
	}
	return 2
}

var protocolNames = [...]string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3", "other"}

func protocolIndex(s string) int {
	switch s {
	case "TLSv1":
		return 0
	case "TLSv1.1":
		return 1
	case "TLSv1.2":
		return 2
	case "TLSv1.3":
		return 3
	case "SSLv3":
		return 4
	}
	return len(protocolNames) - 1
}

var trustNames = [...]string{"anonymous", "untrusted", "trusted", "verified", "none", "other"}

// trustIndex maps Postfix's "Anonymous/Untrusted/Trusted/Verified TLS
// connection established"; none is a TLS line that names no trust level
// (Dovecot's).
func trustIndex(s string) int {
	switch s {
	case "Anonymous", "anonymous":
		return 0
	case "Untrusted", "untrusted":
		return 1
	case "Trusted", "trusted":
		return 2
	case "Verified", "verified":
		return 3
	case "":
		return 4
	}
	return len(trustNames) - 1
}

// verdictNames are postscreen's verdicts as Postfix writes them (both the
// pre-3.6 WHITELIST/BLACKLIST words and the 3.6 ALLOWLIST/DENYLIST ones).
// CONNECT and DISCONNECT are not verdicts but the session's start and end:
// CONNECT is parsed as a connect event and DISCONNECT is not counted, so
// that every counted verdict says what postscreen decided about a client.
var verdictNames = [...]string{"PASS NEW", "PASS OLD", "PREGREET", "DNSBL", "HANGUP",
	"WHITELISTED", "WHITELIST VETO", "ALLOWLISTED", "ALLOWLIST VETO", "BLACKLISTED", "DENYLISTED",
	"BARE NEWLINE", "COMMAND PIPELINING", "COMMAND COUNT LIMIT", "COMMAND LENGTH LIMIT", "COMMAND TIME LIMIT",
	"NON-SMTP COMMAND", "DATA without valid RCPT", "BDAT without valid RCPT", "other"}

// verdictIndex returns -1 for what is not counted: DISCONNECT and the
// verdict-less postscreen events (dnsblog answers).
func verdictIndex(s string) int {
	switch s {
	case "", "DISCONNECT", "CONNECT":
		return -1
	case "PASS NEW":
		return 0
	case "PASS OLD":
		return 1
	case "PREGREET":
		return 2
	case "DNSBL":
		return 3
	case "HANGUP":
		return 4
	case "WHITELISTED":
		return 5
	case "WHITELIST VETO":
		return 6
	case "ALLOWLISTED":
		return 7
	case "ALLOWLIST VETO":
		return 8
	case "BLACKLISTED":
		return 9
	case "DENYLISTED":
		return 10
	case "BARE NEWLINE":
		return 11
	case "COMMAND PIPELINING":
		return 12
	case "COMMAND COUNT LIMIT":
		return 13
	case "COMMAND LENGTH LIMIT":
		return 14
	case "COMMAND TIME LIMIT":
		return 15
	case "NON-SMTP COMMAND":
		return 16
	case "DATA without valid RCPT":
		return 17
	case "BDAT without valid RCPT":
		return 18
	}
	return len(verdictNames) - 1
}

var checkNames = [...]string{"dkim", "spf", "dmarc"}

// checkIndex returns -1 for checks outside the metric (amavis's content
// verdicts): they have their own result vocabulary.
func checkIndex(s string) int {
	switch s {
	case "dkim":
		return 0
	case "spf":
		return 1
	case "dmarc":
		return 2
	}
	return -1
}

var resultNames = [...]string{"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy", "signed", "other"}

func resultIndex(s string) int {
	switch s {
	case "pass":
		return 0
	case "fail":
		return 1
	case "softfail":
		return 2
	case "neutral":
		return 3
	case "none":
		return 4
	case "temperror":
		return 5
	case "permerror":
		return 6
	case "policy":
		return 7
	case "signed":
		return 8
	}
	return len(resultNames) - 1
}

// isDovecot tells Dovecot's lines: "dovecot: imap-login: ..." (service
// dovecot) or a process logging under its own identifier.
func isDovecot(e *event.Event) bool {
	if e.Service == "dovecot" {
		return true
	}
	if e.Service != e.Program {
		return false
	}
	switch e.Program {
	case "imap-login", "pop3-login", "imap", "pop3", "lmtp", "lda", "deliver", "auth", "auth-worker",
		"managesieve-login", "submission-login":
		return true
	}
	return false
}

// maxServiceLen bounds a service label value: Postfix syslog_names are
// short, and a longer one is a foreign or hostile line.
const maxServiceLen = 64

// validService tells whether s may become a service label value: client
// libraries panic on invalid UTF-8, and control characters in a label
// would only make a hostile line harder to spot.
func validService(s string) bool {
	if s == "" || len(s) > maxServiceLen || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
