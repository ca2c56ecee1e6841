package mixin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// notification is the part of Alertmanager's webhook payload the test reads.
type notification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// receiver is the webhook Alertmanager posts to.
type receiver struct {
	mu    sync.Mutex
	got   []notification
	added chan struct{}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, n)
	rc.mu.Unlock()
	select {
	case rc.added <- struct{}{}:
	default:
	}
}

// waitFor waits until an alert named name with status and labels has been
// delivered, and returns its annotations.
func (rc *receiver) waitFor(t *testing.T, name, status string, labels map[string]string, timeout time.Duration) map[string]string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		rc.mu.Lock()
		for _, n := range rc.got {
			for _, a := range n.Alerts {
				if a.Labels["alertname"] != name || a.Status != status {
					continue
				}
				ok := true
				for k, v := range labels {
					if a.Labels[k] != v {
						ok = false
					}
				}
				if ok {
					rc.mu.Unlock()
					return a.Annotations
				}
			}
		}
		seen := fmt.Sprintf("%+v", rc.got)
		rc.mu.Unlock()
		select {
		case <-rc.added:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("no %s notification for %s %v within %v; received: %s", status, name, labels, timeout, seen)
		}
	}
}

// mailLog appends syslog lines stamped with the wall clock (the offender
// tracker runs on log time, so the log's clock is the test's clock).
type mailLog struct {
	mu  sync.Mutex
	f   *os.File
	qid int
}

func (l *mailLog) write(t *testing.T, lines ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp := time.Now().UTC().Format(time.Stamp)
	var b strings.Builder
	for _, s := range lines {
		fmt.Fprintf(&b, "%s mail %s\n", stamp, s)
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		t.Errorf("append to the mail log: %v", err)
	}
}

// message writes one message from sender with a single delivery of status.
func (l *mailLog) message(t *testing.T, sender, status string) {
	l.mu.Lock()
	l.qid++
	qid := fmt.Sprintf("4B%08X", l.qid)
	l.mu.Unlock()
	dsn, reply := "2.0.0", "250 2.0.0 Ok: queued as 7F1E2A0042"
	if status == "bounced" {
		dsn, reply = "5.1.1", "host mx.remote.example[198.51.100.7] said: 550 5.1.1 <nobody@remote.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)"
	}
	l.write(t,
		fmt.Sprintf("postfix/qmgr[1200]: %s: from=<%s>, size=1834, nrcpt=1 (queue active)", qid, sender),
		fmt.Sprintf("postfix/smtp[1301]: %s: to=<nobody@remote.example>, relay=mx.remote.example[198.51.100.7]:25, delay=0.52, delays=0.1/0.01/0.21/0.2, dsn=%s, status=%s (%s)", qid, dsn, status, reply),
		fmt.Sprintf("postfix/qmgr[1200]: %s: removed", qid),
	)
}

// promQuery asks Prometheus for an instant vector and returns how many
// series it holds.
func promQuery(t *testing.T, base, q string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: status %q, %v", q, r.Status, err)
	}
	return len(r.Data.Result)
}

// TestAlertsEndToEnd runs the generated rules in a real Prometheus that
// scrapes a real exporter and notifies a real Alertmanager: a brute-force
// burst and a bounce storm must reach the webhook with their routing
// labels, then resolve once they are over.
func TestAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus, Alertmanager and the exporter (-short)")
	}
	promBin, amBin := need(t, "prometheus"), need(t, "prometheus-alertmanager")
	root, dir := repoRoot(t), t.TempDir()

	exporter := filepath.Join(dir, "exporter")
	build := exec.Command("go", "build", "-o", exporter, "./exporter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./exporter: %v\n%s", err, out)
	}

	// The committed mixin with the test's short windows, as JSON (which is
	// YAML to Prometheus; jsonnet prints it far faster than YAML).
	override := filepath.Join(root, "mixin", "testdata", "e2e-config.libsonnet")
	for file, field := range map[string]string{"alerts.yaml": "prometheusAlerts", "rules.yaml": "prometheusRules"} {
		code := fmt.Sprintf("((import 'mixin.libsonnet') + (import %q)).%s", override, field)
		writeFile(t, filepath.Join(dir, file), string(jsonnet(t, "-e", code)))
	}

	hook := &receiver{added: make(chan struct{}, 1)}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	logPath := filepath.Join(dir, "mail.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mlog := &mailLog{f: f}

	exporterAddr, promAddr, amAddr := proctest.FreeAddr(t), proctest.FreeAddr(t), proctest.FreeAddr(t)
	startServer(t, "exporter", "http://"+exporterAddr+"/-/ready", exporter, "serve",
		"--log.path="+logPath, "--journal.path="+filepath.Join(dir, "journal.db"),
		"--instance=mx1", "--log.timezone=UTC", "--web.listen-address="+exporterAddr,
		"--postfix.postqueue=", "--tenant.domains=example.com",
		"--auth.window=20s", "--auth.threshold=10", "--journal.flush-interval=100ms",
		"--log.poll-interval=100ms")

	// Alertmanager routes on the mixin's team label; anything else goes
	// nowhere, so a delivered notification shows the route matched.
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), fmt.Sprintf(`route:
  receiver: blackhole
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="mail"', 'severity=~"critical|warning"']
      receiver: mail-team
receivers:
  - name: blackhole
  - name: mail-team
    webhook_configs:
      - url: %s/hook
        send_resolved: true
`, hookSrv.URL))
	startServer(t, "alertmanager", "http://"+amAddr+"/-/ready", amBin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")

	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s, %s]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: mailtrail
    static_configs:
      - targets: [%q]
        labels: {instance: mx1}
`, filepath.Join(dir, "alerts.yaml"), filepath.Join(dir, "rules.yaml"), amAddr, exporterAddr))
	promURL := "http://" + promAddr
	startServer(t, "prometheus", promURL+"/-/ready", promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)

	// The log keeps moving, as a mail log on the internet does: sessions,
	// and the odd failed login from ever other addresses (far under the
	// threshold). The offender tracker's clock is the time of the newest
	// authentication or SASL delivery it saw, so that background noise is
	// what lets the burst's window drain.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				mlog.write(t, "postfix/smtpd[1400]: connect from unknown[198.51.100.9]",
					"postfix/smtpd[1400]: disconnect from unknown[198.51.100.9] ehlo=1 quit=1 commands=2",
					fmt.Sprintf("postfix/smtpd[1401]: warning: unknown[192.0.2.%d]: SASL PLAIN authentication failed: authentication failure", 1+i%250))
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	// A counter's first sample is its start, so the bounce series must
	// exist in Prometheus before the storm for rate() to see the storm.
	mlog.message(t, "alice@example.com", "sent")
	mlog.message(t, "alice@example.com", "bounced")
	deadline := time.Now().Add(30 * time.Second)
	for promQuery(t, promURL, `postfix_deliveries_total{sender_domain="example.com", status="bounced"}`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus never scraped the warm-up bounce from the exporter")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)

	// The attack and the storm: 15 failed logins from one address (more
	// than --auth.threshold=10), 20 bounced messages from a tenant.
	burst := make([]string, 15)
	for i := range burst {
		burst[i] = fmt.Sprintf("postfix/submission/smtpd[%d]: warning: unknown[203.0.113.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", 2000+i)
	}
	mlog.write(t, burst...)
	for range 20 {
		mlog.message(t, "bob@example.com", "bounced")
	}

	const wait = 60 * time.Second
	brute := map[string]string{"instance": "mx1", "scope": "ip", "severity": "critical", "team": "mail"}
	bounce := map[string]string{"instance": "mx1", "sender_domain": "example.com", "severity": "warning", "team": "mail"}
	ann := hook.waitFor(t, "MailtrailAuthBruteForce", "firing", brute, wait)
	if want := "Authentication brute force on mx1."; ann["summary"] != want {
		t.Errorf("brute force summary %q, want %q", ann["summary"], want)
	}
	ann = hook.waitFor(t, "MailtrailBounceRatioHigh", "firing", bounce, wait)
	if !strings.Contains(ann["description"], "from example.com on mx1") {
		t.Errorf("bounce description %q does not name the domain and instance", ann["description"])
	}

	// Over: the offender leaves the 20 s window as log time moves on, the
	// bounces leave the 30 s rate window.
	hook.waitFor(t, "MailtrailAuthBruteForce", "resolved", brute, wait)
	hook.waitFor(t, "MailtrailBounceRatioHigh", "resolved", bounce, wait)
}
