package main

// Tests of the exporter's command line, run in-process through run() so that
// exit codes, stdout and stderr are asserted exactly as a user sees them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// cliResult is what one invocation of the exporter produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cliRun runs the exporter with args and stdin as a user would. A panic
// fails the test instead of taking down the whole test binary.
func cliRun(t *testing.T, stdin string, args ...string) (r cliResult) {
	t.Helper()
	var out, errOut bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("exporter %s panicked: %v\n%s", strings.Join(args, " "), p, debug.Stack())
		}
	}()
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// cliMust runs the exporter and fails the test unless it exits 0 with an
// empty stderr.
func cliMust(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := cliRun(t, stdin, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exporter %s: want exit 0 and no stderr, got %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// cliExpect asserts a failed invocation: its exit code, an empty stdout, and
// a stderr equal to want (or, when want is a *regexp.Regexp, matching it).
func cliExpect(t *testing.T, r cliResult, code int, want any) {
	t.Helper()
	if r.code != code {
		t.Errorf("want exit %d, got %s", code, r)
	}
	if r.stdout != "" {
		t.Errorf("want nothing on stdout, got %q", r.stdout)
	}
	switch w := want.(type) {
	case string:
		if r.stderr != w {
			t.Errorf("stderr:\n got %q\nwant %q", r.stderr, w)
		}
	case *regexp.Regexp:
		if !w.MatchString(r.stderr) {
			t.Errorf("stderr %q does not match %s", r.stderr, w)
		}
	default:
		t.Fatalf("cliExpect: bad want %T", want)
	}
}

func cliWriteFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func cliLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// cliYear is the year the README promises for an RFC 3164 stamp read at
// now: the reading year, unless that puts the stamp more than a week ahead.
func cliYear(now time.Time, loc *time.Location, mon time.Month, day, h, m, s int) time.Time {
	now = now.In(loc)
	t := time.Date(now.Year(), mon, day, h, m, s, 0, loc)
	if t.Sub(now) > 7*24*time.Hour {
		t = time.Date(now.Year()-1, mon, day, h, m, s, 0, loc)
	}
	return t
}

// cliParseInput holds an RFC 3164 line in summer and one in winter (Berlin's
// offset differs), an RFC 3339 line whose zone must win over --log.timezone,
// a line that is not syslog, an empty line and a last line without newline.
const cliParseInput = "Jul 15 10:40:57 mail postfix/submission/smtpd[9708]: 4AA091855DA0: client=some.domain.name[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.com\n" +
	"Jan 15 10:40:57 mail postfix/smtpd[123]: connect from unknown[5.6.7.8]\n" +
	"this is not syslog\n" +
	"\n" +
	"2024-06-01T00:00:00.137203+00:00 mail postfix/postscreen[10785]: CONNECT from [198.51.100.2]:24607 to [192.0.2.10]:25\n" +
	"no newline"

func cliParseWant(t *testing.T) string {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	summer := cliYear(now, berlin, time.July, 15, 10, 40, 57).UTC().Format(time.RFC3339)
	winter := cliYear(now, berlin, time.January, 15, 10, 40, 57).UTC().Format(time.RFC3339)
	if !strings.HasSuffix(summer, "T08:40:57Z") || !strings.HasSuffix(winter, "T09:40:57Z") {
		t.Fatalf("tzdata disagrees with the test: summer %s, winter %s", summer, winter)
	}
	return `{"line":1,"time":"` + summer + `","instance":"mx1","host":"mail","service":"postfix/submission","program":"smtpd","pid":9708,"queue_id":"4AA091855DA0","kind":"client","client_host":"some.domain.name","client_ip":"1.2.3.4","sasl_method":"PLAIN","sasl_username":"user@sender.com","raw":"Jul 15 10:40:57 mail postfix/submission/smtpd[9708]: 4AA091855DA0: client=some.domain.name[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.com"}
{"line":2,"time":"` + winter + `","instance":"mx1","host":"mail","service":"postfix","program":"smtpd","pid":123,"kind":"connect","client_host":"unknown","client_ip":"5.6.7.8","raw":"Jan 15 10:40:57 mail postfix/smtpd[123]: connect from unknown[5.6.7.8]"}
{"line":3,"instance":"mx1","kind":"unknown","raw":"this is not syslog"}
{"line":4,"instance":"mx1","kind":"unknown"}
{"line":5,"time":"2024-06-01T00:00:00.137203Z","instance":"mx1","host":"mail","service":"postfix","program":"postscreen","pid":10785,"kind":"connect","client_ip":"198.51.100.2","client_port":24607,"server_ip":"192.0.2.10","server_port":25,"raw":"2024-06-01T00:00:00.137203+00:00 mail postfix/postscreen[10785]: CONNECT from [198.51.100.2]:24607 to [192.0.2.10]:25"}
{"line":6,"instance":"mx1","kind":"unknown","raw":"no newline"}
`
}

func TestCLIParseStdin(t *testing.T) {
	want := cliParseWant(t)
	got := cliMust(t, cliParseInput, "parse", "--log.timezone=Europe/Berlin", "--instance=mx1")
	if got != want {
		t.Errorf("parse from stdin:\n got:\n%s\nwant:\n%s", got, want)
	}
	// "-" names stdin explicitly.
	got = cliMust(t, cliParseInput, "parse", "--log.timezone=Europe/Berlin", "--instance=mx1", "-")
	if got != want {
		t.Errorf("parse -:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCLIParseFile(t *testing.T) {
	path := cliWriteFile(t, filepath.Join(t.TempDir(), "mail.log"), cliParseInput)
	// stdin holds something else, so reading it instead of FILE shows.
	got := cliMust(t, "Jan  1 00:00:00 other postfix/smtpd[1]: connect from x[9.9.9.9]\n",
		"parse", "--log.timezone=Europe/Berlin", "--instance=mx1", path)
	if want := cliParseWant(t); got != want {
		t.Errorf("parse FILE:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCLIParseTimezoneMatters(t *testing.T) {
	// The same RFC 3164 line read in two zones lands at two instants.
	line := "Jan 15 10:40:57 mail postfix/smtpd[123]: connect from unknown[5.6.7.8]\n"
	var times []string
	for _, tz := range []string{"UTC", "America/New_York"} {
		var ev struct {
			Time time.Time `json:"time"`
		}
		out := cliMust(t, line, "parse", "--log.timezone="+tz)
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatalf("%s: %v in %q", tz, err, out)
		}
		times = append(times, ev.Time.Format("01-02T15:04:05Z07:00"))
	}
	if want := []string{"01-15T10:40:57Z", "01-15T15:40:57Z"}; times[0] != want[0] || times[1] != want[1] {
		t.Errorf("times in UTC and New York: got %v, want %v", times, want)
	}
}

func TestCLIParseErrors(t *testing.T) {
	t.Run("bad time zone", func(t *testing.T) {
		r := cliRun(t, "Jan 15 10:40:57 mail postfix/smtpd[123]: connect from unknown[5.6.7.8]\n", "parse", "--log.timezone=Mars/Olympus")
		cliExpect(t, r, 2, "exporter parse: --log.timezone=\"Mars/Olympus\": unknown time zone Mars/Olympus\n")
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.log")
		r := cliRun(t, "", "parse", path)
		cliExpect(t, r, 1, "exporter parse: open "+path+": no such file or directory\n")
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		r := cliRun(t, "", "parse", dir)
		cliExpect(t, r, 1, "exporter parse: read line 1: read "+dir+": is a directory\n")
	})
}

func TestCLISimulateDeterministic(t *testing.T) {
	a := cliMust(t, "", "simulate", "--lines", "100", "--seed", "1")
	b := cliMust(t, "", "simulate", "--lines", "100", "--seed", "1")
	if a != b {
		t.Fatal("two runs with --seed 1 differ")
	}
	lines := cliLines(a)
	if len(lines) != 100 || !strings.HasSuffix(a, "\n") {
		t.Fatalf("want 100 newline-terminated lines, got %d", len(lines))
	}
	// The default start is the documented 2024-06-01 in RFC 3164.
	if !strings.HasPrefix(lines[0], "Jun  1 00:00:00 mail ") {
		t.Errorf("first line %q does not start at the default start", lines[0])
	}
	if c := cliMust(t, "", "simulate", "--lines", "100", "--seed", "2"); c == a {
		t.Error("--seed 2 gives the same log as --seed 1")
	}
	// --output writes the same bytes to a file.
	path := filepath.Join(t.TempDir(), "sim.log")
	if out := cliMust(t, "", "simulate", "--lines", "100", "--seed", "1", "--output", path); out != "" {
		t.Errorf("with --output, stdout holds %q", out)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != a {
		t.Errorf("--output file differs from stdout (err %v)", err)
	}
	// --append adds to it rather than truncating.
	cliMust(t, "", "simulate", "--lines", "100", "--seed", "1", "--output", path, "--append")
	if b, err := os.ReadFile(path); err != nil || string(b) != a+a {
		t.Errorf("--append: file is not the log twice (err %v)", err)
	}
}

func TestCLISimulateTruth(t *testing.T) {
	dir := t.TempDir()
	truthPath := filepath.Join(dir, "truth.json")
	out := cliMust(t, "", "simulate", "--lines", "100", "--seed", "1", "--truth", truthPath)
	if n := len(cliLines(out)); n != 100 {
		t.Fatalf("wrote %d lines, want 100", n)
	}
	b, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth simulate.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatalf("truth is not JSON: %v\n%s", err, b)
	}
	if truth.Lines != 100 || truth.Total() != 100 {
		t.Errorf("truth: lines %d, total of buckets %d; want 100 and 100", truth.Lines, truth.Total())
	}
	// The logins the truth counts are in the log.
	logins := 0
	for _, n := range truth.Logins {
		logins += n
	}
	if got := strings.Count(out, "-login: Login: "); got != logins {
		t.Errorf("truth counts %d logins, the log has %d", logins, got)
	}
}

func TestCLISimulateBadFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want any
	}{
		{"neither lines nor rate", nil, "exporter simulate: give --lines, --rate or both\n"},
		{"zero lines", []string{"--lines=0"}, "exporter simulate: give --lines, --rate or both\n"},
		{"bad format", []string{"--lines=5", "--format=bogus"}, "exporter: error: enum value must be one of rfc3164,rfc3339, got 'bogus', try --help\n"},
		{"negative seed", []string{"--lines=5", "--seed=-1"}, "exporter: error: strconv.ParseUint: parsing \"-1\": invalid syntax, try --help\n"},
		{"lines not a number", []string{"--lines=many"}, regexp.MustCompile(`^exporter: error: .*"many".*, try --help\n$`)},
		{"bad start", []string{"--lines=5", "--start=yesterday"}, regexp.MustCompile(`^exporter simulate: --start="yesterday": parsing time "yesterday".*\n$`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliRun(t, "", append([]string{"simulate"}, c.args...)...)
			cliExpect(t, r, 2, c.want)
		})
	}
}

// TestCLISimulateNegativeNumbers: a negative count is a usage error naming
// the flag. Today --lines=-5 says "give --lines" although it was given, and
// negative --rate, --users, --client-ips and --domains are silently taken as
// "unset" (exit 0).
func TestCLISimulateNegativeNumbers(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--lines=-5"}, "--lines"},
		{[]string{"--rate=-1"}, "--rate"},
		{[]string{"--lines=5", "--rate=-1"}, "--rate"},
		{[]string{"--lines=5", "--users=-1"}, "--users"},
		{[]string{"--lines=5", "--client-ips=-3"}, "--client-ips"},
		{[]string{"--lines=5", "--domains=-1"}, "--domains"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := cliRun(t, "", append([]string{"simulate"}, c.args...)...)
			cliExpect(t, r, 2, regexp.MustCompile(`^exporter simulate: `+regexp.QuoteMeta(c.flag)+`=-\d+: must not be negative\n$`))
		})
	}
}

// cliEvent is the part of an event the filters look at.
type cliEvent struct {
	Time         time.Time `json:"time"`
	Kind         string    `json:"kind"`
	QueueID      string    `json:"queue_id"`
	ClientIP     string    `json:"client_ip"`
	SASLUsername string    `json:"sasl_username"`
}

// cliParsed is one line of `exporter parse`: the event as `events` must
// print it (parse's object without "line"), and its filterable fields.
type cliParsed struct {
	json string
	ev   cliEvent
}

var cliLinePrefix = regexp.MustCompile(`^\{"line":\d+,`)

func cliParseOutput(t *testing.T, out string) []cliParsed {
	t.Helper()
	var ps []cliParsed
	for _, l := range cliLines(out) {
		p := cliParsed{json: cliLinePrefix.ReplaceAllString(l, "{")}
		if p.json == l {
			t.Fatalf("parse output %q does not start with a line number", l)
		}
		if err := json.Unmarshal([]byte(l), &p.ev); err != nil {
			t.Fatalf("parse output %q: %v", l, err)
		}
		ps = append(ps, p)
	}
	return ps
}

// cliCorrelated parses and correlates a log in process, as replay does,
// and renders each event as `events` prints it.
func cliCorrelated(t *testing.T, path, instance string) []cliParsed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &parser.Parser{Instance: instance, Location: time.UTC}
	c := correlate.New(correlate.Config{})
	var ps []cliParsed
	for _, l := range cliLines(string(b)) {
		e := p.Parse(l, time.Now())
		c.Observe(&e)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&e); err != nil {
			t.Fatal(err)
		}
		cp := cliParsed{json: strings.TrimSuffix(buf.String(), "\n")}
		if err := json.Unmarshal(buf.Bytes(), &cp.ev); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, cp)
	}
	return ps
}

// cliSelect is what `events` must print for a filter: the matching parsed
// lines in input order, at most limit of them (0: all).
func cliSelect(ps []cliParsed, limit int, keep func(cliEvent) bool) string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		if limit > 0 && n == limit {
			break
		}
		if keep(p.ev) {
			b.WriteString(p.json + "\n")
			n++
		}
	}
	return b.String()
}

// cliWhen is the time the journal filters an event by: its own, or the time
// it was journaled (close to now) when the line has none.
func cliWhen(e cliEvent) time.Time {
	if e.Time.IsZero() {
		return time.Now()
	}
	return e.Time
}

func TestCLIReplayEvents(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	truthPath := filepath.Join(dir, "truth.json")
	db := filepath.Join(dir, "journal.db")
	// RFC 3339 stamps make event times independent of the reading year and
	// zone; a start ten hours ago puts every event well inside --since=20h
	// and well outside --since=5h.
	start := time.Now().Add(-10 * time.Hour).UTC().Truncate(time.Second)
	const n = 2000
	cliMust(t, "", "simulate", "--lines", fmt.Sprint(n), "--seed", "7", "--format", "rfc3339",
		"--start", start.Format(time.RFC3339), "--output", logPath, "--truth", truthPath)

	// What the parser makes of each line, enriched by the correlator as
	// ingest does, is what the journal must return.
	parsed := cliCorrelated(t, logPath, "mx1")
	if len(parsed) != n {
		t.Fatalf("parse gave %d events for %d lines", len(parsed), n)
	}

	sum := cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--log.timezone=UTC", "--progress=never", logPath)
	head := regexp.MustCompile(`^replayed +` + fmt.Sprint(n) + ` lines from 1 file\(s\) into ` + regexp.QuoteMeta(db) + `\njournaled +` + fmt.Sprint(n) + ` events\n`)
	if !head.MatchString(sum) {
		t.Fatalf("replay summary does not say %d lines and events:\n%s", n, sum)
	}
	// The per-kind counts of the summary are those of the parser.
	kinds := map[string]int{}
	for _, p := range parsed {
		kinds[p.ev.Kind]++
	}
	for k, c := range kinds {
		if !regexp.MustCompile(`(?m)^  ` + k + ` +` + fmt.Sprint(c) + `$`).MatchString(sum) {
			t.Errorf("summary does not count %d %s events:\n%s", c, k, sum)
		}
	}

	// A second replay of the same file journals nothing more.
	again := cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--log.timezone=UTC", "--progress=never", logPath)
	if want := regexp.MustCompile(`^replayed   0 lines from 1 file\(s\) into ` + regexp.QuoteMeta(db) + "\njournaled  0 events\npeak RSS   [0-9.]+ MiB\n$"); !want.MatchString(again) {
		t.Errorf("second replay:\n got %q\nwant %s", again, want)
	}

	all := func(cliEvent) bool { return true }
	// events runs `events`; a listing its limit cut says so on stderr,
	// which cut reports.
	var cut bool
	events := func(args ...string) string {
		t.Helper()
		r := cliRun(t, "", append([]string{"events", "--journal.path=" + db}, args...)...)
		cut = strings.HasPrefix(r.stderr, "exporter events: printed the first ") && strings.Count(r.stderr, "\n") == 1
		if r.code != 0 || (r.stderr != "" && !cut) {
			t.Fatalf("exporter events %s: want exit 0 and no stderr but the cut notice, got %s", strings.Join(args, " "), r)
		}
		return r.stdout
	}
	if got, want := events("--limit=0"), cliSelect(parsed, 0, all); got != want {
		t.Fatalf("events --limit=0 is not every parsed line once, in order (%d lines, want %d)", len(cliLines(got)), len(cliLines(want)))
	}
	// The default limit cuts the listing, and says so on stderr.
	if r, want := cliRun(t, "", "events", "--journal.path="+db), cliSelect(parsed, 1000, all); r.code != 0 || r.stdout != want {
		t.Errorf("events without --limit: got %d lines, want the first 1000 (%s)", len(cliLines(r.stdout)), r.stderr)
	} else if r.stderr != "exporter events: printed the first 1000 matching events; more match (--limit=0 prints them all, --since/--until/--kind narrow them)\n" {
		t.Errorf("events without --limit: stderr %q, want the notice of the cut", r.stderr)
	}
	// A limit that everything fits in says nothing.
	if got, want := events(fmt.Sprintf("--limit=%d", len(parsed))), cliSelect(parsed, 0, all); got != want {
		t.Errorf("events --limit=%d: got %d lines, want every one", len(parsed), len(cliLines(got)))
	}

	// Pick filter values that match several events but not all.
	var user, ip, qid string
	userN, ipN, qidN := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range parsed {
		if p.ev.SASLUsername != "" {
			userN[p.ev.SASLUsername]++
		}
		if p.ev.ClientIP != "" {
			ipN[p.ev.ClientIP]++
		}
		if p.ev.QueueID != "" {
			qidN[p.ev.QueueID]++
		}
	}
	most := func(m map[string]int) (best string) {
		for k, c := range m {
			if c > m[best] || (c == m[best] && k < best) {
				best = k
			}
		}
		return best
	}
	user, ip, qid = most(userN), most(ipN), most(qidN)
	if userN[user] < 2 || ipN[ip] < 2 || qidN[qid] < 2 {
		t.Fatalf("simulated log too small to filter: user %q ×%d, ip %q ×%d, queue id %q ×%d", user, userN[user], ip, ipN[ip], qid, qidN[qid])
	}
	mid := parsed[n/2].ev.Time
	late := parsed[3*n/4].ev.Time
	if mid.IsZero() || late.IsZero() || !mid.Before(late) {
		t.Fatalf("fixture: events %d and %d have times %v and %v", n/2, 3*n/4, mid, late)
	}
	var truth simulate.Truth
	if b, err := os.ReadFile(truthPath); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	logins := 0
	for _, c := range truth.Logins {
		logins += c
	}

	now := time.Now()
	for _, c := range []struct {
		args  []string
		limit int
		keep  func(cliEvent) bool
	}{
		{[]string{"--kind=login", "--format=jsonl"}, 1000, func(e cliEvent) bool { return e.Kind == "login" }},
		{[]string{"--kind=login", "--kind=auth_failure"}, 1000, func(e cliEvent) bool { return e.Kind == "login" || e.Kind == "auth_failure" }},
		{[]string{"--kind=reject"}, 1000, func(e cliEvent) bool { return e.Kind == "reject" }},
		{[]string{"--queue-id=" + qid}, 1000, func(e cliEvent) bool { return e.QueueID == qid }},
		{[]string{"--sasl-username=" + user}, 1000, func(e cliEvent) bool { return e.SASLUsername == user }},
		{[]string{"--client-ip=" + ip, "--limit=0"}, 0, func(e cliEvent) bool { return e.ClientIP == ip }},
		{[]string{"--client-ip=" + ip, "--kind=connect"}, 1000, func(e cliEvent) bool { return e.ClientIP == ip && e.Kind == "connect" }},
		{[]string{"--since=" + mid.Format(time.RFC3339Nano), "--limit=0"}, 0, func(e cliEvent) bool { return !cliWhen(e).Before(mid) }},
		{[]string{"--until=" + mid.Format(time.RFC3339Nano), "--limit=0"}, 0, func(e cliEvent) bool { return cliWhen(e).Before(mid) }},
		{[]string{"--since=" + mid.Format(time.RFC3339Nano), "--until=" + late.Format(time.RFC3339Nano), "--limit=0"}, 0, func(e cliEvent) bool {
			return !cliWhen(e).Before(mid) && cliWhen(e).Before(late)
		}},
		// Durations count back from now.
		{[]string{"--since=20h", "--limit=0"}, 0, func(e cliEvent) bool { return cliWhen(e).After(now.Add(-20 * time.Hour)) }},
		{[]string{"--since=5h", "--limit=0"}, 0, func(e cliEvent) bool { return cliWhen(e).After(now.Add(-5 * time.Hour)) }},
		{[]string{"--until=5h", "--limit=0"}, 0, func(e cliEvent) bool { return cliWhen(e).Before(now.Add(-5 * time.Hour)) }},
		{[]string{"--until=20h"}, 1000, func(e cliEvent) bool { return cliWhen(e).Before(now.Add(-20 * time.Hour)) }},
		{[]string{"--kind=login", "--limit=3"}, 3, func(e cliEvent) bool { return e.Kind == "login" }},
		{[]string{"--kind=stats", "--queue-id=" + qid}, 1000, func(e cliEvent) bool { return false }},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			want := cliSelect(parsed, c.limit, c.keep)
			got := events(c.args...)
			t.Logf("%d events", len(cliLines(got)))
			if got != want {
				t.Errorf("got %d events, want %d\n got: %.600s\nwant: %.600s", len(cliLines(got)), len(cliLines(want)), got, want)
			}
			if all := cliSelect(parsed, 0, c.keep); cut != (all != want) {
				t.Errorf("cut notice %v, but %d of %d matching events printed", cut, len(cliLines(got)), len(cliLines(all)))
			}
		})
	}
	// The simulator's own count of logins agrees with the journal's.
	if k := len(cliLines(events("--kind=login", "--limit=0"))); k != logins || k == 0 {
		t.Errorf("%d login events journaled, the simulator wrote %d", k, logins)
	}
	// The duration filters above are not trivially satisfied.
	if k := len(cliLines(events("--since=5h", "--limit=0"))); k != 0 {
		t.Errorf("--since=5h returned %d events of a log that ended ~10h ago", k)
	}
	if k := len(cliLines(events("--since=20h", "--limit=0"))); k != n {
		t.Errorf("--since=20h returned %d events, want all %d", k, n)
	}

	t.Run("table", func(t *testing.T) {
		got := events("--queue-id="+qid, "--format=table")
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tKIND\tQUEUE ID\tPROGRAM\tCLIENT\tUSER\tSENDER\tRECIPIENT\tSTATUS")
		rows := 0
		for _, p := range parsed {
			if p.ev.QueueID != qid {
				continue
			}
			var e struct {
				Program, Sender, Recipient, Status string
			}
			if err := json.Unmarshal([]byte(p.json), &e); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ev.Time.UTC().Format(time.RFC3339), p.ev.Kind, p.ev.QueueID,
				e.Program, p.ev.ClientIP, p.ev.SASLUsername, e.Sender, e.Recipient, e.Status)
			rows++
		}
		tw.Flush()
		if got != b.String() {
			t.Errorf("table:\n got:\n%s\nwant:\n%s", got, b.String())
		}
		if len(cliLines(got)) != rows+1 || rows < 2 {
			t.Errorf("table has %d lines for %d events", len(cliLines(got)), rows)
		}
	})
}

func TestCLIEventsErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	logPath := cliWriteFile(t, filepath.Join(dir, "mail.log"), "2024-06-01T00:00:00+00:00 mail postfix/smtpd[1]: connect from x[192.0.2.1]\n")
	cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)

	t.Run("missing journal", func(t *testing.T) {
		missing := filepath.Join(dir, "none", "absent.db")
		r := cliRun(t, "", "events", "--journal.path="+missing)
		cliExpect(t, r, 1, "exporter events: open journal "+missing+": stat "+missing+": no such file or directory\n")
		// Looking must not create a journal (nor its directory).
		if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("events created %s (stat: %v)", filepath.Dir(missing), err)
		}
		missing = filepath.Join(dir, "absent.db")
		cliRun(t, "", "events", "--journal.path="+missing)
		for _, p := range []string{missing, missing + "-wal", missing + "-shm"} {
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("events created %s (stat: %v)", p, err)
			}
		}
	})
	t.Run("bad kind", func(t *testing.T) {
		r := cliRun(t, "", "events", "--journal.path="+db, "--kind=logins")
		cliExpect(t, r, 2, `exporter events: --kind: unknown event kind "logins" (one of unknown, connect, disconnect, lost_connection, tls, auth_failure, client, login, message_id, queued, delivery, removed, expired, bounce_notice, reject, pickup, postscreen, policy, warning, stats, notice, access, erasure, auth_backend, suspend, unsuspend, policy_refusal, auth_report)`+"\n")
	})
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"garbage since", []string{"--since=garbage"}, `exporter events: --since: "garbage" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"garbage until", []string{"--until=yesterday"}, `exporter events: --until: "yesterday" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"negative duration", []string{"--since=-2h"}, `exporter events: --since: "-2h" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"date without time", []string{"--since=2024-06-01"}, `exporter events: --since: "2024-06-01" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"negative limit", []string{"--limit=-1"}, "exporter events: --limit=-1: must not be negative\n"},
		{"bad format", []string{"--format=csv"}, "exporter: error: enum value must be one of jsonl,table, got 'csv', try --help\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliRun(t, "", append([]string{"events", "--journal.path=" + db}, c.args...)...)
			cliExpect(t, r, 2, c.want)
		})
	}
	t.Run("replay of a missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "absent.log")
		r := cliRun(t, "", "replay", "--journal.path="+filepath.Join(dir, "other.db"), missing)
		cliExpect(t, r, 2, "exporter: error: path '"+missing+"' does not exist, try --help\n")
		if _, err := os.Stat(filepath.Join(dir, "other.db")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a replay that read nothing created its journal (stat: %v)", err)
		}
	})
}

func TestCLIServeConfigCheck(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	good := cliWriteFile(t, filepath.Join(dir, "good.yml"), `instance: mx1
timezone: Europe/Berlin
logs:
  paths: [/var/log/mail.log, "/var/log/mail/*.log"]
  rotated_globs: ["{path}.*"]
  max_line_bytes: 16384
  poll_interval: 500ms
  rotate_wait: 2s
syslog:
  listen_udp: 127.0.0.1:0
journal:
  path: `+db+`
  flush_interval: 2s
  batch_size: 100
`)
	unknownKey := cliWriteFile(t, filepath.Join(dir, "unknown.yml"), "logs:\n  paths: [/var/log/mail.log]\n  rotate_wiat: 1s\n")
	badTZ := cliWriteFile(t, filepath.Join(dir, "tz.yml"), "timezone: Europe/Berlín\nlogs:\n  paths: [/var/log/mail.log]\n")
	badDuration := cliWriteFile(t, filepath.Join(dir, "duration.yml"), "logs:\n  paths: [/var/log/mail.log]\n  poll_interval: often\n")
	webUnknown := cliWriteFile(t, filepath.Join(dir, "web-unknown.yml"), "tls_server_config:\n  cert_fil: x.crt\n")
	webNoCert := cliWriteFile(t, filepath.Join(dir, "web-nocert.yml"), "tls_server_config:\n  cert_file: "+filepath.Join(dir, "absent.crt")+"\n  key_file: "+filepath.Join(dir, "absent.key")+"\n")
	webOK := cliWriteFile(t, filepath.Join(dir, "web-ok.yml"), "basic_auth_users:\n  alice: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi\n")

	t.Run("valid", func(t *testing.T) {
		for _, args := range [][]string{
			{"--config.file=" + good},
			{"--log.path=/var/log/mail.log", "--web.config.file=" + webOK},
			{"--journald"},
			{"--syslog.listen-tcp=127.0.0.1:0"},
		} {
			got := cliMust(t, "", append([]string{"serve", "--config.check"}, args...)...)
			if got != "configuration ok\n" {
				t.Errorf("%v: stdout %q", args, got)
			}
		}
		// A check opens nothing: the journal named in the file is not created.
		if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("--config.check created the journal (stat: %v)", err)
		}
		// serve is the default command.
		if got := cliMust(t, "", "--config.check", "--config.file="+good); got != "configuration ok\n" {
			t.Errorf("without the serve command: stdout %q", got)
		}
	})
	for _, c := range []struct {
		name string
		args []string
		want any
	}{
		{"unknown key", []string{"--config.file=" + unknownKey}, "exporter serve: config " + unknownKey + ": yaml: unmarshal errors:\n  line 3: field rotate_wiat not found in type config.Logs\n"},
		{"bad timezone in config", []string{"--config.file=" + badTZ}, "exporter serve: config " + badTZ + ": timezone: unknown time zone Europe/Berlín\n"},
		{"bad duration in config", []string{"--config.file=" + badDuration}, regexp.MustCompile(`^exporter serve: config ` + regexp.QuoteMeta(badDuration) + `: .*line 3: .*"often".*\n$`)},
		{"missing config", []string{"--config.file=" + filepath.Join(dir, "absent.yml")}, "exporter serve: read config: open " + filepath.Join(dir, "absent.yml") + ": no such file or directory\n"},
		{"bad timezone flag", []string{"--log.path=/var/log/mail.log", "--log.timezone=Mars/Olympus"}, regexp.MustCompile(`^exporter serve: .*timezone.*unknown time zone Mars/Olympus\n$`)},
		{"flag overrides bad config value", []string{"--config.file=" + badTZ, "--log.timezone=UTC"}, "exporter serve: config " + badTZ + ": timezone: unknown time zone Europe/Berlín\n"},
		{"nothing to read", nil, "exporter serve: nothing to read: give --log.path, --journald or --syslog.listen-udp/tcp/relp (or the same in --config.file)\n"},
		{"bad glob", []string{"--log.path=/var/log/[mail.log"}, "exporter serve: logs.paths: bad glob \"/var/log/[mail.log\": syntax error in pattern\n"},
		{"zero batch", []string{"--log.path=/var/log/mail.log", "--journal.batch-size=0"}, "exporter serve: --journal.batch-size=0: must be positive\n"},
		{"negative window names flag and value", []string{"--log.path=/var/log/mail.log", "--auth.window=-5m"}, "exporter serve: --auth.window=-5m0s: must not be negative\n"},
		{"zero max line", []string{"--log.path=/var/log/mail.log", "--log.max-line-bytes=0"}, "exporter serve: --log.max-line-bytes=0: must be positive\n"},
		{"web config unknown key", []string{"--log.path=/var/log/mail.log", "--web.config.file=" + webUnknown}, regexp.MustCompile(`(?s)^exporter serve: --web.config.file: .*field cert_fil not found.*\n$`)},
		{"web config missing cert", []string{"--log.path=/var/log/mail.log", "--web.config.file=" + webNoCert}, regexp.MustCompile(`^exporter serve: --web.config.file: .*absent\.crt.*no such file or directory\n$`)},
		{"web config missing", []string{"--log.path=/var/log/mail.log", "--web.config.file=" + filepath.Join(dir, "absent-web.yml")}, "exporter serve: --web.config.file: open " + filepath.Join(dir, "absent-web.yml") + ": no such file or directory\n"},
		{"bad log level", []string{"--log.path=/var/log/mail.log", "--log.level=loud"}, "exporter: error: enum value must be one of debug,info,warn,error, got 'loud', try --help\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliRun(t, "", append([]string{"serve", "--config.check"}, c.args...)...)
			cliExpect(t, r, 2, c.want)
		})
	}
}

// TestCLIServeCheckNetworkFlags: --config.check promises that serve will
// start, so it must reject what serve cannot use. Today it says
// "configuration ok" to all of these; at run time the telemetry paths panic
// (net/http.ServeMux.Handle) and the addresses fail with exit 1 after
// stdin has already been read.
func TestCLIServeCheckNetworkFlags(t *testing.T) {
	for _, c := range []struct {
		arg, flag string
	}{
		{"--web.listen-address=mail.example.com", "--web.listen-address"},
		{"--web.telemetry-path=metrics", "--web.telemetry-path"},
		{"--web.telemetry-path=/-/healthy", "--web.telemetry-path"},
		{"--syslog.listen-udp=514", "--syslog.listen-udp"},
		{"--syslog.listen-tcp=localhost", "--syslog.listen-tcp"},
	} {
		t.Run(c.arg, func(t *testing.T) {
			r := cliRun(t, "", "serve", "--config.check", "--log.path=/var/log/mail.log", c.arg)
			cliExpect(t, r, 2, regexp.MustCompile(`^exporter serve: `+regexp.QuoteMeta(c.flag)+`.*\n$`))
		})
	}
}

// TestCLIServeBadTelemetryPath: a telemetry path the HTTP mux refuses is a
// usage error, not a panic.
func TestCLIServeBadTelemetryPath(t *testing.T) {
	db := filepath.Join(t.TempDir(), "journal.db")
	r := cliRun(t, "2024-06-01T00:00:02Z mail postfix/qmgr[200]: 4AA091855DA0: removed\n", "serve", "--log.path=-",
		"--web.listen-address=127.0.0.1:0", "--journal.path="+db, "--web.telemetry-path=metrics")
	cliExpect(t, r, 2, regexp.MustCompile(`^exporter serve: --web.telemetry-path.*\n$`))
}

func TestCLIServeStdin(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	input := "2024-06-01T00:00:00.137203+00:00 mail postfix/postscreen[10785]: CONNECT from [198.51.100.2]:24607 to [192.0.2.10]:25\n" +
		"2024-06-01T00:00:01+02:00 mail dovecot: imap-login: Login: user=<alice@example.com>, method=PLAIN, rip=198.51.100.4, lip=192.0.2.10, mpid=10912, TLS, session=<DapMczLvB7GasmVh>\n" +
		"not a syslog line\n" +
		"2024-06-01T00:00:02Z mail postfix/qmgr[200]: 4AA091855DA0: removed"
	start := time.Now()
	r := cliRun(t, input, "serve", "--log.path=-", "--web.listen-address=127.0.0.1:0", "--journal.path="+db,
		"--instance=mx1", "--log.timezone=UTC", "--log.level=warn")
	if r.code != 0 {
		t.Fatalf("serve of stdin: %s", r)
	}
	banner := regexp.MustCompile(`^mailtrail dev \(instance mx1\) journaling to ` + regexp.QuoteMeta(db) + `\n  metrics: http://127\.0\.0\.1:[1-9][0-9]*/metrics\n$`)
	if !banner.MatchString(r.stdout) {
		t.Errorf("stdout %q does not match %s", r.stdout, banner)
	}
	// The one line mailtrail cannot read is reported by its shape, once;
	// nothing else is logged at warning level.
	unparsed := regexp.MustCompile(`^time=\S+ level=WARN source=\S+ msg="log line of a new unparsed shape" service=none shape="not a syslog line"\n$`)
	if !unparsed.MatchString(r.stderr) {
		t.Errorf("warnings or errors logged: %s", r.stderr)
	}
	t.Logf("serve of %d lines from stdin took %v", len(cliLines(input)), time.Since(start).Round(time.Millisecond))

	// The journal holds exactly what parse makes of the lines.
	var want strings.Builder
	for _, p := range cliParseOutput(t, cliMust(t, input, "parse", "--instance=mx1", "--log.timezone=UTC")) {
		want.WriteString(p.json + "\n")
	}
	if got := cliMust(t, "", "events", "--journal.path="+db); got != want.String() {
		t.Errorf("journaled events:\n got:\n%s\nwant:\n%s", got, want.String())
	}
	if got := cliMust(t, "", "events", "--journal.path="+db, "--kind=login", "--format=table"); !regexp.MustCompile(`^TIME +KIND .*\n2024-05-31T22:00:01Z +login +imap-login +198\.51\.100\.4 +alice@example\.com *\n$`).MatchString(got) {
		t.Errorf("login table:\n%s", got)
	}
}

func TestCLIUsage(t *testing.T) {
	t.Run("help", func(t *testing.T) {
		out := cliMust(t, "", "--help")
		if !strings.HasPrefix(out, "usage: exporter [<flags>] <command> [<args> ...]\n") {
			t.Errorf("--help does not start with the usage line:\n%s", out)
		}
		for _, cmd := range []string{"serve*", "events", "replay", "parse", "simulate"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmd) + ` `).MatchString(out) {
				t.Errorf("--help does not list %s:\n%s", cmd, out)
			}
		}
		if short := cliMust(t, "", "-h"); short != out {
			t.Error("-h differs from --help")
		}
	})
	t.Run("command help", func(t *testing.T) {
		for _, args := range [][]string{{"parse", "--help"}, {"help", "parse"}} {
			out := cliMust(t, "", args...)
			if !strings.HasPrefix(out, "usage: exporter parse [<flags>] [<file>...]\n") || !strings.Contains(out, "--log.timezone") {
				t.Errorf("%v:\n%s", args, out)
			}
		}
		out := cliMust(t, "", "events", "--help")
		for _, flag := range []string{"--journal.path", "--since", "--until", "--kind", "--queue-id", "--sasl-username", "--client-ip", "--limit", "--format"} {
			if !strings.Contains(out, flag) {
				t.Errorf("events --help does not mention %s", flag)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		if out := cliMust(t, "", "--version"); out != versionText("exporter")+"\n" {
			t.Errorf("--version: %q", out)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		cliExpect(t, cliRun(t, "", "frobnicate"), 2, "exporter: error: unexpected frobnicate, try --help\n")
	})
	t.Run("unknown flag", func(t *testing.T) {
		cliExpect(t, cliRun(t, "", "parse", "--frobnicate"), 2, "exporter: error: unknown long flag '--frobnicate', try --help\n")
		cliExpect(t, cliRun(t, "", "--frobnicate"), 2, "exporter: error: unknown long flag '--frobnicate', try --help\n")
	})
	t.Run("extra argument", func(t *testing.T) {
		// parse takes several files only with --summary.
		cliExpect(t, cliRun(t, "", "parse", "a.log", "b.log"), 2, "exporter parse: one FILE at a time (or --summary for several)\n")
	})
}

// TestCLINumericFlagValues: a bad number or duration names the flag and the
// value. kingpin's own said "strconv.ParseFloat: parsing "abc": invalid
// syntax", and took --journal.batch-size=2.7 as 2.
func TestCLINumericFlagValues(t *testing.T) {
	serve := []string{"serve", "--config.check", "--log.path=/var/log/mail.log"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"word for an integer", append(serve, "--journal.batch-size=abc"), `--journal.batch-size="abc": not a whole number`},
		{"fraction for an integer", append(serve, "--journal.batch-size=2.7"), `--journal.batch-size="2.7": not a whole number`},
		{"exponent for an integer", append(serve, "--journal.batch-size=1e3"), `--journal.batch-size="1e3": not a whole number`},
		{"integer too large", append(serve, "--journal.batch-size=99999999999999999999"), `--journal.batch-size="99999999999999999999": out of range`},
		{"empty integer", append(serve, "--log.max-line-bytes="), `--log.max-line-bytes="": not a whole number`},
		{"word for a duration", append(serve, "--journal.verify-interval=soon"), `--journal.verify-interval="soon": not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)`},
		{"duration without a unit", append(serve, "--journal.flush-interval=5"), `--journal.flush-interval="5": not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)`},
		{"duration too long", append(serve, "--journal.flush-interval=9999999h"), `--journal.flush-interval="9999999h": not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)`},
		{"not a rate", []string{"simulate", "--lines=1", "--rate=fast"}, `--rate="fast": not a finite number`},
		{"NaN rate", []string{"simulate", "--lines=1", "--rate=NaN"}, `--rate="NaN": not a finite number`},
		{"infinite rate", []string{"simulate", "--lines=1", "--rate=+Inf"}, `--rate="+Inf": not a finite number`},
		{"events limit", []string{"events", "--limit=x"}, `--limit="x": not a whole number`},
		{"report top", []string{"report", "summary", "--top=ten"}, `--top="ten": not a whole number`},
		{"parse summary top", []string{"parse", "--summary.top=1.5"}, `--summary.top="1.5": not a whole number`},
		{"suspension length", []string{"suspend", "--user=a", "--reason=x", "--for=tomorrow"}, `--for="tomorrow": not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)`},
		{"fleet timeout", []string{"suspend", "--user=a", "--reason=x", "--api.timeout=1"}, `--api.timeout="1": not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cliExpect(t, cliRun(t, "", c.args...), 2, "exporter: error: "+c.want+", try --help\n")
		})
	}
}

// TestCLINumericFlagValuesTaken: the values the numeric flags accept reach
// the command, defaults included.
func TestCLINumericFlagValuesTaken(t *testing.T) {
	out := cliMust(t, "", "simulate", "--lines=3", "--rate=1e6", "--users=2", "--client-ips=2", "--domains=2")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("--lines=3 wrote %d lines:\n%s", n, out)
	}
	for _, c := range [][]string{
		{"simulate", "--lines=-1"},
		{"simulate", "--lines=5", "--rate=-0.5"},
	} {
		r := cliRun(t, "", c...)
		if r.code != 2 || !strings.Contains(r.stderr, "must not be negative") {
			t.Errorf("%v: want the command's own check of a negative value, got %s", c, r)
		}
	}
}
