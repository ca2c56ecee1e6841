// Package api serves the exporter's HTTP query API (/api/v1/...) over the
// journal: bearer-token authentication with roles and tenant scopes,
// strict parameter validation with JSON errors, and an access log of every
// call journaled beside the events it is about.
package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/fleet"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/offenders"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/query"
	"github.com/mailtrail/mailtrail/pkg/suspend"
)

// queryTimeout bounds one call.
const queryTimeout = 30 * time.Second

// Prefix is where the API is mounted.
const Prefix = apiv1.Prefix

// Role is what a token may do.
type Role string

// The roles, from the least to the most trusted.
const (
	// RoleViewer sees traces, events and aggregates with every e-mail
	// address pseudonymised, and may not search by address or text.
	RoleViewer Role = apiv1.RoleViewer
	// RoleAuditor sees full events.
	RoleAuditor Role = apiv1.RoleAuditor
	// RoleAdmin also sees the access log and the journal's own records.
	RoleAdmin Role = apiv1.RoleAdmin
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleAuditor, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want viewer, auditor or admin)", s)
}

// Token is one API client.
type Token struct {
	Name   string
	Secret string
	Role   Role
	// Tenants limits the token to mail of these domains; empty means all.
	Tenants []string
}

// Offenders is where the offender list comes from (the live tracker).
type Offenders interface {
	Offenders() []offenders.Offender
}

// Config configures the API.
type Config struct {
	// Journal is the event journal; nil answers 503.
	Journal           *journal.Journal
	Instance, Version string
	Tokens            []Token
	// AllowAnonymous serves requests without a token as an auditor with
	// no tenant scope. Without it and without tokens the API is off.
	AllowAnonymous bool
	Offenders      Offenders
	Enricher       query.Enricher
	// Privacy is the journal's privacy policy: searched values are looked
	// up as the journal holds them (by pseudonym under hmac), and the
	// access log keeps them as the policy says. nil means none.
	Privacy *privacy.Redactor
	// Forgotten is told the subjects of every erasure made through the
	// API and what replaced them, once the journal is done, so that what
	// the process keeps in memory (correlation state, offender windows,
	// suspensions) drops them too.
	Forgotten func(subjects []string, standIn string)
	// Erase, when set, makes the erasures instead of Journal.Erase: with
	// a fleet store, it also deletes the store's copies and says what each
	// store did.
	Erase func(ctx context.Context, subjects []string, actor string) (journal.EraseResult, []apiv1.ForgetStore, error)
	// Suspensions are the policy service's (suspend, unsuspend,
	// suspensions, alertmanager); nil answers those 503.
	Suspensions *suspend.Store
	// Queues are the other background writers to the journal (the policy
	// services' records): an erasure commits what they hold first, so that
	// it covers it, and scrubs what they queued meanwhile, as it does the
	// access log's.
	Queues []*journal.Queue
	Logger *slog.Logger
	// Fleet, when set, is the fleet store that source=fleet asks
	// (fleet.go); nil answers such requests 409.
	Fleet *fleet.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// maxPendingAccess bounds the access records waiting for their commit.
// Beyond it calls are refused (503) rather than answered unlogged: a
// journal that cannot keep up, or cannot be written, stops the API.
const maxPendingAccess = 10000

// API is the HTTP handler for Prefix.
type API struct {
	cfg      Config
	tokens   []token
	redactor *query.Redactor
	hosts    query.Hosts
	access   *journal.Queue
	routes   map[string]endpoint
}

type token struct {
	Token
	hash [sha256.Size]byte
}

// New checks the tokens and builds the handler.
func New(cfg Config) (*API, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg}
	names := map[string]bool{}
	secrets := map[[sha256.Size]byte]bool{}
	for _, t := range cfg.Tokens {
		if t.Name == "" {
			return nil, errors.New("api token without a name")
		}
		if names[t.Name] {
			return nil, fmt.Errorf("api token %q named twice", t.Name)
		}
		names[t.Name] = true
		if len(t.Secret) < 16 {
			return nil, fmt.Errorf("api token %q: the secret is %d bytes, want at least 16", t.Name, len(t.Secret))
		}
		if _, err := ParseRole(string(t.Role)); err != nil {
			return nil, fmt.Errorf("api token %q: %w", t.Name, err)
		}
		h := sha256.Sum256([]byte(t.Secret))
		if secrets[h] {
			return nil, fmt.Errorf("api token %q: the same secret as another token", t.Name)
		}
		secrets[h] = true
		a.tokens = append(a.tokens, token{Token: t, hash: h})
	}
	// Viewers' pseudonyms hold for one run: a fresh key each start, so
	// they cannot be precomputed for a guessed address.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("api: redaction key: %w", err)
	}
	a.redactor = query.NewRedactor(key)
	a.routes = a.endpoints()
	if cfg.Journal != nil {
		a.access = journal.NewQueue(cfg.Journal, "api access log", maxPendingAccess, cfg.Logger)
	}
	return a, nil
}

// Close commits the access records still queued; call it after the HTTP
// server has stopped and before the journal is closed.
func (a *API) Close() {
	if a.access != nil {
		if err := a.access.Close(); err != nil {
			a.cfg.Logger.Error("api access log: records lost at close", "err", err)
		}
	}
}

// lookup turns a searched value of an event field into what the journal
// holds.
func (a *API) lookup(field, value string) string {
	if value == "" || a.cfg.Privacy == nil {
		return value
	}
	return a.cfg.Privacy.Query(field, value)
}

// personalParams are the parameters that carry a personal value, with the
// event field whose privacy policy they follow.
var personalParams = map[string]func(*event.Event) *string{
	"sender":        func(e *event.Event) *string { return &e.Sender },
	"recipient":     func(e *event.Event) *string { return &e.Recipient },
	"sasl_username": func(e *event.Event) *string { return &e.SASLUsername },
	"user":          func(e *event.Event) *string { return &e.SASLUsername },
	"client_ip":     func(e *event.Event) *string { return &e.ClientIP },
	"ip":            func(e *event.Event) *string { return &e.ClientIP },
	"message_id":    func(e *event.Event) *string { return &e.MessageID },
}

// loggedQuery is the query string as the access log keeps it: the first
// KiB, with personal values treated as the privacy policy treats them in
// events, so the log of a search holds no more than the journal does.
func (a *API) loggedQuery(raw string) string {
	if a.cfg.Privacy == nil || !a.cfg.Privacy.Active() {
		return cut(raw, 1024)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return fmt.Sprintf("[unparsable query of %d bytes]", len(raw))
	}
	for name, vals := range v {
		get, ok := personalParams[name]
		if !ok {
			continue
		}
		for i, val := range vals {
			var e event.Event
			*get(&e) = val
			a.cfg.Privacy.Apply(&e)
			if vals[i] = *get(&e); vals[i] == "" {
				vals[i] = "[redacted]"
			}
		}
	}
	return cut(v.Encode(), 1024)
}

// Enabled reports whether the API answers at all.
func (a *API) Enabled() bool { return len(a.tokens) > 0 || a.cfg.AllowAnonymous }

// apiError is an error response.
type apiError = apiv1.Error

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Detail: param + ": " + fmt.Sprintf(format, args...)}
}

// caller is an authenticated request's identity.
type caller struct {
	name    string
	role    Role
	tenants []string
}

func (c *caller) access(r *query.Redactor) query.Access {
	acc := query.Access{Tenants: c.tenants, System: c.role == RoleAdmin}
	if c.role == RoleViewer {
		acc.Redact = r
	}
	return acc
}

// authenticate finds the caller of r.
func (a *API) authenticate(r *http.Request) (*caller, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if a.cfg.AllowAnonymous {
			return &caller{name: "anonymous", role: RoleAuditor}, nil
		}
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Detail: "Authorization: Bearer <token> is required"}
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Detail: "Authorization must be Bearer <token>"}
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	var found *token
	for i := range a.tokens {
		// Every token is compared, in constant time, so the timing says
		// nothing about which one came close.
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:]) == 1 {
			found = &a.tokens[i]
		}
	}
	if found == nil {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Detail: "unknown token"}
	}
	return &caller{name: found.Name, role: found.Role, tenants: found.Tenants}, nil
}

// endpoint is one API call: the parameters it takes, the least role it
// needs, and what it does.
type endpoint struct {
	params []string
	role   Role
	// post marks an endpoint that changes the journal: POST only.
	post bool
	// run answers; n is the number of results, for the access log.
	run func(ctx context.Context, c *caller, p *params) (body any, n int, err error)
}

// endpoints joins apiv1's table (parameters, role, method) to the
// handlers.
func (a *API) endpoints() map[string]endpoint {
	run := map[string]func(ctx context.Context, c *caller, p *params) (any, int, error){
		apiv1.PathTrace: a.trace, apiv1.PathEvents: a.events, apiv1.PathLogins: a.logins,
		apiv1.PathOffenders: a.offenders, apiv1.PathInstance: a.instance, apiv1.PathStats: a.stats,
		apiv1.PathValues: a.values, apiv1.PathAccessLog: a.accessLog, apiv1.PathForget: a.forget,
		apiv1.PathSuspend: a.suspend, apiv1.PathUnsuspend: a.unsuspend, apiv1.PathSuspensions: a.suspensions,
		apiv1.PathAlertmanager: a.alertmanager,
	}
	out := make(map[string]endpoint, len(apiv1.Endpoints))
	for name, ep := range apiv1.Endpoints {
		if run[name] == nil {
			panic("api: no handler for endpoint " + name)
		}
		out[name] = endpoint{params: ep.Params, role: Role(ep.Role), post: ep.Post, run: run[name]}
	}
	out[apiv1.PathEvidence] = a.evidenceEndpoint()
	return out
}

var roleRank = map[Role]int{RoleViewer: 1, RoleAuditor: 2, RoleAdmin: 3}

// ServeHTTP answers every request under Prefix.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.Enabled() {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found",
			Detail: "the query API is off: configure api.tokens in --config.file, or start with --api.allow-anonymous"})
		return
	}
	start := a.cfg.Now()
	c, aerr := a.authenticate(r)
	status, n := 0, 0
	var body any
	if aerr == nil {
		body, n, aerr = a.handle(r, c)
	}
	if aerr != nil {
		status = aerr.Status
	} else {
		status = http.StatusOK
	}
	if a.access != nil {
		q := a.loggedQuery(r.URL.RawQuery)
		if strings.HasSuffix(r.URL.Path, "/forget") {
			// The record of an erasure must not hold what it erased.
			q = "subject=[erased]"
			if r.URL.Query().Get("dry_run") == "true" {
				q += "&dry_run=true"
			}
		}
		entry := query.AccessEntry{Time: start, Method: r.Method, Path: r.URL.Path, Query: q, Status: status, Results: n, ClientIP: remoteIP(r)}
		if c != nil {
			entry.Token, entry.Role = c.name, string(c.role)
		}
		if err := a.access.Record(query.AccessRecord(&entry, a.cfg.Instance)); err != nil {
			// An answer that cannot be logged is not given.
			a.cfg.Logger.Error("api access log", "err", err)
			writeError(w, &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the access log cannot be written; try again"})
			return
		}
	}
	if aerr != nil {
		if aerr.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailtrail"`)
		}
		writeError(w, aerr)
		return
	}
	if rb, ok := body.(*rawBody); ok {
		rb.write(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// handle routes an authenticated request.
func (a *API) handle(r *http.Request, c *caller) (any, int, *apiError) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	ep, found := a.routes[name]
	if !ok || !found {
		return nil, 0, &apiError{Status: http.StatusNotFound, Code: "not_found", Detail: "no such endpoint " + safeName(r.URL.Path)}
	}
	switch {
	case ep.post && r.Method != http.MethodPost:
		return nil, 0, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "only POST"}
	case !ep.post && r.Method != http.MethodGet && r.Method != http.MethodHead:
		return nil, 0, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "only GET"}
	}
	if roleRank[c.role] < roleRank[ep.role] {
		return nil, 0, &apiError{Status: http.StatusForbidden, Code: "forbidden", Detail: fmt.Sprintf("%s needs the %s role; token %q is %s", name, ep.role, c.name, c.role)}
	}
	p, err := newParams(r.URL.RawQuery, ep.params, a.cfg.Now())
	if err != nil {
		return nil, 0, asAPIError(err)
	}
	if ep.post {
		if p.body, err = readBody(r); err != nil {
			return nil, 0, asAPIError(err)
		}
	}
	if c.role == RoleViewer {
		for _, f := range []string{"sender", "recipient", "sasl_username", "user", "q"} {
			if p.has(f) {
				return nil, 0, &apiError{Status: http.StatusForbidden, Code: "forbidden", Detail: f + ": viewer tokens see no addresses and cannot search by them or by text"}
			}
		}
	}
	if a.cfg.Journal == nil && name != "offenders" {
		return nil, 0, &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "no journal is configured (--journal.path)"}
	}
	// A query that scans more than this is cut off rather than left to
	// hold a connection and the journal's readers.
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	body, n, err := ep.run(ctx, c, p)
	if err != nil {
		return nil, 0, a.asAPIErrorLogged(err)
	}
	return body, n, nil
}

func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var pe *query.ParamError
	if errors.As(err, &pe) {
		return badRequest(pe.Param, "%s", pe.Msg)
	}
	if errors.Is(err, query.ErrNotFound) {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Detail: "no message matches"}
	}
	return nil
}

func (a *API) asAPIErrorLogged(err error) *apiError {
	if ae := asAPIError(err); ae != nil {
		return ae
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the query was cancelled"}
	}
	a.cfg.Logger.Error("api query", "err", err)
	return &apiError{Status: http.StatusInternalServerError, Code: "internal", Detail: "the query failed; see the exporter's log"}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// A value JSON cannot hold (a time beyond year 9999) is this
		// program's fault, not the caller's, and still gets a JSON answer.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(&apiError{Code: "internal", Detail: "the answer could not be encoded: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.Status, e) }

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}
