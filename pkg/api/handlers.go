package api

import (
	"context"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/query"
)

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (a *API) trace(ctx context.Context, c *caller, p *params) (any, int, error) {
	req := query.TraceRequest{Instance: a.cfg.Instance, Access: c.access(a.redactor)}
	var e1, e2, e3, e4, e5 error
	req.QueueID, e1 = p.queueID("queue_id")
	req.MessageID, e2 = p.messageID()
	req.Sender, e3 = p.address("sender")
	req.Recipient, e4 = p.address("recipient")
	req.Limit, e5 = p.limit()
	since, until, e6 := p.timeRange()
	if err := firstErr(e1, e2, e3, e4, e5, e6); err != nil {
		return nil, 0, err
	}
	given := 0
	for _, s := range []string{req.QueueID, req.MessageID, req.Sender, req.Recipient} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return nil, 0, badRequest("queue_id", "give exactly one of queue_id, message_id, sender, recipient")
	}
	req.MessageID = a.lookup("message_id", req.MessageID)
	req.Sender = a.lookup("sender", req.Sender)
	req.Recipient = a.lookup("recipient", req.Recipient)
	if req.QueueID != "" {
		if p.has("since") || p.has("until") {
			return nil, 0, badRequest("since", "a trace by queue_id takes no time range")
		}
	} else {
		req.Since, req.Until = since, until
	}
	if fl, err := a.fromFleet(c, p); err != nil || fl {
		if err != nil {
			return nil, 0, err
		}
		return a.fleetTrace(ctx, req)
	}
	res, err := query.Trace(ctx, a.cfg.Journal, req)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Messages), nil
}

// eventFilter reads the filters events and stats share, as the journal
// holds the values.
func (a *API) eventFilter(p *params) (query.EventFilter, error) {
	var f query.EventFilter
	var errs [10]error
	f.Since, f.Until, errs[0] = p.timeRange()
	f.Kinds, errs[1] = p.kinds()
	f.QueueID, errs[2] = p.queueID("queue_id")
	f.MessageID, errs[3] = p.messageID()
	f.SASLUsername, errs[4] = p.user("sasl_username")
	f.ClientIP, errs[5] = p.ip("client_ip")
	f.Sender, errs[6] = p.address("sender")
	f.Recipient, errs[7] = p.address("recipient")
	f.Status, errs[8] = p.status()
	f.Text, errs[9] = p.text()
	f.MessageID = a.lookup("message_id", f.MessageID)
	f.SASLUsername = a.lookup("sasl_username", f.SASLUsername)
	f.ClientIP = a.lookup("client_ip", f.ClientIP)
	f.Sender = a.lookup("sender", f.Sender)
	f.Recipient = a.lookup("recipient", f.Recipient)
	return f, firstErr(errs[:]...)
}

func (a *API) events(ctx context.Context, c *caller, p *params) (any, int, error) {
	f, err := a.eventFilter(p)
	if err != nil {
		return nil, 0, err
	}
	req := query.EventsRequest{EventFilter: f, Access: c.access(a.redactor)}
	order, e1 := p.enum("order", "desc", "asc", "desc")
	req.Limit, err = p.limit()
	req.Asc = order == "asc"
	cur, e3 := p.cursor()
	if err := firstErr(e1, err, e3); err != nil {
		return nil, 0, err
	}
	if cur != "" {
		if err := query.ValidCursor(cur, req.Asc); err != nil {
			return nil, 0, err
		}
		req.Cursor = cur
	}
	if fl, err := a.fromFleet(c, p); err != nil || fl {
		if err != nil {
			return nil, 0, err
		}
		if req.Asc || cur != "" {
			return nil, 0, badRequest(apiv1.ParamSource, "fleet: one page, newest first: no order=asc, no cursor")
		}
		return a.fleetEvents(ctx, f, req.Limit)
	}
	page, err := query.Events(ctx, a.cfg.Journal, req)
	if err != nil {
		return nil, 0, err
	}
	return page, len(page.Events), nil
}

func (a *API) logins(ctx context.Context, c *caller, p *params) (any, int, error) {
	req := query.LoginRequest{Enricher: a.cfg.Enricher, Access: c.access(a.redactor)}
	var errs [5]error
	req.Since, req.Until, errs[0] = p.timeRange()
	req.User, errs[1] = p.user("user")
	req.IP, errs[2] = p.ip("ip")
	req.Outcome, errs[3] = p.enum("outcome", "", query.OutcomeSuccess, query.OutcomeFailure)
	req.Limit, errs[4] = p.limit()
	if err := firstErr(errs[:]...); err != nil {
		return nil, 0, err
	}
	req.User = a.lookup("sasl_username", req.User)
	req.IP = a.lookup("client_ip", req.IP)
	if fl, err := a.fromFleet(c, p); err != nil || fl {
		if err != nil {
			return nil, 0, err
		}
		return a.fleetLogins(ctx, req)
	}
	rows, err := query.Logins(ctx, a.cfg.Journal, req)
	if err != nil {
		return nil, 0, err
	}
	return apiv1.Logins{Logins: rows}, len(rows), nil
}

func (a *API) offenders(_ context.Context, c *caller, _ *params) (any, int, error) {
	list := []apiv1.Offender{}
	if a.cfg.Offenders != nil {
		list = query.Offenders(a.cfg.Offenders.Offenders(), c.access(a.redactor))
	}
	return apiv1.Offenders{Offenders: list}, len(list), nil
}

func (a *API) instance(ctx context.Context, _ *caller, _ *params) (any, int, error) {
	info, err := query.Instance(ctx, a.cfg.Journal, a.cfg.Instance, a.cfg.Version, &a.hosts)
	if err != nil {
		return nil, 0, err
	}
	return info, 1, nil
}

func (a *API) stats(ctx context.Context, c *caller, p *params) (any, int, error) {
	f, err := a.eventFilter(p)
	if err != nil {
		return nil, 0, err
	}
	step, given, err := p.step()
	if err != nil {
		return nil, 0, err
	}
	if !given {
		step = query.DefaultStep(f.Since, f.Until)
	}
	if fl, err := a.fromFleet(c, p); err != nil || fl {
		if err != nil {
			return nil, 0, err
		}
		return a.fleetStats(ctx, f, step)
	}
	res, err := query.Stats(ctx, a.cfg.Journal, query.StatsRequest{EventFilter: f, Step: step, Access: c.access(a.redactor)})
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Points), nil
}

func (a *API) values(ctx context.Context, c *caller, p *params) (any, int, error) {
	req := query.ValuesRequest{Access: c.access(a.redactor)}
	var errs [3]error
	req.Since, req.Until, errs[0] = p.timeRange()
	req.Field, errs[1] = p.enum("field", "", query.ValueFields...)
	req.Limit, errs[2] = p.limit()
	if err := firstErr(errs[:]...); err != nil {
		return nil, 0, err
	}
	if req.Field == "" {
		return nil, 0, badRequest("field", "required")
	}
	vals, err := query.Values(ctx, a.cfg.Journal, req)
	if err != nil {
		return nil, 0, err
	}
	return apiv1.Values{Values: vals}, len(vals), nil
}

func (a *API) accessLog(ctx context.Context, _ *caller, p *params) (any, int, error) {
	var req query.AccessLogRequest
	var errs [3]error
	req.Since, req.Until, errs[0] = p.timeRange()
	req.Limit, errs[1] = p.limit()
	req.Cursor, errs[2] = p.cursor()
	if err := firstErr(errs[:]...); err != nil {
		return nil, 0, err
	}
	if req.Cursor != "" {
		if err := query.ValidCursor(req.Cursor, false); err != nil {
			return nil, 0, err
		}
	}
	page, err := query.AccessLog(ctx, a.cfg.Journal, req)
	if err != nil {
		return nil, 0, err
	}
	return page, len(page.Entries), nil
}

// forgetResult is what POST /api/v1/forget answers.
type forgetResult = apiv1.ForgetResult

// forget is the right to erasure without stopping the exporter: the
// journal's writer lives in this process, so the erasure goes through it.
func (a *API) forget(ctx context.Context, c *caller, p *params) (any, int, error) {
	subject := strings.TrimSpace(p.get("subject"))
	if subject == "" {
		return nil, 0, badRequest("subject", "the address or user name to erase is required")
	}
	if err := privacy.CheckSubject(subject); err != nil {
		return nil, 0, badRequest("subject", "%v", err)
	}
	dryRun, err := p.boolean("dry_run")
	if err != nil {
		return nil, 0, err
	}
	subjects := a.cfg.Privacy.Subjects(subject)
	// Access records of earlier searches for the subject (and policy
	// records naming it) go in first, so that the erasure covers them;
	// those queued meanwhile are scrubbed.
	queues := a.cfg.Queues
	if a.access != nil {
		queues = append([]*journal.Queue{a.access}, queues...)
	}
	for _, q := range queues {
		if err := q.Flush(); err != nil {
			return nil, 0, err
		}
	}
	if dryRun {
		// The same count the CLI's --dry-run gives, archives included.
		res, _, err := a.cfg.Journal.EraseDryRun(ctx, subjects)
		if err != nil {
			return nil, 0, err
		}
		return forgetResult{DryRun: true, Events: res.Events, Archived: res.Archived, ArchiveFiles: res.ArchiveFiles}, 0, nil
	}
	// An erasure is not cut off halfway by the query timeout: it is one
	// transaction, and a client that gives up does not undo it.
	var res journal.EraseResult
	var stores []apiv1.ForgetStore
	if a.cfg.Erase != nil {
		res, stores, err = a.cfg.Erase(context.WithoutCancel(ctx), subjects, "api:"+c.name)
	} else {
		res, err = a.cfg.Journal.Erase(context.WithoutCancel(ctx), subjects, "api:"+c.name)
	}
	if err != nil {
		return nil, 0, err
	}
	for _, q := range queues {
		q.Scrub(subjects, res.StandIn)
	}
	if a.cfg.Forgotten != nil {
		a.cfg.Forgotten(subjects, res.StandIn)
	}
	return forgetResult{Events: res.Events, Archived: res.Archived, ArchiveFiles: res.ArchiveFiles, Seq: res.Seq, StandIn: res.StandIn,
		WALTruncated: res.WALTruncated, Stores: stores}, int(res.Events), nil
}
