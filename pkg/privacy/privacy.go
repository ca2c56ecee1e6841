// Package privacy holds what mailtrail does to personal values: the
// write-side policies (Redactor) applied to events before anything is
// written — keep a field, replace it with a keyed pseudonym (HMAC-SHA256,
// so that "every event of user X" still works for a caller who knows X),
// pseudonymise an address's local part and keep its domain, drop the local
// part, or drop the field; the raw line is rewritten to follow the
// strictest policy of every value it contains, and so are the reply and
// warning texts — and the read-side masking of addresses for API viewers
// (Masker), on the journal's contents. Both find addresses and user names
// with one scanner (scan.go).
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Policy is what happens to a field.
type Policy uint8

// The policies, from the mildest to the strictest.
const (
	Keep Policy = iota
	// HMACLocal replaces an address's local part by a pseudonym of the
	// whole address and keeps the domain ("hmac:<hex>@example.com"), so
	// that tenant scopes and domain metrics still see the domain; a value
	// without a domain is pseudonymised whole, as under HMAC.
	HMACLocal
	DropLocal
	HMAC
	Drop
)

var policyNames = map[string]Policy{"keep": Keep, "hmac_local": HMACLocal, "drop_local": DropLocal, "hmac": HMAC, "drop": Drop}

// ParsePolicy reads a policy name as the configuration writes it.
func ParsePolicy(s string) (Policy, error) {
	p, ok := policyNames[s]
	if !ok {
		return Keep, fmt.Errorf("unknown privacy policy %q (want keep, hmac_local, drop_local, hmac or drop)", s)
	}
	return p, nil
}

func (p Policy) String() string {
	for n, v := range policyNames {
		if v == p {
			return n
		}
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// fields are the event fields that can name a person or a host, by their
// JSON names, with where they live in an Event.
var fields = map[string]func(*event.Event) *string{
	"sasl_username":  func(e *event.Event) *string { return &e.SASLUsername },
	"sender":         func(e *event.Event) *string { return &e.Sender },
	"recipient":      func(e *event.Event) *string { return &e.Recipient },
	"orig_recipient": func(e *event.Event) *string { return &e.OrigRecipient },
	"client_ip":      func(e *event.Event) *string { return &e.ClientIP },
	"client_host":    func(e *event.Event) *string { return &e.ClientHost },
	"helo":           func(e *event.Event) *string { return &e.Helo },
	"message_id":     func(e *event.Event) *string { return &e.MessageID },
}

// Fields lists the field names a policy may name.
func Fields() []string {
	out := make([]string, 0, len(fields))
	for f := range fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Config is the policy per field (absent fields are kept) and the HMAC key.
type Config struct {
	Fields map[string]Policy
	Secret []byte
}

type rule struct {
	name   string
	policy Policy
	get    func(*event.Event) *string
}

// Redactor applies a Config. It holds no mutable state: safe for
// concurrent use.
type Redactor struct {
	rules  []rule // strictest first, so a value in two fields gets the stricter treatment in raw
	secret []byte
	macs   sync.Pool // of hash.Hash: hmac.New costs more than the hashing
}

// New checks a Config: only known fields, and a secret of at least 16
// bytes when any field is pseudonymised.
func New(cfg Config) (*Redactor, error) {
	r := &Redactor{secret: cfg.Secret}
	r.macs.New = func() any { return hmac.New(sha256.New, r.secret) }
	for name, p := range cfg.Fields {
		get, ok := fields[name]
		if !ok {
			return nil, fmt.Errorf("privacy: no field %q (fields: %s)", name, strings.Join(Fields(), ", "))
		}
		if (p == HMAC || p == HMACLocal) && len(cfg.Secret) < 16 {
			return nil, fmt.Errorf("privacy: field %s is pseudonymised but the secret is %d bytes (want at least 16)", name, len(cfg.Secret))
		}
		if p != Keep {
			r.rules = append(r.rules, rule{name: name, policy: p, get: get})
		}
	}
	sort.Slice(r.rules, func(i, j int) bool {
		if r.rules[i].policy != r.rules[j].policy {
			return r.rules[i].policy > r.rules[j].policy
		}
		return r.rules[i].name < r.rules[j].name
	})
	return r, nil
}

// Policy is the policy of a field.
func (r *Redactor) Policy(field string) Policy {
	for _, ru := range r.rules {
		if ru.name == field {
			return ru.policy
		}
	}
	return Keep
}

// Query turns a value a user asks for into what the journal holds for
// field: its pseudonym when the field is pseudonymised, the value itself
// otherwise (a dropped field cannot be searched).
func (r *Redactor) Query(field, value string) string {
	switch r.Policy(field) {
	case HMAC:
		return r.Pseudonym(value)
	case HMACLocal:
		return r.LocalPseudonym(value)
	}
	return value
}

// Active reports whether any field is changed.
func (r *Redactor) Active() bool { return len(r.rules) > 0 }

// Pseudonym is the stable stand-in HMAC gives a value: what a query for
// that value must look for in a pseudonymised journal.
func (r *Redactor) Pseudonym(value string) string {
	m := r.macs.Get().(hash.Hash)
	m.Reset()
	io.WriteString(m, value)
	var sum [sha256.Size]byte
	digest := m.Sum(sum[:0])
	r.macs.Put(m)
	var out [len(pseudonymPrefix) + 32]byte
	copy(out[:], pseudonymPrefix)
	hex.Encode(out[len(pseudonymPrefix):], digest[:16])
	return string(out[:])
}

const pseudonymPrefix = "hmac:"

// LocalPseudonym is what HMACLocal makes of a value: the pseudonym of the
// whole address (so that alice@a.example and alice@b.example differ) with
// the domain kept; a value without a domain gets its Pseudonym.
func (r *Redactor) LocalPseudonym(value string) string {
	if _, domain, ok := splitAddress(value); ok {
		return r.Pseudonym(value) + "@" + domain
	}
	return r.Pseudonym(value)
}

// Apply rewrites e's fields and raw line in place.
func (r *Redactor) Apply(e *event.Event) {
	if len(r.rules) == 0 {
		return
	}
	// The free text of a line (the raw line itself, an SMTP reply, a
	// warning's text) repeats the values the fields hold: it follows the
	// same policies.
	texts := [...]*string{&e.Raw, &e.Response, &e.Detail}
	for _, ru := range r.rules {
		f := ru.get(e)
		orig := *f
		if orig == "" || ((ru.policy == HMAC || ru.policy == HMACLocal) && strings.HasPrefix(orig, pseudonymPrefix)) {
			// Empty, or already a pseudonym (the correlator, rebuilt from
			// the journal, fills fields with what the journal holds).
			continue
		}
		var repl string
		switch ru.policy {
		case Drop:
			repl = ""
		case HMAC:
			repl = r.Pseudonym(orig)
		case HMACLocal:
			repl = r.LocalPseudonym(orig)
		case DropLocal:
			if _, domain, ok := splitAddress(orig); ok {
				repl = "@" + domain
			} else {
				// Not an address: nothing but the local part to drop.
				repl = ""
			}
		}
		*f = repl
		if repl == orig {
			continue
		}
		for _, text := range texts {
			if strings.Contains(*text, orig) {
				*text = strings.ReplaceAll(*text, orig, rawStandIn(ru.policy, repl))
			}
		}
	}
}

// rawStandIn is what replaces a value in the raw line: the pseudonym or
// the kept domain, or a marker where the value is dropped, so the line
// still reads as a line.
func rawStandIn(p Policy, repl string) string {
	if p == Drop || repl == "" {
		return "[redacted]"
	}
	return repl
}
