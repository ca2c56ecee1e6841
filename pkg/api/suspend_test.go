package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

const viewerToken = "viewer-token-0123456789"

func newSuspendAPI(t *testing.T) (*API, *suspend.Store, *journal.Journal) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := offenders.New(offenders.Config{Threshold: 2})
	now := time.Now()
	for _, ip := range []string{"192.0.2.7", "192.0.2.8"} {
		for i := 0; i < 3; i++ {
			off.Observe(&event.Event{Kind: event.KindAuthFailure, Time: now, ClientIP: ip})
		}
	}
	st, err := suspend.New(suspend.Config{
		Offenders: off, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Record: func(r journal.Record) error { return j.Commit(ctx, []journal.Record{r}, nil) },
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Journal: j, Instance: "mx1", Offenders: off, Suspensions: st,
		Tokens: []Token{{Name: "admin", Secret: testToken, Role: RoleAdmin}, {Name: "grafana", Secret: viewerToken, Role: RoleViewer}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		j.Close()
	})
	return a, st, j
}

func do(a *API, method, path, rawQuery, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, Prefix+path+"?"+rawQuery, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

func TestSuspendEndpoints(t *testing.T) {
	a, st, j := newSuspendAPI(t)
	for _, tc := range []struct {
		query string
		code  int
		param string
	}{
		{"reason=x", 400, "user"},
		{"user=bob&ip=192.0.2.1&reason=x", 400, "user"},
		{"ip=300.0.0.1&reason=x", 400, "ip"},
		{"user=a+b&reason=x", 400, "user"},
		{"user=bob", 400, "reason"},
		{"user=bob&reason=x&for=-1h", 400, "for"},
		{"user=bob&reason=x&for=soon", 400, "for"},
		{"user=bob&reason=x&permanent=maybe", 400, "permanent"},
		{"user=bob&reason=x&permanent=true&for=1h", 400, "for"},
		{"user=bob&reason=x&response=bounce", 400, "response"},
		{"user=bob&reason=x&colour=red", 400, "colour"},
		{"ip=10.1.2.3&reason=x", 409, "ip"},
	} {
		w := do(a, http.MethodPost, apiv1.PathSuspend, tc.query, testToken, "")
		var e apiv1.Error
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != tc.code || !(strings.HasPrefix(e.Detail, tc.param+":") || strings.HasPrefix(e.Detail, `"`+tc.param+`"`)) {
			t.Errorf("suspend?%s: %d %s, want %d naming %s", tc.query, w.Code, w.Body.String(), tc.code, tc.param)
		}
	}
	if w := do(a, http.MethodGet, apiv1.PathSuspend, "user=bob&reason=x", testToken, ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET suspend: %d", w.Code)
	}
	if w := do(a, http.MethodPost, apiv1.PathSuspend, "user=bob&reason=x", viewerToken, ""); w.Code != http.StatusForbidden {
		t.Errorf("a viewer suspends: %d", w.Code)
	}
	if w := do(a, http.MethodGet, apiv1.PathSuspensions, "", viewerToken, ""); w.Code != http.StatusForbidden {
		t.Errorf("a viewer lists: %d", w.Code)
	}

	w := do(a, http.MethodPost, apiv1.PathSuspend, "user=bob@example.com&reason=phished&for=2h&response=hold", testToken, "")
	var res apiv1.SuspendResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Suspension.By != "api:admin" || res.Suspension.Response != "hold" ||
		res.Suspension.Until.Sub(res.Suspension.Since) != 2*time.Hour {
		t.Fatalf("suspend: %d %s", w.Code, w.Body.String())
	}
	var list apiv1.Suspensions
	if w := do(a, http.MethodGet, apiv1.PathSuspensions, "", testToken, ""); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Suspensions) != 1 {
		t.Fatalf("suspensions: %d %s", w.Code, w.Body.String())
	}
	if w := do(a, http.MethodPost, apiv1.PathUnsuspend, "user=bob@example.com&reason=reset", testToken, ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"lifted":true`) {
		t.Errorf("unsuspend: %d %s", w.Code, w.Body.String())
	}
	if w := do(a, http.MethodPost, apiv1.PathUnsuspend, "user=bob@example.com", testToken, ""); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "not suspended") {
		t.Errorf("unsuspend again: %d %s", w.Code, w.Body.String())
	}
	if len(st.List()) != 0 {
		t.Errorf("still listed: %+v", st.List())
	}
	// The access log shows who lifted what.
	a.access.flush()
	acc, err := j.Events(context.Background(), journal.Filter{Kinds: []event.Kind{event.KindAccess}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range acc {
		found = found || (s.Event.Action == Prefix+apiv1.PathUnsuspend && s.Event.SASLUsername == "admin" && strings.Contains(s.Event.Detail, "bob") && s.Event.Status == "200")
	}
	if !found {
		t.Errorf("no access record of admin's unsuspend of bob")
	}
}

func TestAlertmanagerWebhook(t *testing.T) {
	a, st, _ := newSuspendAPI(t)
	body := `{"version":"4","status":"firing","alerts":[
	 {"status":"firing","labels":{"alertname":"MailBruteForce","mailtrail_action":"suspend_offenders","mailtrail_scope":"ip","mailtrail_for":"30m"},"annotations":{"summary":"brute force"}},
	 {"status":"firing","labels":{"alertname":"Other"}},
	 {"status":"resolved","labels":{"alertname":"MailBruteForce","mailtrail_action":"suspend_offenders","mailtrail_scope":"ip"}},
	 {"status":"firing","labels":{"alertname":"Manual","mailtrail_action":"suspend_user","user":"eve@example.com","mailtrail_response":"hold"}},
	 {"status":"firing","labels":{"alertname":"Bad","mailtrail_action":"suspend_ip","ip":"10.9.9.9"}},
	 {"status":"firing","labels":{"alertname":"Bad","mailtrail_action":"reboot"}}
	]}`
	w := do(a, http.MethodPost, apiv1.PathAlertmanager, "", testToken, body)
	var res apiv1.AlertmanagerResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		t.Fatalf("webhook: %d %s", w.Code, w.Body.String())
	}
	var got []string
	for _, s := range res.Suspended {
		got = append(got, s.Scope+" "+s.Subject+" "+s.Response+" "+s.By)
	}
	want := "ip 192.0.2.7 reject alertmanager:admin|ip 192.0.2.8 reject alertmanager:admin|user eve@example.com hold alertmanager:admin"
	if g := strings.Join(got, "|"); g != want && g != strings.Replace(want, "192.0.2.7 reject alertmanager:admin|ip 192.0.2.8", "192.0.2.8 reject alertmanager:admin|ip 192.0.2.7", 1) {
		t.Errorf("suspended %s\nwant %s", g, want)
	}
	skipped := strings.Join(res.Skipped, "\n")
	for _, s := range []string{"alert 1 (Other): no mailtrail_action label", `alert 2 (MailBruteForce): status "resolved"`, "alert 4 (Bad): ip 10.9.9.9: allow-listed", `alert 5 (Bad): mailtrail_action="reboot"`} {
		if !strings.Contains(skipped, s) {
			t.Errorf("skipped does not say %q:\n%s", s, skipped)
		}
	}
	if l := st.List(); len(l) != 3 || !strings.Contains(l[0].Reason+l[1].Reason+l[2].Reason, "alert MailBruteForce: brute force") {
		t.Errorf("in force: %+v", l)
	}
	// The mixin's alerts act without labels of their own.
	st.Lift(apiv1.SuspendIP, "192.0.2.7", "", "test")
	w = do(a, http.MethodPost, apiv1.PathAlertmanager, "", testToken, `{"alerts":[
	 {"status":"firing","labels":{"alertname":"MailtrailAuthBruteForce","scope":"ip","instance":"mx1"}},
	 {"status":"firing","labels":{"alertname":"MailtrailCompromisedAccount","instance":"mx1"}}]}`)
	res = apiv1.AlertmanagerResult{}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || len(res.Suspended) != 2 || !strings.Contains(strings.Join(res.Skipped, ""), "no active send offender") {
		t.Errorf("the mixin's alerts: %d %s", w.Code, w.Body.String())
	}
	for _, bad := range []string{"", "{", `{"alerts":"x"}`} {
		if w := do(a, http.MethodPost, apiv1.PathAlertmanager, "", testToken, bad); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "body:") {
			t.Errorf("webhook body %q: %d %s", bad, w.Code, w.Body.String())
		}
	}
	if w := do(a, http.MethodPost, apiv1.PathAlertmanager, "", testToken, `{"alerts":[]}`+strings.Repeat(" ", maxBodyBytes)); w.Code != http.StatusBadRequest {
		t.Errorf("an oversized body: %d", w.Code)
	}
}
