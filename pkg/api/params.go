package api

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// Limits on what a request may ask for.
const (
	maxQueryBytes = 4096
	maxValueBytes = 256
	maxTextBytes  = 200
	defaultRange  = apiv1.DefaultRange
	maxRange      = apiv1.MaxRangeDays * 24 * time.Hour
	defaultLimit  = 100
	maxLimit      = apiv1.MaxLimit
)

// Every value is a bound parameter or compared in Go, never spliced into
// SQL; the validators still refuse what no legitimate value looks like, so
// that probes get a clear 400 rather than an empty answer.
var (
	queueIDRE = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)
	addressRE = regexp.MustCompile("^(hmac:[0-9a-f]{32}|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{0,64}@[A-Za-z0-9.-]{1,190})$")
	userRE    = regexp.MustCompile(`^(hmac:[0-9a-f]{32}|[A-Za-z0-9._%+=@-]{1,256})$`)
	statusRE  = regexp.MustCompile(`^[a-z_-]{1,32}$`)
	cursorRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	hmacRE    = regexp.MustCompile(`^hmac:[0-9a-f]{32}$`)
)

// params reads a request's query parameters against the endpoint's list.
type params struct {
	v   url.Values
	now time.Time
	// body is a POST endpoint's body (the Alertmanager webhook's JSON).
	body []byte
}

// newParams refuses unknown, repeated, oversized and control-character
// parameters before any is interpreted.
func newParams(raw string, allowed []string, now time.Time) (*params, error) {
	if len(raw) > maxQueryBytes {
		return nil, badRequest("query", "the query string is longer than %d bytes", maxQueryBytes)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("query", "malformed query string: %v", err)
	}
	for name, vals := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return nil, badRequest(safeName(name), "unknown parameter (this endpoint takes: %s)", strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return nil, badRequest(name, "given %d times", len(vals))
		}
		if len(vals[0]) > maxValueBytes {
			return nil, badRequest(name, "longer than %d bytes", maxValueBytes)
		}
		for _, r := range vals[0] {
			if r < 0x20 || r == 0x7f || r == 0xfffd {
				return nil, badRequest(name, "control or invalid characters")
			}
		}
	}
	return &params{v: v, now: now}, nil
}

// safeName quotes a parameter name for an error detail, cut short.
func safeName(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

func (p *params) has(name string) bool { return p.v.Has(name) }

func (p *params) get(name string) string { return p.v.Get(name) }

// match returns the parameter if it matches re.
func (p *params) match(name string, re *regexp.Regexp, what string) (string, error) {
	s := p.get(name)
	if s == "" && !p.has(name) {
		return "", nil
	}
	if !re.MatchString(s) {
		return "", badRequest(name, "not %s", what)
	}
	return s, nil
}

func (p *params) queueID(name string) (string, error) {
	return p.match(name, queueIDRE, "a Postfix queue id (letters and digits)")
}

func (p *params) address(name string) (string, error) {
	return p.match(name, addressRE, "an e-mail address (or its hmac: pseudonym)")
}

func (p *params) user(name string) (string, error) {
	return p.match(name, userRE, "a user name (letters, digits, ._%+=@-)")
}

func (p *params) status() (string, error) {
	return p.match("status", statusRE, "a delivery status like sent, deferred, bounced")
}

func (p *params) ip(name string) (string, error) {
	s := p.get(name)
	if s == "" && !p.has(name) {
		return "", nil
	}
	if hmacRE.MatchString(s) {
		return s, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", badRequest(name, "not an IP address")
	}
	return a.String(), nil
}

// messageID accepts a Message-ID with or without its angle brackets.
func (p *params) messageID() (string, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(p.get("message_id"), "<"), ">")
	if s == "" && !p.has("message_id") {
		return "", nil
	}
	if s == "" {
		return "", badRequest("message_id", "empty")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || strings.IndexByte(`'"\;<>`+"`", c) >= 0 {
			return "", badRequest("message_id", "not a Message-ID (printable characters without quotes, ';', '\\' or spaces)")
		}
	}
	return s, nil
}

// text is a fragment to find in raw lines: plain text only.
func (p *params) text() (string, error) {
	s := p.get("q")
	if len(s) > maxTextBytes {
		return "", badRequest("q", "longer than %d bytes", maxTextBytes)
	}
	if strings.ContainsAny(s, `'"\;`+"`") || strings.Contains(s, "--") || strings.Contains(s, "/*") || strings.Contains(s, "*/") {
		return "", badRequest("q", "plain text only: quotes, ';', '\\', '--' and comment markers are refused")
	}
	return s, nil
}

func (p *params) kinds() ([]event.Kind, error) {
	s := p.get("kind")
	if s == "" {
		return nil, nil
	}
	var out []event.Kind
	for _, name := range strings.Split(s, ",") {
		k, err := event.ParseKind(strings.TrimSpace(name))
		if err != nil {
			return nil, badRequest("kind", "unknown kind %s (kinds: %s)", safeName(name), kindList())
		}
		out = append(out, k)
	}
	return out, nil
}

func kindList() string {
	var names []string
	for _, k := range event.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// enum returns the parameter, which must be one of vals (or absent: def).
func (p *params) enum(name, def string, vals ...string) (string, error) {
	if !p.has(name) {
		return def, nil
	}
	s := p.get(name)
	for _, v := range vals {
		if s == v {
			return s, nil
		}
	}
	return "", badRequest(name, "must be one of %s", strings.Join(vals, ", "))
}

// boolean reads a true/false parameter, false when absent.
func (p *params) boolean(name string) (bool, error) {
	switch v := p.get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, badRequest(name, "%q: want true or false", v)
	}
}

func (p *params) limit() (int, error) {
	if !p.has("limit") {
		return defaultLimit, nil
	}
	s := p.get("limit")
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 5 || strconv.Itoa(n) != s {
		return 0, badRequest("limit", "not a whole number")
	}
	if n < 1 || n > maxLimit {
		return 0, badRequest("limit", "must be between 1 and %d", maxLimit)
	}
	return n, nil
}

func (p *params) cursor() (string, error) {
	return p.match("cursor", cursorRE, "a cursor this API returned")
}

// duration reads a Go duration, also taking days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("bad day count")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// instant reads an RFC 3339 time or a duration ago.
func (p *params) instant(name string) (time.Time, bool, error) {
	if !p.has(name) {
		return time.Time{}, false, nil
	}
	s := p.get(name)
	if len(s) > 64 {
		return time.Time{}, false, badRequest(name, "too long")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d, err := parseDuration(s)
		if err != nil || d < 0 {
			return time.Time{}, false, badRequest(name, "not an RFC 3339 time or a duration ago like 2h")
		}
		t = p.now.Add(-d)
	}
	// The journal keeps times as Unix nanoseconds, and JSON times have
	// four-digit years: outside these, a time names no event.
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, false, badRequest(name, "outside the years 1970 to 2200")
	}
	return t, true, nil
}

// timeRange reads since and until: the last 24 h by default, at most 31
// days.
func (p *params) timeRange() (since, until time.Time, err error) {
	until, hasUntil, err := p.instant("until")
	if err != nil {
		return
	}
	if !hasUntil {
		until = p.now
	}
	since, hasSince, err := p.instant("since")
	if err != nil {
		return
	}
	if !hasSince {
		since = until.Add(-defaultRange)
	}
	if !since.Before(until) {
		return since, until, badRequest("since", "must be before until")
	}
	if until.Sub(since) > maxRange {
		return since, until, badRequest("since", "the range is wider than 31 days")
	}
	return since, until, nil
}

// step reads the stats step.
func (p *params) step() (time.Duration, bool, error) {
	if !p.has("step") {
		return 0, false, nil
	}
	d, err := parseDuration(p.get("step"))
	if err != nil || d < time.Second {
		return 0, false, badRequest("step", "not a duration of at least 1s")
	}
	return d, true, nil
}
