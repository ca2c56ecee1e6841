package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseAnvil reads anvil's periodic peaks:
//
//	statistics: max connection rate 1/60s for (smtp:1.2.3.4) at Mar  3 09:00:01
//	statistics: max connection count 1 for (smtp:1.2.3.4) at Mar  3 09:00:01
//	statistics: max cache size 2 at Mar  3 09:00:01
//
// (and the message, recipient and newtls rates in the same shape). The peak
// stays in detail; the client it belongs to goes to client_ip so that a
// client hammering the server can be found by address.
func parseAnvil(e *event.Event, msg string) {
	parseStatistics(e, msg)
	if e.Kind != event.KindStats {
		return
	}
	if _, after, found := strings.Cut(e.Detail, " for ("); found {
		if end := strings.IndexByte(after, ')'); end >= 0 {
			e.ClientIP = anvilClientAddr(after[:end])
		}
	}
}

// anvilClientAddr takes the address out of anvil's "service:address". The
// service may itself contain colons ("127.0.0.1:2525:127.0.0.1" for an inet
// listener) and so may an IPv6 address ("smtpd:2604:8d00:0:1::3"), so the
// split is the leftmost colon after which a whole address follows.
func anvilClientAddr(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		rest := s[i+1:]
		if rest == "unknown" || isIPv4Literal(rest) || isIPv6Literal(rest) {
			return rest
		}
	}
	return ""
}

// isIPv4Literal accepts exactly four dot-separated decimal octets.
func isIPv4Literal(s string) bool {
	parts := 0
	for len(s) > 0 {
		n := 0
		for n < len(s) && n < 4 && isDigit(s[n]) {
			n++
		}
		if n == 0 || n > 3 || atoi(s[:n]) > 255 {
			return false
		}
		parts++
		s = s[n:]
		if len(s) == 0 {
			break
		}
		if s[0] != '.' || parts == 4 {
			return false
		}
		s = s[1:]
		if len(s) == 0 {
			return false
		}
	}
	return parts == 4
}

// isIPv6Literal is a shape check, not a full parser: hex groups and colons
// (an IPv4 tail allowed), with either "::" or all eight groups. That is
// enough to tell "2604:8d00:0:1::3" from a port ("2525:127.0.0.1").
func isIPv6Literal(s string) bool {
	if len(s) < 2 {
		return false
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colons++
		case isDigit(c), c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == '.':
			// Only an IPv4 tail may contain dots.
			tail := s[strings.LastIndexByte(s, ':')+1:]
			if !isIPv4Literal(tail) {
				return false
			}
			colons++ // the tail counts as two groups
			i = len(s)
		default:
			return false
		}
	}
	if strings.Contains(s, ":::") {
		return false
	}
	// No group is longer than four hex digits.
	for g := s; g != ""; {
		var grp string
		grp, g, _ = strings.Cut(g, ":")
		if len(grp) > 4 && strings.IndexByte(grp, '.') < 0 {
			return false
		}
	}
	if i := strings.Index(s, "::"); i >= 0 {
		return colons >= 2 && !strings.Contains(s[i+2:], "::")
	}
	return colons == 7
}

// parseStatistics reads the "statistics: " lines of anvil and of the
// connection cache (scache), whose block looks like:
//
//	statistics: start interval Mar  3 09:00:01
//	statistics: domain lookup hits=0 miss=1 success=0%
//	statistics: address lookup hits=0 miss=1 success=0%
//	statistics: max simultaneous domains=1 addresses=1 connection=1
func parseStatistics(e *event.Event, msg string) {
	text, ok := strings.CutPrefix(msg, "statistics: ")
	if !ok {
		parseLevel(e, msg)
		return
	}
	e.Kind = event.KindStats
	e.Detail = text
}
