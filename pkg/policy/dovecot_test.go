package policy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// dovecotBody is what Dovecot 2.3's auth-policy.c posts with the default
// auth_policy_request_attributes (login, pwhash, remote, device_id,
// protocol, session_id), and with command=report its success and
// policy_reject; tls always.
func dovecotBody(login, remote string, report string) string {
	b := `{"device_id":"","login":"` + login + `","protocol":"imap","pwhash":"8e7a","remote":"` + remote + `","session_id":"Fv6kW3sK0sN/AAAB"`
	if report != "" {
		b += `,"success":` + report + `,"policy_reject":false`
	}
	return b + `,"tls":false}`
}

func askDovecot(t *testing.T, url, command, body string) policy.DovecotAnswer {
	t.Helper()
	resp, err := http.Post(url+"/?command="+command, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d %s", command, resp.StatusCode, b)
	}
	var a policy.DovecotAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: answer %q: %v", command, b, err)
	}
	return a
}

func TestDovecotPolicy(t *testing.T) {
	st, err := suspend.New(suspend.Config{
		Rules:   []suspend.Rule{{Detection: suspend.BruteForceIP, For: time.Hour, Response: suspend.Reject}},
		Windows: offenders.Config{Window: time.Minute, Threshold: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(&policy.DovecotHandler{Decider: st, Metrics: policy.NewMetrics(reg), Logger: slog.New(slog.NewTextHandler(log, nil))})
	defer srv.Close()

	if a := askDovecot(t, srv.URL, "allow", dovecotBody("bob@example.com", "192.0.2.50", "")); a.Status != 0 {
		t.Errorf("allow before anything: %+v", a)
	}
	if _, err := st.Suspend(apiv1.SuspendUser, "bob@example.com", time.Hour, false, suspend.Reject, "phished", "test"); err != nil {
		t.Fatal(err)
	}
	if a := askDovecot(t, srv.URL, "allow", dovecotBody("bob@example.com", "192.0.2.50", "")); a.Status != -1 || a.Msg != suspend.TextSuspended {
		t.Errorf("allow for a suspended user: %+v, want status -1 with the reason", a)
	}
	// Dovecot's reports after authentication: three failures are the
	// threshold, the fourth puts the address over it.
	for i := 0; i < 4; i++ {
		if a := askDovecot(t, srv.URL, "report", dovecotBody("alice@example.com", "192.0.2.99", "false")); a.Status != 0 {
			t.Errorf("report answered %+v", a)
		}
	}
	if a := askDovecot(t, srv.URL, "allow", dovecotBody("carol@example.com", "192.0.2.99", "")); a.Status != -1 || a.Msg != suspend.TextBruteForce {
		t.Errorf("allow for an address over the threshold in reports: %+v", a)
	}
	if got := st.List(); len(got) != 2 || got[0].Scope != apiv1.SuspendIP || got[0].By != "rule:brute_force_ip" {
		t.Errorf("the rule's suspension: %+v", got)
	}
	if a := askDovecot(t, srv.URL, "report", dovecotBody("alice@example.com", "192.0.2.98", "true")); a.Status != 0 {
		t.Errorf("a success report: %+v", a)
	}
	if a := askDovecot(t, srv.URL, "allow", dovecotBody("alice@example.com", "192.0.2.98", "")); a.Status != 0 {
		t.Errorf("another address: %+v", a)
	}
}

// TestDovecotBadInput: whatever cannot be read is allowed, with a log
// line, never a 500.
func TestDovecotBadInput(t *testing.T) {
	st, _ := suspend.New(suspend.Config{})
	if _, err := st.Suspend(apiv1.SuspendIP, "192.0.2.1", time.Hour, false, suspend.Reject, "x", "test"); err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	srv := httptest.NewServer(&policy.DovecotHandler{Decider: st, Logger: slog.New(slog.NewTextHandler(log, nil))})
	defer srv.Close()
	for _, tc := range []struct{ command, body, logged string }{
		{"allow", `{"login":"x","remote":"192.0.2.1"`, "not a JSON object"},
		{"allow", `[1,2]`, "wrong type"},
		{"allow", `{"login":7,"remote":"192.0.2.1"}`, "wrong type"},
		{"allow", `{"login":"x","remote":"not an address"}`, "remote is not an IP address"},
		{"allow", `{"remote":"192.0.2.1","junk":"` + strings.Repeat("x", policy.MaxDovecotBytes) + `"}`, "larger than the limit"},
		{"bogus", dovecotBody("x", "192.0.2.1", ""), "unknown command"},
		{"report", dovecotBody("x", "192.0.2.1", ""), "a report without success"},
	} {
		if a := askDovecot(t, srv.URL, tc.command, tc.body); a.Status != 0 {
			t.Errorf("%s %.50q: %+v, want allow", tc.command, tc.body, a)
		}
		if !strings.Contains(log.String(), tc.logged) {
			t.Errorf("%s %.50q: no log line saying %q:\n%s", tc.command, tc.body, tc.logged, log.String())
		}
	}
	resp, err := http.Get(srv.URL + "/?command=allow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(log.String(), "not a POST") {
		t.Errorf("a GET: HTTP %d", resp.StatusCode)
	}
}

func TestDovecotAPIKey(t *testing.T) {
	st, _ := suspend.New(suspend.Config{})
	srv := httptest.NewServer(&policy.DovecotHandler{Decider: st, APIKey: "k3y"})
	defer srv.Close()
	for key, want := range map[string]int{"": 403, "wrong": 403, "k3y": 200} {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/?command=report", strings.NewReader(dovecotBody("a", "192.0.2.1", "false")))
		if key != "" {
			r.Header.Set("X-API-Key", key)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("X-API-Key %q: HTTP %d, want %d", key, resp.StatusCode, want)
		}
	}
}
