package privacy

import (
	"regexp"
	"strings"
)

// This file is the one scanner for personal values in text, used by the
// write-side policies (Redactor) and the read-side viewer masking
// (Masker): how an address splits into local part and domain, where
// addresses stand in free text, what a bare user name is, and where a
// name stands alone in a line.

// splitAddress splits an address at its last @ (a local part may hold
// one, quoted); ok is false for a value without @, a bare user name.
func splitAddress(s string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s, "", false
	}
	return s[:at], s[at+1:], true
}

// Domain is the domain of an address, "" for a value without @.
func Domain(s string) string {
	_, d, _ := splitAddress(s)
	return d
}

// addrRE finds e-mail addresses in free text (raw lines, SMTP replies,
// Dovecot's lmtp(user@domain) prefixes). It is deliberately generous about
// the local part: whatever stands before an @ and a dotted domain is taken
// as an address. An hmac_local pseudonym's local part ("hmac:<hex>") is one
// local part, though a colon ends others.
var addrRE = regexp.MustCompile(`(?:` + pseudonymPrefix + `)?[^\s<>()\[\]"',;:=/]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)`)

// replaceLocalParts replaces the local part of every address in s by
// fn(local part, address), keeping the domain.
func replaceLocalParts(s string, fn func(local, addr string) string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addrRE.ReplaceAllStringFunc(s, func(addr string) string {
		local, domain, _ := splitAddress(addr)
		return fn(local, addr) + "@" + domain
	})
}

// isBareUser reports whether s is a user name without a domain (a SASL or
// IMAP login).
func isBareUser(s string) bool {
	return s != "" && !strings.ContainsAny(s, "@ \t\n\r\f")
}

// replaceWord replaces the occurrences of w in s that stand alone (not
// inside a longer name), so a short user name does not mangle the line.
func replaceWord(s, w, repl string) string {
	if w == "" || !strings.Contains(s, w) {
		return s
	}
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
