package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Masker hides e-mail addresses from callers who may see the traffic but
// not the people (the API's viewer role): every address's local part
// becomes a keyed pseudonym ("u-1a2b3c4d@example.org"), stable for one
// key, so a viewer can still tell two recipients apart or follow one
// sender through a trace. It works on what the journal holds, after the
// write-side policies.
type Masker struct {
	key []byte
}

// NewMasker makes a Masker; key should be secret (a fresh random key per
// process is fine: pseudonyms then only hold within one run).
func NewMasker(key []byte) *Masker { return &Masker{key: key} }

// pseudonym is the stand-in for a local part or a bare user name.
func (m *Masker) pseudonym(s string) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(strings.ToLower(s)))
	return "u-" + hex.EncodeToString(h.Sum(nil)[:4])
}

// Text masks every address in s.
func (m *Masker) Text(s string) string {
	return replaceLocalParts(s, func(local, _ string) string { return m.pseudonym(local) })
}

// User masks a user name: an address like Text, a bare name wholly.
func (m *Masker) User(s string) string {
	if s == "" {
		return s
	}
	if isBareUser(s) {
		return m.pseudonym(s)
	}
	return m.Text(s)
}

var stringType = reflect.TypeOf("")

// Event masks every string field of e. It walks the struct rather than a
// list of fields so that a field added to the Event later is covered too.
func (m *Masker) Event(e *event.Event) {
	// Bare user names appear in raw lines too (Dovecot's user=<alice>):
	// replace them there before the field itself is rewritten.
	if u := e.SASLUsername; isBareUser(u) {
		p := m.pseudonym(u)
		e.Raw = replaceWord(e.Raw, u, p)
		e.Detail = replaceWord(e.Detail, u, p)
		e.SASLUsername = p
	}
	v := reflect.ValueOf(e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() == stringType && f.CanSet() {
			f.SetString(m.Text(f.String()))
		}
	}
}
