// Package datasource is the logic of mailtrail's Grafana datasource plugin:
// it speaks only the exporters' HTTP API (never SQLite, so the plugin
// builds with CGO off), asks every exporter of the estate at once, and
// turns the merged answers into Grafana data frames.
package datasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/offenders"
)

// The shapes the exporter's API answers with.
type (
	Event   = apiv1.Event
	Link    = apiv1.Link
	Message = apiv1.Message
	Login   = apiv1.Login
)

const (
	maxRangeDays  = 31
	maxStatPoints = 11000
)

type traceResponse = apiv1.TraceResult

type eventsResponse struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
}

type loginsResponse struct {
	Logins []Login `json:"logins"`
}

type offendersResponse struct {
	Offenders []offenders.Offender `json:"offenders"`
}

// InstanceInfo is an exporter's description of itself.
type InstanceInfo struct {
	Instance string   `json:"instance"`
	Version  string   `json:"version"`
	Hosts    []string `json:"hosts"`
	Journal  struct {
		FirstTime time.Time `json:"first_time,omitzero"`
		LastTime  time.Time `json:"last_time,omitzero"`
		Events    int64     `json:"events"`
		SizeBytes int64     `json:"size_bytes"`
	} `json:"journal"`
	Checkpoint *struct {
		Size int64     `json:"size"`
		Root string    `json:"root"`
		Time time.Time `json:"time"`
	} `json:"checkpoint,omitempty"`
}

// StatPoint is the count of matching events in one step.
type StatPoint struct {
	Time  time.Time `json:"time"`
	Count int64     `json:"count"`
}

type statsResponse struct {
	StepSeconds int64       `json:"step_seconds"`
	Points      []StatPoint `json:"points"`
}

type valuesResponse struct {
	Values []string `json:"values"`
}

// APIError is an exporter's error answer.
type APIError struct {
	Status int
	Code   string
	Detail string
}

func (e *APIError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Detail)
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
}

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

// maxBody bounds what one exporter answer may hold (1000 events with raw
// lines fit easily), so a broken exporter cannot exhaust the plugin.
const maxBody = 64 << 20

// Exporter is one exporter the plugin asks.
type Exporter struct {
	// Name is the name from the settings, or the target's instance label
	// when discovered.
	Name string
	// URL is the exporter's base URL (the API lives under /api/v1/).
	URL *url.URL
}

// get calls GET path on ex and decodes the JSON answer into out.
func get(ctx context.Context, c *http.Client, ex Exporter, path string, params url.Values, out any) error {
	u := *ex.URL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read %s answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode}
		var eb struct {
			Error  string `json:"error"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
			ae.Code, ae.Detail = eb.Error, eb.Detail
		} else {
			ae.Code = http.StatusText(resp.StatusCode)
			ae.Detail = strings.TrimSpace(string(body[:min(len(body), 200)]))
		}
		return ae
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}
