package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mailtrail/mailtrail/pkg/simulate"
)

var update = flag.Bool("update", false, "rewrite testdata/e2e-metrics.txt from this run")

// volatileFamilies change from run to run (clocks, sizes on disk, the Go
// runtime), so the golden file leaves them out.
var volatileFamilies = map[string]bool{
	"mailtrail_ingest_lag_seconds":             true,
	"mailtrail_journal_batch_seconds":          true,
	"mailtrail_journal_size_bytes":             true,
	"mailtrail_build_info":                     true,
	"postfix_queue_oldest_message_age_seconds": true,
	"postfix_queue_scrape_duration_seconds":    true,
	"mailtrail_correlate_bytes":                true,
	"mailtrail_correlate_evictions_total":      true,
	// The background verification runs as serve starts, while the log is
	// still being read.
	"mailtrail_journal_verified_events": true,
}

// fakePostqueue writes a `postqueue -j` stand-in printing two deferred
// messages and one on hold, in Postfix's JSON format.
func fakePostqueue(t *testing.T, dir string) string {
	t.Helper()
	now := time.Now().Unix()
	script := filepath.Join(dir, "postqueue")
	body := fmt.Sprintf(`#!/bin/sh
cat <<'EOF'
{"queue_name": "deferred", "queue_id": "4F2B31A0C5", "arrival_time": %d, "message_size": 2048, "forced_expire": false, "sender": "a@example.com", "recipients": [{"address": "b@example.net", "delay_reason": "connect to mx.example.net[192.0.2.9]:25: Connection timed out"}]}
{"queue_name": "deferred", "queue_id": "5A1C02B7D1", "arrival_time": %d, "message_size": 4096, "forced_expire": false, "sender": "c@example.com", "recipients": [{"address": "d@example.org", "delay_reason": "host mx.example.org[192.0.2.10] said: 451 4.7.1 try later"}]}
{"queue_name": "hold", "queue_id": "6B2D13C8E2", "arrival_time": %d, "message_size": 1024, "forced_expire": false, "sender": "e@example.com", "recipients": [{"address": "f@example.com"}]}
EOF
`, now-3600, now-60, now-600)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestMetricsEndToEnd replays a fixed simulated log through a real `serve`,
// scrapes /metrics, and checks the scrape three ways: against the golden
// file testdata/e2e-metrics.txt (-update rewrites it), with promtool's
// linter, and counter by counter against what the simulator says it wrote.
func TestMetricsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	sim := simulate.New(simulate.Config{Seed: 11})
	var buf bytes.Buffer
	if err := sim.WriteLines(&buf, 30_000); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	truth := sim.Truth()

	p := startExporter(t, nil, "--log.path="+logPath, "--journal.path="+db, "--web.listen-address=127.0.0.1:0",
		"--instance=e2e", "--log.timezone=UTC", "--journal.flush-interval=50ms",
		"--tenant.domains=example.com", "--tenant.domains=mail.test",
		"--postfix.postqueue="+fakePostqueue(t, dir))
	url := p.metricsURL()
	waitJournaled(t, p, db, truth.Lines, 120*time.Second)
	families := scrape(t, url)
	p.term()

	checkGolden(t, families, logPath)
	checkTruth(t, families, truth)

	// The offenders of the simulated brute-force bursts are counted.
	if v := sample(families, "mailtrail_auth_offenders", map[string]string{"scope": "ip"}); truth.BurstAuthFailures["ip"] > 10 && v < 1 {
		t.Errorf("mailtrail_auth_offenders{scope=ip} = %v after %d burst failures from one IP", v, truth.BurstAuthFailures["ip"])
	}
	if v := sample(families, "postfix_queue_up", nil); v != 1 {
		t.Errorf("postfix_queue_up = %v with a working postqueue", v)
	}
	if v := sample(families, "postfix_queue_oldest_message_age_seconds", map[string]string{"queue": "deferred"}); v < 3500 || v > 4000 {
		t.Errorf("oldest deferred message is %v s old, want about 3600", v)
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse scrape: %v\n%s", err, body)
	}
	return families
}

// checkGolden compares the stable part of the scrape with the golden file
// and lints the golden file with promtool.
func checkGolden(t *testing.T, families map[string]*dto.MetricFamily, logPath string) {
	t.Helper()
	var names []string
	for name := range families {
		if (strings.HasPrefix(name, "postfix_") || strings.HasPrefix(name, "mailtrail_")) && !volatileFamilies[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out bytes.Buffer
	for _, name := range names {
		if _, err := expfmt.MetricFamilyToText(&out, families[name]); err != nil {
			t.Fatal(err)
		}
	}
	// The log's temporary path is a label value of the line counter.
	got := strings.ReplaceAll(out.String(), logPath, "mail.log")
	golden := filepath.Join("testdata", "e2e-metrics.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("scrape differs from %s (rerun with -update and review the diff):\n%s", golden, firstLineDiff(string(want), got))
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is needed to lint the metrics (Debian package prometheus; scripts/deps.sh installs it): %v", err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(got)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func firstLineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i+1, a, b)
		}
	}
	return "(no line differs)"
}

// sum adds the samples of a counter (or gauge) family whose labels match.
func sum(families map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	mf, ok := families[name]
	if !ok {
		return -1
	}
	total := 0.0
	for _, m := range mf.GetMetric() {
		if !labelsMatch(m, match) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func sample(families map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	return sum(families, name, match)
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	for k, v := range match {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// checkTruth asserts that every counter equals what the simulator wrote.
func checkTruth(t *testing.T, f map[string]*dto.MetricFamily, tr simulate.Truth) {
	t.Helper()
	eq := func(what string, got float64, want int) {
		t.Helper()
		if got != float64(want) {
			t.Errorf("%s = %v, simulator wrote %d", what, got, want)
		}
	}
	eq("log lines", sum(f, "mailtrail_log_lines_total", nil), tr.Lines)
	eq("unparsed lines", sum(f, "mailtrail_log_lines_unparsed_total", nil), total(tr.Unknown))
	eq("smtpd connects", sum(f, "postfix_smtpd_connects_total", nil), total(tr.Connects))
	eq("smtpd disconnects", sum(f, "postfix_smtpd_disconnects_total", nil), total(tr.Disconnects))
	eq("smtpd lost connections", sum(f, "postfix_smtpd_lost_connections_total", nil), total(tr.LostConnections))
	eq("smtpd auth failures", sum(f, "postfix_auth_failures_total", map[string]string{"program": "smtpd"}), tr.AuthFailures["smtpd"])
	// Attempts, not lines: "auth failed, N attempts" counts N (issue 20).
	eq("dovecot auth failures", sum(f, "postfix_auth_failures_total", map[string]string{"program": "imap-login"})+
		sum(f, "postfix_auth_failures_total", map[string]string{"program": "pop3-login"}), tr.DovecotAuthAttempts)
	eq("all auth failures", sum(f, "postfix_auth_failures_total", nil), tr.AuthFailures["smtpd"]+tr.DovecotAuthAttempts)
	eq("imap logins", sum(f, "postfix_logins_total", map[string]string{"program": "imap-login"}), tr.Logins["imap"])
	eq("pop3 logins", sum(f, "postfix_logins_total", map[string]string{"program": "pop3-login"}), tr.Logins["pop3"])
	eq("SASL submissions", sum(f, "postfix_logins_total", map[string]string{"program": "smtpd"}), tr.SASLLogins)

	rejects := 0
	byClass := map[string]int{}
	for _, classes := range tr.Rejects {
		for class, n := range classes {
			rejects += n
			byClass[class] += n
		}
	}
	eq("rejects", sum(f, "postfix_rejects_total", nil), rejects)
	for class, n := range byClass {
		eq("rejects class "+class, sum(f, "postfix_rejects_total", map[string]string{"class": class}), n)
	}
	eq("postscreen rejects", sum(f, "postfix_rejects_total", map[string]string{"stage": "postscreen"}), tr.PostscreenRejects)
	eq("milter rejects", sum(f, "postfix_rejects_total", map[string]string{"stage": "milter"}), tr.MilterRejects)

	// The second instance receives from the first over smtpd: origin smtpd.
	eq("messages received from smtpd", sum(f, "postfix_messages_received_total", map[string]string{"origin": "smtpd"}),
		tr.MessagesQueued["smtpd"]+tr.MessagesQueued["relay"])
	for _, origin := range []string{"submission", "pickup", "bounce"} {
		eq("messages received from "+origin, sum(f, "postfix_messages_received_total", map[string]string{"origin": origin}), tr.MessagesQueued[origin])
	}
	eq("message sizes observed", sum(f, "postfix_message_size_bytes", nil), total(tr.MessagesQueued))

	byTransport := map[[2]string]int{}
	for prog, statuses := range tr.Deliveries {
		transport := prog[strings.LastIndexByte(prog, '/')+1:]
		for status, n := range statuses {
			byTransport[[2]string{transport, status}] += n
		}
	}
	for k, n := range byTransport {
		eq("deliveries "+k[0]+" "+k[1], sum(f, "postfix_deliveries_total", map[string]string{"transport": k[0], "status": k[1]}), n)
	}
	eq("expired", sum(f, "postfix_deliveries_total", map[string]string{"status": "expired"}), total(tr.Expired))

	eq("inbound TLS", sum(f, "postfix_tls_connections_total", map[string]string{"direction": "inbound"}), tr.TLS["inbound"])
	eq("outbound TLS", sum(f, "postfix_tls_connections_total", map[string]string{"direction": "outbound"}), tr.TLS["outbound"])

	for verdict, n := range tr.Postscreen {
		if verdict == "CONNECT" || verdict == "DISCONNECT" {
			continue // session events, not verdicts
		}
		eq("postscreen "+verdict, sum(f, "postfix_postscreen_verdicts_total", map[string]string{"verdict": verdict}), n)
	}
	for check, results := range tr.PolicyResults {
		for result, n := range results {
			eq("policy "+check+" "+result, sum(f, "postfix_policy_results_total", map[string]string{"check": check, "result": result}), n)
		}
	}
}
