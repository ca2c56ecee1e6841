package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

var testLines = []string{
	"2024-06-01T10:00:01+00:00 mail postfix/submission/smtpd[1001]: AAA1111111: client=client.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.com",
	"2024-06-01T10:00:01+00:00 mail postfix/qmgr[1003]: AAA1111111: from=<alice@example.com>, size=1234, nrcpt=1 (queue active)",
	"2024-06-01T10:00:03+00:00 mail postfix/smtp[1004]: AAA1111111: to=<nobody@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=2, delays=1/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.5] said: 550 5.1.1 <nobody@remote.example>: User unknown (in reply to RCPT TO command))",
	"2024-06-01T10:00:03+00:00 mail postfix/bounce[1005]: AAA1111111: sender non-delivery notification: BBB2222222",
	"2024-06-01T10:00:03+00:00 mail postfix/qmgr[1003]: AAA1111111: removed",
	"2024-06-01T10:06:10+00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob@example.org>, method=PLAIN, rip=198.51.100.66, lip=192.0.2.10, TLS, session=<s2>",
}

const testToken = "test-token-0123456789"

// newTestAPI serves a small journal with one admin token.
func newTestAPI(t testing.TB) *API {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &parser.Parser{Instance: "mx1", Location: time.UTC}
	var recs []journal.Record
	for _, l := range testLines {
		recs = append(recs, journal.Record{Event: p.Parse(l, time.Now()), Source: "test"})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	a, err := New(Config{Journal: j, Instance: "mx1", Version: "test", Now: func() time.Time { return now },
		Tokens: []Token{{Name: "admin", Secret: testToken, Role: RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		j.Close()
	})
	return a
}

// call runs one request through the handler.
func call(a *API, path, rawQuery string) *httptest.ResponseRecorder {
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path, RawQuery: rawQuery}, Header: http.Header{}, RemoteAddr: "192.0.2.1:1234"}
	r = r.WithContext(context.Background())
	r.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

var endpointNames = []string{"trace", "events", "logins", "offenders", "instance", "stats", "values", "access-log"}

// FuzzQuery sends arbitrary query strings to every endpoint: the answer is
// always JSON, an error always {error, detail} with a 4xx, never a 500 and
// never a panic.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"queue_id=AAA1111111", "since=2024-06-01T00:00:00Z&until=2024-06-02T00:00:00Z", "kind=delivery,bounce_notice&status=bounced",
		"q=User+unknown&limit=3", "cursor=YzEuZC4z", "step=1h", "field=client_ip", "user=bob@example.org&outcome=failure",
		"message_id=%3Cm1@example.com%3E", "sender=alice@example.com", "limit=99999", "since=1h&until=2h", "ip=::1",
		"%zz", "a=1&a=2", "q=%00", "since=-5h", "step=0s", "order=up",
	} {
		f.Add(s)
	}
	a := newTestAPI(f)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, ep := range endpointNames {
			w := call(a, Prefix+ep, raw)
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s?%q: status %d, body not JSON: %q", ep, raw, w.Code, w.Body.String())
			}
			switch {
			case w.Code == http.StatusOK:
			case w.Code >= 400 && w.Code < 500:
				if body["error"] == nil || body["detail"] == nil {
					t.Fatalf("%s?%q: %d without {error, detail}: %s", ep, raw, w.Code, w.Body.String())
				}
			default:
				t.Fatalf("%s?%q: status %d: %s", ep, raw, w.Code, w.Body.String())
			}
		}
	})
}

func TestHandlerBasics(t *testing.T) {
	a := newTestAPI(t)
	w := call(a, Prefix+"trace", "queue_id=AAA1111111")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"relation":"ndr"`) || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("trace: %d %s", w.Code, w.Body.String())
	}
	w = call(a, Prefix+"events", "since=1h&until=2h")
	if w.Code != 400 || !strings.Contains(w.Body.String(), "since") {
		t.Errorf("since after until: %d %s", w.Code, w.Body.String())
	}
	r := httptest.NewRequest(http.MethodPost, Prefix+"events", nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestNewRejectsBadTokens(t *testing.T) {
	for _, c := range []struct {
		tokens []Token
		want   string
	}{
		{[]Token{{Name: "", Secret: testToken, Role: RoleAdmin}}, "without a name"},
		{[]Token{{Name: "a", Secret: "short", Role: RoleAdmin}}, "at least 16"},
		{[]Token{{Name: "a", Secret: testToken, Role: "root"}}, "unknown role"},
		{[]Token{{Name: "a", Secret: testToken, Role: RoleAdmin}, {Name: "a", Secret: testToken + "x", Role: RoleAdmin}}, "named twice"},
		{[]Token{{Name: "a", Secret: testToken, Role: RoleAdmin}, {Name: "b", Secret: testToken, Role: RoleViewer}}, "same secret"},
	} {
		if _, err := New(Config{Tokens: c.tokens}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", c.tokens, err, c.want)
		}
	}
}

// TestForget: an admin erases an address through the running exporter;
// the journal holds it nowhere afterwards, the erasure and its access
// record do not name it, and bad subjects, GET and lesser roles are refused.
func TestForget(t *testing.T) {
	a := newTestAPI(t)
	post := func(rawQuery, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, Prefix+"forget?"+rawQuery, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w
	}
	if w := call(a, Prefix+"forget", "subject=alice@example.com"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET forget: %d %s", w.Code, w.Body.String())
	}
	for _, bad := range []string{"", "subject=ab", "subject=%40example.com", "subject=a+b%40example.com", "who=alice@example.com"} {
		if w := post(bad, testToken); w.Code != http.StatusBadRequest {
			t.Errorf("forget %q: %d %s", bad, w.Code, w.Body.String())
		}
	}
	if w := call(a, Prefix+"events", "sender=alice@example.com"); w.Code != 200 || !strings.Contains(w.Body.String(), "alice@example.com") {
		t.Fatalf("before: %d %s", w.Code, w.Body.String())
	}
	var forgotten []string
	a.cfg.Forgotten = func(subjects []string, _ string) { forgotten = append(forgotten, subjects...) }
	// The dry run counts what the erasure then rewrites, and changes nothing.
	if w := post("subject=alice@example.com&dry_run=maybe", testToken); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "dry_run") {
		t.Errorf("dry_run=maybe: %d %s", w.Code, w.Body.String())
	}
	var dry forgetResult
	if w := post("subject=alice@example.com&dry_run=true", testToken); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &dry) != nil || !dry.DryRun || dry.Events < 3 || len(forgotten) != 0 {
		t.Fatalf("dry run: %d %s (forgotten %q)", w.Code, w.Body.String(), forgotten)
	}
	w := post("subject=Alice@Example.com", testToken)
	if fmt.Sprint(forgotten) != "[Alice@Example.com]" {
		t.Errorf("the process's memory was told to forget %q", forgotten)
	}
	var res forgetResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Events < 3 || res.StandIn == "" {
		t.Fatalf("forget: %d %s", w.Code, w.Body.String())
	}
	if res.Events != dry.Events {
		t.Errorf("forget rewrote %d events, the dry run counted %d", res.Events, dry.Events)
	}
	a.access.Flush()
	all, err := a.cfg.Journal.Events(context.Background(), journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	erasures := 0
	for _, s := range all {
		if privacy.Mentions(&s.Event, "alice@example.com") {
			t.Errorf("event %d still names the subject: %+v", s.Seq, s.Event)
		}
		if s.Event.Kind == event.KindErasure {
			erasures++
			if !strings.Contains(s.Event.Detail, "api:admin") {
				t.Errorf("erasure record does not name who asked: %s", s.Event.Detail)
			}
		}
	}
	if erasures != 1 {
		t.Errorf("%d erasure records, want 1", erasures)
	}
}
