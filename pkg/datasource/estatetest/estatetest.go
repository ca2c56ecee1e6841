// Package estatetest is test support for the datasource plugin: the logs
// of a three-host estate through which one message travels (mx1 receives
// it and relays it to mx2, which relays it to mx3, which delivers it), and
// a stand-in exporter that answers the exporter HTTP API from such a log,
// for unit tests and benchmarks that need many exporters cheaply. The
// plugin's integration test feeds the same logs to real exporters.
package estatetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// The travelling message.
const (
	MessageID = "trail-1@example.org"
	QueueMX1  = "3F1A2B4C5D"
	QueueMX2  = "4B2C3D4E5F"
	QueueMX3  = "5C3D4E5F6A"
)

// Logs returns each host's log, the message entering mx1 at t0.
func Logs(t0 time.Time) map[string]string {
	at := func(ms int) string {
		return t0.Add(time.Duration(ms) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000000-07:00")
	}
	l := func(ms int, host, rest string) string { return at(ms) + " " + host + " " + rest + "\n" }
	return map[string]string{
		"mx1": l(0, "mx1", "postfix/submission/smtpd[101]: connect from client.example.net[192.0.2.10]") +
			l(100, "mx1", "postfix/submission/smtpd[101]: "+QueueMX1+": client=client.example.net[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.org") +
			l(200, "mx1", "postfix/cleanup[102]: "+QueueMX1+": message-id=<"+MessageID+">") +
			l(300, "mx1", "postfix/qmgr[103]: "+QueueMX1+": from=<alice@example.org>, size=2048, nrcpt=1 (queue active)") +
			l(1000, "mx1", "postfix/smtp[104]: "+QueueMX1+": to=<bob@example.com>, relay=mx2.example.org[127.0.0.2]:25, delay=1, delays=0.3/0/0.2/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "+QueueMX2+")") +
			l(1010, "mx1", "postfix/qmgr[103]: "+QueueMX1+": removed") +
			l(2000, "mx1", "postfix/submission/smtpd[105]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6") +
			l(2100, "mx1", "postfix/submission/smtpd[101]: disconnect from client.example.net[192.0.2.10] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6"),
		"mx2": l(600, "mx2", "postfix/smtpd[201]: connect from mx1.example.org[127.0.0.1]") +
			l(700, "mx2", "postfix/smtpd[201]: "+QueueMX2+": client=mx1.example.org[127.0.0.1]") +
			l(750, "mx2", "postfix/cleanup[202]: "+QueueMX2+": message-id=<"+MessageID+">") +
			l(800, "mx2", "postfix/qmgr[203]: "+QueueMX2+": from=<alice@example.org>, size=2300, nrcpt=1 (queue active)") +
			l(1800, "mx2", "postfix/smtp[204]: "+QueueMX2+": to=<bob@example.com>, relay=mx3.example.org[127.0.0.3]:25, delay=1, delays=0.1/0/0.3/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "+QueueMX3+")") +
			l(1810, "mx2", "postfix/qmgr[203]: "+QueueMX2+": removed"),
		"mx3": l(1300, "mx3", "postfix/smtpd[301]: connect from mx2.example.org[127.0.0.2]") +
			l(1400, "mx3", "postfix/smtpd[301]: "+QueueMX3+": client=mx2.example.org[127.0.0.2]") +
			l(1450, "mx3", "postfix/cleanup[302]: "+QueueMX3+": message-id=<"+MessageID+">") +
			l(1500, "mx3", "postfix/qmgr[303]: "+QueueMX3+": from=<alice@example.org>, size=2400, nrcpt=1 (queue active)") +
			l(2500, "mx3", "postfix/local[304]: "+QueueMX3+": to=<bob@example.com>, relay=local, delay=1.1, delays=0.5/0/0/0.6, dsn=2.0.0, status=sent (delivered to mailbox)") +
			l(2510, "mx3", "postfix/qmgr[303]: "+QueueMX3+": removed") +
			l(3000, "mx3", "dovecot: imap-login: Login: user=<bob@example.com>, method=PLAIN, rip=203.0.113.5, lip=127.0.0.3, mpid=999, TLS, session=<abcdef>"),
	}
}

// Event is an event as the API sends it.
type Event = apiv1.Event

// Exporter answers the exporter HTTP API (the subset the plugin calls)
// from the events of one log. It checks parameters like the real one:
// unknown ones, bad limits and bad times are 400s.
type Exporter struct {
	Instance  string
	Token     string // when set, requests must carry it as a bearer token
	Offenders []apiv1.Offender

	mu     sync.Mutex
	events []Event
	delay  time.Duration
	calls  map[string]int
}

// NewExporter parses log (lines of one host) into an exporter.
func NewExporter(instance, log string) *Exporter {
	p := parser.Parser{Instance: instance}
	x := &Exporter{Instance: instance, calls: map[string]int{}}
	for i, line := range strings.Split(strings.TrimSpace(log), "\n") {
		x.events = append(x.events, Event{Seq: int64(i + 1), Event: p.Parse(line, time.Now())})
	}
	return x
}

// Start serves x on loopback; the server is closed with t's cleanup.
func (x *Exporter) Start(t interface{ Cleanup(func()) }) *httptest.Server {
	s := httptest.NewServer(x)
	t.Cleanup(s.Close)
	return s
}

// SetDelay makes every answer wait d (a slow exporter).
func (x *Exporter) SetDelay(d time.Duration) {
	x.mu.Lock()
	x.delay = d
	x.mu.Unlock()
}

// Calls is how often path was asked.
func (x *Exporter) Calls(path string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.calls[path]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, &apiv1.Error{Code: code, Detail: detail})
}

// served are the endpoints this stand-in answers (the plugin's); their
// parameters are the real API's.
var served = []string{apiv1.PathTrace, apiv1.PathEvents, apiv1.PathLogins, apiv1.PathOffenders,
	apiv1.PathInstance, apiv1.PathStats, apiv1.PathValues}

func (x *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	x.calls[r.URL.Path]++
	delay := x.delay
	x.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if x.Token != "" && r.Header.Get("Authorization") != "Bearer "+x.Token {
		apiError(w, 401, "unauthorized", "a bearer token is required")
		return
	}
	name, _ := strings.CutPrefix(r.URL.Path, apiv1.Prefix)
	if !slices.Contains(served, name) {
		apiError(w, 404, "not_found", "no such endpoint "+r.URL.Path)
		return
	}
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(apiv1.Endpoints[name].Params, k) {
			apiError(w, 400, "bad_request", "unknown parameter "+k)
			return
		}
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > apiv1.MaxLimit {
			apiError(w, 400, "bad_request", "limit: want 1 to 1000")
			return
		}
		limit = n
	}
	since, until := time.Now().Add(-24*time.Hour), time.Now()
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				apiError(w, 400, "bad_request", p.name+": want an RFC 3339 time")
				return
			}
			*p.t = t
		}
	}
	if until.Sub(since) > apiv1.MaxRangeDays*24*time.Hour {
		apiError(w, 400, "bad_request", "since: the range is longer than 31 days")
		return
	}
	inRange := func(e *Event) bool { return !e.Time.Before(since) && !e.Time.After(until) }
	switch r.URL.Path {
	case "/api/v1/trace":
		msgs := x.messages(q.Get("queue_id"), q.Get("message_id"))
		if len(msgs) == 0 {
			apiError(w, 404, "not_found", "no message matches")
			return
		}
		writeJSON(w, 200, apiv1.TraceResult{Instance: x.Instance, Messages: msgs})
	case "/api/v1/events":
		var out []Event
		kinds := splitList(q.Get("kind"))
		for i := len(x.events) - 1; i >= 0 && len(out) < limit; i-- {
			e := x.events[i]
			if !inRange(&e) || (len(kinds) > 0 && !slices.Contains(kinds, e.Kind.String())) ||
				(q.Get("queue_id") != "" && e.QueueID != q.Get("queue_id")) {
				continue
			}
			out = append(out, e)
		}
		writeJSON(w, 200, apiv1.EventsPage{Events: nonNil(out)})
	case "/api/v1/logins":
		writeJSON(w, 200, apiv1.Logins{Logins: x.logins(inRange)})
	case "/api/v1/offenders":
		writeJSON(w, 200, apiv1.Offenders{Offenders: nonNil(x.Offenders)})
	case "/api/v1/instance":
		first, last := x.events[0].Time, x.events[len(x.events)-1].Time
		writeJSON(w, 200, apiv1.InstanceInfo{Instance: x.Instance, Version: "test", Hosts: []string{x.events[0].Host},
			Journal: apiv1.JournalInfo{FirstTime: first, LastTime: last, Events: int64(len(x.events)), SizeBytes: 4096}})
	case "/api/v1/stats":
		step, err := time.ParseDuration(q.Get("step"))
		if err != nil || step < time.Second {
			apiError(w, 400, "bad_request", "step: want a duration of at least 1s")
			return
		}
		start := since.Truncate(step)
		n := int(until.Sub(start)/step) + 1
		if n > apiv1.MaxStatPoints {
			apiError(w, 400, "bad_request", fmt.Sprintf("step: more than %d points", apiv1.MaxStatPoints))
			return
		}
		kinds := splitList(q.Get("kind"))
		pts := make([]apiv1.Point, n)
		counts := make([]int64, n)
		for _, e := range x.events {
			if inRange(&e) && (len(kinds) == 0 || slices.Contains(kinds, e.Kind.String())) {
				counts[int(e.Time.Sub(start)/step)]++
			}
		}
		for i := range pts {
			pts[i] = apiv1.Point{Time: start.Add(time.Duration(i) * step), Count: counts[i]}
		}
		writeJSON(w, 200, apiv1.Stats{StepSeconds: int64(step / time.Second), Points: pts})
	case "/api/v1/values":
		set := map[string]bool{}
		for _, e := range x.events {
			var v string
			switch q.Get("field") {
			case "sasl_username":
				v = e.SASLUsername
			case "sender_domain":
				v = domain(e.Sender)
			case "recipient_domain":
				v = domain(e.Recipient)
			case "client_ip":
				v = e.ClientIP
			case "instance":
				v = e.Instance
			default:
				apiError(w, 400, "bad_request", "field: unknown")
				return
			}
			if v != "" {
				set[v] = true
			}
		}
		vals := []string{}
		for v := range set {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		writeJSON(w, 200, apiv1.Values{Values: vals})
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// messages groups the events of the matching queue ids as the API's trace.
func (x *Exporter) messages(qid, mid string) []apiv1.Message {
	var qids []string
	for _, e := range x.events {
		if e.QueueID != "" && (e.QueueID == qid || (mid != "" && e.MessageID == mid)) && !slices.Contains(qids, e.QueueID) {
			qids = append(qids, e.QueueID)
		}
	}
	var out []apiv1.Message
	for _, id := range qids {
		m := apiv1.Message{Instance: x.Instance, QueueID: id}
		var evs, dls []Event
		var links []apiv1.Link
		for _, e := range x.events {
			if e.QueueID != id {
				continue
			}
			if len(evs) == 0 {
				m.Received = e.Time
			}
			evs = append(evs, e)
			switch e.Kind {
			case event.KindMessageID:
				m.MessageID = e.MessageID
			case event.KindQueued:
				m.Sender, m.Size = e.Sender, e.Size
			case event.KindClient:
				m.ClientIP, m.ClientHost, m.SASLUsername = e.ClientIP, e.ClientHost, e.SASLUsername
			case event.KindRemoved, event.KindExpired:
				m.Finished = e.Time
			case event.KindDelivery:
				dls = append(dls, e)
				if e.NextQueueID != "" {
					links = append(links, apiv1.Link{QueueID: e.NextQueueID, Relation: apiv1.RelNextHop,
						InstanceHint: e.RelayHost, RelayHost: e.RelayHost, RelayIP: e.RelayIP})
				}
			}
		}
		m.Events, m.Deliveries, m.Links = evs, nonNil(dls), nonNil(links)
		out = append(out, m)
	}
	return out
}

func (x *Exporter) logins(inRange func(*Event) bool) []apiv1.Login {
	type key struct{ user, ip, svc, outcome string }
	rows := map[key]*apiv1.Login{}
	var order []key
	for _, e := range x.events {
		var k key
		switch {
		case e.Kind == event.KindClient && e.SASLUsername != "":
			k = key{e.SASLUsername, e.ClientIP, e.Service, "success"}
		case e.Kind == event.KindLogin:
			k = key{e.SASLUsername, e.ClientIP, e.Program, "success"}
		case e.Kind == event.KindAuthFailure:
			k = key{e.SASLUsername, e.ClientIP, e.Service, "failure"}
		default:
			continue
		}
		if !inRange(&e) {
			continue
		}
		r, ok := rows[k]
		if !ok {
			r = &apiv1.Login{User: k.user, ClientIP: k.ip, Service: k.svc, Outcome: k.outcome,
				FirstSeen: e.Time, TLS: e.Kind == event.KindLogin}
			rows[k] = r
			order = append(order, k)
		}
		n := e.Weight()
		if k.outcome == "failure" {
			n = e.FailedAttempts()
		}
		r.Count += n
		r.LastSeen = e.Time
	}
	out := []apiv1.Login{}
	for _, k := range order {
		out = append(out, *rows[k])
	}
	return out
}

// String names the exporter in test failures.
func (x *Exporter) String() string { return fmt.Sprintf("estatetest.Exporter(%s)", x.Instance) }
