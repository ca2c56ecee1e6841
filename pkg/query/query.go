// Package query is the read side of the journal shared by the HTTP API and
// the CLI reports: message traces, event pages, the login audit table,
// per-step counts, distinct values and the instance's summary. It reads
// events only through journal.Scan, and applies who may see what (tenant
// scopes, redaction) itself, so every caller gets the same answer for the
// same access.
package query

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// ErrNotFound is returned when a lookup (a trace) finds nothing visible.
var ErrNotFound = assemble.ErrNotFound

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
func (a *Access) ownsEvent(e *event.Event) bool {
	return a.inTenants(e.Sender) || a.inTenants(e.Recipient) || a.inTenants(e.OrigRecipient) || a.inTenants(e.SASLUsername)
}

// systemKind reports whether k is one of the journal's own records.
func systemKind(k event.Kind) bool { return assemble.SystemKind(k) }

// Visible reports whether the caller may see e on its own (outside a
// trace, where the message decides; see Trace).
func (a *Access) Visible(e *event.Event) bool {
	if systemKind(e.Kind) && !a.System {
		return false
	}
	return !a.scoped() || a.ownsEvent(e)
}

// match is a journal.Filter.Match for Visible.
func (a *Access) match(s *journal.Stored) bool { return a.Visible(&s.Event) }

// Out prepares an event for the caller: redacted when the caller sees no
// addresses. It changes e in place.
func (a *Access) Out(e *event.Event) {
	if a.Redact != nil {
		a.Redact.Event(e)
	}
}

// Redactor is the viewer masking (privacy.Masker): addresses' local parts
// and bare user names become per-key pseudonyms.
type Redactor = privacy.Masker

// NewRedactor makes a Redactor; key should be secret.
func NewRedactor(key []byte) *Redactor { return privacy.NewMasker(key) }

// Event is a journaled event as the API returns it (shared with the
// plugin).
type Event = apiv1.Event

// ParamError is a request the query cannot answer as asked; Param names
// the parameter at fault.
type ParamError = assemble.ParamError
