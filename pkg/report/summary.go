package report

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Options select what a report covers.
type Options struct {
	Since, Until time.Time
	// User is a SASL (or IMAP/POP) user name.
	User string
	// Domain keeps mail whose sender or recipient lies in this domain
	// (subdomains included).
	Domain string
	// QueueID and MessageID name one message (deliveries, trace).
	QueueID, MessageID string
	// Top is the length of the summary's top lists (default 10).
	Top int
	// Enricher adds countries and threat-list marks; nil adds nothing.
	Enricher *enrich.Enricher
}

// inDomain reports whether addr's domain is d or below it.
func inDomain(addr, d string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || d == "" {
		return false
	}
	dom := strings.ToLower(addr[at+1:])
	d = strings.ToLower(d)
	return dom == d || strings.HasSuffix(dom, "."+d)
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(addr[at+1:])
	}
	return ""
}

// Summary is the pflogsumm-style overview of a time range.
type Summary struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Received counts messages cleanup accepted (one message-id line
	// each), including those a milter rejected afterwards.
	Received      int   `json:"received"`
	ReceivedBytes int64 `json:"received_bytes"`
	// Delivered, Deferred and Bounced count Postfix delivery attempts
	// (one per recipient and try) by status; Expired counts messages
	// returned to the sender after the maximal queue lifetime.
	Delivered      int   `json:"delivered"`
	DeliveredBytes int64 `json:"delivered_bytes"`
	Deferred       int   `json:"deferred"`
	Bounced        int   `json:"bounced"`
	Expired        int   `json:"expired"`
	// Rejected counts reject, milter-reject and proxy-reject lines; the
	// other actions of access and header checks are counted apart.
	Rejected       int `json:"rejected"`
	RejectWarnings int `json:"reject_warnings"`
	Held           int `json:"held"`
	Discarded      int `json:"discarded"`
	// MailboxSaves are Dovecot's "saved mail to" lines: the last step of
	// a local delivery Postfix already counted.
	MailboxSaves int `json:"mailbox_saves"`
	Senders      int `json:"senders"`
	Recipients   int `json:"recipients"`
	Logins       int `json:"logins"`
	AuthFailures int `json:"auth_failures"`

	TopSenders          []Count        `json:"top_senders"`
	TopRecipients       []Count        `json:"top_recipients"`
	TopSenderDomains    []Count        `json:"top_sender_domains"`
	TopRecipientDomains []DomainCount  `json:"top_recipient_domains"`
	RejectReasons       []RejectReason `json:"reject_reasons"`
	// ListedClients are threat-listed addresses that talked to this host
	// (only with --enrich.blocklist).
	ListedClients []ListedClient `json:"listed_clients,omitempty"`
}

// Count is one line of a top list: messages or deliveries and their bytes.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Bytes int64  `json:"bytes"`
}

// DomainCount is one recipient domain's deliveries, pflogsumm's "Host/Domain
// Summary: Message Delivery".
type DomainCount struct {
	Domain    string  `json:"domain"`
	Delivered int     `json:"delivered"`
	Bytes     int64   `json:"bytes"`
	Deferred  int     `json:"deferred"`
	Bounced   int     `json:"bounced"`
	AvgDelay  float64 `json:"avg_delay_seconds"`
	MaxDelay  float64 `json:"max_delay_seconds"`
}

// RejectReason groups rejects by SMTP stage and reply text, with the
// addresses, client names and URLs that make every reply unique taken out.
type RejectReason struct {
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// ListedClient is an address on the threat list and what it did.
type ListedClient struct {
	IP           string `json:"client_ip"`
	Country      string `json:"country,omitempty"`
	Events       int    `json:"events"`
	Rejects      int    `json:"rejects"`
	AuthFailures int    `json:"auth_failures"`
	Logins       int    `json:"logins"`
}

// sumMsg is what the summary keeps per message: enough to count it once
// as received, with its sender and size, when the filter matches any of
// its events.
type sumMsg struct {
	received int
	sender   string
	size     int64
	queued   bool // qmgr's first from= seen
	matched  bool
}

// BuildSummary scans the range once. Memory grows with the number of
// messages in the range (about 100 bytes each), not with the events.
func BuildSummary(ctx context.Context, j *journal.Journal, o Options) (*Summary, error) {
	s := &Summary{Since: o.Since, Until: o.Until}
	filtered := o.User != "" || o.Domain != ""
	matches := func(e *event.Event) bool {
		if o.User != "" && !strings.EqualFold(e.SASLUsername, o.User) {
			return false
		}
		if o.Domain != "" && !inDomain(e.Sender, o.Domain) && !inDomain(e.Recipient, o.Domain) && !inDomain(e.SASLUsername, o.Domain) {
			return false
		}
		return true
	}
	type qkey struct{ host, qid string }
	msgs := map[qkey]*sumMsg{}
	msg := func(e *event.Event) *sumMsg {
		k := qkey{e.Host, e.QueueID}
		m := msgs[k]
		if m == nil {
			m = &sumMsg{}
			msgs[k] = m
		}
		return m
	}
	recipients := map[string]*Count{}
	rdomains := map[string]*DomainCount{}
	rdelay := map[string]float64{}
	reasons := map[RejectReason]int{}
	listed := map[string]*ListedClient{}

	f := journal.Filter{Since: o.Since, Until: o.Until}
	err := j.Scan(ctx, f, func(st *journal.Stored) error {
		e := &st.Event
		ok := matches(e)
		if o.Enricher != nil && e.ClientIP != "" && o.Enricher.Listed(e.ClientIP) {
			lc := listed[e.ClientIP]
			if lc == nil {
				lc = &ListedClient{IP: e.ClientIP}
				listed[e.ClientIP] = lc
			}
			lc.Events++
			switch e.Kind {
			case event.KindReject:
				lc.Rejects++
			case event.KindAuthFailure:
				lc.AuthFailures += e.FailedAttempts()
			case event.KindLogin:
				lc.Logins += e.Weight()
			case event.KindClient:
				if e.SASLUsername != "" {
					lc.Logins += e.Weight()
				}
			}
		}
		if e.QueueID != "" && ok && filtered {
			msg(e).matched = true
		}
		switch e.Kind {
		case event.KindMessageID:
			if e.QueueID != "" {
				msg(e).received++
			}
		case event.KindQueued:
			if e.QueueID == "" {
				break
			}
			m := msg(e)
			if !m.queued {
				m.queued, m.sender, m.size = true, e.Sender, e.Size
			}
		case event.KindDelivery:
			if !ok {
				break
			}
			if e.Service == "dovecot" {
				s.MailboxSaves++
				break
			}
			dom := domainOf(e.Recipient)
			dc := rdomains[dom]
			if dc == nil {
				dc = &DomainCount{Domain: dom}
				rdomains[dom] = dc
			}
			switch e.Status {
			case "sent":
				s.Delivered++
				s.DeliveredBytes += e.Size
				r := recipients[strings.ToLower(e.Recipient)]
				if r == nil {
					r = &Count{Name: strings.ToLower(e.Recipient)}
					recipients[r.Name] = r
				}
				r.Count++
				r.Bytes += e.Size
				dc.Delivered++
				dc.Bytes += e.Size
				rdelay[dom] += e.Delay
				dc.MaxDelay = max(dc.MaxDelay, e.Delay)
			case "deferred":
				s.Deferred++
				dc.Deferred++
			case "bounced":
				s.Bounced++
				dc.Bounced++
			}
		case event.KindExpired:
			if ok {
				s.Expired++
			}
		case event.KindReject:
			if !ok {
				break
			}
			switch e.Action {
			case "reject", "milter-reject", "proxy-reject":
				s.Rejected++
				reasons[RejectReason{Stage: e.RejectStage, Reason: rejectReason(e)}]++
			case "reject_warning":
				s.RejectWarnings++
			case "hold", "milter-hold":
				s.Held++
			case "discard", "milter-discard":
				s.Discarded++
			}
		case event.KindLogin:
			if ok {
				s.Logins += e.Weight()
			}
		case event.KindClient:
			if ok && e.SASLUsername != "" {
				s.Logins += e.Weight()
			}
		case event.KindAuthFailure:
			// Attempts, not lines ("auth failed, 3 attempts" is three);
			// back-end verdicts (auth_backend) are not attempts.
			if ok {
				s.AuthFailures += e.FailedAttempts()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	senders := map[string]*Count{}
	sdomains := map[string]*Count{}
	for _, m := range msgs {
		if m.received == 0 || (filtered && !m.matched) {
			continue
		}
		s.Received += m.received
		s.ReceivedBytes += m.size
		if !m.queued {
			// Rejected before the queue manager saw it: no sender.
			continue
		}
		name := strings.ToLower(m.sender)
		if name == "" {
			name = "<>" // the null sender of bounces
		}
		for _, t := range []struct {
			m    map[string]*Count
			name string
		}{{senders, name}, {sdomains, domainOf(m.sender)}} {
			c := t.m[t.name]
			if c == nil {
				c = &Count{Name: t.name}
				t.m[t.name] = c
			}
			c.Count++
			c.Bytes += m.size
		}
	}
	s.Senders, s.Recipients = len(senders), len(recipients)
	top := o.Top
	if top <= 0 {
		top = 10
	}
	s.TopSenders = topCounts(senders, top)
	s.TopRecipients = topCounts(recipients, top)
	delete(sdomains, "") // the null sender has no domain
	s.TopSenderDomains = topCounts(sdomains, top)
	for d, dc := range rdomains {
		if dc.Delivered > 0 {
			dc.AvgDelay = rdelay[d] / float64(dc.Delivered)
		}
		s.TopRecipientDomains = append(s.TopRecipientDomains, *dc)
	}
	sort.Slice(s.TopRecipientDomains, func(a, b int) bool {
		x, y := s.TopRecipientDomains[a], s.TopRecipientDomains[b]
		if x.Delivered != y.Delivered {
			return x.Delivered > y.Delivered
		}
		return x.Domain < y.Domain
	})
	s.TopRecipientDomains = s.TopRecipientDomains[:min(top, len(s.TopRecipientDomains))]
	for r, n := range reasons {
		r.Count = n
		s.RejectReasons = append(s.RejectReasons, r)
	}
	sort.Slice(s.RejectReasons, func(a, b int) bool {
		x, y := s.RejectReasons[a], s.RejectReasons[b]
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		if x.Stage != y.Stage {
			return x.Stage < y.Stage
		}
		return x.Reason < y.Reason
	})
	for _, lc := range listed {
		lc.Country = o.Enricher.Country(lc.IP)
		s.ListedClients = append(s.ListedClients, *lc)
	}
	sort.Slice(s.ListedClients, func(a, b int) bool {
		x, y := s.ListedClients[a], s.ListedClients[b]
		if x.Events != y.Events {
			return x.Events > y.Events
		}
		return x.IP < y.IP
	})
	return s, nil
}

func topCounts(m map[string]*Count, n int) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].Name < out[b].Name
	})
	return out[:min(n, len(out))]
}

var (
	// replyCodeRE is the "554 5.7.1 " in front of a reply.
	replyCodeRE = regexp.MustCompile(`^[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?`)
	// bracketRE finds what makes one reply differ from the next: "<addr>",
	// "[192.0.2.1]", and URLs.
	bracketRE = regexp.MustCompile(`<[^>]*>|\[[^\]]*\]|https?://\S+`)
	spaceRE   = regexp.MustCompile(`\s{2,}`)
)

// rejectReason is a reject's reply with the code and the per-message
// details taken out, so that "<a@x>: Relay access denied" and "<b@y>:
// Relay access denied" count as one reason, as pflogsumm groups them.
func rejectReason(e *event.Event) string {
	r := e.Response
	if r == "" {
		r = e.Detail
	}
	r = replyCodeRE.ReplaceAllString(r, "")
	r = bracketRE.ReplaceAllStringFunc(r, func(m string) string {
		switch m[0] {
		case '<':
			return "<…>"
		case '[':
			return "[…]"
		}
		return "…"
	})
	r = strings.TrimPrefix(r, "<…>: ")
	r = spaceRE.ReplaceAllString(strings.TrimSpace(r), " ")
	if r == "" {
		return "(no reply text)"
	}
	return r
}

// SummaryDoc renders a summary.
func SummaryDoc(s *Summary, params []Param) *Doc {
	totals := Table{Title: "Grand totals", Columns: cols("what", "#count", "#bytes")}
	for _, r := range []struct {
		name  string
		n     int
		bytes string
	}{
		{"received", s.Received, fmtBytes(s.ReceivedBytes)},
		{"delivered", s.Delivered, fmtBytes(s.DeliveredBytes)},
		{"deferred", s.Deferred, ""},
		{"bounced", s.Bounced, ""},
		{"expired", s.Expired, ""},
		{"rejected", s.Rejected, ""},
		{"reject warnings", s.RejectWarnings, ""},
		{"held", s.Held, ""},
		{"discarded", s.Discarded, ""},
		{"mailbox saves (Dovecot)", s.MailboxSaves, ""},
		{"senders", s.Senders, ""},
		{"recipients", s.Recipients, ""},
		{"logins", s.Logins, ""},
		{"authentication failures", s.AuthFailures, ""},
	} {
		totals.add(false, r.name, itoa(r.n), r.bytes)
	}
	countTable := func(title, what string, cs []Count) Table {
		t := Table{Title: title, Columns: cols(what, "#messages", "#bytes"), Empty: "None."}
		for _, c := range cs {
			t.add(false, c.Name, itoa(c.Count), fmtBytes(c.Bytes))
		}
		return t
	}
	recipients := countTable("Top recipients (deliveries)", "recipient", s.TopRecipients)
	recipients.Columns[1].Name = "deliveries"
	rdom := Table{Title: "Recipient domains", Columns: cols("domain", "#delivered", "#bytes", "#deferred", "#bounced", "#avg delay", "#max delay"), Empty: "None."}
	for _, d := range s.TopRecipientDomains {
		rdom.add(false, d.Domain, itoa(d.Delivered), fmtBytes(d.Bytes), itoa(d.Deferred), itoa(d.Bounced),
			fmt.Sprintf("%.1f s", d.AvgDelay), fmt.Sprintf("%.1f s", d.MaxDelay))
	}
	reasons := Table{Title: "Reject reasons", Columns: cols("stage", "reason", "#count"), Empty: "No rejects."}
	for _, r := range s.RejectReasons {
		reasons.add(false, strings.ToUpper(r.Stage), r.Reason, itoa(r.Count))
	}
	tables := []Table{totals,
		countTable("Top senders", "sender", s.TopSenders),
		recipients,
		countTable("Sender domains", "domain", s.TopSenderDomains),
		rdom, reasons,
	}
	if s.ListedClients != nil {
		lt := Table{Title: "Threat-listed clients", Columns: cols("client", "country", "#events", "#rejects", "#auth failures", "#logins")}
		for _, c := range s.ListedClients {
			lt.add(true, c.IP, c.Country, itoa(c.Events), itoa(c.Rejects), itoa(c.AuthFailures), itoa(c.Logins))
		}
		tables = append(tables, lt)
	}
	return &Doc{Kind: "summary", Title: "Mail summary", Params: params, Tables: tables, Data: s}
}
