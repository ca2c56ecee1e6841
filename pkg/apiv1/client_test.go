package apiv1_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
)

func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/base/api/v1/values":
			if r.URL.Query().Get("field") != "client_ip" {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":"bad_request","detail":"field: required"}`))
				return
			}
			w.Write([]byte(`{"values":["192.0.2.1"]}`))
		case "/base/api/v1/offenders":
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/base/")
	c := &apiv1.Client{HTTP: srv.Client(), Base: base}
	ctx := context.Background()

	vals, err := c.Values(ctx, url.Values{"field": {"client_ip"}})
	if err != nil || len(vals) != 1 || vals[0] != "192.0.2.1" {
		t.Fatalf("values: %v %v", vals, err)
	}
	_, err = c.Values(ctx, nil)
	var ae *apiv1.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "bad_request" || ae.Detail != "field: required" {
		t.Fatalf("a 400 answer: %#v", err)
	}
	if got := err.Error(); got != "bad_request (HTTP 400): field: required" {
		t.Errorf("error text %q", got)
	}
	_, err = c.Offenders(ctx)
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "Bad Gateway" || ae.Detail != "<html>bad gateway</html>" {
		t.Fatalf("a non-JSON error answer: %#v", err)
	}
}

// TestEndpointsTable checks the table's invariants: only forget and the
// suspension changes (suspend, unsuspend, the Alertmanager webhook) change
// the journal, and the admin endpoints are the access log, forget and the
// suspension endpoints.
func TestEndpointsTable(t *testing.T) {
	suspension := map[string]bool{apiv1.PathSuspend: true, apiv1.PathUnsuspend: true, apiv1.PathAlertmanager: true}
	for name, ep := range apiv1.Endpoints {
		if ep.Post != (name == apiv1.PathForget || suspension[name]) {
			t.Errorf("%s: post %v", name, ep.Post)
		}
		admin := name == apiv1.PathForget || name == apiv1.PathAccessLog || suspension[name] || name == apiv1.PathSuspensions
		if (ep.Role == apiv1.RoleAdmin) != admin || (!admin && ep.Role != apiv1.RoleViewer) {
			t.Errorf("%s: role %s", name, ep.Role)
		}
		if ep.Answer == "" {
			t.Errorf("%s: no answer type named", name)
		}
	}
}
