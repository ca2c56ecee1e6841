package parser

import (
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseLevel handles the severity prefixes every Postfix daemon uses
// ("warning: ", "error: ", "fatal: ", "panic: ") and Dovecot's "Warning: ",
// "Error: ", "Fatal: ", "Panic: ". It makes the event a warning with its
// level and text, and tries to find the client the text speaks of. Family
// parsers call it last, after they have looked for warnings that mean more
// (SASL failures, for instance).
func parseLevel(e *event.Event, msg string) bool {
	level, text, ok := strings.Cut(msg, ": ")
	if !ok {
		return false
	}
	switch level {
	case "warning", "Warning":
		e.Level = "warning"
	case "error", "Error":
		e.Level = "error"
	case "fatal", "Fatal":
		e.Level = "fatal"
	case "panic", "Panic":
		e.Level = "panic"
	default:
		return false
	}
	e.Kind = event.KindWarning
	// A queue id may follow the level ("warning: 4F2B1: ..."); "warning:
	// unknown[1.2.3.4]: ..." and "... from host[1.2.3.4]" name the client.
	if id, rest, ok := queueIDPrefix(text); ok {
		e.QueueID = id
		text = rest
	}
	e.Detail = text
	if i := strings.IndexByte(text, '['); i > 0 {
		start := strings.LastIndexByte(text[:i], ' ') + 1
		if host, addr, port, _, ok := hostAddr(text[start:]); ok && looksLikeIP(addr) {
			e.ClientHost, e.ClientIP, e.ClientPort = host, addr, port
		}
	}
	return true
}

// looksLikeIP accepts IPv4 and IPv6 literals (and "unknown", which Postfix
// writes when it has no address) without parsing them.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if s == "unknown" {
		return true
	}
	s = strings.TrimPrefix(s, "IPv6:")
	if !strings.ContainsAny(s, ".:") {
		return false // "dict_ldap_get_values[1]" is not a client
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c == '.' || c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}
