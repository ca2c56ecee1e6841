package parser

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// parseJournalJSON reads one line of `journalctl -o json`: a flat object of
// string fields. MESSAGE may be an array of bytes when it is not valid UTF-8;
// such entries are left unknown, as are objects without MESSAGE.
func parseJournalJSON(e *event.Event, line string) (ident, msg string, ok bool) {
	var haveMsg bool
	var pid, syslogPID string
	s := strings.TrimSpace(line)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return "", "", false
	}
	s = s[1 : len(s)-1]
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		key, rest, kok := jsonString(s)
		if !kok {
			return "", "", false
		}
		rest = strings.TrimLeft(rest, " \t")
		if len(rest) == 0 || rest[0] != ':' {
			return "", "", false
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		var val string
		isString := len(rest) > 0 && rest[0] == '"'
		if isString {
			val, rest, kok = jsonString(rest)
			if !kok {
				return "", "", false
			}
		} else {
			// null, a number or an array (binary data): skip it.
			end := skipJSONValue(rest)
			if end < 0 {
				return "", "", false
			}
			rest = rest[end:]
		}
		s = rest
		if !isString {
			continue
		}
		switch key {
		case "MESSAGE":
			msg, haveMsg = val, true
		case "SYSLOG_IDENTIFIER":
			ident = val
		case "_PID":
			pid = val
		case "SYSLOG_PID":
			syslogPID = val
		case "_HOSTNAME":
			e.Host = val
		case "__REALTIME_TIMESTAMP":
			us, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return "", "", false
			}
			e.Time = time.UnixMicro(us).UTC()
		}
	}
	if !haveMsg || e.Time.IsZero() {
		return "", "", false
	}
	// SYSLOG_PID is what the program said of itself; _PID may be a helper's.
	if syslogPID != "" {
		pid = syslogPID
	}
	e.PID = atoi(pid)
	return ident, msg, true
}

// jsonString reads a JSON string at the start of s. Strings without escapes
// are returned as substrings; only escaped ones are decoded (and allocate).
func jsonString(s string) (val, rest string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[1:i], s[i+1:], true
			}
			var out string
			if err := json.Unmarshal([]byte(s[:i+1]), &out); err != nil {
				return "", s, false
			}
			return out, s[i+1:], true
		}
	}
	return "", s, false
}

// skipJSONValue returns the length of a non-string JSON value at the start of
// s (null, true, false, a number, or an array of those), or -1.
func skipJSONValue(s string) int {
	if len(s) > 0 && s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return -1
		}
		return end + 1
	}
	end := strings.IndexAny(s, ", \t")
	if end < 0 {
		end = len(s)
	}
	if end == 0 {
		return -1
	}
	return end
}
