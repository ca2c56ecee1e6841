// Package suspend decides whom the policy services refuse: suspended
// users and IP addresses (given by hand, through the API, by an
// Alertmanager webhook or by the configuration's automatic rules), with
// allow-lists that are never refused, expiry, dry run, and the offender
// windows (pkg/offenders) behind the automatic rules. Every suspension,
// lift, expiry and refusal is journaled, so the responses are on the same
// tamper-evident record as the mail they answer.
//
// The suspensions in force are rebuilt from the journal's suspend and
// unsuspend records at start (Load), so serve and the suspend commands
// share one state: the journal.
package suspend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/policy"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// Source is the journal source of the records this package writes.
const Source = "policy"

// The responses a suspension can have.
const (
	Reject        = "reject"
	DeferIfPermit = "defer_if_permit"
	Hold          = "hold"
)

// CheckResponse refuses a response Postfix would not understand.
func CheckResponse(r string) error {
	switch r {
	case Reject, DeferIfPermit, Hold:
		return nil
	}
	return fmt.Errorf("response %q: want reject, defer_if_permit or hold", r)
}

// The detections an automatic rule can act on.
const (
	BruteForceIP   = "brute_force_ip"   // an IP over the auth threshold
	BruteForceUser = "brute_force_user" // a login name over the auth threshold
	SendVolume     = "send_volume"      // a SASL user over the send threshold
	Compromised    = "compromised"      // a send offender whose IP had failures
)

// Rule is an automatic response: when Detection fires for a key, it is
// suspended For (0: DefaultFor) with Response.
type Rule struct {
	Detection string
	For       time.Duration
	Response  string
}

// CheckRule refuses an unknown detection or response.
func CheckRule(r Rule) error {
	switch r.Detection {
	case BruteForceIP, BruteForceUser, SendVolume, Compromised:
	default:
		return fmt.Errorf("detection %q: want brute_force_ip, brute_force_user, send_volume or compromised", r.Detection)
	}
	if r.For < 0 {
		return fmt.Errorf("for %s: must not be negative", r.For)
	}
	return CheckResponse(r.Response)
}

// DefaultFor is how long a suspension given without a duration lasts
// unless configured otherwise: every suspension expires unless made
// permanent.
const DefaultFor = 24 * time.Hour

// Config is the store's configuration.
type Config struct {
	// DryRun refuses nobody: refusals are journaled and counted as
	// would_refuse, and the answer lets the client through.
	DryRun bool
	// PostfixEnforces says Postfix asks the policy service at RCPT: Dovecot
	// then lets a suspended user's SMTP AUTH through (see Decide).
	PostfixEnforces bool
	// AllowNetworks and AllowUsers are never refused nor suspended.
	AllowNetworks []netip.Prefix
	AllowUsers    []string
	Rules         []Rule
	// DefaultFor is how long a suspension given without a duration lasts
	// (every suspension expires unless made permanent); 0 means 24h.
	DefaultFor time.Duration
	// MaxSuspensions bounds the suspensions in force; 0 means 100000. A
	// rule's suspension beyond it is not given (the refusal still is);
	// a manual one is an error.
	MaxSuspensions int
	// Offenders are the log's windows (serve's tracker); nil for none.
	Offenders *offenders.Tracker
	// Windows configures the windows of Dovecot's reports (the same
	// window and threshold as the log's).
	Windows offenders.Config
	// Privacy is the journal's policy: the subjects are journaled, and so
	// kept, as the journal holds them.
	Privacy  *privacy.Redactor
	Instance string
	// Record journals one record; it must not block for long (serve
	// queues; the CLI commits). nil journals nothing (tests).
	Record func(journal.Record) error
	Now    func() time.Time
	Logger *slog.Logger
}

type key struct{ scope, subject string }

// Store holds the suspensions and decides. Safe for concurrent use.
type Store struct {
	cfg     Config
	reports *offenders.Tracker
	m       *storeMetrics

	mu  sync.Mutex
	sus map[key]*apiv1.Suspension
}

// New makes a store.
func New(cfg Config) (*Store, error) {
	for _, r := range cfg.Rules {
		if err := CheckRule(r); err != nil {
			return nil, err
		}
	}
	if cfg.DefaultFor <= 0 {
		cfg.DefaultFor = DefaultFor
	}
	if cfg.MaxSuspensions <= 0 {
		cfg.MaxSuspensions = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Privacy == nil {
		cfg.Privacy, _ = privacy.New(privacy.Config{})
	}
	for i, u := range cfg.AllowUsers {
		cfg.AllowUsers[i] = strings.ToLower(u)
	}
	return &Store{cfg: cfg, reports: offenders.New(cfg.Windows), sus: map[key]*apiv1.Suspension{}, m: newStoreMetrics()}, nil
}

// DryRun reports whether the store refuses nobody.
func (s *Store) DryRun() bool { return s.cfg.DryRun }

// stored is the form a subject is kept and journaled in: its pseudonym
// when the privacy policy pseudonymises the field.
func (s *Store) stored(scope, subject string) string {
	field := "sasl_username"
	if scope == apiv1.SuspendIP {
		field = "client_ip"
	}
	return s.cfg.Privacy.Query(field, subject)
}

// CheckSubject refuses what cannot be a user name or an IP address.
func CheckSubject(scope, subject string) (string, error) {
	subject = strings.TrimSpace(subject)
	switch scope {
	case apiv1.SuspendIP:
		a, err := netip.ParseAddr(subject)
		if err != nil {
			return "", fmt.Errorf("ip %q: not an IP address", subject)
		}
		return a.Unmap().String(), nil
	case apiv1.SuspendUser:
		if subject == "" || len(subject) > 256 || strings.ContainsAny(subject, " \t\r\n\x00") {
			return "", fmt.Errorf("user %q: want a user name without spaces, at most 256 bytes", subject)
		}
		return subject, nil
	}
	return "", fmt.Errorf("scope %q: want user or ip", scope)
}

// Allowlisted reports whether the allow-lists cover the IP or the user.
func (s *Store) Allowlisted(ip, user string) bool {
	if user != "" {
		lu := strings.ToLower(user)
		for _, u := range s.cfg.AllowUsers {
			if u == lu {
				return true
			}
		}
	}
	if ip != "" {
		if a, err := netip.ParseAddr(ip); err == nil {
			a = a.Unmap()
			for _, p := range s.cfg.AllowNetworks {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	return false
}

// Errors of Suspend and Lift.
var (
	ErrAllowlisted  = errors.New("allow-listed: never suspended")
	ErrNotSuspended = errors.New("not suspended")
	ErrFull         = errors.New("too many suspensions in force")
)

// Suspend gives a suspension: scope and subject, For (0: DefaultFor;
// ignored when permanent), response, reason and who. It is journaled
// before it takes effect; a suspension of a subject already suspended
// replaces it.
func (s *Store) Suspend(scope, subject string, dur time.Duration, permanent bool, response, reason, by string) (apiv1.Suspension, error) {
	subject, err := CheckSubject(scope, subject)
	if err != nil {
		return apiv1.Suspension{}, err
	}
	if response == "" {
		response = Reject
	}
	if err := CheckResponse(response); err != nil {
		return apiv1.Suspension{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return apiv1.Suspension{}, errors.New("reason: say why (it is journaled with the suspension)")
	}
	if dur < 0 {
		return apiv1.Suspension{}, fmt.Errorf("for %s: must not be negative", dur)
	}
	if (scope == apiv1.SuspendIP && s.Allowlisted(subject, "")) || (scope == apiv1.SuspendUser && s.Allowlisted("", subject)) {
		return apiv1.Suspension{}, fmt.Errorf("%s %s: %w", scope, subject, ErrAllowlisted)
	}
	if dur == 0 {
		dur = s.cfg.DefaultFor
	}
	now := s.cfg.Now().UTC()
	sus := apiv1.Suspension{Scope: scope, Subject: s.stored(scope, subject), Response: response, Reason: reason, By: by, Since: now}
	if !permanent {
		sus.Until = now.Add(dur)
	}
	k := key{scope, sus.Subject}
	s.mu.Lock()
	old, replaces := s.sus[k]
	full := !replaces && len(s.sus) >= s.cfg.MaxSuspensions
	s.mu.Unlock()
	if replaces && !old.Until.IsZero() && !now.Before(old.Until) {
		// The one it replaces ran out before the expiry job saw it: its
		// expiry goes on the record first.
		if err := s.expire(old, now); err != nil {
			return apiv1.Suspension{}, fmt.Errorf("journal the expiry of the suspension it replaces: %w", err)
		}
	}
	if full {
		return apiv1.Suspension{}, fmt.Errorf("%w (%d)", ErrFull, s.cfg.MaxSuspensions)
	}
	if err := s.record(suspendRecord(&sus, s.cfg.Instance)); err != nil {
		return apiv1.Suspension{}, fmt.Errorf("journal the suspension: %w", err)
	}
	s.mu.Lock()
	s.sus[k] = &sus
	s.mu.Unlock()
	s.m.changes.WithLabelValues("suspend", origin(by)).Inc()
	s.cfg.Logger.Info("suspended", "scope", scope, "subject", sus.Subject, "until", sus.Until, "response", response, "by", by, "reason", reason)
	return sus, nil
}

// Lift ends a suspension before its time.
func (s *Store) Lift(scope, subject, reason, by string) (apiv1.Suspension, error) {
	subject, err := CheckSubject(scope, subject)
	if err != nil {
		return apiv1.Suspension{}, err
	}
	k := key{scope, s.stored(scope, subject)}
	s.mu.Lock()
	cur := s.sus[k]
	s.mu.Unlock()
	if cur == nil {
		return apiv1.Suspension{}, fmt.Errorf("%s %s: %w", scope, subject, ErrNotSuspended)
	}
	if reason == "" {
		reason = "lifted"
	}
	lifted := *cur
	if err := s.record(unsuspendRecord(&lifted, "lift", reason, by, s.cfg.Now().UTC(), s.cfg.Instance)); err != nil {
		return apiv1.Suspension{}, fmt.Errorf("journal the lift: %w", err)
	}
	s.mu.Lock()
	if s.sus[k] == cur {
		delete(s.sus, k)
	}
	s.mu.Unlock()
	s.m.changes.WithLabelValues("lift", origin(by)).Inc()
	s.cfg.Logger.Info("suspension lifted", "scope", scope, "subject", lifted.Subject, "by", by, "reason", reason)
	return lifted, nil
}

// Forget applies an erasure (subjects replaced by standIn in the journal)
// to what the store holds in memory. A suspension naming a subject names
// standIn from then on, as Load will rebuild it from the rewritten records
// after a restart: the subject is no longer refused by it, and the erased
// name is not kept. Dovecot's reports about the subjects leave the windows,
// as the log's own offender windows drop them.
func (s *Store) Forget(subjects []string, standIn string) {
	s.reports.Forget(subjects)
	s.mu.Lock()
	defer s.mu.Unlock()
	var erased []*apiv1.Suspension
	for k, v := range s.sus {
		nv := *v
		changed := false
		for _, sub := range subjects {
			for _, f := range []*string{&nv.Subject, &nv.Reason, &nv.By} {
				if r, ok := privacy.EraseString(*f, sub, standIn); ok {
					*f, changed = r, true
				}
			}
		}
		if changed {
			delete(s.sus, k)
			erased = append(erased, &nv)
		}
	}
	for _, v := range erased {
		// Two suspensions may now name the same stand-in (the subject in
		// two letter cases); Load keeps the later record, and so does this.
		k := key{v.Scope, v.Subject}
		if cur := s.sus[k]; cur == nil || cur.Since.Before(v.Since) {
			s.sus[k] = v
		}
	}
}

// List is the suspensions in force, the newest first.
func (s *Store) List() []apiv1.Suspension {
	now := s.cfg.Now()
	s.mu.Lock()
	out := make([]apiv1.Suspension, 0, len(s.sus))
	for _, v := range s.sus {
		if v.Until.IsZero() || now.Before(v.Until) {
			out = append(out, *v)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.After(out[j].Since)
		}
		return out[i].Scope+out[i].Subject < out[j].Scope+out[j].Subject
	})
	return out
}

// Expire journals and drops the suspensions whose time is up; it returns
// how many.
func (s *Store) Expire() int {
	now := s.cfg.Now().UTC()
	var due []*apiv1.Suspension
	s.mu.Lock()
	for _, v := range s.sus {
		if !v.Until.IsZero() && !now.Before(v.Until) {
			due = append(due, v)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, v := range due {
		if s.expire(v, now) == nil {
			n++
		}
	}
	return n
}

// expire journals v's expiry and drops it.
func (s *Store) expire(v *apiv1.Suspension, now time.Time) error {
	if err := s.record(unsuspendRecord(v, "expire", "expired", "expiry", now, s.cfg.Instance)); err != nil {
		s.cfg.Logger.Error("journal a suspension's expiry; trying again", "err", err)
		return err
	}
	s.mu.Lock()
	k := key{v.Scope, v.Subject}
	if s.sus[k] == v {
		delete(s.sus, k)
	}
	s.mu.Unlock()
	s.m.changes.WithLabelValues("expire", "expiry").Inc()
	return nil
}

// Run expires suspensions and applies the rules to the offenders the
// policy services were not asked about (a send offender between two
// messages), every interval, until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Expire()
			s.applyRules()
		}
	}
}

// applyRules suspends the active offenders a rule names.
func (s *Store) applyRules() {
	if len(s.cfg.Rules) == 0 || s.cfg.Offenders == nil {
		return
	}
	for _, o := range s.cfg.Offenders.Offenders() {
		if !o.Active {
			continue
		}
		switch o.Scope {
		case offenders.ScopeIP:
			s.Decide(policy.Query{Protocol: "rules", ClientIP: o.Key})
		case offenders.ScopeUser, offenders.ScopeSend:
			s.Decide(policy.Query{Protocol: "rules", User: o.Key})
		}
	}
}

func (s *Store) record(r journal.Record) error {
	if s.cfg.Record == nil {
		return nil
	}
	s.cfg.Privacy.Apply(&r.Event)
	return s.cfg.Record(r)
}

// origin is the closed label value of who acted.
func origin(by string) string {
	o, _, _ := strings.Cut(by, ":")
	switch o {
	case "cli", "api", "alertmanager", "rule", "expiry":
		return o
	}
	return "other"
}

// durationSeconds is a suspension's length as journaled (0: permanent).
func durationSeconds(v *apiv1.Suspension) float64 {
	if v.Until.IsZero() {
		return 0
	}
	return v.Until.Sub(v.Since).Seconds()
}

func subjectFields(e *event.Event, v *apiv1.Suspension) {
	if v.Scope == apiv1.SuspendIP {
		e.ClientIP = v.Subject
	} else {
		e.SASLUsername = v.Subject
	}
}

func suspendRecord(v *apiv1.Suspension, instance string) journal.Record {
	e := event.Event{Time: v.Since, Instance: instance, Service: "mailtrail", Program: "suspend", Kind: event.KindSuspend,
		Action: v.Response, Detail: v.Reason, Check: v.By, Delay: durationSeconds(v)}
	subjectFields(&e, v)
	until := "permanent"
	if !v.Until.IsZero() {
		until = "until " + v.Until.Format(time.RFC3339)
	}
	e.Raw = fmt.Sprintf("suspend %s=%s response=%s %s by=%s reason=%s", v.Scope, v.Subject, v.Response, until, v.By, strconv.Quote(v.Reason))
	return journal.Record{Event: e, Source: Source}
}

func unsuspendRecord(v *apiv1.Suspension, action, reason, by string, at time.Time, instance string) journal.Record {
	e := event.Event{Time: at, Instance: instance, Service: "mailtrail", Program: "suspend", Kind: event.KindUnsuspend,
		Action: action, Detail: reason, Check: by}
	subjectFields(&e, v)
	e.Raw = fmt.Sprintf("unsuspend %s=%s action=%s by=%s reason=%s", v.Scope, v.Subject, action, by, strconv.Quote(reason))
	return journal.Record{Event: e, Source: Source}
}

// Load rebuilds the suspensions in force from the journal's suspend and
// unsuspend records, oldest first. Those whose time is up stay until the
// next Expire journals their expiry.
func (s *Store) Load(ctx context.Context, j *journal.Journal) error {
	n := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	err := j.Scan(ctx, journal.Filter{Kinds: []event.Kind{event.KindSuspend, event.KindUnsuspend}}, func(st *journal.Stored) error {
		e := &st.Event
		if st.Source != Source {
			return nil
		}
		scope, subject := apiv1.SuspendUser, e.SASLUsername
		if e.ClientIP != "" {
			scope, subject = apiv1.SuspendIP, e.ClientIP
		}
		if subject == "" {
			return nil // dropped by the privacy policy: cannot be matched
		}
		k := key{scope, subject}
		switch e.Kind {
		case event.KindSuspend:
			v := &apiv1.Suspension{Scope: scope, Subject: subject, Response: e.Action, Reason: e.Detail, By: e.Check, Since: e.Time, Seq: st.Seq}
			if e.Delay > 0 {
				v.Until = e.Time.Add(time.Duration(e.Delay * float64(time.Second)))
			}
			s.sus[k] = v
			n++
		case event.KindUnsuspend:
			delete(s.sus, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load suspensions from the journal: %w", err)
	}
	if n > 0 {
		s.cfg.Logger.Info("suspensions rebuilt from the journal", "records", n, "in_force", len(s.sus))
	}
	return nil
}
