package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// apiFixture is a hand-written log of two tenants' mail, in Postfix's and
// Dovecot's words: tenant-a.test's alice submits a message to two remote
// recipients, one is delivered (and queued at the relay), the other bounces
// and the notification comes back to her; tenant-b.test receives mail and
// submits one; both log in over IMAP.
const apiFixture = `2024-06-01T10:00:00+00:00 mail postfix/submission/smtpd[1001]: connect from client.example.net[198.51.100.7]
2024-06-01T10:00:01+00:00 mail postfix/submission/smtpd[1001]: AAA1111111: client=client.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@tenant-a.test
2024-06-01T10:00:01+00:00 mail postfix/cleanup[1002]: AAA1111111: message-id=<m1@tenant-a.test>
2024-06-01T10:00:01+00:00 mail postfix/qmgr[1003]: AAA1111111: from=<alice@tenant-a.test>, size=1234, nrcpt=2 (queue active)
2024-06-01T10:00:02+00:00 mail postfix/submission/smtpd[1001]: disconnect from client.example.net[198.51.100.7] ehlo=1 auth=1 mail=1 rcpt=2 data=1 quit=1 commands=7
2024-06-01T10:00:03+00:00 mail postfix/smtp[1004]: AAA1111111: to=<carol@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=2, delays=1/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XyZabc123)
2024-06-01T10:00:03+00:00 mail postfix/smtp[1004]: AAA1111111: to=<nobody@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=2, delays=1/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.5] said: 550 5.1.1 <nobody@remote.example>: Recipient address rejected: User unknown (in reply to RCPT TO command))
2024-06-01T10:00:03+00:00 mail postfix/cleanup[1002]: BBB2222222: message-id=<20240601100003.BBB2222222@mail.tenant-a.test>
2024-06-01T10:00:03+00:00 mail postfix/bounce[1005]: AAA1111111: sender non-delivery notification: BBB2222222
2024-06-01T10:00:03+00:00 mail postfix/qmgr[1003]: BBB2222222: from=<>, size=3000, nrcpt=1 (queue active)
2024-06-01T10:00:03+00:00 mail postfix/qmgr[1003]: AAA1111111: removed
2024-06-01T10:00:04+00:00 mail postfix/lmtp[1006]: BBB2222222: to=<alice@tenant-a.test>, relay=mail.tenant-a.test[private/dovecot-lmtp], delay=0.1, delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 <alice@tenant-a.test> Saved)
2024-06-01T10:00:04+00:00 mail postfix/qmgr[1003]: BBB2222222: removed
2024-06-01T10:05:00+00:00 mail postfix/smtpd[2001]: connect from mx.sender.example[203.0.113.9]
2024-06-01T10:05:01+00:00 mail postfix/smtpd[2001]: CCC3333333: client=mx.sender.example[203.0.113.9]
2024-06-01T10:05:01+00:00 mail postfix/cleanup[1002]: CCC3333333: message-id=<m3@sender.example>
2024-06-01T10:05:01+00:00 mail postfix/qmgr[1003]: CCC3333333: from=<dave@sender.example>, size=2222, nrcpt=1 (queue active)
2024-06-01T10:05:02+00:00 mail postfix/lmtp[1006]: CCC3333333: to=<bob@tenant-b.test>, relay=mail.tenant-b.test[private/dovecot-lmtp], delay=1, delays=0.5/0/0.25/0.25, dsn=2.0.0, status=sent (250 2.0.0 <bob@tenant-b.test> Saved)
2024-06-01T10:05:02+00:00 mail postfix/qmgr[1003]: CCC3333333: removed
2024-06-01T10:06:00+00:00 mail dovecot: imap-login: Login: user=<bob@tenant-b.test>, method=PLAIN, rip=198.51.100.20, lip=192.0.2.10, mpid=3001, TLS, session=<s1>
2024-06-01T10:06:10+00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob@tenant-b.test>, method=PLAIN, rip=198.51.100.66, lip=192.0.2.10, TLS, session=<s2>
2024-06-01T10:06:20+00:00 mail dovecot: imap-login: Login: user=<alice@tenant-a.test>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.10, mpid=3002, TLS, session=<s3>
2024-06-01T10:07:00+00:00 mail postfix/submission/smtpd[2101]: connect from laptop.tenant-b.test[198.51.100.20]
2024-06-01T10:07:01+00:00 mail postfix/submission/smtpd[2101]: DDD4444444: client=laptop.tenant-b.test[198.51.100.20], sasl_method=PLAIN, sasl_username=bob@tenant-b.test
2024-06-01T10:07:01+00:00 mail postfix/cleanup[1002]: DDD4444444: message-id=<m4@tenant-b.test>
2024-06-01T10:07:01+00:00 mail postfix/qmgr[1003]: DDD4444444: from=<bob@tenant-b.test>, size=999, nrcpt=1 (queue active)
2024-06-01T10:07:02+00:00 mail postfix/smtp[1004]: DDD4444444: to=<erin@remote.example>, relay=mx.remote.example[203.0.113.5]:25, delay=1, delays=0.5/0/0.25/0.25, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 5QwErty789)
2024-06-01T10:07:02+00:00 mail postfix/qmgr[1003]: DDD4444444: removed
`

// The tokens of the API tests, one per role and tenant.
var apiTokensForTest = map[string]string{
	"admin":    "admin-secret-0123456789",
	"auditor":  "auditor-secret-0123456789",
	"viewer":   "viewer-secret-0123456789",
	"tenant-a": "tenant-a-secret-0123456789",
	"tenant-b": "tenant-b-secret-0123456789",
}

const apiConfig = `instance: mx1
api:
  tokens:
    - {name: admin, token_file: %s, role: admin}
    - {name: auditor, token: %s, role: auditor}
    - {name: viewer, token: %s, role: viewer}
    - {name: tenant-a, token: %s, role: auditor, tenants: [tenant-a.test]}
    - {name: tenant-b, token: %s, role: viewer, tenants: [tenant-b.test]}
`

// The whole fixture's day, as every ranged query asks for it.
const apiRange = "since=2024-06-01T00:00:00Z&until=2024-06-02T00:00:00Z"

// apiRig is a running exporter serving the API over a replayed log.
type apiRig struct {
	t    *testing.T
	p    *proc
	base string // http://127.0.0.1:port
	db   string
	dir  string
	// client makes the requests (a TLS one for the TLS test).
	client *http.Client
}

// startAPIRig replays the fixture and simLines simulated lines into a
// served journal; with withConfig the tokens are configured and cfgExtra
// appended to the configuration; extra are more serve flags.
func startAPIRig(t *testing.T, simLines int, withConfig bool, cfgExtra string, extra ...string) *apiRig {
	t.Helper()
	dir := t.TempDir()
	fixture := filepath.Join(dir, "fixture.log")
	if err := os.WriteFile(fixture, []byte(apiFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	simLog := filepath.Join(dir, "sim.log")
	sim := simulate.New(simulate.Config{Seed: 6, Format: simulate.RFC3339})
	var buf bytes.Buffer
	if err := sim.WriteLines(&buf, simLines); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(simLog, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "journal.db")
	args := []string{"--log.path=" + fixture, "--log.path=" + simLog, "--journal.path=" + db,
		"--web.listen-address=127.0.0.1:0", "--log.timezone=UTC", "--journal.flush-interval=50ms",
		"--postfix.postqueue=", "--instance=mx1"}
	if withConfig {
		adminFile := filepath.Join(dir, "admin.token")
		if err := os.WriteFile(adminFile, []byte(apiTokensForTest["admin"]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "mailtrail.yml")
		body := fmt.Sprintf(apiConfig, adminFile, apiTokensForTest["auditor"], apiTokensForTest["viewer"], apiTokensForTest["tenant-a"], apiTokensForTest["tenant-b"]) + cfgExtra
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config.file="+cfg)
	}
	p := startExporter(t, nil, append(args, extra...)...)
	metrics := p.metricsURL()
	waitJournaled(t, p, db, strings.Count(apiFixture, "\n")+simLines, 120*time.Second)
	r := &apiRig{t: t, p: p, base: strings.TrimSuffix(metrics, "/metrics"), db: db, dir: dir, client: &http.Client{Timeout: 30 * time.Second}}
	return r
}

// get calls the API with the named token ("" for none) and returns the
// status and the body.
func (r *apiRig) get(tokenName, pathAndQuery string) (int, []byte) {
	r.t.Helper()
	return r.do(http.MethodGet, tokenName, pathAndQuery)
}

// do is get with another method.
func (r *apiRig) do(method, tokenName, pathAndQuery string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+pathAndQuery, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if tokenName != "" {
		req.Header.Set("Authorization", "Bearer "+apiTokensForTest[tokenName])
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, pathAndQuery, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// getJSON calls the API, wants status want and decodes the body into v.
func (r *apiRig) getJSON(tokenName, pathAndQuery string, want int, v any) {
	r.t.Helper()
	r.doJSON(http.MethodGet, tokenName, pathAndQuery, want, v)
}

// doJSON is getJSON with another method.
func (r *apiRig) doJSON(method, tokenName, pathAndQuery string, want int, v any) {
	r.t.Helper()
	status, body := r.do(method, tokenName, pathAndQuery)
	if status != want {
		r.t.Fatalf("%s %s as %q: status %d, want %d: %s", method, pathAndQuery, tokenName, status, want, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, pathAndQuery, err, body)
		}
	}
}

type apiEvent struct {
	Seq int64 `json:"seq"`
	event.Event
}

type apiMessage struct {
	Instance     string     `json:"instance"`
	QueueID      string     `json:"queue_id"`
	MessageID    string     `json:"message_id"`
	Sender       string     `json:"sender"`
	SASLUsername string     `json:"sasl_username"`
	ClientIP     string     `json:"client_ip"`
	ClientHost   string     `json:"client_host"`
	Origin       string     `json:"origin"`
	Received     time.Time  `json:"received"`
	Finished     *time.Time `json:"finished"`
	Size         int64      `json:"size"`
	Events       []apiEvent `json:"events"`
	Deliveries   []apiEvent `json:"deliveries"`
	Links        []struct {
		QueueID      string `json:"queue_id"`
		Relation     string `json:"relation"`
		InstanceHint string `json:"instance_hint"`
		RelayHost    string `json:"relay_host"`
		RelayIP      string `json:"relay_ip"`
	} `json:"links"`
}

type apiTrace struct {
	Instance string       `json:"instance"`
	Messages []apiMessage `json:"messages"`
}

// link returns the message's link of the relation, failing if absent.
func (m *apiMessage) link(t *testing.T, relation string) (qid, hint, relayHost string) {
	t.Helper()
	for _, l := range m.Links {
		if l.Relation == relation {
			return l.QueueID, l.InstanceHint, l.RelayHost
		}
	}
	t.Fatalf("message %s has no %s link: %+v", m.QueueID, relation, m.Links)
	return "", "", ""
}

// The API's tests share one exporter: starting it and replaying the log
// costs more than all the calls.
func TestAPI(t *testing.T) {
	r := startAPIRig(t, 20000, true, "")
	t.Run("TraceBounce", r.testTraceBounce)
	t.Run("TraceHops", r.testTraceHops)
	t.Run("Events", r.testEvents)
	t.Run("Logins", r.testLogins)
	t.Run("InstanceStatsValues", r.testInstanceStatsValues)
	t.Run("Auth", r.testAuth)
	t.Run("ViewerRedacted", r.testViewerRedacted)
	t.Run("Tenants", r.testTenants)
	t.Run("BadInput", r.testBadInput)
	t.Run("AccessLog", r.testAccessLog)
}

func (r *apiRig) testTraceBounce(t *testing.T) {
	var tr apiTrace
	r.getJSON("auditor", "/api/v1/trace?queue_id=AAA1111111", 200, &tr)
	if tr.Instance != "mx1" || len(tr.Messages) != 1 {
		t.Fatalf("trace: instance %q, %d messages, want mx1 and 1", tr.Instance, len(tr.Messages))
	}
	m := tr.Messages[0]
	if m.SASLUsername != "alice@tenant-a.test" || m.ClientIP != "198.51.100.7" || m.Sender != "alice@tenant-a.test" ||
		m.MessageID != "m1@tenant-a.test" || m.Size != 1234 || m.Origin != "submission" || m.Finished == nil {
		t.Errorf("message fields: %+v", m)
	}
	status := map[string]string{}
	for _, d := range m.Deliveries {
		status[d.Recipient] = d.Status
	}
	if len(m.Deliveries) != 2 || status["carol@remote.example"] != "sent" || status["nobody@remote.example"] != "bounced" {
		t.Errorf("deliveries: %+v, want carol sent and nobody bounced", status)
	}
	if len(m.Events) != 7 {
		t.Errorf("%d events of AAA1111111, want 7 (client, message-id, from, 2 deliveries, bounce notice, removed)", len(m.Events))
	}
	for i := 1; i < len(m.Events); i++ {
		if m.Events[i].Time.Before(m.Events[i-1].Time) || m.Events[i].Seq == 0 {
			t.Errorf("events out of time order or without seq: %+v", m.Events[i])
		}
	}
	if ndr, _, _ := m.link(t, "ndr"); ndr != "BBB2222222" {
		t.Errorf("ndr link to %s, want BBB2222222", ndr)
	}
	// The notification links back to what it reports on.
	r.getJSON("auditor", "/api/v1/trace?queue_id=BBB2222222", 200, &tr)
	if parent, _, _ := tr.Messages[0].link(t, "ndr_parent"); parent != "AAA1111111" {
		t.Errorf("ndr_parent link to %s, want AAA1111111", parent)
	}
	// The same message is found by its message id and its sender.
	for _, q := range []string{"message_id=%3Cm1@tenant-a.test%3E", "sender=alice@tenant-a.test", "recipient=nobody@remote.example"} {
		r.getJSON("auditor", "/api/v1/trace?"+q+"&"+apiRange, 200, &tr)
		found := false
		for _, m := range tr.Messages {
			found = found || m.QueueID == "AAA1111111"
		}
		if !found {
			t.Errorf("trace?%s: AAA1111111 not among %d messages", q, len(tr.Messages))
		}
	}
	if status, body := r.get("auditor", "/api/v1/trace?queue_id=ZZZ9999999"); status != 404 || !strings.Contains(string(body), `"not_found"`) {
		t.Errorf("unknown queue id: %d %s, want 404 not_found", status, body)
	}
}

func (r *apiRig) testTraceHops(t *testing.T) {
	var tr apiTrace
	r.getJSON("auditor", "/api/v1/trace?queue_id=AAA1111111", 200, &tr)
	qid, hint, relay := tr.Messages[0].link(t, "next_hop")
	if qid != "4XyZabc123" || hint != "mx.remote.example" || relay != "mx.remote.example" {
		t.Errorf("next_hop link %s via %s (%s), want 4XyZabc123 at mx.remote.example", qid, hint, relay)
	}
	// The simulated content filter hands messages back over 127.0.0.1:
	// both ends are in this journal.
	var page struct{ Events []apiEvent }
	r.getJSON("auditor", "/api/v1/events?kind=delivery&q=queued+as&limit=1000&"+apiRange, 200, &page)
	for _, d := range page.Events {
		if d.RelayIP != "127.0.0.1" || d.NextQueueID == "" {
			continue
		}
		r.getJSON("auditor", "/api/v1/trace?queue_id="+d.NextQueueID, 200, &tr)
		if prev, _, _ := tr.Messages[0].link(t, "previous_hop"); prev != d.QueueID {
			t.Errorf("previous_hop of %s is %s, want %s", d.NextQueueID, prev, d.QueueID)
		}
		r.getJSON("auditor", "/api/v1/trace?queue_id="+d.QueueID, 200, &tr)
		if next, _, _ := tr.Messages[0].link(t, "next_hop"); next != d.NextQueueID {
			t.Errorf("next_hop of %s is %s, want %s", d.QueueID, next, d.NextQueueID)
		}
		return
	}
	t.Fatal("the simulated log has no content-filter hop")
}

func (r *apiRig) testEvents(t *testing.T) {
	// Paging newest first through the bounced message's events, two at a
	// time, sees each once, in descending seq order.
	var seqs []int64
	cursor := ""
	for pages := 0; ; pages++ {
		var page struct {
			Events     []apiEvent `json:"events"`
			NextCursor string     `json:"next_cursor"`
		}
		q := "/api/v1/events?queue_id=AAA1111111&limit=3&" + apiRange
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r.getJSON("auditor", q, 200, &page)
		for _, e := range page.Events {
			if e.QueueID != "AAA1111111" {
				t.Errorf("event of %s in a queue_id filter", e.QueueID)
			}
			seqs = append(seqs, e.Seq)
		}
		if cursor = page.NextCursor; cursor == "" || pages > 10 {
			break
		}
	}
	if len(seqs) != 7 {
		t.Errorf("paged %d events, want 7", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Errorf("seqs not descending: %v", seqs)
		}
	}
	var page struct{ Events []apiEvent }
	r.getJSON("auditor", "/api/v1/events?kind=delivery,bounce_notice&status=bounced&order=asc&"+apiRange+"&limit=1000", 200, &page)
	if len(page.Events) == 0 {
		t.Fatal("no bounced deliveries")
	}
	for _, e := range page.Events {
		if e.Kind != event.KindDelivery || e.Status != "bounced" {
			t.Errorf("filter kind+status let through %v %s", e.Kind, e.Status)
		}
	}
	// A cursor of one order is refused for the other.
	var first struct {
		NextCursor string `json:"next_cursor"`
	}
	r.getJSON("auditor", "/api/v1/events?limit=1&"+apiRange, 200, &first)
	if status, _ := r.get("auditor", "/api/v1/events?order=asc&cursor="+first.NextCursor+"&"+apiRange); status != 400 {
		t.Errorf("desc cursor in an asc listing: %d, want 400", status)
	}
}

func (r *apiRig) testLogins(t *testing.T) {
	var res struct {
		Logins []struct {
			User, Service, Outcome string
			ClientIP               string `json:"client_ip"`
			Count                  int
			TLS                    bool
		}
	}
	r.getJSON("auditor", "/api/v1/logins?user=bob@tenant-b.test&"+apiRange, 200, &res)
	got := map[string]int{}
	for _, l := range res.Logins {
		got[l.ClientIP+" "+l.Service+" "+l.Outcome] += l.Count
		if l.User != "bob@tenant-b.test" {
			t.Errorf("user filter let through %q", l.User)
		}
		if strings.HasPrefix(l.Service, "dovecot") && !l.TLS {
			t.Errorf("Dovecot login over TLS without tls: %+v", l)
		}
	}
	want := map[string]int{
		"198.51.100.20 dovecot/imap-login success": 1,
		"198.51.100.66 dovecot/imap-login failure": 1,
		"198.51.100.20 postfix/submission success": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bob's logins %v, want %v", got, want)
	}
	r.getJSON("auditor", "/api/v1/logins?outcome=failure&limit=1000&"+apiRange, 200, &res)
	if len(res.Logins) < 2 {
		t.Errorf("%d failure rows, want the fixture's and the simulated brute force", len(res.Logins))
	}
	for _, l := range res.Logins {
		if l.Outcome != "failure" {
			t.Errorf("outcome filter let through %+v", l)
		}
	}
}

func (r *apiRig) testInstanceStatsValues(t *testing.T) {
	var info struct {
		Instance string
		Hosts    []string
		Journal  struct {
			Events    int64 `json:"events"`
			SizeBytes int64 `json:"size_bytes"`
		}
	}
	r.getJSON("viewer", "/api/v1/instance", 200, &info)
	if info.Instance != "mx1" || fmt.Sprint(info.Hosts) != "[mail]" || info.Journal.Events < 20000 || info.Journal.SizeBytes == 0 {
		t.Errorf("instance: %+v", info)
	}
	var st struct {
		StepSeconds int64 `json:"step_seconds"`
		Points      []struct {
			Time  time.Time
			Count int64
		}
	}
	r.getJSON("auditor", "/api/v1/stats?kind=delivery&status=bounced&step=1h&"+apiRange, 200, &st)
	var total int64
	for _, p := range st.Points {
		total += p.Count
	}
	var page struct{ Events []apiEvent }
	r.getJSON("auditor", "/api/v1/events?kind=delivery&status=bounced&limit=1000&"+apiRange, 200, &page)
	if st.StepSeconds != 3600 || len(st.Points) != 24 || total != int64(len(page.Events)) {
		t.Errorf("stats: step %d, %d points, %d counted; want 3600, 24 and the %d events listed", st.StepSeconds, len(st.Points), total, len(page.Events))
	}
	var vals struct{ Values []string }
	r.getJSON("auditor", "/api/v1/values?field=sender_domain&limit=1000&"+apiRange, 200, &vals)
	if !strings.Contains(strings.Join(vals.Values, " "), "tenant-a.test") {
		t.Errorf("sender domains %v lack tenant-a.test", vals.Values)
	}
}

func (r *apiRig) testAuth(t *testing.T) {
	for _, c := range []struct {
		token, path string
		status      int
	}{
		{"", "/api/v1/trace?queue_id=AAA1111111", 401},
		{"", "/api/v1/instance", 401},
		{"nobody", "/api/v1/instance", 401},
		{"viewer", "/api/v1/access-log", 403},
		{"auditor", "/api/v1/access-log", 403},
		{"admin", "/api/v1/access-log", 200},
		{"viewer", "/api/v1/events?sender=alice@tenant-a.test&" + apiRange, 403},
		{"viewer", "/api/v1/events?q=alice&" + apiRange, 403},
		{"viewer", "/api/v1/nothing", 404},
	} {
		status, body := r.get(c.token, c.path)
		if status != c.status {
			t.Errorf("%s as %q: %d, want %d: %s", c.path, c.token, status, c.status, body)
		}
		var e struct{ Error, Detail string }
		if status != 200 && (json.Unmarshal(body, &e) != nil || e.Error == "" || e.Detail == "") {
			t.Errorf("%s: error body %s is not {error, detail}", c.path, body)
		}
	}
}

// stringsIn collects every string of a decoded JSON value, keys included.
func stringsIn(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = stringsIn(e, out)
		}
	case map[string]any:
		for k, e := range x {
			out = stringsIn(e, append(out, k))
		}
	}
	return out
}

var (
	anyAddrRE    = regexp.MustCompile(`([^\s<>()\[\]"',;:=/]+)@[A-Za-z0-9-]+\.[A-Za-z]`)
	pseudonymRE  = regexp.MustCompile(`^u-[0-9a-f]{8}$`)
	fixtureUsers = []string{"alice", "bob", "carol", "nobody", "dave", "erin"}
)

// everyEndpoint lists a call of every data endpoint over the fixture's day.
var everyEndpoint = []string{
	"/api/v1/trace?queue_id=AAA1111111",
	"/api/v1/trace?queue_id=BBB2222222",
	"/api/v1/trace?queue_id=CCC3333333",
	"/api/v1/trace?queue_id=DDD4444444",
	"/api/v1/trace?message_id=m3@sender.example&" + apiRange,
	"/api/v1/events?limit=1000&" + apiRange,
	"/api/v1/events?limit=1000&order=asc&" + apiRange,
	"/api/v1/logins?limit=1000&" + apiRange,
	"/api/v1/offenders",
	"/api/v1/instance",
	"/api/v1/stats?" + apiRange,
	"/api/v1/values?field=sasl_username&limit=1000&" + apiRange,
	"/api/v1/values?field=sender_domain&limit=1000&" + apiRange,
	"/api/v1/values?field=recipient_domain&limit=1000&" + apiRange,
	"/api/v1/values?field=client_ip&limit=1000&" + apiRange,
	"/api/v1/values?field=instance&" + apiRange,
}

func (r *apiRig) testViewerRedacted(t *testing.T) {
	seen := 0
	for _, path := range everyEndpoint {
		status, body := r.get("viewer", path)
		if status != 200 {
			t.Errorf("%s as viewer: %d %s", path, status, body)
			continue
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		for _, s := range stringsIn(v, nil) {
			for _, m := range anyAddrRE.FindAllStringSubmatch(s, -1) {
				seen++
				if !pseudonymRE.MatchString(m[1]) {
					t.Errorf("%s: viewer sees address %q in %q", path, m[0], s)
				}
			}
			for _, u := range fixtureUsers {
				if strings.Contains(s, u+"@") {
					t.Errorf("%s: viewer sees %s@ in %q", path, u, s)
				}
			}
		}
	}
	if seen < 100 {
		t.Errorf("only %d (redacted) addresses in the viewer's answers: the test looks at too little", seen)
	}
	// A redacted trace still has its shape.
	var tr apiTrace
	r.getJSON("viewer", "/api/v1/trace?queue_id=AAA1111111", 200, &tr)
	if m := tr.Messages[0]; len(m.Deliveries) != 2 || m.ClientIP != "198.51.100.7" || !strings.HasSuffix(m.SASLUsername, "@tenant-a.test") {
		t.Errorf("redacted trace: %+v", m)
	}
}

// tenantFilters are the event filters a tenant might use to reach the
// other's mail; those marked other target only the other tenant's.
func tenantFilters(other, otherUser, otherQID, otherIP, otherMID string) map[string]bool {
	return map[string]bool{
		"queue_id=" + otherQID: true, "message_id=" + otherMID: true, "sasl_username=" + otherUser: true,
		"client_ip=" + otherIP: true, "sender=" + otherUser: true, "recipient=" + otherUser: true, "q=" + other: true,
		"kind=access": true, "status=sent": false, "kind=delivery": false, "kind=login,auth_failure": false, "q=removed": false,
	}
}

func (r *apiRig) testTenants(t *testing.T) {
	for _, c := range []struct {
		token, own, other                      string
		otherUser, otherQID, otherIP, otherMID string
	}{
		{"tenant-a", "tenant-a.test", "tenant-b.test", "bob@tenant-b.test", "DDD4444444", "198.51.100.20", "m4@tenant-b.test"},
		{"tenant-b", "tenant-b.test", "tenant-a.test", "alice@tenant-a.test", "AAA1111111", "198.51.100.7", "m1@tenant-a.test"},
	} {
		// tenant-b is a viewer: its address searches are refused outright.
		refused := func(status int) bool { return status == 403 && c.token == "tenant-b" }
		var paths []string
		for f, onlyOther := range tenantFilters(c.other, c.otherUser, c.otherQID, c.otherIP, c.otherMID) {
			var page struct{ Events []apiEvent }
			status, body := r.get(c.token, "/api/v1/events?limit=1000&"+f+"&"+apiRange)
			if refused(status) {
				continue
			}
			if status != 200 || json.Unmarshal(body, &page) != nil {
				t.Errorf("events?%s as %s: %d %s", f, c.token, status, body)
				continue
			}
			if onlyOther && len(page.Events) > 0 {
				t.Errorf("events?%s as %s: %d of the other tenant's events", f, c.token, len(page.Events))
			}
			// stats counts exactly what events lists.
			var st struct{ Points []struct{ Count int } }
			r.getJSON(c.token, "/api/v1/stats?step=1h&"+f+"&"+apiRange, 200, &st)
			sum := 0
			for _, p := range st.Points {
				sum += p.Count
			}
			if sum != len(page.Events) {
				t.Errorf("stats?%s as %s counts %d, events lists %d", f, c.token, sum, len(page.Events))
			}
			paths = append(paths, "/api/v1/events?limit=1000&"+f+"&"+apiRange)
		}
		paths = append(paths,
			"/api/v1/trace?queue_id="+c.otherQID, "/api/v1/trace?message_id="+c.otherMID+"&"+apiRange,
			"/api/v1/trace?sender="+c.otherUser+"&"+apiRange, "/api/v1/trace?recipient="+c.otherUser+"&"+apiRange,
			"/api/v1/logins?user="+c.otherUser+"&"+apiRange, "/api/v1/logins?ip="+c.otherIP+"&"+apiRange,
			"/api/v1/logins?outcome=failure&"+apiRange,
		)
		for _, path := range append(paths, everyEndpoint...) {
			status, body := r.get(c.token, path)
			if refused(status) {
				continue
			}
			if status != 200 && status != 404 {
				t.Errorf("%s as %s: %d %s", path, c.token, status, body)
				continue
			}
			if strings.Contains(string(body), c.other) {
				t.Errorf("%s as %s: the answer names %s: %s", path, c.token, c.other, body)
			}
		}
		// What is theirs they do see.
		var page struct{ Events []apiEvent }
		r.getJSON(c.token, "/api/v1/events?limit=1000&"+apiRange, 200, &page)
		if len(page.Events) == 0 || len(page.Events) > 30 {
			t.Errorf("%s sees %d events, want its own few", c.token, len(page.Events))
		}
	}
	var tr apiTrace
	r.getJSON("tenant-a", "/api/v1/trace?queue_id=AAA1111111", 200, &tr)
	if len(tr.Messages[0].Events) != 7 {
		t.Errorf("tenant-a sees %d events of its own message, want all 7", len(tr.Messages[0].Events))
	}
	r.getJSON("tenant-b", "/api/v1/trace?queue_id=CCC3333333", 200, &tr)
	r.getJSON("tenant-a", "/api/v1/trace?queue_id=CCC3333333", 404, nil)
}

// journalDigest hashes everything of the journal that is not an access
// record, and the schema: what no API call may change.
func journalDigest(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	h := sha256.New()
	err = j.Scan(ctx, journal.Filter{Match: func(s *journal.Stored) bool { return s.Event.Kind != event.KindAccess }}, func(s *journal.Stored) error {
		b, err := json.Marshal(s)
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := j.DB().QueryContext(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, c string
		if err := rows.Scan(&a, &b, &c); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, a, b, c)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// endpointParams are every endpoint's parameters.
var endpointParams = map[string][]string{
	"trace":      {"queue_id", "message_id", "sender", "recipient", "since", "until", "limit"},
	"events":     {"since", "until", "kind", "queue_id", "message_id", "sasl_username", "client_ip", "sender", "recipient", "status", "q", "limit", "cursor", "order"},
	"logins":     {"since", "until", "user", "ip", "outcome", "limit"},
	"stats":      {"since", "until", "step", "kind", "queue_id", "message_id", "sasl_username", "client_ip", "sender", "recipient", "status", "q"},
	"values":     {"field", "since", "until", "limit"},
	"access-log": {"since", "until", "limit", "cursor"},
}

var injections = []string{
	"' OR '1'='1",
	"1; DROP TABLE events; --",
	"x' UNION SELECT seq, data FROM events --",
	`a" OR 1=1 /*`,
	"AAA1111111'); DELETE FROM events; --",
	"\x00",
	strings.Repeat("A", 300),
	strings.Repeat("alice@tenant-a.test,", 50),
}

func (r *apiRig) testBadInput(t *testing.T) {
	before := journalDigest(t, r.db)
	calls := 0
	for ep, ps := range endpointParams {
		for _, p := range ps {
			for _, bad := range injections {
				q := url.Values{p: {bad}}
				if ep == "values" && p != "field" {
					q.Set("field", "client_ip")
				}
				path := "/api/v1/" + ep + "?" + q.Encode()
				status, body := r.get("admin", path)
				calls++
				if status != 400 {
					t.Errorf("%s: %d, want 400: %s", path, status, body)
					continue
				}
				var e struct{ Error, Detail string }
				if json.Unmarshal(body, &e) != nil || e.Error != "bad_request" || !strings.Contains(e.Detail, p) {
					t.Errorf("%s: error %s does not name %s", path, body, p)
				}
			}
		}
	}
	for _, path := range []string{
		"/api/v1/events?unknown=1",
		"/api/v1/events?limit=1001",
		"/api/v1/events?limit=0",
		"/api/v1/events?since=yesterday",
		"/api/v1/events?since=2024-01-01T00:00:00Z&until=2024-03-01T00:00:00Z",
		"/api/v1/events?since=2h&until=3h",
		"/api/v1/events?queue_id=A&queue_id=B",
		"/api/v1/events?" + strings.Repeat("q=x&", 1200),
		"/api/v1/trace?queue_id=AAA1111111&message_id=m1@tenant-a.test",
		"/api/v1/trace?queue_id=AAA1111111&since=1h",
		"/api/v1/stats?step=1s&" + apiRange,
		"/api/v1/values?" + apiRange,
		"/api/v1/offenders?limit=1",
	} {
		if status, body := r.get("admin", path); status != 400 {
			t.Errorf("%s: %d, want 400: %s", path[:min(len(path), 120)], status, body)
		}
	}
	t.Logf("%d injection and oversized calls, all 400", calls)
	if after := journalDigest(t, r.db); after != before {
		t.Errorf("the journal's events or schema changed under bad input")
	}
	out, err := exec.Command(exporterBinary(t), "verify", "--journal.path="+r.db).CombinedOutput()
	if err != nil {
		t.Errorf("exporter verify after the bad input: %v\n%s", err, out)
	}
}

func (r *apiRig) testAccessLog(t *testing.T) {
	// A query no other call makes, to find its record.
	marker := "queue_id=AAA1111111&limit=7"
	r.getJSON("tenant-a", "/api/v1/trace?"+marker, 200, nil)
	r.get("", "/api/v1/instance?limit=7")
	type entry struct {
		Token, Role, Method, Path, Query string
		Status, Results                  int
		Time                             time.Time
	}
	var trace, anon *entry
	var log struct {
		Entries    []entry
		NextCursor string `json:"next_cursor"`
	}
	// Records are committed in the background, within milliseconds.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r.getJSON("admin", "/api/v1/access-log?limit=50", 200, &log)
		trace, anon = nil, nil
		for i := range log.Entries {
			e := &log.Entries[i]
			if e.Query == marker && trace == nil {
				trace = e
			}
			if e.Query == "limit=7" && anon == nil {
				anon = e
			}
		}
		if trace != nil && anon != nil {
			break
		}
	}
	if trace == nil || anon == nil {
		t.Fatalf("the calls are not in the access log: %+v", log.Entries)
	}
	if log.NextCursor == "" {
		t.Error("a full page of the access log has no next cursor")
	}
	if anon.Token != "" || anon.Status != 401 || anon.Path != "/api/v1/instance" || anon.Time.Before(trace.Time) {
		t.Errorf("anonymous call logged as %+v", anon)
	}
	if trace.Token != "tenant-a" || trace.Role != "auditor" || trace.Method != "GET" || trace.Path != "/api/v1/trace" ||
		trace.Status != 200 || trace.Results != 1 || time.Since(trace.Time) > time.Minute {
		t.Errorf("tenant-a's trace logged as %+v", trace)
	}
	// The access records are journal events: in the Merkle tree, hidden
	// from everyone but admins.
	var page struct{ Events []apiEvent }
	r.getJSON("admin", "/api/v1/events?kind=access&limit=5", 200, &page)
	if len(page.Events) != 5 {
		t.Errorf("admin sees %d access events, want 5", len(page.Events))
	}
	r.getJSON("auditor", "/api/v1/events?kind=access&limit=5", 200, &page)
	if len(page.Events) != 0 {
		t.Errorf("an auditor sees %d access events, want none", len(page.Events))
	}
}

func TestAPIOffWithoutTokens(t *testing.T) {
	r := startAPIRig(t, 100, false, "")
	status, body := r.get("", "/api/v1/instance")
	if status != 404 || !strings.Contains(string(body), "api.tokens") || !strings.Contains(string(body), "--api.allow-anonymous") {
		t.Errorf("API without tokens: %d %s, want 404 saying how to turn it on", status, body)
	}
	n, err := journalCount(r.db)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(strings.Count(apiFixture, "\n") + 100); n != want {
		t.Errorf("journal holds %d events, want %d: a call to the API that is off was journaled", n, want)
	}
}

func TestAPIAnonymous(t *testing.T) {
	r := startAPIRig(t, 100, false, "", "--api.allow-anonymous")
	var tr apiTrace
	r.getJSON("", "/api/v1/trace?queue_id=AAA1111111", 200, &tr)
	if len(tr.Messages) != 1 || tr.Messages[0].Sender != "alice@tenant-a.test" {
		t.Errorf("anonymous trace: %+v", tr)
	}
	r.getJSON("", "/api/v1/access-log", 403, nil)
	for i := 0; i < 50; i++ {
		r.getJSON("", "/api/v1/offenders", 200, nil)
	}
	// A clean stop commits every call's record before the journal closes.
	r.p.term()
	j, err := journal.Open(context.Background(), r.db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.Events(context.Background(), journal.Filter{Kinds: []event.Kind{event.KindAccess}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 52 {
		t.Errorf("%d access records after 52 calls and a clean stop", len(evs))
	}
	for _, e := range evs {
		if e.Event.SASLUsername != "anonymous" || e.Event.Level != "auditor" {
			t.Errorf("anonymous call recorded as %+v", e.Event)
		}
	}
}

// Under a privacy policy that pseudonymises users, senders and client
// addresses, the API finds them by their plain values, as exporter events
// does, and answers with what the journal holds.
func TestAPIPrivacyLookup(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "hmac.key")
	if err := os.WriteFile(secret, []byte("a secret of more than sixteen bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startAPIRig(t, 100, true, "privacy:\n  secret_file: "+secret+"\n  fields: {sasl_username: hmac, sender: hmac, recipient: hmac, client_ip: hmac}\n")
	var page struct{ Events []apiEvent }
	r.getJSON("auditor", "/api/v1/events?sasl_username=alice@tenant-a.test&client_ip=198.51.100.7&"+apiRange, 200, &page)
	kinds := map[event.Kind]bool{}
	for _, e := range page.Events {
		kinds[e.Kind] = true
	}
	// Her submission (and the message's lines the correlator enriched)
	// and her IMAP login.
	if !kinds[event.KindClient] || !kinds[event.KindLogin] || !kinds[event.KindDelivery] {
		t.Fatalf("alice's events from 198.51.100.7 by plain values: kinds %v", kinds)
	}
	for _, e := range page.Events {
		if !strings.HasPrefix(e.SASLUsername, "hmac:") || !strings.HasPrefix(e.ClientIP, "hmac:") || strings.Contains(e.Raw, "alice@") {
			t.Errorf("the journal's pseudonyms not returned: %+v", e.Event)
		}
	}
	var tr apiTrace
	r.getJSON("auditor", "/api/v1/trace?sender=alice@tenant-a.test&"+apiRange, 200, &tr)
	if len(tr.Messages) != 1 || tr.Messages[0].QueueID != "AAA1111111" {
		t.Errorf("trace by a pseudonymised sender: %+v", tr.Messages)
	}
	var logins struct{ Logins []struct{ User string } }
	r.getJSON("auditor", "/api/v1/logins?user=bob@tenant-b.test&"+apiRange, 200, &logins)
	if len(logins.Logins) != 3 {
		t.Errorf("bob's login rows by his plain name: %+v, want 3", logins.Logins)
	}
	// The access log keeps the searches as the policy keeps the values:
	// pseudonyms in the entries, and after a clean stop no searched name or
	// address in the journal's files (the fixture's own lines are
	// pseudonymised likewise).
	var log struct {
		Entries []struct{ Path, Query string }
	}
	searches := 0
	// Records are committed in the background, within milliseconds.
	for deadline := time.Now().Add(10 * time.Second); searches < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r.getJSON("admin", "/api/v1/access-log?limit=20", 200, &log)
		searches = 0
		for _, e := range log.Entries {
			if strings.Contains(e.Query, "hmac") {
				searches++
			}
		}
	}
	for _, e := range log.Entries {
		if strings.Contains(e.Query, "tenant-") || strings.Contains(e.Query, "198.51.100") {
			t.Errorf("access log keeps a plain value: %s?%s", e.Path, e.Query)
		}
	}
	if searches != 3 {
		t.Errorf("%d access entries with pseudonymised searches, want 3: %+v", searches, log.Entries)
	}
	r.p.term()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(r.db + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, plain := range []string{"alice@tenant-a.test", "alice%40tenant-a.test", "bob@tenant-b.test", "bob%40tenant-b.test", "198.51.100.7"} {
			if bytes.Contains(b, []byte(plain)) {
				t.Errorf("%s%s holds %q", filepath.Base(r.db), suffix, plain)
			}
		}
	}
}
