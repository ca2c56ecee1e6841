package apiv1

import "time"

// Prefix is where the API lives on the exporter's web address.
const Prefix = "/api/v1/"

// The endpoints' names (the path after Prefix).
const (
	PathTrace     = "trace"
	PathEvents    = "events"
	PathLogins    = "logins"
	PathOffenders = "offenders"
	PathInstance  = "instance"
	PathStats     = "stats"
	PathValues    = "values"
	PathAccessLog = "access-log"
	PathForget    = "forget"
)

// The roles a token can have, least first.
const (
	RoleViewer  = "viewer"  // addresses and users pseudonymised
	RoleAuditor = "auditor" // full events
	RoleAdmin   = "admin"   // also the access log and forget
)

// Endpoint is one API call: the parameters it takes (any other is a 400),
// the least role it needs, and whether it is a POST (it changes the
// journal) rather than a GET.
type Endpoint struct {
	Params []string
	Role   string
	Post   bool
	// Answer names the answer's type in this package, for documentation.
	Answer string
}

// ParamSource chooses where trace, events, logins and stats are answered
// from: SourceJournal (the default, this exporter's journal) or
// SourceFleet (the fleet store, every instance; docs/api.md).
const (
	ParamSource   = "source"
	SourceJournal = "journal"
	SourceFleet   = "fleet"
)

// Parameter lists shared by several endpoints.
var (
	rangeParams  = []string{"since", "until"}
	filterParams = []string{"kind", "queue_id", "message_id", "sasl_username", "client_ip", "sender", "recipient", "status", "q", "since", "until"}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Endpoints is the API's table, by name. Callers must not modify it.
var Endpoints = map[string]Endpoint{
	PathTrace:     {Params: []string{"queue_id", "message_id", "sender", "recipient", "since", "until", "limit", ParamSource}, Role: RoleViewer, Answer: "TraceResult"},
	PathEvents:    {Params: join([]string{"limit", "cursor", "order", ParamSource}, filterParams), Role: RoleViewer, Answer: "EventsPage"},
	PathLogins:    {Params: join([]string{"user", "ip", "outcome", "limit", ParamSource}, rangeParams), Role: RoleViewer, Answer: "Logins"},
	PathOffenders: {Role: RoleViewer, Answer: "Offenders"},
	PathInstance:  {Role: RoleViewer, Answer: "InstanceInfo"},
	PathStats:     {Params: join([]string{"step", ParamSource}, filterParams), Role: RoleViewer, Answer: "Stats"},
	PathValues:    {Params: join([]string{"field", "limit"}, rangeParams), Role: RoleViewer, Answer: "Values"},
	PathAccessLog: {Params: join([]string{"limit", "cursor"}, rangeParams), Role: RoleAdmin, Answer: "AccessLogPage"},
	PathForget:    {Params: []string{"subject", "dry_run"}, Role: RoleAdmin, Post: true, Answer: "ForgetResult"},
	// The policy service's suspensions (pkg/suspend, docs/responding.md).
	PathSuspend:      {Params: []string{"user", "ip", "for", "permanent", "reason", "response"}, Role: RoleAdmin, Post: true, Answer: "SuspendResult"},
	PathUnsuspend:    {Params: []string{"user", "ip", "reason"}, Role: RoleAdmin, Post: true, Answer: "SuspendResult"},
	PathSuspensions:  {Role: RoleAdmin, Answer: "Suspensions"},
	PathAlertmanager: {Role: RoleAdmin, Post: true, Answer: "AlertmanagerResult"},
}

// DefaultRange is how far back a search (events, logins, a trace by
// message id, sender or recipient) looks when it is given no since.
const DefaultRange = 24 * time.Hour

// MaxLimit is the largest limit a listing takes; MaxStatPoints the most
// points a stats series may have; MaxRangeDays the longest since..until.
const (
	MaxLimit      = 1000
	MaxStatPoints = 11000
	MaxRangeDays  = 31
)
