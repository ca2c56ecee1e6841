package suspend

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
)

// The texts refused clients are told: Postfix puts them after its reply
// and status codes ("554 5.7.1 <...>: Client host rejected: TEXT"),
// Dovecot logs them and answers the client its own failure.
const (
	TextSuspended  = "account or address suspended by the mail administrator"
	TextBruteForce = "too many failed logins from your address; try later"
	TextUser       = "too many failed logins for this account"
	TextSendVolume = "account suspended: unusual sending volume"
)

// Decide answers one policy request. The order: allow-lists first (never
// refused), then suspensions in force, then the rules in their order,
// each of which, when its detection fires, suspends (journaled) and
// refuses. Every refusal (or would-be refusal in dry run) is journaled;
// one that cannot be is not given.
func (s *Store) Decide(q policy.Query) policy.Decision {
	if s.Allowlisted(q.ClientIP, q.User) {
		return policy.Decision{Reason: policy.ReasonAllowlisted}
	}
	now := s.cfg.Now()
	var d policy.Decision
	// Dovecot's SASL service for Postfix (protocol smtp) lets a suspended
	// user authenticate when the Postfix policy service enforces the
	// suspension at RCPT: its response (hold, defer_if_permit) is then
	// the one configured, and the refusal is on the record as Postfix's.
	userScope := q.User
	if q.Protocol == policy.ProtocolDovecot && s.cfg.PostfixEnforces && (q.Service == "smtp" || q.Service == "submission") {
		userScope = ""
	}
	if v := s.inForce(apiv1.SuspendUser, userScope, now); v != nil {
		d = refusalFor(v)
	} else if v := s.inForce(apiv1.SuspendIP, q.ClientIP, now); v != nil {
		d = refusalFor(v)
	} else {
		d = s.rules(q, now)
	}
	if !d.Refuse || q.Protocol == "rules" {
		return d
	}
	d.DryRun = s.cfg.DryRun
	if err := s.record(refusalRecord(q, d, now, s.cfg.Instance)); err != nil {
		s.cfg.Logger.Error("policy: a refusal cannot be journaled; letting the client through", "err", err)
		return policy.Decision{Reason: policy.ReasonUnrecorded}
	}
	return d
}

// refusalFor is the refusal a suspension in force gives: a rule's keeps
// the rule's reason and text, so that the client and the metrics see the
// same cause at every request, not only the first.
func refusalFor(v *apiv1.Suspension) policy.Decision {
	d := policy.Decision{Refuse: true, Response: v.Response, Reason: policy.ReasonSuspended, Text: TextSuspended}
	switch v.By {
	case "rule:" + BruteForceIP:
		d.Reason, d.Text = policy.ReasonBruteForce, TextBruteForce
	case "rule:" + BruteForceUser:
		d.Reason, d.Text = policy.ReasonBruteForce, TextUser
	case "rule:" + SendVolume:
		d.Reason, d.Text = policy.ReasonSendVolume, TextSendVolume
	case "rule:" + Compromised:
		d.Reason, d.Text = policy.ReasonCompromised, TextSendVolume
	}
	return d
}

func (s *Store) inForce(scope, subject string, now time.Time) *apiv1.Suspension {
	if subject == "" {
		return nil
	}
	if scope == apiv1.SuspendIP {
		// The form Suspend kept: an IPv4-mapped address as IPv4.
		if a, err := CheckSubject(scope, subject); err == nil {
			subject = a
		}
	}
	k := key{scope, s.stored(scope, subject)}
	s.mu.Lock()
	v := s.sus[k]
	s.mu.Unlock()
	if v == nil || (!v.Until.IsZero() && !now.Before(v.Until)) {
		return nil
	}
	return v
}

// rules applies the automatic rules to q.
func (s *Store) rules(q policy.Query, now time.Time) policy.Decision {
	for _, r := range s.cfg.Rules {
		var scope, subject, reason, text string
		switch r.Detection {
		case BruteForceIP:
			if q.ClientIP == "" || !s.over(offenders.ScopeIP, q.ClientIP, now) {
				continue
			}
			scope, subject, reason, text = apiv1.SuspendIP, q.ClientIP, policy.ReasonBruteForce, TextBruteForce
		case BruteForceUser:
			if q.User == "" || !s.over(offenders.ScopeUser, q.User, now) {
				continue
			}
			scope, subject, reason, text = apiv1.SuspendUser, q.User, policy.ReasonBruteForce, TextUser
		case SendVolume, Compromised:
			if q.User == "" || s.cfg.Offenders == nil {
				continue
			}
			st := s.cfg.Offenders.Lookup(offenders.ScopeSend, q.User, now)
			if !st.Over || (r.Detection == Compromised && !st.AfterFailures) {
				continue
			}
			scope, subject, reason, text = apiv1.SuspendUser, q.User, policy.ReasonSendVolume, TextSendVolume
			if r.Detection == Compromised {
				reason = policy.ReasonCompromised
			}
		default:
			continue
		}
		why := fmt.Sprintf("rule %s: over the threshold", r.Detection)
		if _, err := s.Suspend(scope, subject, r.For, false, r.Response, why, "rule:"+r.Detection); err != nil {
			// Full, or the journal refused: the refusal itself still
			// stands (and is journaled, or not given, by Decide).
			s.cfg.Logger.Warn("policy: a rule's suspension was not given", "rule", r.Detection, "err", err)
		}
		return policy.Decision{Refuse: true, Response: r.Response, Reason: reason, Text: text}
	}
	return policy.Decision{Reason: policy.ReasonNone}
}

// over reports whether key is over the auth threshold in the log's
// windows or in Dovecot's reports. Both see the same attempts (Dovecot
// logs each one it reports), so their counts are never added: the larger
// one decides, and an attempt counts once whichever source saw it first.
func (s *Store) over(scope offenders.Scope, key string, now time.Time) bool {
	if s.cfg.Offenders != nil && s.cfg.Offenders.Lookup(scope, key, now).Over {
		return true
	}
	return s.reports.Lookup(scope, key, now).Over
}

// Report takes Dovecot's report of one authentication: journaled as an
// auth_report (never counted as an attempt or a login: the login
// process's own log line is), and counted in the report windows the
// brute-force rules read.
func (s *Store) Report(r policy.Report) {
	now := s.cfg.Now().UTC()
	result := "ok"
	switch {
	case r.PolicyReject:
		result = "policy_refused"
	case !r.Success:
		result = "failed"
	}
	s.m.reports.WithLabelValues(result).Inc()
	if result != "ok" {
		// The report windows count in wall-clock time: an auth_failure
		// stand-in at now.
		s.reports.Observe(&event.Event{Kind: event.KindAuthFailure, Time: now, ClientIP: r.ClientIP, SASLUsername: r.User})
	}
	e := event.Event{Time: now, Instance: s.cfg.Instance, Service: "mailtrail", Program: "policy-dovecot", Kind: event.KindAuthReport,
		ClientIP: r.ClientIP, SASLUsername: r.User, Protocol: r.Service, Check: "dovecot", Result: result}
	e.Raw = fmt.Sprintf("auth_report login=%s remote=%s protocol=%s session=%s result=%s", r.User, r.ClientIP, r.Service, r.Session, result)
	if err := s.record(journal.Record{Event: e, Source: Source}); err != nil {
		s.cfg.Logger.Error("policy: a Dovecot report cannot be journaled", "err", err)
	}
}

func refusalRecord(q policy.Query, d policy.Decision, now time.Time, instance string) journal.Record {
	action := d.Response
	if q.Protocol == policy.ProtocolDovecot {
		action = "deny"
	}
	if d.DryRun {
		action = "would_" + action
	}
	e := event.Event{Time: now.UTC(), Instance: instance, Service: "mailtrail", Program: "policy-" + q.Protocol, Kind: event.KindPolicyRefusal,
		ClientIP: q.ClientIP, SASLUsername: q.User, RejectStage: q.Stage, Protocol: q.Service, Action: action, Check: d.Reason, Detail: d.Text}
	e.Raw = fmt.Sprintf("policy_refusal %s stage=%s client=%s user=%s action=%s reason=%s", q.Protocol, q.Stage, q.ClientIP, q.User, action, d.Reason)
	return journal.Record{Event: e, Source: Source}
}

type storeMetrics struct {
	changes *prometheus.CounterVec
	reports *prometheus.CounterVec
}

func newStoreMetrics() *storeMetrics {
	m := &storeMetrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_suspension_changes_total",
			Help: "Suspensions given (action suspend), lifted (lift) and expired (expire), by origin: cli, api, alertmanager, rule, expiry.",
		}, []string{"action", "origin"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailtrail_auth_reports_total",
			Help: "Dovecot's auth-policy reports of finished authentications, by result (ok, failed, policy_refused).",
		}, []string{"result"}),
	}
	for _, r := range []string{"ok", "failed", "policy_refused"} {
		m.reports.WithLabelValues(r)
	}
	return m
}

// Register adds the store's metrics to reg: the changes, the reports and
// the suspensions in force per scope.
func (s *Store) Register(reg prometheus.Registerer) error {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailtrail_suspensions", Help: "Suspensions in force, by scope (user, ip)."}, []string{"scope"})
	for _, c := range []prometheus.Collector{s.m.changes, s.m.reports, gaugeFunc{g, s}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// gaugeFunc fills the in-force gauge at scrape time.
type gaugeFunc struct {
	g *prometheus.GaugeVec
	s *Store
}

func (f gaugeFunc) Describe(ch chan<- *prometheus.Desc) { f.g.Describe(ch) }

func (f gaugeFunc) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{apiv1.SuspendUser: 0, apiv1.SuspendIP: 0}
	for _, v := range f.s.List() {
		counts[strings.ToLower(v.Scope)]++
	}
	for sc, n := range counts {
		f.g.WithLabelValues(sc).Set(float64(n))
	}
	f.g.Collect(ch)
}
