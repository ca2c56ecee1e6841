package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/evidence"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

func TestEvidenceEndpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	signer, vkey, _, err := integrity.LoadOrCreateKey(path+".key", "mx1")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(ctx, path, journal.Options{Signer: signer, VerifierKey: vkey, Origin: "mx1"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	p := &parser.Parser{Instance: "mx1", Location: time.UTC}
	var recs []journal.Record
	for _, l := range testLines {
		recs = append(recs, journal.Record{Event: p.Parse(l, time.Now()), Source: "test"})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	a, err := New(Config{Journal: j, Instance: "mx1", Version: "test", Now: func() time.Time { return now }, Tokens: []Token{
		{Name: "auditor", Secret: "auditor-0123456789", Role: RoleAuditor},
		{Name: "viewer", Secret: "viewer-0123456789", Role: RoleViewer},
		{Name: "tenant", Secret: "tenant-0123456789", Role: RoleAuditor, Tenants: []string{"example.com"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	get := func(rawQuery, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, Prefix+"evidence?"+rawQuery, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w
	}
	w := get("report=deliveries&since=2024-06-01T00:00:00Z", "auditor-0123456789")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/zip" || !strings.Contains(w.Header().Get("Content-Disposition"), "evidence-mx1-deliveries-") {
		t.Fatalf("evidence: %d %v %.300s", w.Code, w.Header(), w.Body.String())
	}
	v, _ := integrity.NewVerifier(vkey)
	res, err := evidence.Verify(ctx, bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()), integrity.NewVerifiers(v), "test")
	if err != nil || res.Problem != "" || res.Events != 1 || res.Report != "deliveries" {
		t.Fatalf("the API's bundle: %v %+v", err, res)
	}
	w = get("report=trace&queue_id=AAA1111111", "auditor-0123456789")
	if res, err := evidence.Verify(ctx, bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()), integrity.NewVerifiers(v), "test"); w.Code != 200 || err != nil || res.Problem != "" || res.Events < 4 {
		t.Fatalf("trace bundle: %d %v %+v", w.Code, err, res)
	}
	for _, c := range []struct {
		query, token string
		code         int
		want         string
	}{
		{"report=summary", "viewer-0123456789", 403, "evidence needs the auditor role"},
		{"report=summary", "tenant-0123456789", 403, "scoped to tenant domains"},
		{"", "auditor-0123456789", 400, "report: required: one of summary, deliveries, logins, trace"},
		{"report=audit", "auditor-0123456789", 400, "report: must be one of summary"},
		{"report=summary&top=0", "auditor-0123456789", 400, "top: a whole number from 1 to 1000"},
		{"report=summary&format=pdf", "auditor-0123456789", 400, `\"format\": unknown parameter`},
		{"report=trace", "auditor-0123456789", 400, "queue_id: a trace needs queue_id or message_id"},
		{"report=logins&queue_id=AAA1111111", "auditor-0123456789", 400, "queue_id: queue_id and message_id apply to the deliveries and trace reports"},
		{"report=summary&domain=a@b", "auditor-0123456789", 400, "domain: want a domain like example.com"},
		{"report=summary&since=yesterday", "auditor-0123456789", 400, "since: not an RFC 3339 time"},
		{"report=trace&queue_id=ZZZ9999999", "auditor-0123456789", 404, "no message matches"},
	} {
		if w := get(c.query, c.token); w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s as %s: %d %s, want %d %q", c.query, c.token, w.Code, w.Body.String(), c.code, c.want)
		}
	}
	// A journal never signed has nothing to prove against.
	if w := call(newTestAPI(t), Prefix+"evidence", "report=summary"); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "no signed checkpoint") {
		t.Errorf("unsigned journal: %d %s", w.Code, w.Body.String())
	}
}
