package datasource

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/mailtrail/mailtrail/pkg/apiv1"
)

// CallResource serves the editor's autocomplete: GET instances, users and
// domains, each a JSON array of strings.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	status, body := d.resource(ctx, req)
	b, _ := json.Marshal(body) // strings and string slices always marshal
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}

// resourceError answers a resource call in the API's error shape.
func resourceError(code, detail string) *apiv1.Error {
	return &apiv1.Error{Code: code, Detail: detail}
}

func (d *Datasource) resource(ctx context.Context, req *backend.CallResourceRequest) (int, any) {
	if req.Method != http.MethodGet && req.Method != "" {
		return http.StatusMethodNotAllowed, resourceError("method_not_allowed", "only GET is served")
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return http.StatusBadRequest, resourceError("bad_request", "unreadable URL: "+err.Error())
	}
	params := u.Query()
	extra := url.Values{}
	if l := params.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return http.StatusBadRequest, resourceError("bad_request", "limit: want 1 to 1000")
		}
		extra.Set("limit", l)
	}
	var fields []string
	switch req.Path {
	case "instances":
		exs, _, err := d.selectExporters(ctx, "")
		if err != nil {
			return http.StatusServiceUnavailable, resourceError("unavailable", err.Error())
		}
		return http.StatusOK, sortedNames(exs)
	case "users":
		fields = []string{"sasl_username"}
	case "domains":
		fields = []string{"sender_domain", "recipient_domain"}
	default:
		return http.StatusNotFound, resourceError("not_found", "resources: instances, users, domains")
	}
	vals, err := d.values(ctx, fields, extra)
	if err != nil {
		return http.StatusBadGateway, resourceError("unavailable", err.Error())
	}
	return http.StatusOK, vals
}
