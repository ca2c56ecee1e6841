package apiv1

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The suspension endpoints (admin tokens): give, lift and list
// suspensions, and Alertmanager's webhook, which applies the actions its
// alerts' labels name.
const (
	PathSuspend      = "suspend"
	PathUnsuspend    = "unsuspend"
	PathSuspensions  = "suspensions"
	PathAlertmanager = "alertmanager"
)

// Suspension scopes: a SASL user name or a client IP address.
const (
	SuspendUser = "user"
	SuspendIP   = "ip"
)

// Suspension is one user or IP address the policy service refuses.
type Suspension struct {
	Scope   string `json:"scope"`
	Subject string `json:"subject"`
	// Response is what refuses it: reject, defer_if_permit or hold (Postfix's
	// actions; Dovecot denies every one).
	Response string `json:"response"`
	Reason   string `json:"reason"`
	// By is who or which rule gave it: cli:NAME, api:TOKEN,
	// alertmanager:TOKEN, rule:DETECTION.
	By    string    `json:"by"`
	Since time.Time `json:"since"`
	// Until is when it expires; zero (absent) for a permanent one.
	Until time.Time `json:"until,omitzero"`
	// Seq is the journal record that gave it (0 until committed by the CLI).
	Seq int64 `json:"seq,omitempty"`
}

// Suspensions is the answer of suspensions.
type Suspensions struct {
	Suspensions []Suspension `json:"suspensions"`
	// DryRun says the policy service refuses nobody: it journals what it
	// would refuse.
	DryRun bool `json:"dry_run"`
}

// SuspendResult is what suspend and unsuspend answer: the suspension given
// or lifted.
type SuspendResult struct {
	Suspension Suspension `json:"suspension"`
	// Lifted is true for unsuspend.
	Lifted bool `json:"lifted,omitempty"`
}

// AlertmanagerWebhook is the body Alertmanager POSTs to a webhook
// receiver (its version 4 payload; fields mailtrail does not read are
// left out).
type AlertmanagerWebhook struct {
	Version string              `json:"version"`
	Status  string              `json:"status"`
	Alerts  []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert of the payload.
type AlertmanagerAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// AlertmanagerResult is what the webhook answers: the suspensions given,
// and per alert that asked for nothing (or for what could not be done),
// why.
type AlertmanagerResult struct {
	Suspended []Suspension `json:"suspended"`
	Skipped   []string     `json:"skipped,omitempty"`
}

// Suspend gives a suspension (admin tokens); params are the suspend
// endpoint's (user or ip, for or permanent, reason, response).
func (c *Client) Suspend(ctx context.Context, params url.Values) (*SuspendResult, error) {
	out := new(SuspendResult)
	return out, c.Do(ctx, http.MethodPost, Prefix+PathSuspend, params, out)
}

// Unsuspend lifts a suspension (admin tokens).
func (c *Client) Unsuspend(ctx context.Context, params url.Values) (*SuspendResult, error) {
	out := new(SuspendResult)
	return out, c.Do(ctx, http.MethodPost, Prefix+PathUnsuspend, params, out)
}

// Suspensions lists the suspensions in force (admin tokens).
func (c *Client) Suspensions(ctx context.Context) (*Suspensions, error) {
	return call[Suspensions](ctx, c, PathSuspensions, nil)
}
