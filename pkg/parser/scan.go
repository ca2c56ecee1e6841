package parser

import (
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The helpers below work on substrings only; none of them allocates. They are
// the parser's vocabulary: a family file should read as a sequence of them.

// hostAddr parses Postfix's "name[addr]" or "name[addr]:port" at the start
// of s and returns what follows. "unknown[1.2.3.4]" yields host "unknown".
func hostAddr(s string) (host, addr string, port int, rest string, ok bool) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return "", "", 0, s, false
	}
	end := strings.IndexByte(s[open+1:], ']')
	if end < 0 {
		return "", "", 0, s, false
	}
	end += open + 1
	host, addr, rest = s[:open], s[open+1:end], s[end+1:]
	if len(rest) > 1 && rest[0] == ':' && isDigit(rest[1]) {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		port = atoi(rest[1:i])
		rest = rest[i:]
	}
	return host, addr, port, rest, true
}

// bracketAddr parses "[addr]:port" as postscreen writes it.
func bracketAddr(s string) (addr string, port int, rest string, ok bool) {
	if len(s) == 0 || s[0] != '[' {
		return "", 0, s, false
	}
	_, addr, port, rest, ok = hostAddr(s)
	return addr, port, rest, ok
}

// angle returns the text inside a leading "<...>" and what follows it.
// Addresses may contain '>' only in pathological cases, so the first '>'
// ends the address.
func angle(s string) (inner, rest string, ok bool) {
	if len(s) == 0 || s[0] != '<' {
		return "", s, false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", s, false
	}
	return s[1:end], s[end+1:], true
}

// kvValue returns the value of key= in a Postfix "k=v, k=v" or "k=v k=v"
// list. Keys must stand at the start or after a space or comma. A value in
// angle brackets ends at '>', any other at ',' or ' '. Absent keys give "".
func kvValue(s, key string) (string, bool) {
	for i := 0; ; {
		j := strings.Index(s[i:], key)
		if j < 0 {
			return "", false
		}
		j += i
		v := j + len(key)
		if v < len(s) && s[v] == '=' && (j == 0 || s[j-1] == ' ' || s[j-1] == ',') {
			val := s[v+1:]
			if len(val) > 0 && val[0] == '<' {
				if end := strings.IndexByte(val, '>'); end >= 0 {
					return val[1:end], true
				}
			}
			if end := indexAnyOf(val, ", ;"); end >= 0 {
				val = val[:end]
			}
			return val, true
		}
		i = v
	}
}

// kvEach calls fn for every "key=value" pair of a Postfix delivery-style list
// ("to=<a>, relay=x[1.2.3.4]:25, delay=1, status=sent (250 ok)") in one pass.
// Values in angle brackets may contain ", "; a value beginning a
// parenthesised text (status=sent (...)) hands the rest of the line to fn as
// part of the value.
func kvEach(s string, fn func(key, val string) bool) {
	for len(s) > 0 {
		for len(s) > 0 && (s[0] == ' ' || s[0] == ',') {
			s = s[1:]
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return
		}
		key := s[:eq]
		if strings.IndexByte(key, ' ') >= 0 {
			return
		}
		s = s[eq+1:]
		var val string
		if len(s) > 0 && s[0] == '<' {
			end := strings.IndexByte(s, '>')
			if end < 0 {
				val, s = s, ""
			} else {
				val, s = s[:end+1], s[end+1:]
			}
		} else {
			end := indexAnyOf(s, ", ")
			if end < 0 {
				val, s = s, ""
			} else if s[end] == ' ' && end+1 < len(s) && s[end+1] == '(' {
				// status=sent (250 ...): the rest of the line belongs to it.
				val, s = s, ""
			} else {
				val, s = s[:end], s[end:]
			}
		}
		if !fn(key, val) {
			return
		}
	}
}

// indexAnyOf is strings.IndexAny for the short literal sets the parser
// uses: strings.IndexAny builds a lookup table on every call, which costs
// more than the search on log-line lengths, and a strings.IndexByte call on
// the set per byte of s cost more than the rest of a delivery line. The set
// is a 256-bit mask built in a few instructions; each byte of s is then one
// shift and test.
func indexAnyOf(s, set string) int {
	var m [4]uint64
	for j := 0; j < len(set); j++ {
		m[set[j]>>6] |= 1 << (set[j] & 63)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; m[c>>6]&(1<<(c&63)) != 0 {
			return i
		}
	}
	return -1
}

// unangle strips one pair of surrounding angle brackets.
func unangle(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// paren returns the text of a trailing or leading "(...)" group: the part of
// s after the first '(' up to its matching ')', and what follows.
func paren(s string) (inner, rest string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return "", s, false
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[open+1 : i], s[i+1:], true
			}
		}
	}
	// Unbalanced (a cut line): everything after '(' is the text.
	return s[open+1:], "", true
}

// queueIDPrefix recognises "QUEUEID: " at the start of a Postfix message.
// Short ids are upper-case hex, long ids (enable_long_queue_ids) use digits
// and letters without vowels. Anonymised corpora replace digits with other
// upper-case letters ("AXDA0"), so an upper-case run with a digit is taken
// as a short id; one without digits must be hex ("BABABABABA"), which keeps
// words like NOQUEUE or CONFIGURATION out.
func queueIDPrefix(s string) (id, rest string, ok bool) {
	// One table lookup a byte, its classes gathered in seen: this runs
	// for most Postfix lines, and the tests of a byte against ranges, then
	// a second pass for digits and a third (strings.Trim) for hex, cost
	// more than a line's envelope.
	var seen uint8
	n := 0
	for n < len(s) && n < 32 {
		c := qidClass[s[n]]
		if c == 0 {
			break
		}
		if c == qidVowel {
			return "", s, false
		}
		seen |= c
		n++
	}
	if n < 5 || n+1 >= len(s) || s[n] != ':' || s[n+1] != ' ' {
		return "", s, false
	}
	upper := seen&qidLower == 0
	if !upper && n < 10 {
		return "", s, false
	}
	if upper && seen&qidDigit == 0 && seen&qidUpperNonHex != 0 {
		return "", s, false
	}
	return s[:n], s[n+2:], true
}

// The classes of the bytes a queue id may hold (0: none).
const (
	qidDigit = 1 << iota
	qidUpperHex
	qidUpperNonHex
	qidLower // a lower-case consonant
	qidVowel // a lower-case vowel: never in a long id
)

var qidClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = qidDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = qidUpperNonHex
		if c <= 'F' {
			t[c] = qidUpperHex
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = qidLower
	}
	for _, c := range "aeiou" {
		t[c] = qidVowel
	}
	return t
}()

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses a non-negative decimal prefix; junk gives the value so far.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<40 {
			return n
		}
	}
	return n
}

// atof parses a float without allocating; bad input gives 0.
func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// parseDelays fills d from "a/b/c/d".
func parseDelays(s string, d *event.Delays) bool {
	a, s, ok1 := strings.Cut(s, "/")
	b, s, ok2 := strings.Cut(s, "/")
	c, e, ok3 := strings.Cut(s, "/")
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	d.BeforeQmgr, d.InQmgr, d.ConnSetup, d.Transmission = atof(a), atof(b), atof(c), atof(e)
	return true
}

// smtpReply splits "550 5.1.1 <x>: text" into its enhanced status code and
// returns the whole reply as the response.
func smtpReply(s string) (dsn string) {
	if len(s) < 4 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || s[3] != ' ' {
		return ""
	}
	rest := s[4:]
	if len(rest) >= 5 && isDigit(rest[0]) && rest[1] == '.' {
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		return rest[:end]
	}
	return ""
}
