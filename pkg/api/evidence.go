package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/evidence"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// rawBody is an answer that is not JSON, written as it is.
type rawBody struct {
	contentType, filename string
	data                  []byte
}

func (b *rawBody) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", b.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
	w.WriteHeader(http.StatusOK)
	w.Write(b.data)
}

// evidenceEndpoint is GET /api/v1/evidence, beside apiv1's table of JSON
// endpoints.
func (a *API) evidenceEndpoint() endpoint {
	return endpoint{params: apiv1.EvidenceParams, role: RoleAuditor, run: a.evidence}
}

// evidence writes the bundle of a report, as `exporter report --evidence`
// does.
func (a *API) evidence(ctx context.Context, c *caller, p *params) (any, int, error) {
	// A bundle holds every event the report read, whole: a summary reads
	// every event of its range, whoever's it is.
	if len(c.tenants) > 0 {
		return nil, 0, &apiError{Status: http.StatusForbidden, Code: "forbidden", Detail: fmt.Sprintf("evidence bundles carry whole events of every domain; token %q is scoped to tenant domains", c.name)}
	}
	kind, err := p.enum("report", "", report.Kinds...)
	if err != nil {
		return nil, 0, err
	}
	if kind == "" {
		return nil, 0, badRequest("report", "required: one of %s", strings.Join(report.Kinds, ", "))
	}
	o := report.Options{Top: 10}
	var errs [5]error
	if kind == "trace" {
		var hasSince, hasUntil bool
		o.Since, hasSince, errs[0] = p.instant("since")
		if o.Until, hasUntil, errs[1] = p.instant("until"); errs[0] == nil && hasSince && hasUntil && !o.Since.Before(o.Until) {
			errs[0] = badRequest("since", "must be before until")
		}
	} else {
		o.Since, o.Until, errs[0] = p.timeRange()
	}
	o.User, errs[2] = p.user("user")
	o.QueueID, errs[3] = p.queueID("queue_id")
	o.MessageID, errs[4] = p.messageID()
	if err := firstErr(errs[:]...); err != nil {
		return nil, 0, err
	}
	o.User = a.lookup("sasl_username", o.User)
	o.MessageID = a.lookup("message_id", o.MessageID)
	if d := p.get("domain"); d != "" {
		if strings.ContainsAny(d, "@/ \t") || strings.Trim(d, ".") == "" {
			return nil, 0, badRequest("domain", "want a domain like example.com")
		}
		o.Domain = d
	}
	if p.has("top") {
		n, err := strconv.Atoi(p.get("top"))
		if err != nil || n < 1 || n > 1000 {
			return nil, 0, badRequest("top", "a whole number from 1 to 1000")
		}
		o.Top = n
	}
	switch {
	case (kind == "summary" || kind == "logins") && (o.QueueID != "" || o.MessageID != ""):
		return nil, 0, badRequest("queue_id", "queue_id and message_id apply to the deliveries and trace reports")
	case kind == "trace" && (o.QueueID == "") == (o.MessageID == ""):
		return nil, 0, badRequest("queue_id", "a trace needs queue_id or message_id (one of them)")
	case kind == "trace" && o.User != "":
		return nil, 0, badRequest("user", "does not apply to a trace")
	}
	now := a.cfg.Now()
	params := []report.Param{{Name: "Instance", Value: a.cfg.Instance}}
	if !o.Since.IsZero() || !o.Until.IsZero() {
		params = append(params, report.Param{Name: "Range", Value: o.Since.UTC().Format(time.RFC3339) + " to " + o.Until.UTC().Format(time.RFC3339)})
	}
	for _, f := range []struct{ name, v string }{
		{"User", o.User}, {"Domain", o.Domain}, {"Queue id", o.QueueID}, {"Message-ID", o.MessageID},
	} {
		if f.v != "" {
			params = append(params, report.Param{Name: f.name, Value: f.v})
		}
	}
	var buf bytes.Buffer
	w, err := evidence.Write(ctx, a.cfg.Journal.Path(), evidence.Request{Kind: kind, Options: o, Params: params, Generated: now, Version: a.cfg.Version}, &buf)
	if errors.Is(err, evidence.ErrNoCheckpoint) {
		return nil, 0, &apiError{Status: http.StatusConflict, Code: "no_checkpoint", Detail: err.Error()}
	}
	if err != nil {
		return nil, 0, err
	}
	name := fmt.Sprintf("evidence-%s-%s-%d.zip", a.cfg.Instance, kind, w.Checkpoint.Size)
	return &rawBody{contentType: "application/zip", filename: strings.ReplaceAll(name, `"`, ""), data: buf.Bytes()}, w.Events, nil
}
