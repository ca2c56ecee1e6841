// Package shape reduces a log message to its shape: the words that say what
// happened kept, the values that differ from line to line (addresses, IPs,
// host names, queue ids, numbers, ids) masked. Lines of one shape are one
// kind of line, so counting shapes shows which kinds a parser misses, and a
// shape can go into a bug report without the personal data of the line.
package shape

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// MaxLen caps a shape's length (in bytes, before the cut mark), so that a
// long line cannot make a long shape.
const MaxLen = 240

// OfLine returns the shape of a whole log line: its message under its
// program, as the parser reads the envelope, or the line itself when it has
// no envelope the parser knows.
func OfLine(line string) string {
	if ident, msg, ok := parser.SplitMessage(line); ok {
		return Of(ident, msg)
	}
	return Of("", line)
}

// Of returns the shape of msg written under program (the syslog ident
// without its [pid]; empty when the line had no envelope):
// "postfix/smtpd: warning: <host>[<ip>]: SASL LOGIN authentication failed: <id>".
func Of(program, msg string) string {
	var b strings.Builder
	b.Grow(len(program) + 2 + len(msg))
	if program != "" {
		b.WriteString(program)
		b.WriteString(": ")
	}
	mask(&b, msg)
	s := b.String()
	if len(s) > MaxLen {
		cut := MaxLen
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// The masks.
const (
	mAddr    = "<addr>"
	mIP      = "<ip>"
	mHost    = "<host>"
	mQueueID = "<queueid>"
	mHex     = "<hex>"
	mID      = "<id>"
	mNum     = "<n>"
	mUser    = "<user>"
)

// personalKeys are keys whose values name a person: masked whatever they
// look like.
var personalKeys = map[string]bool{
	"user": true, "ruser": true, "username": true, "sasl_username": true, "sasl_sender": true,
	"login": true, "authuser": true, "authz": true, "authzid": true, "authid": true, "orig_user": true,
}

func mask(b *strings.Builder, s string) {
	key := "" // the key of a "key=" just written
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<':
			end := strings.IndexByte(s[i+1:], '>')
			if end < 0 || strings.IndexByte(s[i+1:i+1+end], ' ') >= 0 {
				b.WriteByte(c)
				i++
				break
			}
			b.WriteString(angle(s[i+1:i+1+end], key))
			i += end + 2
		case tokenChar(c) && (c != ':' || (i+1 < len(s) && s[i+1] == ':')):
			// A ':' starts a token only as IPv6's "::"; otherwise it is
			// punctuation ("[192.0.2.1]:25").
			j := i
			for j < len(s) && tokenChar(s[j]) {
				j++
			}
			tok := s[i:j]
			switch {
			case j < len(s) && s[j] == '=':
				// A key: kept; its value is masked below.
				b.WriteString(tok)
				b.WriteByte('=')
				key = tok
				i = j + 1
				continue
			case key != "" && personalKeys[key] && i > 0 && s[i-1] == '=':
				if strings.IndexByte(tok, '@') > 0 {
					b.WriteString(mAddr)
				} else {
					b.WriteString(mUser)
				}
			case j+1 < len(s) && s[j] == '[' && bracketIP(s[j+1:]):
				// "name[addr]": the name is the address's host name.
				b.WriteString(mHost)
			case i > 1 && s[i-1] == '(' && isWordByte(s[i-2]) && j < len(s) && (s[j] == ',' || s[j] == ')') && !allDigits(trimEnd(tok)):
				// "imap(bob)", "passwd-file(bob,192.0.2.1)": Dovecot's
				// process or back end with the user it works for.
				if strings.IndexByte(tok, '@') > 0 {
					b.WriteString(mAddr)
				} else {
					b.WriteString(mUser)
				}
			default:
				core := trimEnd(tok)
				afterSlash := i > 0 && s[i-1] == '/'
				if strings.IndexByte(core, ':') >= 0 && !isIPv6(core) && !strings.HasPrefix(core, "IPv6:") {
					// "error:0A000126:SSL", "10:40:57": parts joined by colons.
					for k, part := range strings.Split(core, ":") {
						if k > 0 {
							b.WriteByte(':')
						}
						b.WriteString(token(part, afterSlash))
					}
				} else if m := token(core, afterSlash); m == core && strings.IndexByte(core, '-') > 0 {
					// "h-676c0ed5fb08ee445040bc7ff918": an id inside a
					// hyphenated word.
					for k, part := range strings.Split(core, "-") {
						if k > 0 {
							b.WriteByte('-')
						}
						b.WriteString(token(part, afterSlash))
					}
				} else {
					b.WriteString(m)
				}
				b.WriteString(tok[len(core):])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
		key = ""
	}
}

// tokenChar is a byte of a value or word: what an address, a host name, an
// IP address (with IPv6's colons) or an id is made of.
func tokenChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '-' || c == '_' || c == ':' || c == '@' || c == '+' || c >= 0x80
}

func isWordByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
}

// trimEnd cuts the punctuation a token may end in that belongs to the
// sentence ("4AA091855DA0:", "example.com.").
func trimEnd(tok string) string {
	for len(tok) > 0 {
		switch tok[len(tok)-1] {
		case ':', '.', '-':
			if strings.HasSuffix(tok, "::") { // "fe80::"
				return tok
			}
			tok = tok[:len(tok)-1]
			continue
		}
		break
	}
	return tok
}

// bracketIP reports whether s begins "addr]" with an IP address (or
// Postfix's "unknown").
func bracketIP(s string) bool {
	end := strings.IndexByte(s, ']')
	if end <= 0 {
		return false
	}
	a := strings.TrimPrefix(s[:end], "IPv6:")
	return a == "unknown" || isIPv4(a) || isIPv6(a)
}

// angle masks the inside of "<...>": an address, a message id, Dovecot's
// user and session, a HELO name.
func angle(in, key string) string {
	switch {
	case in == "":
		return "<>"
	case strings.IndexByte(in, '@') >= 0:
		return mAddr
	case personalKeys[key]:
		return mUser
	}
	if m := token(in, false); m != in && m[0] == '<' && m[len(m)-1] == '>' {
		return m
	}
	return mID
}

// token masks one word, or returns it as it was.
func token(t string, afterSlash bool) string {
	if t == "" {
		return t
	}
	if rest, ok := strings.CutPrefix(t, "IPv6:"); ok && isIPv6(rest) {
		return "IPv6:" + mIP
	}
	if at := strings.IndexByte(t, '@'); at > 0 && at < len(t)-1 {
		return mAddr
	}
	if isIPv4(t) || isIPv6(t) {
		return mIP
	}
	digits, letters, upperHex, hex := 0, 0, true, true
	numeric, plain := true, true // plain: letters and digits only
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'F':
			letters++
			numeric = false
		case c >= 'a' && c <= 'f':
			letters++
			upperHex = false
			numeric = false
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			letters++
			hex, upperHex, numeric = false, false, false
		case c == '.' || c == ':' || c == ',':
			hex, upperHex, plain = false, false, false
		case c == '-':
			upperHex, numeric, plain = false, false, false // UUIDs stay hex
		default:
			hex, upperHex, numeric, plain = false, false, false, false
		}
	}
	switch {
	case numeric && digits > 0:
		return mNum
	case upperHex && digits > 0 && letters > 0 && len(t) >= 6 && len(t) <= 16:
		// Postfix's short queue ids: upper-case hex.
		return mQueueID
	case hex && digits > 0 && len(t) >= 8:
		return mHex
	case !afterSlash && isHostName(t):
		return mHost
	case plain && digits > 0 && letters > 0 && len(t) >= 8:
		// Long queue ids, session ids, base64: letters and digits mixed
		// ("TLS_AES_256_GCM_SHA384", with its '_', is a name).
		return mID
	}
	return t
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIPv4(s string) bool {
	parts := 0
	for {
		dot := strings.IndexByte(s, '.')
		p := s
		if dot >= 0 {
			p = s[:dot]
		}
		if len(p) == 0 || len(p) > 3 || !allDigits(p) {
			return false
		}
		parts++
		if dot < 0 {
			return parts == 4
		}
		s = s[dot+1:]
	}
}

// isIPv6 accepts hex groups and colons with a "::" or seven colons (a time
// of day "10:40:57" has neither), and an IPv4 tail.
func isIPv6(s string) bool {
	colons := strings.Count(s, ":")
	if colons < 2 || (colons < 7 && !strings.Contains(s, "::")) {
		return false
	}
	if i := strings.LastIndexByte(s, ':'); strings.IndexByte(s[i:], '.') >= 0 {
		if !isIPv4(s[i+1:]) {
			return false
		}
		s = s[:i+1]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

// isHostName accepts dotted names whose last label is letters, the way DNS
// names under a top-level domain look ("mail.example.com"); "TLSv1.3" and
// "5.7.1" are not.
func isHostName(s string) bool {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || len(s)-dot-1 < 2 {
		return false
	}
	for i := dot + 1; i < len(s); i++ {
		if c := s[i]; !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	prev := byte('.')
	for i := 0; i < dot; i++ {
		c := s[i]
		if c == '.' && prev == '.' {
			return false
		}
		if !(c == '.' || c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
		prev = c
	}
	return true
}
