package parser

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// expectation is one line of ../shared/corpus/expectations-2.jsonl: what the
// source project itself states about a line of the second corpus set, in our
// terms. Empty fields state nothing.
type expectation struct {
	File         string `json:"file"`
	Line         int    `json:"line"`
	Class        string `json:"class"` // auth_failure, reject or other
	ClientIP     string `json:"client_ip"`
	SASLUsername string `json:"sasl_username"`
	DovecotUser  string `json:"dovecot_user"`
}

// expectationExceptions are the lines we read otherwise than their source
// states, keyed by file:line, with the reason. A listed line whose
// expectations all hold fails the test, so the list stays true.
var expectationExceptions = map[string]string{}

// TestExpectations2 checks every expectation of expectations-2.jsonl against
// what the parser makes of the line (with the header corpusFileLines gives a
// message-text-only line).
func TestExpectations2(t *testing.T) {
	files := map[string]corpusFile{}
	for _, f := range allCorpusLogs(t) {
		files[f.rel] = f
	}
	fh, err := os.Open(filepath.Join(sharedCorpus, "expectations-2.jsonl"))
	if err != nil {
		t.Fatalf("open expectations: %v", err)
	}
	defer fh.Close()
	lines := map[string][]string{}
	seen := map[string]bool{}
	p := &Parser{}
	n := 0
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var x expectation
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatalf("expectations line %d: %v", n+1, err)
		}
		n++
		f, ok := files[x.File]
		if !ok {
			t.Errorf("%s: no such corpus file", x.File)
			continue
		}
		if lines[x.File] == nil {
			lines[x.File] = corpusFileLines(t, f)
		}
		if x.Line < 1 || x.Line > len(lines[x.File]) {
			t.Errorf("%s:%d: no such line", x.File, x.Line)
			continue
		}
		key := x.File + ":" + strconv.Itoa(x.Line)
		seen[key] = true
		line := lines[x.File][x.Line-1]
		e := p.Parse(line, testRef)
		problems := expectationProblems(&x, &e)
		reason, excepted := expectationExceptions[key]
		switch {
		case len(problems) > 0 && !excepted:
			t.Errorf("%s: %s\n  line:  %s\n  event: kind=%v client_ip=%q sasl_username=%q recipient=%q",
				key, strings.Join(problems, "; "), line, e.Kind, e.ClientIP, e.SASLUsername, e.Recipient)
		case len(problems) == 0 && excepted:
			t.Errorf("%s: every expectation holds, remove it from expectationExceptions (%q)", key, reason)
		case excepted:
			t.Logf("%s: read otherwise (%s): %s", key, reason, strings.Join(problems, "; "))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read expectations: %v", err)
	}
	if n < 100 {
		t.Fatalf("only %d expectations read", n)
	}
	var stale []string
	for key := range expectationExceptions {
		if !seen[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	for _, key := range stale {
		t.Errorf("%s: listed in expectationExceptions but has no expectation", key)
	}
}

// expectationProblems lists the stated expectations the event does not meet.
// Dovecot's user is our SASL user name on a login line and the recipient on
// a delivery.
func expectationProblems(x *expectation, e *event.Event) []string {
	var problems []string
	var class string
	switch {
	case e.Kind == event.KindAuthFailure:
		class = "auth_failure"
	case e.Kind == event.KindAuthBackend && e.Result != "" && e.Result != "ok":
		// A back end's refusal (Dovecot's auth process, pam_unix): the
		// line states a failed login as the source says, although the
		// front end's line is the one that counts it.
		class = "auth_failure"
	case e.Kind == event.KindReject:
		class = "reject"
	default:
		class = "other"
	}
	if class != x.Class {
		problems = append(problems, "class "+class+" ("+e.Kind.String()+"), want "+x.Class)
	}
	if x.ClientIP != "" && e.ClientIP != x.ClientIP {
		problems = append(problems, "client_ip "+strconv.Quote(e.ClientIP)+", want "+strconv.Quote(x.ClientIP))
	}
	if x.SASLUsername != "" && e.SASLUsername != x.SASLUsername {
		problems = append(problems, "sasl_username "+strconv.Quote(e.SASLUsername)+", want "+strconv.Quote(x.SASLUsername))
	}
	if x.DovecotUser != "" && e.SASLUsername != x.DovecotUser && e.Recipient != x.DovecotUser {
		problems = append(problems, "dovecot_user "+strconv.Quote(e.SASLUsername)+" / "+strconv.Quote(e.Recipient)+", want "+strconv.Quote(x.DovecotUser))
	}
	return problems
}
