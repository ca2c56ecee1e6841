// Package query is the read side of the journal shared by the HTTP API and
// the CLI reports: message traces, event pages, the login audit table,
// per-step counts, distinct values and the instance's summary. It reads
// events only through journal.Scan, and applies who may see what (tenant
// scopes, redaction) itself, so every caller gets the same answer for the
// same access.
package query

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"regexp"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// ErrNotFound is returned when a lookup (a trace) finds nothing visible.
var ErrNotFound = errors.New("not found")

// Enricher adds what the log line does not say; nil means none.
type Enricher interface {
	// Country is the ISO 3166 code of ip, "" when unknown.
	Country(ip string) string
}

// Access is what a caller may see. The zero value sees everything, as the
// CLI on the host does.
type Access struct {
	// Tenants, when not empty, limits the caller to events where a sender,
	// recipient or SASL user lies in one of these domains (subdomains
	// included): a tenant never sees mail that is only another tenant's.
	Tenants []string
	// Redact replaces the local part of every e-mail address, in every
	// field and text, by a pseudonym (see Redactor).
	Redact *Redactor
	// System lets the caller see the journal's own records (API accesses,
	// erasures), which name other callers and what they asked.
	System bool
}

// scoped reports whether the caller is limited to tenants.
func (a *Access) scoped() bool { return len(a.Tenants) > 0 }

// inTenants reports whether addr (an address or a bare domain) lies in one
// of the caller's domains.
func (a *Access) inTenants(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	dom := strings.ToLower(addr[at+1:])
	for _, d := range a.Tenants {
		d = strings.ToLower(d)
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}

// ownsEvent reports whether one of e's addresses is the caller's.
func (a *Access) ownsEvent(e *parser.Event) bool {
	return a.inTenants(e.Sender) || a.inTenants(e.Recipient) || a.inTenants(e.OrigRecipient) || a.inTenants(e.SASLUsername)
}

// systemKind reports whether k is one of the journal's own records.
func systemKind(k parser.Kind) bool { return k == parser.KindAccess || k == parser.KindErasure }

// Visible reports whether the caller may see e on its own (outside a
// trace, where the message decides; see Trace).
func (a *Access) Visible(e *parser.Event) bool {
	if systemKind(e.Kind) && !a.System {
		return false
	}
	return !a.scoped() || a.ownsEvent(e)
}

// match is a journal.Filter.Match for Visible.
func (a *Access) match(s *journal.Stored) bool { return a.Visible(&s.Event) }

// Out prepares an event for the caller: redacted when the caller sees no
// addresses. It changes e in place.
func (a *Access) Out(e *parser.Event) {
	if a.Redact != nil {
		a.Redact.Event(e)
	}
}

// Redactor hides e-mail addresses from callers who may see the traffic but
// not the people: every address's local part becomes a keyed pseudonym
// ("u-1a2b3c4d@example.org"), stable for one key, so a viewer can still tell
// two recipients apart or follow one sender through a trace.
type Redactor struct {
	key []byte
}

// NewRedactor makes a Redactor; key should be secret (a fresh random key
// per process is fine: pseudonyms then only hold within one run).
func NewRedactor(key []byte) *Redactor { return &Redactor{key: key} }

// addrRE finds e-mail addresses in free text (raw lines, SMTP replies,
// Dovecot's lmtp(user@domain) prefixes). It is deliberately generous about
// the local part: whatever stands before an @ and a dotted domain is taken
// as an address.
var addrRE = regexp.MustCompile(`[^\s<>()\[\]"',;:=/]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)`)

// bareUserRE matches a user name without a domain (a SASL or IMAP login).
var bareUserRE = regexp.MustCompile(`^[^\s@]+$`)

// pseudonym is the stand-in for a local part or a bare user name.
func (r *Redactor) pseudonym(s string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(strings.ToLower(s)))
	return "u-" + hex.EncodeToString(m.Sum(nil)[:4])
}

// Text redacts every address in s.
func (r *Redactor) Text(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addrRE.ReplaceAllStringFunc(s, func(addr string) string {
		at := strings.LastIndexByte(addr, '@')
		return r.pseudonym(addr[:at]) + addr[at:]
	})
}

// User redacts a user name: an address like Text, a bare name wholly.
func (r *Redactor) User(s string) string {
	if s == "" {
		return s
	}
	if bareUserRE.MatchString(s) {
		return r.pseudonym(s)
	}
	return r.Text(s)
}

var stringType = reflect.TypeOf("")

// Event redacts every string field of e. It walks the struct rather than a
// list of fields so that a field added to the Event later is covered too.
func (r *Redactor) Event(e *parser.Event) {
	// Bare user names appear in raw lines too (Dovecot's user=<alice>):
	// replace them there before the field itself is rewritten.
	if u := e.SASLUsername; u != "" && bareUserRE.MatchString(u) {
		p := r.pseudonym(u)
		e.Raw = replaceWord(e.Raw, u, p)
		e.Detail = replaceWord(e.Detail, u, p)
		e.SASLUsername = p
	}
	v := reflect.ValueOf(e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() == stringType && f.CanSet() {
			f.SetString(r.Text(f.String()))
		}
	}
}

// replaceWord replaces the occurrences of w in s that stand alone (not
// inside a longer name), so a short user name does not mangle the line.
func replaceWord(s, w, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, w)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(w)
		if (i > 0 && isNameByte(s[i-1])) || (end < len(s) && isNameByte(s[end])) {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i])
			b.WriteString(repl)
		}
		s = s[end:]
	}
}

func isNameByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c == '+' || c == '@' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// Event is a journaled event as the API returns it (shared with the
// plugin).
type Event = apiv1.Event

// ParamError is a request the query cannot answer as asked; Param names
// the parameter at fault.
type ParamError struct {
	Param, Msg string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }
