// Package parser turns one mail-log line into one event.Event.
//
// The parser is pure: it does no I/O, reads no clock and keeps no state
// between lines. Every string field of an event is a substring of the line it
// came from, so parsing a line allocates nothing beyond what the caller did to
// hold the line. One file per daemon family; the envelope (syslog header,
// stamps, repeat lines) is read here.
package parser

import (
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// MaxLineBytes is the longest line the parser interprets; longer ones are
// kept as unknown. Syslog transports cut far earlier (8 KiB is common).
const MaxLineBytes = 64 << 10

// Parser holds what a line does not say about itself. It has no mutable
// state, so one Parser may be shared by any number of goroutines.
type Parser struct {
	// Instance names the Postfix instance the lines come from; it is copied
	// into every event.Event.
	Instance string
	// Location is the time zone of timestamps that carry none (RFC 3164).
	// Nil means UTC.
	Location *time.Location
}

// Parse parses one line (without its trailing newline). ref is the time the
// line was read, used only to infer the year of RFC 3164 timestamps.
func (p *Parser) Parse(line string, ref time.Time) event.Event {
	var e event.Event
	p.ParseInto(&e, line, ref)
	return e
}

// ParseInto is Parse writing into e, which it resets first.
func (p *Parser) ParseInto(e *event.Event, line string, ref time.Time) {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	*e = event.Event{Instance: p.Instance, Raw: line}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	// What no mail daemon writes is not guessed at: NUL bytes, invalid UTF-8
	// (the whole line stays in raw) and lines longer than syslog carries.
	if len(line) > MaxLineBytes || !plainText(line) {
		return
	}
	var ident, msg string
	var ok bool
	switch {
	case len(line) > 0 && line[0] == '{':
		ident, msg, ok = parseJournalJSON(e, line)
	case len(line) > 0 && line[0] == '@':
		ident, msg, ok = parseTAI64NLine(e, line, ref, loc)
	case len(line) > 0 && line[0] == 'd' && strings.HasPrefix(line, dovecot1Prefix):
		ident, msg, ok = parseDovecot1Line(e, line, ref, loc)
	default:
		ident, msg, ok = parseSyslog(e, line, ref, loc)
	}
	if !ok {
		return
	}
	splitIdent(e, ident)
	if len(msg) > 20 && (msg[0] == 'm' || msg[0] == 'l') {
		var done bool
		if msg, done = repeated(e, msg); done {
			return
		}
	}
	parseMessage(e, msg)
}

// plainText says s holds no NUL byte and is valid UTF-8. Log lines are
// nearly always ASCII: sixteen bytes at a time are checked for both at once
// (no byte zero, none with the high bit), one pass instead of a search for
// NUL and a UTF-8 validation; from the first word that is not plain ASCII
// on, those two decide.
func plainText(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+16 <= len(s); i += 16 {
		w := s[i : i+16] // the compiler merges each eight loads into one
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		y := uint64(w[8]) | uint64(w[9])<<8 | uint64(w[10])<<16 | uint64(w[11])<<24 |
			uint64(w[12])<<32 | uint64(w[13])<<40 | uint64(w[14])<<48 | uint64(w[15])<<56
		// Bytes in 1..127 leave no high bit set in x, nor in x minus one
		// per byte (no byte borrows).
		if ((x-ones)|x|(y-ones)|y)&highs != 0 {
			return strings.IndexByte(s[i:], 0) < 0 && utf8.ValidString(s[i:])
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return strings.IndexByte(s[i:], 0) < 0 && utf8.ValidString(s[i:])
		}
	}
	return true
}

// parseSyslog takes apart RFC 3164 ("Mar  3 09:00:01 host prog[pid]: msg"),
// RFC 3339 ("2024-03-03T09:00:01.123+01:00 host prog[pid]: msg") and RFC 5424
// ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG") lines.
func parseSyslog(e *event.Event, line string, ref time.Time, loc *time.Location) (ident, msg string, ok bool) {
	s := line
	rfc5424 := false
	if len(s) > 0 && s[0] == '<' {
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 {
			return "", "", false
		}
		s = s[end+1:]
		if len(s) > 2 && s[0] == '1' && s[1] == ' ' {
			rfc5424 = true
			s = s[2:]
		}
	}
	var t time.Time
	switch {
	case len(s) >= 15 && isDigit(s[0]) && len(s) > 4 && s[4] == '-':
		var n int
		// Outside RFC 5424, which requires a zone, a stamp without one
		// (Dovecot's log_timestamp "%Y-%m-%d %H:%M:%S ") is in the
		// reader's zone.
		local := loc
		if rfc5424 {
			local = nil
		}
		t, n, ok = parseISOTime(s, local)
		if !ok {
			return "", "", false
		}
		s = s[n:]
	case rfc5424 && len(s) > 0 && s[0] == '-':
		s = s[1:]
	case len(s) >= 15:
		var n int
		t, n, ok = parseStamp(s, ref, loc)
		if !ok {
			return "", "", false
		}
		if n < len(s) && s[n] == '.' {
			t, n = stampFraction(s, n, t)
		}
		s = s[n:]
	default:
		return "", "", false
	}
	e.Time = t
	if len(s) == 0 || s[0] != ' ' {
		return "", "", false
	}
	s = s[1:]
	form := withHost
	if !rfc5424 {
		form = hostless(s)
	}
	switch form {
	case hostlessDovecot:
		return "dovecot", s, true
	case withHost:
		host, rest, found := strings.Cut(s, " ")
		if !found {
			return "", "", false
		}
		e.Host, s = host, rest
	}
	if rfc5424 {
		return parse5424Rest(e, s)
	}
	// "ident[pid]: msg" or "ident: msg".
	colon := strings.Index(s, ": ")
	if colon < 0 {
		if strings.HasSuffix(s, ":") {
			colon = len(s) - 1
		} else if strings.HasPrefix(s, lastRepeatedPrefix) {
			// sysklogd and BSD syslogd write their repeat line with no tag.
			return "", s, true
		} else {
			return "", "", false
		}
	}
	ident = s[:colon]
	if colon+2 <= len(s) {
		// Forwarders may add spaces before the text; no mail daemon
		// starts its text with one.
		msg = strings.TrimLeft(s[colon+2:], " ")
	}
	if strings.IndexByte(ident, ' ') >= 0 {
		return "", "", false
	}
	if ident, pid, ok := strings.Cut(ident, "["); ok {
		if !strings.HasSuffix(pid, "]") {
			return "", "", false
		}
		e.PID = atoi(pid[:len(pid)-1])
		return ident, msg, true
	}
	return ident, msg, true
}

// parse5424Rest reads "APP PROCID MSGID SD MSG" after the host.
func parse5424Rest(e *event.Event, s string) (ident, msg string, ok bool) {
	app, s, ok1 := strings.Cut(s, " ")
	procid, s, ok2 := strings.Cut(s, " ")
	_, s, ok3 := strings.Cut(s, " ") // MSGID
	if !ok1 || !ok2 || !ok3 {
		return "", "", false
	}
	if procid != "-" {
		e.PID = atoi(procid)
	}
	// Structured data: "-" or one or more [id k="v" ...] elements.
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	} else {
		for len(s) > 0 && s[0] == '[' {
			i := 1
			for i < len(s) && s[i] != ']' {
				if s[i] == '\\' {
					i++
				} else if s[i] == '"' {
					// Quoted values may hold ']'.
					i++
					for i < len(s) && s[i] != '"' {
						if s[i] == '\\' {
							i++
						}
						i++
					}
				}
				i++
			}
			if i >= len(s) {
				return "", "", false
			}
			s = s[i+1:]
		}
	}
	// MSG follows SD after one space, but forwarders put more before the
	// text: rsyslog's RSYSLOG_SyslogProtocol23Format writes "%msg%", which
	// keeps the space that followed the tag's colon, so the text comes
	// after two. A BOM marks a UTF-8 MSG (RFC 5424 6.4).
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "\ufeff") {
		s = strings.TrimLeft(s[len("\ufeff"):], " ")
	}
	if app == "-" {
		app = ""
	}
	return app, s, true
}

// parseStamp reads "Mmm dd hh:mm:ss" (day space-padded, zero-padded or, as
// some syslog daemons write it, not padded) and returns the bytes read. The
// year is the one that puts the line closest before ref: a December line read
// in January belongs to last year, a January line read on New Year's Eve
// (a writer's clock slightly ahead) to next year.
func parseStamp(s string, ref time.Time, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 14 || s[3] != ' ' {
		return time.Time{}, 0, false
	}
	mon := monthOf(s[0], s[1], s[2])
	var day, clock int // clock: where hh:mm:ss starts
	var ok bool
	if isDigit(s[4]) && s[5] == ' ' {
		day, ok, clock = int(s[4]-'0'), true, 6
	} else {
		day, ok = twoDigits(s[4], s[5], true)
		clock = 7
		if len(s) < 15 || s[6] != ' ' {
			return time.Time{}, 0, false
		}
	}
	c := s[clock : clock+8]
	if mon == 0 || !ok || c[2] != ':' || c[5] != ':' {
		return time.Time{}, 0, false
	}
	h, ok2 := twoDigits(c[0], c[1], false)
	m, ok3 := twoDigits(c[3], c[4], false)
	sec, ok4 := twoDigits(c[6], c[7], false)
	if !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	if ref.IsZero() {
		ref = time.Now() // only reached by callers that pass no reference
	}
	// ref's year in UTC may differ from its year in loc by a few hours
	// around New Year; the week of slack below absorbs that.
	year := yearOf(ref)
	t := dateOf(year, mon, day, h, m, sec, loc)
	// t - ref in nanoseconds from their Unix seconds (t is within a year
	// of ref, so it cannot overflow): the same comparisons as with two
	// Durations, which cost as much as the rest of the stamp (this runs
	// for every line).
	const slack = int64(7 * 24 * time.Hour)
	switch d := (t.Unix()-ref.Unix())*int64(time.Second) - int64(ref.Nanosecond()); {
	case d > slack:
		t = time.Date(year-1, time.Month(mon), day, h, m, sec, 0, loc)
	case -d > int64(365*24*time.Hour)-slack:
		t = time.Date(year+1, time.Month(mon), day, h, m, sec, 0, loc)
	}
	return t.UTC(), clock + 8, true
}

// The year of the reference and the start of the stamp's minute are kept
// from the line before: a log's lines share both, and ref.Year() and
// time.Date cost 80 ns of a line's ~400 (they convert through the
// calendar every time). Each is an immutable value behind an atomic
// pointer, so parsers on several goroutines may share them; goroutines on
// different minutes then replace each other's (BenchmarkParseParallel),
// while ingest parses on one goroutine.
type refYear struct {
	loc        *time.Location
	start, end int64 // Unix seconds of the year's first and the next year's first instant in loc
	year       int
}

type stampMinute struct {
	loc                  *time.Location
	year, mon, day, h, m int
	t                    time.Time // the minute's first second
}

var (
	lastYear   atomic.Pointer[refYear]
	lastMinute atomic.Pointer[stampMinute]
)

// yearOf is ref.Year().
func yearOf(ref time.Time) int {
	loc, u := ref.Location(), ref.Unix()
	if c := lastYear.Load(); c != nil && c.loc == loc && u >= c.start && u < c.end {
		return c.year
	}
	y := ref.Year()
	start, end := time.Date(y, 1, 1, 0, 0, 0, 0, loc).Unix(), time.Date(y+1, 1, 1, 0, 0, 0, 0, loc).Unix()
	if u >= start && u < end { // a zone whose offset changes at New Year is not cached
		lastYear.Store(&refYear{loc: loc, start: start, end: end, year: y})
	}
	return y
}

// dateOf is time.Date(year, mon, day, h, m, sec, 0, loc): the minute's
// start plus the seconds, as no zone changes its offset within a minute.
// A leap second (60) is left to time.Date's normalising.
func dateOf(year, mon, day, h, m, sec int, loc *time.Location) time.Time {
	if sec >= 60 {
		return time.Date(year, time.Month(mon), day, h, m, sec, 0, loc)
	}
	c := lastMinute.Load()
	if c == nil || c.loc != loc || c.m != m || c.h != h || c.day != day || c.mon != mon || c.year != year {
		c = &stampMinute{loc: loc, year: year, mon: mon, day: day, h: h, m: m, t: time.Date(year, time.Month(mon), day, h, m, 0, 0, loc)}
		lastMinute.Store(c)
	}
	return c.t.Add(time.Duration(sec) * time.Second)
}

// monthOf is the number of a month's English abbreviation, 0 for none: a
// switch on its letters instead of up to twelve string comparisons.
func monthOf(a, b, c byte) int {
	switch a {
	case 'J':
		switch {
		case b == 'a' && c == 'n':
			return 1
		case b == 'u' && c == 'n':
			return 6
		case b == 'u' && c == 'l':
			return 7
		}
	case 'F':
		if b == 'e' && c == 'b' {
			return 2
		}
	case 'M':
		switch {
		case b == 'a' && c == 'r':
			return 3
		case b == 'a' && c == 'y':
			return 5
		}
	case 'A':
		switch {
		case b == 'p' && c == 'r':
			return 4
		case b == 'u' && c == 'g':
			return 8
		}
	case 'S':
		if b == 'e' && c == 'p' {
			return 9
		}
	case 'O':
		if b == 'c' && c == 't' {
			return 10
		}
	case 'N':
		if b == 'o' && c == 'v' {
			return 11
		}
	case 'D':
		if b == 'e' && c == 'c' {
			return 12
		}
	}
	return 0
}

func twoDigits(a, b byte, spacePad bool) (int, bool) {
	if spacePad && a == ' ' {
		a = '0'
	}
	if !isDigit(a) || !isDigit(b) {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

// parseISOTime reads "2006-01-02T15:04:05[.frac](Z|±hh:mm)" (a space instead
// of T is accepted) and returns the instant in UTC and the bytes consumed; a
// stamp without a zone is read in local, or refused when local is nil. It
// avoids time.Parse, which allocates a zone for every foreign offset.
func parseISOTime(s string, local *time.Location) (time.Time, int, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0, false
	}
	y := atoi(s[:4])
	mo, ok1 := twoDigits(s[5], s[6], false)
	d, ok2 := twoDigits(s[8], s[9], false)
	h, ok3 := twoDigits(s[11], s[12], false)
	mi, ok4 := twoDigits(s[14], s[15], false)
	sec, ok5 := twoDigits(s[17], s[18], false)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !isDigit(s[0]) || !isDigit(s[3]) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		digits := 0
		for i < len(s) && isDigit(s[i]) {
			if digits < 9 {
				nsec = nsec*10 + int(s[i]-'0')
				digits++
			}
			i++
		}
		if digits == 0 {
			return time.Time{}, 0, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case i < len(s) && s[i] == 'Z':
		i++
	case i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		oh, okh := twoDigits(s[i+1], s[i+2], false)
		om, okm := twoDigits(s[i+4], s[i+5], false)
		if !okh || !okm {
			return time.Time{}, 0, false
		}
		offset = oh*3600 + om*60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		if local == nil {
			return time.Time{}, 0, false
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, local).UTC(), i, true
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), i, true
}

// splitIdent follows Postfix's syslog_name: the program is the part after the
// last '/', the service everything before it ("postfix/submission/smtpd" →
// "postfix/submission", "smtpd"). An identifier without '/' is both.
func splitIdent(e *event.Event, ident string) {
	if i := strings.LastIndexByte(ident, '/'); i >= 0 {
		e.Service, e.Program = ident[:i], ident[i+1:]
		return
	}
	e.Service, e.Program = ident, ident
}

// parseMessage dispatches on the program. It is the one place that knows
// which family file handles which daemon.
func parseMessage(e *event.Event, msg string) {
	e.Kind = event.KindUnknown
	if e.Service == e.Program {
		switch e.Program {
		case "dovecot":
			parseDovecot(e, msg)
			return
		case "opendkim", "opendmarc", "policyd-spf", "policyd-spf-perl", "policy-spf", "amavis", "amavisd", "amavisd-new":
			parseMilter(e, msg)
			return
		case "saslauthd":
			parseSaslauthd(e, msg)
			return
		case "postgrey":
			parsePostgrey(e, msg)
			return
		case "imap-login", "pop3-login", "imap", "pop3", "lmtp", "lda", "deliver", "auth", "auth-worker", "managesieve-login", "submission-login", "dovecot-auth":
			// Dovecot logging under its own process names (log_path=syslog
			// with a per-process ident). Postfix's lmtp always logs under
			// a syslog_name with a '/', so a bare lmtp is Dovecot's.
			parseDovecotProcess(e, e.Program, msg)
			return
		}
	}
	switch e.Program {
	case "smtpd":
		parseSmtpd(e, msg)
	case "postscreen":
		parsePostscreen(e, msg)
	case "dnsblog":
		parseDnsblog(e, msg)
	case "cleanup":
		parseCleanup(e, msg)
	case "qmgr", "nqmgr":
		parseQmgr(e, msg)
	case "smtp", "lmtp", "local", "virtual", "pipe", "error", "discard", "retry", "relay":
		parseDelivery(e, msg)
	case "bounce", "defer", "trace":
		parseBounce(e, msg)
	case "pickup":
		parsePickup(e, msg)
	case "anvil":
		parseAnvil(e, msg)
	case "scache":
		parseStatistics(e, msg)
	case "tlsmgr", "tlsproxy":
		parseTLSDaemon(e, msg)
	case "postsuper":
		parsePostsuper(e, msg)
	case "policy-spf", "policyd-spf":
		// SPF policy servers spawned by Postfix's spawn(8) log under its
		// syslog_name.
		parseMilter(e, msg)
	case "master", "postfix-script", "postfix", "postdrop", "sendmail", "postmap", "postalias", "postqueue", "verify", "trivial-rewrite", "proxymap", "showq", "flush", "oqmgr", "spawn", "script", "postlog":
		parsePostfixMisc(e, msg)
	}
	if e.Kind == event.KindUnknown && e.Service != e.Program {
		// What any Postfix daemon may write: its library's notices and
		// its -v debug output (verbose.go).
		parseVerbose(e, msg)
	}
}
