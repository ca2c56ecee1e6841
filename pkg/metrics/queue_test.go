package metrics

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// postqueueJSON is "postqueue -j" output in Postfix's format (one object
// per message; postqueue(1)).
const postqueueJSON = `{"queue_name": "deferred", "queue_id": "F2B8D20C36", "arrival_time": 1717200000, "message_size": 2113, "forced_expire": false, "sender": "MAILER-DAEMON", "recipients": [{"address": "info@example.com", "delay_reason": "connect to example.com[93.184.216.34]:25: Connection timed out"}]}
{"queue_name": "deferred", "queue_id": "4B2C8D20C37", "arrival_time": 1717203600, "message_size": 5000, "forced_expire": false, "sender": "alice@example.org", "recipients": [{"address": "bob@example.net", "delay_reason": "host mx.example.net[192.0.2.1] said: 450 4.7.1 greylisted (in reply to RCPT TO command)"}, {"address": "carol@example.net", "delay_reason": "same"}]}
{"queue_name": "active", "queue_id": "9C1A720C38", "arrival_time": 1717207000, "message_size": 900, "forced_expire": false, "sender": "bob@example.com", "recipients": [{"address": "x@example.org"}]}
{"queue_name": "hold", "queue_id": "3D4E520C39", "arrival_time": 1717100000, "message_size": 123456, "forced_expire": false, "sender": "spam@example.test", "recipients": [{"address": "y@example.com"}]}
{"queue_name": "corrupt", "queue_id": "AAAAA20C40", "arrival_time": 1717000000, "message_size": 1, "sender": "", "recipients": []}
`

// fakePostqueue writes a shell script that stands in for postqueue: it
// records its arguments and runs body.
func fakePostqueue(t *testing.T, body string) (path, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "postqueue")
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" >> " + argsFile + "\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

const queueFamilies = "postfix_queue_messages postfix_queue_size_bytes postfix_queue_oldest_message_age_seconds postfix_queue_up"

func TestQueueJSON(t *testing.T) {
	out := writeFile(t, "out.json", postqueueJSON)
	pq, argsFile := fakePostqueue(t, "cat "+out)
	clock := &fakeClock{t: time.Unix(1717210000, 0)}
	q := NewQueue(QueueConfig{Postqueue: pq, ConfigDir: "/etc/postfix-out", Now: clock.now})
	reg := prometheus.NewRegistry()
	reg.MustRegister(q)
	want := `
# HELP postfix_queue_messages Messages in each Postfix queue.
# TYPE postfix_queue_messages gauge
postfix_queue_messages{queue="active"} 1
postfix_queue_messages{queue="deferred"} 2
postfix_queue_messages{queue="hold"} 1
postfix_queue_messages{queue="incoming"} 0
postfix_queue_messages{queue="maildrop"} 0
# HELP postfix_queue_oldest_message_age_seconds Age of the oldest message in each Postfix queue (0 when empty).
# TYPE postfix_queue_oldest_message_age_seconds gauge
postfix_queue_oldest_message_age_seconds{queue="active"} 3000
postfix_queue_oldest_message_age_seconds{queue="deferred"} 10000
postfix_queue_oldest_message_age_seconds{queue="hold"} 110000
postfix_queue_oldest_message_age_seconds{queue="incoming"} 0
postfix_queue_oldest_message_age_seconds{queue="maildrop"} 0
# HELP postfix_queue_size_bytes Total size of the messages in each Postfix queue.
# TYPE postfix_queue_size_bytes gauge
postfix_queue_size_bytes{queue="active"} 900
postfix_queue_size_bytes{queue="deferred"} 7113
postfix_queue_size_bytes{queue="hold"} 123456
postfix_queue_size_bytes{queue="incoming"} 0
postfix_queue_size_bytes{queue="maildrop"} 0
# HELP postfix_queue_up Whether the last postqueue run succeeded.
# TYPE postfix_queue_up gauge
postfix_queue_up 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), strings.Fields(queueFamilies)...); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(q, "postfix_queue_scrape_duration_seconds"); n != 1 {
		t.Errorf("%d duration series", n)
	}

	// Within the cache period the same result is served without a run,
	// ages moving with the clock; after it, postqueue runs again.
	clock.t = clock.t.Add(5 * time.Second)
	if got := testutil.ToFloat64(gaugeOf(t, reg, "postfix_queue_oldest_message_age_seconds", "deferred")); got != 10005 {
		t.Errorf("cached deferred age %v, want 10005", got)
	}
	clock.t = clock.t.Add(6 * time.Second)
	gather(t, reg)
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(args), "-c /etc/postfix-out -j\n-c /etc/postfix-out -j\n"; got != want {
		t.Errorf("postqueue ran with %q, want %q (two runs)", got, want)
	}
}

// gaugeOf gathers and returns a one-series collector of the named gauge.
func gaugeOf(t *testing.T, g prometheus.Gatherer, family, queue string) prometheus.Collector {
	t.Helper()
	for _, mf := range gather(t, g) {
		if mf.GetName() != family {
			continue
		}
		for _, mm := range mf.GetMetric() {
			var want map[string]string
			if queue != "" {
				want = map[string]string{"queue": queue}
			}
			if hasLabels(mm, want) {
				return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"}, func() float64 { return mm.GetGauge().GetValue() })
			}
		}
	}
	t.Fatalf("no %s{queue=%q}", family, queue)
	return nil
}

func TestQueueEmpty(t *testing.T) {
	pq, _ := fakePostqueue(t, "exit 0")
	q := NewQueue(QueueConfig{Postqueue: pq})
	reg := prometheus.NewRegistry()
	reg.MustRegister(q)
	if got := testutil.ToFloat64(gaugeOf(t, reg, "postfix_queue_messages", "deferred")); got != 0 {
		t.Errorf("deferred %v", got)
	}
	if n := testutil.CollectAndCount(q, "postfix_queue_messages"); n != len(Queues) {
		t.Errorf("%d queue series, want %d", n, len(Queues))
	}
}

// TestQueueFailures: whatever goes wrong, the scrape succeeds with
// postfix_queue_up 0 and the reason is logged.
func TestQueueFailures(t *testing.T) {
	for _, c := range []struct {
		name, body, config, log string
		timeout                 time.Duration
	}{
		{name: "exit status", body: "echo 'postqueue: fatal: Queue report unavailable - mail system is down' >&2; exit 75",
			log: "mail system is down"},
		{name: "hangs", body: "exec sleep 30", timeout: 200 * time.Millisecond, log: "timed out"},
		// The shell dies on the timeout but its child keeps the output
		// open: the collector stops waiting for the pipe.
		{name: "hangs in a child", body: "sleep 4; echo", timeout: 200 * time.Millisecond, log: "timed out"},
		{name: "garbage", body: "echo 'this is not json'", log: "reading postqueue output"},
		{name: "truncated", body: "printf '{\"queue_name\": \"active\", \"queue_id\": \"A\", \"arr'", log: "reading postqueue output"},
		{name: "not an entry", body: "echo '{}'", log: "without queue_name"},
		{name: "missing", config: "missing", log: "starting postqueue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pq, _ := fakePostqueue(t, c.body)
			if c.config == "missing" {
				pq = filepath.Join(t.TempDir(), "no-such-postqueue")
			}
			var logs bytes.Buffer
			q := NewQueue(QueueConfig{Postqueue: pq, Timeout: c.timeout, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			reg := prometheus.NewRegistry()
			reg.MustRegister(q)
			start := time.Now()
			want := "# HELP postfix_queue_up Whether the last postqueue run succeeded.\n# TYPE postfix_queue_up gauge\npostfix_queue_up 0\n"
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), strings.Fields(queueFamilies)...); err != nil {
				t.Error(err)
			}
			if c.timeout > 0 && time.Since(start) > 5*time.Second {
				t.Errorf("a hanging postqueue held the scrape for %v", time.Since(start))
			}
			if !strings.Contains(logs.String(), c.log) {
				t.Errorf("log %q does not say %q", logs.String(), c.log)
			}
		})
	}
}

// TestQueueShowqText reads the old text listing (Postfix before 3.1) from
// the corpus.
func TestQueueShowqText(t *testing.T) {
	for _, f := range []string{"kumina+postfix_exporter/showq.txt", "digineo+postfix_exporter/showq.txt"} {
		t.Run(f, func(t *testing.T) {
			pq, argsFile := fakePostqueue(t, "cat ../parser/testdata/corpus/"+f)
			clock := &fakeClock{t: time.Date(2020, 2, 24, 14, 0, 0, 0, time.UTC)}
			q := NewQueue(QueueConfig{Postqueue: pq, Text: true, Now: clock.now})
			reg := prometheus.NewRegistry()
			reg.MustRegister(q)
			if got := testutil.ToFloat64(gaugeOf(t, reg, "postfix_queue_up", "")); got != 1 {
				t.Fatalf("up %v", got)
			}
			// 24 messages: 16 marked active ('*'), 8 unmarked (deferred);
			// the oldest of each arrived Mon Feb 24 13:14:10 and Fri Feb 21
			// 13:31:58.
			want := `
# HELP postfix_queue_messages Messages in each Postfix queue.
# TYPE postfix_queue_messages gauge
postfix_queue_messages{queue="active"} 16
postfix_queue_messages{queue="deferred"} 8
postfix_queue_messages{queue="hold"} 0
postfix_queue_messages{queue="incoming"} 0
postfix_queue_messages{queue="maildrop"} 0
# HELP postfix_queue_oldest_message_age_seconds Age of the oldest message in each Postfix queue (0 when empty).
# TYPE postfix_queue_oldest_message_age_seconds gauge
postfix_queue_oldest_message_age_seconds{queue="active"} 2750
postfix_queue_oldest_message_age_seconds{queue="deferred"} 260882
postfix_queue_oldest_message_age_seconds{queue="hold"} 0
postfix_queue_oldest_message_age_seconds{queue="incoming"} 0
postfix_queue_oldest_message_age_seconds{queue="maildrop"} 0
`
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "postfix_queue_messages", "postfix_queue_oldest_message_age_seconds"); err != nil {
				t.Error(err)
			}
			if args, _ := os.ReadFile(argsFile); string(args) != "-p\n" {
				t.Errorf("postqueue ran with %q", args)
			}
		})
	}
}

// TestQueueConcurrentScrapes: scrapes at once share one run.
func TestQueueConcurrentScrapes(t *testing.T) {
	out := writeFile(t, "out.json", postqueueJSON)
	pq, argsFile := fakePostqueue(t, "sleep 0.2; cat "+out)
	q := NewQueue(QueueConfig{Postqueue: pq})
	reg := prometheus.NewRegistry()
	reg.MustRegister(q)
	done := make(chan error, 4)
	for range 4 {
		go func() { _, err := reg.Gather(); done <- err }()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if args, _ := os.ReadFile(argsFile); strings.Count(string(args), "-j") != 1 {
		t.Errorf("postqueue ran %d times for 4 concurrent scrapes", strings.Count(string(args), "-j"))
	}
}
