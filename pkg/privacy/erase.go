package privacy

import (
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Erase replaces every appearance of subject (an address or user name,
// compared case-insensitively, as mail systems compare addresses) in every
// string field of e, the raw line and reply texts included, with standIn.
// It reports whether anything changed. Erasure is rare and must not miss a
// field added to the Event later, so it walks the struct by reflection
// rather than a list that could fall behind.
func Erase(e *event.Event, subject, standIn string) bool {
	if subject == "" {
		return false
	}
	changed := false
	v := reflect.ValueOf(e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.String || !f.CanSet() {
			continue
		}
		if s, ok := EraseString(f.String(), subject, standIn); ok {
			f.SetString(s)
			changed = true
		}
	}
	return changed
}

// EraseString is Erase of one string: s with every appearance of subject
// replaced by standIn, and whether there was one. What the process keeps
// in memory (suspensions) is erased with it, to read as the rewritten
// journal will.
func EraseString(s, subject, standIn string) (string, bool) {
	if subject == "" {
		return s, false
	}
	return replaceFold(s, subject, standIn)
}

// CheckSubject refuses erasure subjects that would match far more than
// one person: erasure replaces every whole-word appearance.
func CheckSubject(s string) error {
	switch {
	case len(s) < 3:
		return errors.New("too short to name one person (at least 3 characters)")
	case len(s) > 320:
		return errors.New("longer than an address can be (320 characters)")
	case strings.ContainsAny(s, " \t\r\n<>,;\"'()[]"):
		return errors.New("not an address or user name (it holds spaces, brackets or quotes)")
	case strings.HasPrefix(s, "@") || strings.HasSuffix(s, "@"):
		return errors.New("a domain or a local part alone would erase other people's addresses")
	}
	return nil
}

// Subjects is what an erasure of subject must look for in a journal
// written under r's policies: the subject and, where fields are
// pseudonymised, its pseudonyms (hmac and hmac_local differ).
func (r *Redactor) Subjects(subject string) []string {
	out := []string{subject}
	if r == nil {
		return out
	}
	for _, field := range Fields() {
		if q := r.Query(field, subject); !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// Mentions reports whether any of the subjects appears in any string field
// of e.
func Mentions(e *event.Event, subjects ...string) bool {
	v := reflect.ValueOf(e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.String {
			continue
		}
		for _, subject := range subjects {
			if subject != "" && indexFold(f.String(), subject) >= 0 {
				return true
			}
		}
	}
	return false
}

// replaceFold replaces every case-insensitive occurrence of old in s.
func replaceFold(s, old, repl string) (string, bool) {
	i := indexFold(s, old)
	if i < 0 {
		return s, false
	}
	var sb strings.Builder
	for i >= 0 {
		sb.WriteString(s[:i])
		sb.WriteString(repl)
		s = s[i+len(old):]
		i = indexFold(s, old)
	}
	sb.WriteString(s)
	return sb.String(), true
}

// indexFold finds sub in s ignoring case, where it stands as a whole
// address or name: "alice@example.org" is not erased out of
// "malice@example.org" or "alice@example.org.evil.net". The lengths of a
// match and of sub are equal for the addresses erased here, so the byte
// offsets carry over.
func indexFold(s, sub string) int {
	if len(sub) == 0 || len(sub) > len(s) {
		return -1
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) && (i == 0 || !addressByte(s[i-1])) && !continues(s[i+len(sub):]) {
			return i
		}
	}
	return -1
}

// addressByte reports whether c can be part of an address or user name
// next to a match.
func addressByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._%+-", c) >= 0 || c >= 0x80
}

// continues reports whether rest carries the address on: an address byte,
// an "@domain" after a bare name, or a dot that starts another label
// (while a dot ending a sentence does not).
func continues(rest string) bool {
	if rest == "" {
		return false
	}
	c := rest[0]
	if c == '.' {
		return len(rest) > 1 && addressByte(rest[1]) && rest[1] != '.'
	}
	return c == '@' || addressByte(c)
}
