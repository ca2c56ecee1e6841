package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// maxBodyBytes bounds a POST body (Alertmanager's payload: a few KiB per
// alert, and it groups at most a few hundred).
const maxBodyBytes = 1 << 20

// readBody reads a POST endpoint's body, bounded.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, badRequest("body", "cannot be read: %v", err)
	}
	if len(b) > maxBodyBytes {
		return nil, badRequest("body", "larger than %d bytes", maxBodyBytes)
	}
	return b, nil
}

// subjectParam reads the one of user and ip a suspension call names.
func subjectParam(p *params) (scope, subject string, err error) {
	switch u, ip := p.has("user"), p.has("ip"); {
	case u && ip:
		return "", "", badRequest("user", "give user or ip, not both")
	case u:
		scope, subject = apiv1.SuspendUser, p.get("user")
	case ip:
		scope, subject = apiv1.SuspendIP, p.get("ip")
	default:
		return "", "", badRequest("user", "user or ip is required")
	}
	if _, err := suspend.CheckSubject(scope, subject); err != nil {
		return "", "", badRequest(scope, "%v", err)
	}
	return scope, subject, nil
}

func (a *API) suspensionStore() (*suspend.Store, error) {
	if a.cfg.Suspensions == nil {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "suspensions are not kept by this exporter"}
	}
	return a.cfg.Suspensions, nil
}

// suspendError maps the store's refusals to 4xx answers naming the
// parameter; anything else is the journal's failure.
func suspendError(err error) error {
	switch {
	case errors.Is(err, suspend.ErrAllowlisted), errors.Is(err, suspend.ErrNotSuspended):
		param := "user"
		if strings.HasPrefix(err.Error(), "ip ") {
			param = "ip"
		}
		return &apiError{Status: http.StatusConflict, Code: "conflict", Detail: param + ": " + err.Error()}
	case errors.Is(err, suspend.ErrFull):
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: err.Error()}
	case strings.HasPrefix(err.Error(), "reason:"), strings.HasPrefix(err.Error(), "response "), strings.HasPrefix(err.Error(), "for "):
		k, m, _ := strings.Cut(err.Error(), ": ")
		k, _, _ = strings.Cut(k, " ")
		return badRequest(k, "%s", m)
	}
	return err
}

func (a *API) suspend(_ context.Context, c *caller, p *params) (any, int, error) {
	st, err := a.suspensionStore()
	if err != nil {
		return nil, 0, err
	}
	scope, subject, err := subjectParam(p)
	if err != nil {
		return nil, 0, err
	}
	var dur time.Duration
	if v := p.get("for"); v != "" {
		if dur, err = time.ParseDuration(v); err != nil || dur <= 0 {
			return nil, 0, badRequest("for", "%q: want a positive duration such as 30m or 24h", v)
		}
	}
	permanent, err := p.boolean("permanent")
	if err != nil {
		return nil, 0, err
	}
	if permanent && dur > 0 {
		return nil, 0, badRequest("for", "give for or permanent=true, not both")
	}
	reason := strings.TrimSpace(p.get("reason"))
	if reason == "" || len(reason) > 500 {
		return nil, 0, badRequest("reason", "say why, in at most 500 bytes (it is journaled with the suspension)")
	}
	sus, err := st.Suspend(scope, subject, dur, permanent, p.get("response"), reason, "api:"+c.name)
	if err != nil {
		return nil, 0, suspendError(err)
	}
	return apiv1.SuspendResult{Suspension: sus}, 1, nil
}

func (a *API) unsuspend(_ context.Context, c *caller, p *params) (any, int, error) {
	st, err := a.suspensionStore()
	if err != nil {
		return nil, 0, err
	}
	scope, subject, err := subjectParam(p)
	if err != nil {
		return nil, 0, err
	}
	reason := strings.TrimSpace(p.get("reason"))
	if len(reason) > 500 {
		return nil, 0, badRequest("reason", "at most 500 bytes")
	}
	sus, err := st.Lift(scope, subject, reason, "api:"+c.name)
	if err != nil {
		return nil, 0, suspendError(err)
	}
	return apiv1.SuspendResult{Suspension: sus, Lifted: true}, 1, nil
}

func (a *API) suspensions(_ context.Context, _ *caller, _ *params) (any, int, error) {
	st, err := a.suspensionStore()
	if err != nil {
		return nil, 0, err
	}
	list := st.List()
	return apiv1.Suspensions{Suspensions: list, DryRun: st.DryRun()}, len(list), nil
}

// The labels an alert names its action with (docs/responding.md):
// mailtrail_action suspend_offenders suspends every active offender of
// mailtrail_scope (ip, user or send; metrics never carry an address, so
// the exporter finds the subjects in its own windows); suspend_user and
// suspend_ip suspend the subject in the user or ip label (alerts from
// other sources). mailtrail_for and mailtrail_response are optional.
// The mixin's MailtrailAuthBruteForce and MailtrailCompromisedAccount act
// without them (suspend_offenders of the alert's scope label, and of
// scope send).
const (
	labelAction   = "mailtrail_action"
	labelScope    = "mailtrail_scope"
	labelFor      = "mailtrail_for"
	labelResponse = "mailtrail_response"
)

func (a *API) alertmanager(_ context.Context, c *caller, p *params) (any, int, error) {
	st, err := a.suspensionStore()
	if err != nil {
		return nil, 0, err
	}
	var hook apiv1.AlertmanagerWebhook
	if err := json.Unmarshal(p.body, &hook); err != nil {
		return nil, 0, badRequest("body", "not Alertmanager's webhook JSON: %v", err)
	}
	res := apiv1.AlertmanagerResult{Suspended: []apiv1.Suspension{}}
	for i, al := range hook.Alerts {
		name := al.Labels["alertname"]
		skip := func(format string, args ...any) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("alert %d (%s): ", i, name)+fmt.Sprintf(format, args...))
		}
		action, scope := al.Labels[labelAction], al.Labels[labelScope]
		if action == "" {
			// The mixin's own alerts act without labels of their own: its
			// brute-force alert carries the offenders' scope, and a
			// compromised account is an active send offender.
			switch name {
			case "MailtrailAuthBruteForce":
				action, scope = "suspend_offenders", al.Labels["scope"]
			case "MailtrailCompromisedAccount":
				action, scope = "suspend_offenders", string(offenders.ScopeSend)
			}
		}
		if action == "" {
			skip("no %s label", labelAction)
			continue
		}
		if al.Status != "firing" {
			// A resolved alert lifts nothing: suspensions expire on
			// their own, or are lifted by a person, on the record.
			skip("status %q: only firing alerts act", al.Status)
			continue
		}
		var dur time.Duration
		if v := al.Labels[labelFor]; v != "" {
			if dur, err = time.ParseDuration(v); err != nil || dur <= 0 {
				skip("%s=%q: want a positive duration", labelFor, v)
				continue
			}
		}
		reason := "alert " + name
		if s := al.Annotations["summary"]; s != "" {
			reason += ": " + cut(s, 300)
		}
		by := "alertmanager:" + c.name
		give := func(scope, subject string) {
			sus, err := st.Suspend(scope, subject, dur, false, al.Labels[labelResponse], reason, by)
			if err != nil {
				skip("%v", err)
				return
			}
			res.Suspended = append(res.Suspended, sus)
		}
		switch action {
		case "suspend_user":
			give(apiv1.SuspendUser, firstLabel(al.Labels, "user", "sasl_username"))
		case "suspend_ip":
			give(apiv1.SuspendIP, firstLabel(al.Labels, "ip", "client_ip"))
		case "suspend_offenders":
			scope := offenders.Scope(scope)
			if scope != offenders.ScopeIP && scope != offenders.ScopeUser && scope != offenders.ScopeSend {
				skip("%s=%q: want ip, user or send", labelScope, scope)
				continue
			}
			if a.cfg.Offenders == nil {
				skip("no offender windows on this exporter")
				continue
			}
			n := 0
			for _, o := range a.cfg.Offenders.Offenders() {
				if o.Scope != scope || !o.Active {
					continue
				}
				n++
				if scope == offenders.ScopeIP {
					give(apiv1.SuspendIP, o.Key)
				} else {
					give(apiv1.SuspendUser, o.Key)
				}
			}
			if n == 0 {
				skip("no active %s offender on this exporter", scope)
			}
		default:
			skip("%s=%q: want suspend_offenders, suspend_user or suspend_ip", labelAction, action)
		}
	}
	return res, len(res.Suspended), nil
}

func firstLabel(labels map[string]string, names ...string) string {
	for _, n := range names {
		if v := labels[n]; v != "" {
			return v
		}
	}
	return ""
}
