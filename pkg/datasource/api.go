// Package datasource is the logic of mailtrail's Grafana datasource plugin:
// it speaks only the exporters' HTTP API (never SQLite, so the plugin
// builds with CGO off), asks every exporter of the estate at once, and
// turns the merged answers into Grafana data frames.
package datasource

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
)

// The shapes the exporter's API answers with.
type (
	Event        = apiv1.Event
	Link         = apiv1.Link
	Message      = apiv1.Message
	Login        = apiv1.Login
	InstanceInfo = apiv1.InstanceInfo
	// APIError is an exporter's error answer.
	APIError = apiv1.Error
)

const (
	maxRangeDays  = apiv1.MaxRangeDays
	maxStatPoints = apiv1.MaxStatPoints
)

// isNotFound reports whether err is the API's 404, which for a trace only
// means "not on this instance".
func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// isBadRequest reports whether err is a 400: the query is wrong, not the
// exporter, so every exporter would say the same.
func isBadRequest(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest
}

// Exporter is one exporter the plugin asks.
type Exporter struct {
	// Name is the name from the settings, or the target's instance label
	// when discovered.
	Name string
	// URL is the exporter's base URL (the API lives under /api/v1/).
	URL *url.URL
}

// api is the typed client of ex's API over c.
func (ex Exporter) api(c *http.Client) *apiv1.Client {
	return &apiv1.Client{HTTP: c, Base: ex.URL}
}
