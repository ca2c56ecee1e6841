package parser

import (
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Envelopes beside syslog's own: Dovecot's log file (log_path), whose lines
// carry no host, with its log_timestamp in any of the forms people set;
// multilog/s6 TAI64N labels; a syslog daemon's repeat lines.
//
// Dovecot writes to its log file log_timestamp (default "%b %d %H:%M:%S ",
// strftime in local time, "%{usecs}" for microseconds), then the process's
// log prefix and the level: "imap-login: Info: ...", "auth: Info: ...",
// "auth-worker(4242): Info: ...", "imap(bob)<4242><sess>: Info: ...", "master:
// Info: ..." (lib-master: the service's configured name, then "(pid)" or the
// mail_log_prefix for mail processes; lib/failures.c adds the level after
// the prefix). A host never ends in ':' and never holds '(' or '[', so a
// known Dovecot process name directly followed by ':' or '(' cannot be a
// host: it is a hostless Dovecot line. The name must be one Dovecot's
// services or mail processes use, so that no foreign program's word is
// taken for a process.

// hostlessForm says how the text after a timestamp begins.
type hostlessForm uint8

const (
	// withHost: "host ident[pid]: msg", the syslog form.
	withHost hostlessForm = iota
	// hostlessDovecot: a Dovecot process prefix ("imap-login: ...",
	// "imap(bob)<...>: ..."); the whole text is Dovecot's message.
	hostlessDovecot
	// hostlessTag: "ident[pid]: msg" or "dovecot: msg" with no host before
	// it (a syslog daemon that writes none).
	hostlessTag
)

// hostless looks at the text after a timestamp. It is called for every
// line, so it decides on the first word's first non-name byte: a space (the
// usual "host ") answers at once.
func hostless(s string) hostlessForm {
	n := 0
	for n < len(s) {
		c := s[n]
		if (c >= 'a' && c <= 'z') || isDigit(c) || c == '-' || c == '_' {
			n++
			continue
		}
		break
	}
	if n == 0 || n >= len(s) {
		return withHost
	}
	switch s[n] {
	case ':':
		if n+1 < len(s) && s[n+1] != ' ' {
			return withHost // "fe80::1 ...", an IPv6 host
		}
		if s[:n] == "dovecot" {
			return hostlessTag
		}
		if dovecotProcessName(s[:n]) {
			return hostlessDovecot
		}
	case '(':
		if dovecotProcessName(s[:n]) {
			return hostlessDovecot
		}
	case '[', '/', '.':
		// "postfix/smtpd[1]: ", "opendkim[12]: ": an ident with a pid where
		// the host should be. Hosts hold no '[', so the word is a tag.
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			sp = len(s)
		}
		w := s[:sp]
		if strings.HasSuffix(w, "]:") {
			if open := strings.IndexByte(w, '['); open > 0 && allDigits(w[open+1:len(w)-2]) {
				return hostlessTag
			}
		}
	}
	return withHost
}

// dovecotProcessName reports whether name is a Dovecot service or process
// as its log prefixes name them (the services' configured names in 2.0–2.4,
// Pigeonhole's, and the mail processes of mail_log_prefix).
func dovecotProcessName(name string) bool {
	switch name {
	case "master", "config", "log", "anvil", "auth", "auth-worker", "dict", "dict-async", "dict-expire",
		"director", "dns-client", "dns_client", "doveadm", "health-check", "imap", "imap-hibernate",
		"imap-login", "imap-urlauth", "imap-urlauth-login", "imap-urlauth-worker", "indexer",
		"indexer-worker", "ipc", "lmtp", "lda", "deliver", "old-stats", "pop3", "pop3-login",
		"replicator", "aggregator", "ssl-params", "stats", "submission", "submission-login", "tcpwrap",
		"welcome", "managesieve", "managesieve-login", "quota-status", "doveadm-server":
		return true
	}
	return false
}

// stampFraction reads the ".123456" Dovecot's "%{usecs}" (or a syslog
// daemon's high-precision format) puts after an RFC 3164 "hh:mm:ss" and
// returns t with it added and the new end.
func stampFraction(s string, n int, t time.Time) (time.Time, int) {
	if n+1 >= len(s) || s[n] != '.' || !isDigit(s[n+1]) {
		return t, n
	}
	i, nsec, digits := n+1, 0, 0
	for i < len(s) && isDigit(s[i]) {
		if digits < 9 {
			nsec = nsec*10 + int(s[i]-'0')
			digits++
		}
		i++
	}
	for ; digits < 9; digits++ {
		nsec *= 10
	}
	return t.Add(time.Duration(nsec)), i
}

// dovecot1Prefix begins Dovecot 1.x's log file lines. Its master wrote its
// own prefix, then log_timestamp, then the level, then the child's prefix
// (lib/failures.c and master/log.c of 1.2): "dovecot: Jan 29 09:33:58 Info:
// imap-login: Login: ...".
const dovecot1Prefix = "dovecot: "

// parseDovecot1Line reads that form. An Info line's text is handed on as
// 2.x writes it ("imap-login: Login: ..."); a more severe one keeps its
// level first ("Error: imap-login: ..."), so it stays a warning.
func parseDovecot1Line(e *event.Event, line string, ref time.Time, loc *time.Location) (ident, msg string, ok bool) {
	s := line[len(dovecot1Prefix):]
	var t time.Time
	var n int
	if len(s) > 4 && isDigit(s[0]) && s[4] == '-' {
		t, n, ok = parseISOTime(s, loc)
	} else {
		t, n, ok = parseStamp(s, ref, loc)
		if ok && n < len(s) && s[n] == '.' {
			t, n = stampFraction(s, n, t)
		}
	}
	if !ok || n >= len(s) || s[n] != ' ' {
		return "", "", false
	}
	e.Time = t
	s = s[n+1:]
	if rest, found := strings.CutPrefix(s, "Info: "); found {
		s = rest
	}
	return "dovecot", s, true
}

// taiOffset is the TAI64 label of 1970-01-01 00:00:00 UTC as daemontools
// writes and reads it: 2^62 plus the 10 s TAI was ahead of UTC in 1972.
// multilog's labels come from libtai's tai_now (the Unix time plus this)
// and tai64nlocal subtracts it again, so a label minus taiOffset is the Unix
// time, and what we show is what tai64nlocal shows. Leap seconds since 1972
// are not counted on either side. (An s6 built to keep real TAI, with a
// leap-second table, writes labels 27 s later than this reads them.)
const taiOffset = 1<<62 + 10

// parseTAI64N reads "@" and 24 hex digits (8 bytes of seconds, 4 of
// nanoseconds) at the start of line.
func parseTAI64N(line string) (time.Time, bool) {
	if len(line) < 25 || line[0] != '@' {
		return time.Time{}, false
	}
	var sec, nsec uint64
	for i := 1; i < 25; i++ {
		c := line[i]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return time.Time{}, false
		}
		if i <= 16 {
			sec = sec<<4 | d
		} else {
			nsec = nsec<<4 | d
		}
	}
	if sec < taiOffset || sec >= 1<<63 || nsec >= 1e9 {
		return time.Time{}, false
	}
	return time.Unix(int64(sec-taiOffset), int64(nsec)).UTC(), true
}

// parseTAI64NLine reads a multilog/s6 line: a TAI64N label, a space, then
// what the program wrote to its standard error: a whole syslog line
// (Postfix's maillog_file=/dev/stdout), or Dovecot's log text with or
// without its own log_timestamp. The label dates the line: it is when the
// logger received it, and unlike a syslog stamp it carries a year and a zone.
func parseTAI64NLine(e *event.Event, line string, ref time.Time, loc *time.Location) (ident, msg string, ok bool) {
	t, ok := parseTAI64N(line)
	if !ok || len(line) < 27 || line[25] != ' ' {
		return "", "", false
	}
	rest := line[26:]
	if ident, msg, ok = parseSyslog(e, rest, ref, loc); ok {
		e.Time = t
		return ident, msg, true
	}
	e.Time, e.Host, e.PID = t, "", 0
	if hostless(rest) == hostlessDovecot {
		return "dovecot", rest, true
	}
	return "", "", false
}

// Repeat lines. rsyslog (RepeatedMsgReduction) writes, under the repeated
// line's own tag, " message repeated N times: [<the message>]" (the message
// keeps its own leading space, and is cut at 800 bytes before the ']');
// with its old format, and sysklogd or BSD syslogd without a tag at all,
// "last message repeated N times". Both stand for N more occurrences of the
// line before them; the first was logged as itself.

const lastRepeatedPrefix = "last message repeated "

// repeated handles a message that is a repeat line. It sets e.Repeat and
// returns the message to parse in its place; done means the event is
// complete (a "last message repeated" notice, which has no text of its own).
func repeated(e *event.Event, msg string) (string, bool) {
	if rest, ok := strings.CutPrefix(msg, "message repeated "); ok {
		n, rest, ok := repeatCount(rest)
		if !ok {
			return msg, false
		}
		inner, ok := strings.CutPrefix(rest, ": [")
		if !ok || !strings.HasSuffix(inner, "]") {
			return msg, false
		}
		e.Repeat = n
		return strings.TrimLeft(inner[:len(inner)-1], " "), false
	}
	if rest, ok := strings.CutPrefix(msg, lastRepeatedPrefix); ok {
		n, rest, ok := repeatCount(rest)
		if !ok || rest != "" {
			return msg, false
		}
		e.Repeat = n
		e.Kind = event.KindNotice
		e.Detail = msg
		return msg, true
	}
	return msg, false
}

// repeatCount reads "N times" and returns N and what follows.
func repeatCount(s string) (int, string, bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 9 {
		return 0, s, false
	}
	rest, ok := strings.CutPrefix(s[i:], " times")
	if !ok {
		return 0, s, false
	}
	return atoi(s[:i]), rest, true
}

// LastRepeated reports whether e is a "last message repeated N times"
// line: a notice standing for N more occurrences of the event before it
// from the same source. The parser cannot know that event (it keeps no
// state); the ingest loop, which can, replaces the notice by a copy of it
// weighted N.
func LastRepeated(e *event.Event) bool {
	return e.Kind == event.KindNotice && e.Repeat > 0 && strings.HasPrefix(e.Detail, lastRepeatedPrefix)
}

// splitRef is the reading time SplitMessage passes to the stamp readers: the
// year it gives is thrown away, and the parser reads no clock.
var splitRef = time.Date(2000, 6, 1, 0, 0, 0, 0, time.UTC)

// SplitMessage returns the syslog ident of line (without its [pid]) and its
// message, read as Parse reads the envelope (a repeat line gives the message
// it repeats); ok is false when it finds no envelope. It is for looking at
// the lines Parse gave no kind: what they said, without the envelope.
func SplitMessage(line string) (ident, msg string, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	var e event.Event
	switch {
	case len(line) > 0 && line[0] == '{':
		ident, msg, ok = parseJournalJSON(&e, line)
	case len(line) > 0 && line[0] == '@':
		ident, msg, ok = parseTAI64NLine(&e, line, splitRef, time.UTC)
	default:
		ident, msg, ok = parseSyslog(&e, line, splitRef, time.UTC)
	}
	if !ok {
		return "", "", false
	}
	if inner, done := repeated(&e, msg); !done {
		msg = inner
	}
	return ident, msg, true
}
