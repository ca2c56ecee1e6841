package main

// Tests of `exporter report`: every number is checked against the
// simulator's ground truth or against the journaled events themselves
// (read back with `exporter events`), never against a hard-coded result.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/enrich/enrichtest"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/report"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// reportStart is when the simulated log starts; reports ask for the day
// after it, so "now" plays no part.
var reportStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const reportLines = 6000

type reportFixture struct {
	db     string
	truth  simulate.Truth
	events []event.Event // every journaled event, in journal order
	rng    []string      // --journal.path, --since, --until
}

var (
	reportOnce sync.Once
	reportFix  reportFixture
	reportErr  error
)

// reportJournal replays one simulated log (shared by the tests of this
// file) and reads every journaled event back.
func reportJournal(t *testing.T) *reportFixture {
	t.Helper()
	reportOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailtrail-report-")
		if err != nil {
			reportErr = err
			return
		}
		logPath := filepath.Join(dir, "mail.log")
		truthPath := filepath.Join(dir, "truth.json")
		db := filepath.Join(dir, "journal.db")
		cliMust(t, "", "simulate", "--lines", fmt.Sprint(reportLines), "--seed", "11", "--format", "rfc3339",
			"--start", reportStart.Format(time.RFC3339), "--output", logPath, "--truth", truthPath)
		cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--log.timezone=UTC", "--progress=never", logPath)
		f := reportFixture{db: db}
		b, err := os.ReadFile(truthPath)
		if err == nil {
			err = json.Unmarshal(b, &f.truth)
		}
		if err != nil {
			reportErr = err
			return
		}
		for _, l := range cliLines(cliMust(t, "", "events", "--journal.path="+db, "--limit=0")) {
			var e event.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				reportErr = err
				return
			}
			f.events = append(f.events, e)
		}
		f.rng = []string{"--journal.path=" + db, "--since=" + reportStart.Format(time.RFC3339), "--until=" + reportStart.Add(24*time.Hour).Format(time.RFC3339)}
		reportFix = f
	})
	if reportErr != nil {
		t.Fatal(reportErr)
	}
	if len(reportFix.events) != reportLines {
		t.Fatalf("journal holds %d events for %d lines", len(reportFix.events), reportLines)
	}
	return &reportFix
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reportJSON runs a report with --format=json and decodes its result.
func reportJSON(t *testing.T, result any, args ...string) {
	t.Helper()
	out := cliMust(t, "", append([]string{"report"}, append(args, "--format=json")...)...)
	var doc struct {
		Report string          `json:"report"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("report %v: not JSON: %v\n%.500s", args, err, out)
	}
	if doc.Report != args[0] {
		t.Errorf("report %v: JSON says report %q", args, doc.Report)
	}
	if err := json.Unmarshal(doc.Result, result); err != nil {
		t.Fatalf("report %v: result: %v", args, err)
	}
}

func TestReportSummaryTruth(t *testing.T) {
	f := reportJournal(t)
	var s report.Summary
	reportJSON(t, &s, append([]string{"summary"}, f.rng...)...)
	tr := f.truth
	var sent, deferred, bounced int
	for _, byStatus := range tr.Deliveries {
		sent += byStatus["sent"]
		deferred += byStatus["deferred"]
		bounced += byStatus["bounced"]
	}
	rejects := 0
	for _, byClass := range tr.Rejects {
		rejects += sumOf(byClass)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"received", s.Received, sumOf(tr.MessagesReceived)},
		{"delivered", s.Delivered, sent},
		{"deferred", s.Deferred, deferred},
		{"bounced", s.Bounced, bounced},
		{"expired", s.Expired, sumOf(tr.Expired)},
		{"rejected", s.Rejected, rejects},
		{"mailbox saves", s.MailboxSaves, tr.MailboxSaves},
		{"logins", s.Logins, sumOf(tr.Logins) + tr.SASLLogins},
		// Attempts, not lines: "auth failed, N attempts" counts N (issue 20).
		{"auth failures", s.AuthFailures, tr.AuthFailures["smtpd"] + tr.DovecotAuthAttempts},
	} {
		if c.got != c.want {
			t.Errorf("summary %s = %d, the simulator wrote %d", c.name, c.got, c.want)
		}
	}
	if sent == 0 || deferred == 0 || bounced == 0 || rejects == 0 {
		t.Fatalf("fixture too small: sent %d deferred %d bounced %d rejects %d", sent, deferred, bounced, rejects)
	}

	// The top lists agree with the journaled events, counted here.
	perRcpt := map[string]int{}
	perDomain := map[string]int{}
	for _, e := range f.events {
		if e.Kind == event.KindDelivery && e.Service != "dovecot" && e.Status == "sent" {
			perRcpt[strings.ToLower(e.Recipient)]++
			perDomain[domainOfAddr(e.Recipient)]++
		}
	}
	if len(s.TopRecipients) != 10 || s.Recipients != len(perRcpt) {
		t.Fatalf("top recipients: %d rows, %d recipients; want 10 of %d", len(s.TopRecipients), s.Recipients, len(perRcpt))
	}
	for i, r := range s.TopRecipients {
		if perRcpt[r.Name] != r.Count {
			t.Errorf("top recipient %s: %d deliveries, the journal has %d", r.Name, r.Count, perRcpt[r.Name])
		}
		for name, n := range perRcpt {
			if n > s.TopRecipients[len(s.TopRecipients)-1].Count && !hasCount(s.TopRecipients, name) {
				t.Errorf("%s has %d deliveries but is not in the top list", name, n)
			}
		}
		if i > 0 && r.Count > s.TopRecipients[i-1].Count {
			t.Errorf("top recipients not in descending order at %d", i)
		}
	}
	for _, d := range s.TopRecipientDomains {
		if perDomain[d.Domain] != d.Delivered {
			t.Errorf("recipient domain %s: %d delivered, the journal has %d", d.Domain, d.Delivered, perDomain[d.Domain])
		}
	}
	// Reject reasons add up to the rejects.
	n := 0
	for _, r := range s.RejectReasons {
		n += r.Count
	}
	if n != rejects || len(s.RejectReasons) < 5 {
		t.Errorf("reject reasons add up to %d in %d groups, want %d rejects in several groups", n, len(s.RejectReasons), rejects)
	}

	// The table says the same.
	table := cliMust(t, "", append([]string{"report", "summary"}, f.rng...)...)
	for name, v := range map[string]int{"received": s.Received, "delivered": s.Delivered, "bounced": s.Bounced, "rejected": s.Rejected} {
		if !regexp.MustCompile(`(?m)^` + name + ` +` + fmt.Sprint(v) + `\b`).MatchString(table) {
			t.Errorf("table does not say %s %d:\n%.1500s", name, v, table)
		}
	}
}

func hasCount(cs []report.Count, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func domainOfAddr(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return strings.ToLower(a[i+1:])
	}
	return ""
}

func TestReportSummaryFilters(t *testing.T) {
	f := reportJournal(t)
	in := func(a, d string) bool {
		dom := domainOfAddr(a)
		return dom == d || strings.HasSuffix(dom, "."+d)
	}
	var all report.Summary
	reportJSON(t, &all, append([]string{"summary"}, f.rng...)...)
	for _, dom := range []string{"example.com", "example.net"} {
		var s report.Summary
		reportJSON(t, &s, append([]string{"summary", "--domain=" + dom}, f.rng...)...)
		want := 0
		for _, e := range f.events {
			if e.Kind == event.KindDelivery && e.Service != "dovecot" && e.Status == "sent" && (in(e.Sender, dom) || in(e.Recipient, dom)) {
				want++
			}
		}
		if s.Delivered != want || want == 0 || want == all.Delivered {
			t.Errorf("--domain=%s: delivered %d, the journal has %d of %d", dom, s.Delivered, want, all.Delivered)
		}
		if s.Received == 0 || s.Received >= all.Received {
			t.Errorf("--domain=%s: received %d of %d", dom, s.Received, all.Received)
		}
	}
	// A user's summary counts that user's submissions.
	users := map[string]int{}
	for _, e := range f.events {
		if e.Kind == event.KindClient && e.SASLUsername != "" {
			users[e.SASLUsername]++
		}
	}
	user, most := "", 0
	for u, n := range users {
		if n > most || (n == most && u < user) {
			user, most = u, n
		}
	}
	var s report.Summary
	reportJSON(t, &s, append([]string{"summary", "--user=" + user}, f.rng...)...)
	// Received are the messages any of whose events the correlator gave
	// the user: the submissions, and their copies relayed to the second
	// instance.
	dovecot := 0
	type qkey struct{ host, qid string }
	hers := map[qkey]bool{}
	for _, e := range f.events {
		if e.Kind == event.KindLogin && e.SASLUsername == user {
			dovecot++
		}
		if e.QueueID != "" && e.SASLUsername == user {
			hers[qkey{e.Host, e.QueueID}] = true
		}
	}
	received := 0
	for _, e := range f.events {
		if e.Kind == event.KindMessageID && hers[qkey{e.Host, e.QueueID}] {
			received++
		}
	}
	if s.Logins != most+dovecot || s.Received != received || received < most {
		t.Errorf("--user=%s: %d logins and %d received, want %d and %d (%d submissions)", user, s.Logins, s.Received, most+dovecot, received, most)
	}
	// A range after the log holds nothing.
	var empty report.Summary
	reportJSON(t, &empty, "summary", "--journal.path="+f.db, "--since="+reportStart.Add(48*time.Hour).Format(time.RFC3339), "--until="+reportStart.Add(72*time.Hour).Format(time.RFC3339))
	if empty.Received != 0 || empty.Delivered != 0 || empty.Logins != 0 {
		t.Errorf("empty range: %+v", empty)
	}
}

func TestReportLoginsEnriched(t *testing.T) {
	f := reportJournal(t)
	dir := t.TempDir()
	mmdb := filepath.Join(dir, "country.mmdb")
	if err := enrichtest.WriteMMDB(mmdb, "GeoLite2-Country", []enrichtest.Network{
		{CIDR: "198.51.100.0/24", Country: "DE"}, {CIDR: "10.0.0.0/8", Country: "NL"},
	}); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	if err := enrichtest.WriteMMDB(asn, "GeoLite2-ASN", []enrichtest.Network{{CIDR: "10.0.0.0/9", ASN: 64512, ASOrg: "Private Ten"}}); err != nil {
		t.Fatal(err)
	}
	block := filepath.Join(dir, "block.txt")
	cliWriteFile(t, block, "# test feed\n198.51.100.0/25\n")
	var rows []report.LoginRow
	reportJSON(t, &rows, append([]string{"logins", "--enrich.geoip=" + mmdb, "--enrich.geoip=" + asn, "--enrich.blocklist=" + block}, f.rng...)...)
	var ok, failed, listed int
	de, nl := netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("10.0.0.0/8")
	for _, r := range rows {
		if r.Outcome == "success" {
			ok += r.Count
		} else {
			failed += r.Count
		}
		a, err := netip.ParseAddr(r.ClientIP)
		if err != nil {
			t.Fatalf("row with client %q", r.ClientIP)
		}
		want := ""
		switch {
		case de.Contains(a):
			want = "DE"
		case nl.Contains(a):
			want = "NL"
		}
		if r.Country != want {
			t.Errorf("%s: country %q, want %q", r.ClientIP, r.Country, want)
		}
		if wantAS := netip.MustParsePrefix("10.0.0.0/9").Contains(a); wantAS != (r.ASN == 64512 && r.ASOrg == "Private Ten") {
			t.Errorf("%s: AS %d %q", r.ClientIP, r.ASN, r.ASOrg)
		}
		if l := netip.MustParsePrefix("198.51.100.0/25").Contains(a); l != r.Listed {
			t.Errorf("%s: listed %v", r.ClientIP, r.Listed)
		}
		if r.Listed {
			listed++
		}
	}
	if want := sumOf(f.truth.Logins) + f.truth.SASLLogins; ok != want {
		t.Errorf("logins report counts %d successes, the simulator wrote %d", ok, want)
	}
	if want := f.truth.AuthFailures["smtpd"] + f.truth.DovecotAuthAttempts; failed != want {
		t.Errorf("logins report counts %d failures, the simulator wrote %d", failed, want)
	}
	if listed == 0 || listed == len(rows) {
		t.Errorf("%d of %d rows listed: the fixture does not test the mark", listed, len(rows))
	}
	// The table marks the listed rows, and only those.
	table := cliMust(t, "", append([]string{"report", "logins", "--enrich.blocklist=" + block}, f.rng...)...)
	if got := strings.Count(table, "\n*"); got != listed {
		t.Errorf("table marks %d rows, want %d", got, listed)
	}
}

func TestReportDeliveriesAndTrace(t *testing.T) {
	f := reportJournal(t)
	// A message with a bounced recipient, and its notification.
	var qid, ndr string
	for _, e := range f.events {
		if e.Kind == event.KindBounceNotice && e.NextQueueID != "" {
			qid, ndr = e.QueueID, e.NextQueueID
			break
		}
	}
	if qid == "" {
		t.Fatal("no bounce notice in the fixture")
	}
	want := 0
	for _, e := range f.events {
		if e.QueueID == qid && (e.Kind == event.KindDelivery || e.Kind == event.KindExpired) {
			want++
		}
	}
	var ds []report.Delivery
	reportJSON(t, &ds, append([]string{"deliveries", "--queue-id=" + qid}, f.rng...)...)
	bounced := 0
	for i, d := range ds {
		if d.QueueID != qid {
			t.Errorf("delivery of %s in the timeline of %s", d.QueueID, qid)
		}
		if i > 0 && d.Time.Before(ds[i-1].Time) {
			t.Error("timeline not in time order")
		}
		if d.Status == "bounced" {
			bounced++
		}
	}
	if len(ds) != want || bounced == 0 {
		t.Errorf("deliveries of %s: %d steps (%d bounced), the journal has %d", qid, len(ds), bounced, want)
	}
	out := cliMust(t, "", "report", "trace", "--journal.path="+f.db, "--queue-id="+qid)
	if !regexp.MustCompile(`(?m)^link ndr +` + ndr + `$`).MatchString(out) {
		t.Errorf("trace of %s does not link its NDR %s:\n%s", qid, ndr, out)
	}
	out = cliMust(t, "", "report", "trace", "--journal.path="+f.db, "--queue-id="+ndr)
	if !regexp.MustCompile(`(?m)^link ndr_parent +` + qid + `$`).MatchString(out) {
		t.Errorf("trace of the NDR %s does not link its parent %s:\n%s", ndr, qid, out)
	}
	r := cliRun(t, "", "report", "trace", "--journal.path="+f.db, "--queue-id=NOSUCHQID")
	cliExpect(t, r, 1, "exporter report trace: no message with queue id NOSUCHQID in "+f.db+"\n")
}

// TestReportHTML checks that the HTML report is one self-contained file
// and that log content cannot inject markup into it.
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	logPath := cliWriteFile(t, filepath.Join(dir, "mail.log"),
		"2026-01-01T10:00:00+00:00 mail postfix/smtp[1]: 4B2C1A: to=<a@example.com>, relay=mx.example.net[192.0.2.1]:25, delay=1.5, delays=0/0/0.5/1, dsn=5.0.0, status=bounced (host mx.example.net[192.0.2.1] said: 550 <img src=x onerror=alert(1)> & \"quotes\" (in reply to RCPT TO command))\n")
	cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)
	out := filepath.Join(dir, "report.html")
	args := []string{"report", "deliveries", "--journal.path=" + db, "--since=2026-01-01T00:00:00Z", "--until=2026-01-02T00:00:00Z", "--queue-id=4B2C1A", "--format=html"}
	if got := cliMust(t, "", append(args, "--output="+out)...); got != "" {
		t.Errorf("--output also wrote to stdout: %q", got)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, "<td>4B2C1A</td>") {
		t.Fatalf("not the report:\n%s", html)
	}
	if !strings.Contains(html, "550 &lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;") {
		t.Errorf("the reply text is not escaped:\n%s", html)
	}
	if strings.Contains(html, "<img") {
		t.Error("log content injected an element")
	}
	// Nothing is fetched from elsewhere: without the (escaped) reply
	// text, the file names no URL and loads nothing.
	own := strings.ReplaceAll(html, "550 &lt;img src=x onerror=alert(1)&gt;", "")
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "@import", "url(", "http://", "https://"} {
		if strings.Contains(own, bad) {
			t.Errorf("the report holds %q", bad)
		}
	}
	// A CSV written to a file is what stdout gets.
	csvArgs := append(args[:len(args)-1:len(args)-1], "--format=csv")
	stdout := cliMust(t, "", csvArgs...)
	csvOut := filepath.Join(dir, "report.csv")
	cliMust(t, "", append(csvArgs, "--output="+csvOut)...)
	if b, err := os.ReadFile(csvOut); err != nil || string(b) != stdout {
		t.Errorf("--output file differs from stdout (err %v):\n%s\n---\n%s", err, b, stdout)
	}
	if want := "time,queue id,sender,user,client,recipient,via,relay,status,dsn,delay,response\n"; !strings.HasPrefix(stdout, want) || len(cliLines(stdout)) != 2 {
		t.Errorf("csv:\n%s", stdout)
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	logPath := cliWriteFile(t, filepath.Join(dir, "mail.log"), "2026-01-01T00:00:00+00:00 mail postfix/smtpd[1]: connect from x[192.0.2.1]\n")
	cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)
	badList := cliWriteFile(t, filepath.Join(dir, "bad.txt"), "192.0.2.0/24\nnot-a-network\n")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no report", nil, 2, "exporter: error: required argument 'report' not provided, try --help\n"},
		{"unknown report", []string{"audit"}, 2, "exporter: error: enum value must be one of summary,deliveries,logins,trace, got 'audit', try --help\n"},
		{"bad format", []string{"summary", "--format=xml"}, 2, "exporter report summary: --format=xml: unknown format (one of table, csv, json, html, pdf)\n"},
		{"bad since", []string{"summary", "--since=yesterday"}, 2, `exporter report summary: --since: "yesterday" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"bad until", []string{"logins", "--until=2026-13-01"}, 2, `exporter report logins: --until: "2026-13-01" is neither an RFC 3339 time nor a duration like 2h` + "\n"},
		{"reversed range", []string{"summary", "--since=2026-01-02T00:00:00Z", "--until=2026-01-01T00:00:00Z"}, 2,
			"exporter report summary: --since (2026-01-02T00:00:00Z) must be before --until (2026-01-01T00:00:00Z)\n"},
		{"queue id on a summary", []string{"summary", "--queue-id=ABC"}, 2, "exporter report summary: --queue-id and --message-id apply to the deliveries and trace reports\n"},
		{"message id on logins", []string{"logins", "--message-id=x@y"}, 2, "exporter report logins: --queue-id and --message-id apply to the deliveries and trace reports\n"},
		{"trace without a message", []string{"trace"}, 2, "exporter report trace: give --queue-id or --message-id (one of them)\n"},
		{"trace with both", []string{"trace", "--queue-id=A", "--message-id=b@c"}, 2, "exporter report trace: give --queue-id or --message-id (one of them)\n"},
		{"trace with a user", []string{"trace", "--queue-id=A", "--user=bob"}, 2, "exporter report trace: --user does not apply to a trace: give --queue-id or --message-id\n"},
		{"address as domain", []string{"summary", "--domain=bob@example.com"}, 2, `exporter report summary: --domain="bob@example.com": want a domain like example.com` + "\n"},
		{"zero top", []string{"summary", "--top=0"}, 2, "exporter report summary: --top=0: must be positive\n"},
		{"bad blocklist", []string{"logins", "--enrich.blocklist=" + badList}, 2,
			`exporter report logins: blocklist ` + badList + ` line 2: "not-a-network" is neither a CIDR nor an IP address` + "\n"},
		{"missing geoip", []string{"logins", "--enrich.geoip=" + filepath.Join(dir, "none.mmdb")}, 2,
			"exporter report logins: geoip file: stat " + filepath.Join(dir, "none.mmdb") + ": no such file or directory\n"},
		{"output is a directory", []string{"summary", "--output=" + dir}, 2, "exporter report summary: --output=" + dir + ": is a directory\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"report"}, c.args...)
			if len(c.args) > 0 {
				args = append(args, "--journal.path="+db)
			}
			cliExpect(t, cliRun(t, "", args...), c.code, c.want)
		})
	}
	t.Run("missing journal", func(t *testing.T) {
		missing := filepath.Join(dir, "absent.db")
		cliExpect(t, cliRun(t, "", "report", "summary", "--journal.path="+missing), 1,
			"exporter report summary: open journal "+missing+": stat "+missing+": no such file or directory\n")
		if _, err := os.Stat(missing); err == nil {
			t.Error("report created a journal")
		}
	})
}

func TestServeEnrichConfigCheck(t *testing.T) {
	dir := t.TempDir()
	list := cliWriteFile(t, filepath.Join(dir, "block.txt"), "192.0.2.0/24 # test\n")
	bad := cliWriteFile(t, filepath.Join(dir, "bad.txt"), "192.0.2.0/24\n192.0.2.300\n")
	mmdb := filepath.Join(dir, "country.mmdb")
	if err := enrichtest.WriteMMDB(mmdb, "GeoLite2-Country", []enrichtest.Network{{CIDR: "192.0.2.0/24", Country: "DE"}}); err != nil {
		t.Fatal(err)
	}
	cfg := cliWriteFile(t, filepath.Join(dir, "c.yml"), "logs:\n  paths: [/var/log/mail.log]\nenrich:\n  geoip: ["+mmdb+"]\n  blocklist: "+list+"\n  poll_interval: 30s\n")
	badCfg := cliWriteFile(t, filepath.Join(dir, "bad.yml"), "logs:\n  paths: [/var/log/mail.log]\nenrich:\n  blocklist: "+bad+"\n")
	typo := cliWriteFile(t, filepath.Join(dir, "typo.yml"), "logs:\n  paths: [/var/log/mail.log]\nenrich:\n  geo_ip: [x]\n")
	for _, args := range [][]string{
		{"--config.file=" + cfg},
		{"--log.path=/var/log/mail.log", "--enrich.geoip=" + mmdb, "--enrich.blocklist=" + list},
	} {
		if got := cliMust(t, "", append([]string{"serve", "--config.check"}, args...)...); got != "configuration ok\n" {
			t.Errorf("%v: %q", args, got)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config.file=" + badCfg}, "exporter serve: blocklist " + bad + ` line 2: "192.0.2.300" is neither a CIDR nor an IP address` + "\n"},
		// The flag wins over the file.
		{[]string{"--config.file=" + cfg, "--enrich.blocklist=" + bad}, "exporter serve: blocklist " + bad + ` line 2: "192.0.2.300" is neither a CIDR nor an IP address` + "\n"},
		{[]string{"--log.path=/var/log/mail.log", "--enrich.geoip=" + list}, "exporter serve: geoip database " + list + ": "},
		{[]string{"--config.file=" + typo}, "exporter serve: config " + typo + ": yaml: unmarshal errors:\n  line 4: field geo_ip not found in type config.Enrich\n"},
	} {
		r := cliRun(t, "", append([]string{"serve", "--config.check"}, c.args...)...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, c.want) {
			t.Errorf("%v: want exit 2 and %q, got %s", c.args, c.want, r)
		}
	}
}
