// Package event holds mailtrail's domain types: the Event every log line
// becomes, its Kind, and the Position a source was read up to. The parser
// writes events, the tailer positions; the journal, the correlator, the
// metrics, the query side and the plugin all read them. The JSON field
// names are a public contract.
package event

import (
	"fmt"
	"time"
)

// Kind classifies an Event. The string forms are a public contract: the
// journal, the HTTP API, the Grafana plugin and the reports all use them.
type Kind uint8

// The kinds, in the order of the contract. KindNotice is an addition for
// recognised informational lines (daemon start/stop, configuration notices)
// that fit no other kind and must not count as unparsed.
const (
	KindUnknown Kind = iota
	KindConnect
	KindDisconnect
	KindLostConnection
	KindTLS
	KindAuthFailure
	KindClient
	KindLogin
	KindMessageID
	KindQueued
	KindDelivery
	KindRemoved
	KindExpired
	KindBounceNotice
	KindReject
	KindPickup
	KindPostscreen
	KindPolicy
	KindWarning
	KindStats
	KindNotice
	// The journal's own records, never produced by parsing a line: an API
	// call (who asked what) and an erasure (forget) or retention run. They
	// share the Merkle tree with the mail events, so they are as
	// tamper-evident as what they are about.
	KindAccess
	KindErasure
	// KindAuthBackend is an authentication back end's verdict on one
	// credential check: Dovecot's auth process (passdb/userdb lookups with
	// auth_verbose or auth_debug: "passwd-file(bob,10.0.0.1): Password
	// mismatch"), saslauthd, pam_unix. The front end that took the attempt
	// (smtpd, imap-login, ...) writes its own line for the same attempt, so
	// a back-end line is journaled and searchable but never counted as an
	// attempt: not in postfix_auth_failures_total, the offender windows or
	// the login audit. Check names the back end (passwd-file, sql, ldap,
	// pam, ...), Result its verdict. It comes after the journal's own kinds
	// because kind numbers are stored.
	KindAuthBackend
	// The policy service's records (pkg/suspend), journaled by serve or by
	// the suspend commands, never produced by parsing a line and never
	// counted as an attempt or a login. KindSuspend is a suspension given
	// (SASLUsername or ClientIP the subject, Action the refusal, Detail
	// the reason, Check who or which rule, Delay its duration in seconds,
	// 0 for permanent); KindUnsuspend one lifted (Action lift) or expired
	// (Action expire); KindPolicyRefusal an answer that refused a client,
	// or would have in dry run (Action would_reject, ...); KindAuthReport
	// Dovecot's report of an authentication's outcome to its auth policy
	// server (Result ok, failed or policy_refused). Appended here because
	// kind numbers are stored.
	KindSuspend
	KindUnsuspend
	KindPolicyRefusal
	KindAuthReport
	// NumKinds is one more than the highest kind.
	NumKinds
)

var kindNames = [NumKinds]string{
	KindUnknown:        "unknown",
	KindConnect:        "connect",
	KindDisconnect:     "disconnect",
	KindLostConnection: "lost_connection",
	KindTLS:            "tls",
	KindAuthFailure:    "auth_failure",
	KindClient:         "client",
	KindLogin:          "login",
	KindMessageID:      "message_id",
	KindQueued:         "queued",
	KindDelivery:       "delivery",
	KindRemoved:        "removed",
	KindExpired:        "expired",
	KindBounceNotice:   "bounce_notice",
	KindReject:         "reject",
	KindPickup:         "pickup",
	KindPostscreen:     "postscreen",
	KindPolicy:         "policy",
	KindWarning:        "warning",
	KindStats:          "stats",
	KindNotice:         "notice",
	KindAccess:         "access",
	KindErasure:        "erasure",
	KindAuthBackend:    "auth_backend",
	KindSuspend:        "suspend",
	KindUnsuspend:      "unsuspend",
	KindPolicyRefusal:  "policy_refusal",
	KindAuthReport:     "auth_report",
}

// Kinds lists every kind in contract order.
func Kinds() []Kind {
	ks := make([]Kind, NumKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return KindUnknown, fmt.Errorf("unknown event kind %q", s)
}

// MarshalText makes Kind a JSON string.
func (k Kind) MarshalText() ([]byte, error) {
	if k >= NumKinds {
		return nil, fmt.Errorf("invalid event kind %d", uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText accepts the names returned by String.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Delays are Postfix's delays=a/b/c/d: time before the queue manager
// (including message transmission), in the queue manager, in connection setup
// (including DNS, HELO and TLS) and in message transmission.
type Delays struct {
	BeforeQmgr   float64 `json:"before_qmgr"`
	InQmgr       float64 `json:"in_qmgr"`
	ConnSetup    float64 `json:"conn_setup"`
	Transmission float64 `json:"transmission"`
}

// Event is one parsed log line. The JSON field names are a public contract;
// empty fields are omitted.
type Event struct {
	Time          time.Time `json:"time,omitzero"`
	Instance      string    `json:"instance,omitempty"`
	Host          string    `json:"host,omitempty"`
	Service       string    `json:"service,omitempty"`
	Program       string    `json:"program,omitempty"`
	PID           int       `json:"pid,omitempty"`
	QueueID       string    `json:"queue_id,omitempty"`
	Kind          Kind      `json:"kind"`
	ClientHost    string    `json:"client_host,omitempty"`
	ClientIP      string    `json:"client_ip,omitempty"`
	ClientPort    int       `json:"client_port,omitempty"`
	ServerIP      string    `json:"server_ip,omitempty"`
	ServerPort    int       `json:"server_port,omitempty"`
	SASLMethod    string    `json:"sasl_method,omitempty"`
	SASLUsername  string    `json:"sasl_username,omitempty"`
	Sender        string    `json:"sender,omitempty"`
	Recipient     string    `json:"recipient,omitempty"`
	OrigRecipient string    `json:"orig_recipient,omitempty"`
	RelayHost     string    `json:"relay_host,omitempty"`
	RelayIP       string    `json:"relay_ip,omitempty"`
	RelayPort     int       `json:"relay_port,omitempty"`
	// Delay is in seconds. Postfix writes delay= on every delivery line, so
	// consumers treat an absent value on a delivery as 0.
	Delay       float64 `json:"delay,omitempty"`
	Delays      Delays  `json:"delays,omitzero"`
	DSN         string  `json:"dsn,omitempty"`
	Status      string  `json:"status,omitempty"`
	Response    string  `json:"response,omitempty"`
	Size        int64   `json:"size,omitempty"`
	Nrcpt       int     `json:"nrcpt,omitempty"`
	MessageID   string  `json:"message_id,omitempty"`
	TLSProtocol string  `json:"tls_protocol,omitempty"`
	TLSCipher   string  `json:"tls_cipher,omitempty"`
	TLSTrust    string  `json:"tls_trust,omitempty"`
	TLSLevel    string  `json:"tls_level,omitempty"`
	NextQueueID string  `json:"next_queue_id,omitempty"`
	RejectStage string  `json:"reject_stage,omitempty"`
	Attempts    int     `json:"attempts,omitempty"`
	Protocol    string  `json:"protocol,omitempty"`
	Helo        string  `json:"helo,omitempty"`
	// Action is what a reject-like line did: reject, reject_warning,
	// milter-reject, discard, hold, filter, redirect, prepend, replace, ...
	Action string `json:"action,omitempty"`
	// After is the SMTP command after which a session ended or timed out.
	After string `json:"after,omitempty"`
	// Commands is smtpd's per-session command summary ("ehlo=1 mail=1 ... commands=5").
	Commands string `json:"commands,omitempty"`
	// Verdict is a postscreen verdict (PASS NEW, PREGREET, DNSBL, ...).
	Verdict     string `json:"verdict,omitempty"`
	DNSBLRank   int    `json:"dnsbl_rank,omitempty"`
	DNSBLDomain string `json:"dnsbl_domain,omitempty"`
	// Check and Result are a policy verdict: check is dkim, spf or dmarc.
	Check  string `json:"check,omitempty"`
	Result string `json:"result,omitempty"`
	// Domain is the domain a policy verdict speaks of (DKIM d=, SPF identity,
	// DMARC header-from).
	Domain string `json:"domain,omitempty"`
	// Level is the severity of a warning line: warning, error, fatal, panic.
	Level string `json:"level,omitempty"`
	// Detail is the free text of warnings, notices and other lines whose text
	// is not an SMTP reply.
	Detail string `json:"detail,omitempty"`
	// Origin is how the message this event belongs to entered Postfix:
	// smtpd, submission, pickup or bounce. The correlator sets it; the
	// parser never does.
	Origin string `json:"origin,omitempty"`
	// Repeat is how many times the line stood for the same message: a
	// syslog daemon's "message repeated N times: [ ... ]" is one line for N
	// occurrences. 0 and 1 both mean once; metrics and offender windows count
	// an event Weight() times, the journal keeps it once.
	Repeat int    `json:"repeat,omitempty"`
	Raw    string `json:"raw,omitempty"`
}

// Weight is how many occurrences the event stands for: its Repeat count, at
// least 1.
func (e *Event) Weight() int {
	if e.Repeat > 1 {
		return e.Repeat
	}
	return 1
}

// FailedAttempts is how many failed login attempts e stands for: an
// auth_failure line counts its Attempts (Dovecot's "auth failed, N
// attempts"; at least 1) times its Weight. Every other line, a back end's
// verdict (auth_backend) included, stands for none: the front end that took
// the attempt (smtpd, imap-login, ...) writes the line that counts it.
func (e *Event) FailedAttempts() int {
	if e.Kind != KindAuthFailure {
		return 0
	}
	n := 1
	if e.Attempts > 1 {
		n = e.Attempts
	}
	return n * e.Weight()
}

// Position is how far a source was read: a file's fingerprint (its first
// line's hash), inode and byte offset, or a journald cursor.
type Position struct {
	Fingerprint string `json:"fingerprint,omitempty"`
	Inode       uint64 `json:"inode,omitempty"`
	Offset      int64  `json:"offset,omitempty"`
	Cursor      string `json:"cursor,omitempty"`
}

// IsZero reports whether p says nothing (start from the beginning).
func (p Position) IsZero() bool { return p == Position{} }
