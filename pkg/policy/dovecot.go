package policy

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// MaxDovecotBytes bounds a Dovecot policy request's body: the default
// attributes (login, pwhash, remote, device_id, protocol, session_id) and
// the report's success, policy_reject and tls take a few hundred bytes.
const MaxDovecotBytes = 64 << 10

// DovecotRequest is the JSON object Dovecot's auth process posts
// (auth-policy.c), with the attributes docs/responding.md has
// auth_policy_request_attributes send. It is Dovecot's wire shape, not
// mailtrail's API. Unknown fields are ignored: the administrator may send
// more.
type DovecotRequest struct {
	Login     string `json:"login"`
	Remote    string `json:"remote"`
	Protocol  string `json:"protocol"`
	SessionID string `json:"session_id"`
	// Success and PolicyReject come with command=report only.
	Success      *bool `json:"success"`
	PolicyReject bool  `json:"policy_reject"`
	TLS          bool  `json:"tls"`
}

// DovecotAnswer is what Dovecot reads back: status < 0 deny, 0 allow,
// > 0 delay (tarpit) that many seconds; msg is the reason it logs and
// gives the client on a deny.
type DovecotAnswer struct {
	Status int    `json:"status"`
	Msg    string `json:"msg"`
}

// DovecotHandler serves Dovecot's auth policy protocol on any path:
// POST ?command=allow asks before authentication, ?command=report tells
// the outcome after it.
type DovecotHandler struct {
	Decider Decider
	Metrics *Metrics
	Logger  *slog.Logger
	// APIKey, when set, must come in the X-API-Key header (Dovecot's
	// auth_policy_server_api_header): a request without it is answered
	// 403, which Dovecot treats as the service failing (and allows, with
	// auth_policy_reject_on_fail=no), so nobody else can feed reports that
	// would suspend an address.
	APIKey string
}

// DovecotStatus is the status answer for a decision: -1 (deny) when it
// refuses outside dry run, 0 (allow) otherwise.
func DovecotStatus(d Decision) int {
	if d.Refuse && !d.DryRun {
		return -1
	}
	return 0
}

func (h *DovecotHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	logger := orDiscard(h.Logger)
	command := r.URL.Query().Get("command")
	allow := func(problem string, args ...any) {
		// Whatever cannot be read is let through: Dovecot's own
		// auth_policy_reject_on_fail would do the same only if it is
		// off, and it must not depend on that.
		logger.Warn("dovecot auth policy: "+problem+"; answering allow", args...)
		if command != "report" {
			h.Metrics.count(ProtocolDovecot, Decision{Reason: ReasonMalformed}, time.Since(start))
		}
		writeDovecot(w, DovecotAnswer{})
	}
	if h.APIKey != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(r.Header.Get("X-API-Key"))), []byte(h.APIKey)) != 1 {
		logger.Warn("dovecot auth policy: a request without the right X-API-Key; refused", "remote", r.RemoteAddr)
		http.Error(w, "X-API-Key required", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost {
		allow("not a POST", "method", r.Method)
		return
	}
	if command != "allow" && command != "report" {
		allow("unknown command (want allow or report)", "command", cutQuote([]byte(command)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxDovecotBytes+1))
	if err != nil {
		allow("reading the request failed", "err", err)
		return
	}
	if len(body) > MaxDovecotBytes {
		allow("request larger than the limit", "limit", MaxDovecotBytes)
		return
	}
	var req DovecotRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			allow("a field of the wrong type", "field", te.Field, "err", err)
		} else {
			allow("the request is not a JSON object", "err", err)
		}
		return
	}
	if req.Remote != "" {
		if _, err := netipParse(req.Remote); err != nil {
			allow("remote is not an IP address (auth_policy_request_attributes must send remote=%{rip})", "remote", cutQuote([]byte(req.Remote)))
			return
		}
	}
	if command == "report" {
		if req.Success == nil {
			allow("a report without success")
			return
		}
		h.Decider.Report(Report{ClientIP: req.Remote, User: req.Login, Service: req.Protocol, Session: req.SessionID,
			Success: *req.Success, PolicyReject: req.PolicyReject})
		writeDovecot(w, DovecotAnswer{})
		return
	}
	d := h.Decider.Decide(Query{Protocol: ProtocolDovecot, Stage: "auth", ClientIP: req.Remote, User: req.Login, Service: req.Protocol})
	ans := DovecotAnswer{Status: DovecotStatus(d)}
	if ans.Status != 0 {
		ans.Msg = d.Text
	}
	h.Metrics.count(ProtocolDovecot, d, time.Since(start))
	writeDovecot(w, ans)
}

func writeDovecot(w http.ResponseWriter, a DovecotAnswer) {
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// netipParse reads an IP address as the daemons write it (IPv6 possibly
// in brackets or with a zone).
func netipParse(s string) (netip.Addr, error) {
	return netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
}
