package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// TestTenantUnderPseudonyms: under hmac_local a tenant token still sees
// its domain's events (the domain is kept), finds them by the real
// address, and sees no local part; under hmac it sees none, since no
// address names a domain any more.
func TestTenantUnderPseudonyms(t *testing.T) {
	for _, c := range []struct {
		policy privacy.Policy
		want   bool
	}{{privacy.Keep, true}, {privacy.HMACLocal, true}, {privacy.HMAC, false}} {
		t.Run(c.policy.String(), func(t *testing.T) {
			red, err := privacy.New(privacy.Config{Secret: []byte("a secret of at least sixteen bytes"), Fields: map[string]privacy.Policy{
				"sasl_username": c.policy, "sender": c.policy, "recipient": c.policy, "orig_recipient": c.policy}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			p := &parser.Parser{Instance: "mx1", Location: time.UTC}
			var recs []journal.Record
			for _, l := range testLines {
				e := p.Parse(l, time.Now())
				red.Apply(&e)
				recs = append(recs, journal.Record{Event: e, Source: "test"})
			}
			if err := j.Commit(ctx, recs, nil); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
			a, err := New(Config{Journal: j, Instance: "mx1", Version: "test", Now: func() time.Time { return now }, Privacy: red,
				Tokens: []Token{{Name: "tenant", Secret: testToken, Role: RoleAuditor, Tenants: []string{"example.com"}}}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			// As without a policy: the tenant's events (alice's submission
			// and her message's queued line), then the queued line by its
			// real sender.
			for q, n := range map[string]int{"": 2, "sender=alice@example.com": 1} {
				r := httptest.NewRequest(http.MethodGet, Prefix+"events?"+q, nil)
				r.Header.Set("Authorization", "Bearer "+testToken)
				w := httptest.NewRecorder()
				a.ServeHTTP(w, r)
				var page apiv1.EventsPage
				if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil {
					t.Fatalf("events?%s: %d %s", q, w.Code, w.Body.String())
				}
				if !c.want {
					n = 0
				}
				if len(page.Events) != n {
					t.Errorf("events?%s: %d events, want %d", q, len(page.Events), n)
				}
				for _, e := range page.Events {
					if c.policy != privacy.Keep && (strings.Contains(e.Raw, "alice") || strings.Contains(e.Sender, "alice")) {
						t.Errorf("a local part is shown: %+v", e.Event)
					}
					if e.Sender != "" && !strings.HasSuffix(e.Sender, "@example.com") {
						t.Errorf("sender %q lost its domain", e.Sender)
					}
				}
			}
		})
	}
}
