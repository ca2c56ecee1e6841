package metrics

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueConfig configures the queue collector.
type QueueConfig struct {
	// Postqueue is the postqueue command (default "postqueue", found in
	// PATH).
	Postqueue string
	// ConfigDir is passed as "-c DIR" to read a non-default instance's
	// queue; empty means the default instance.
	ConfigDir string
	// Text runs "postqueue -p" and reads showq's text listing instead of
	// "postqueue -j" (JSON needs Postfix 3.1 or later).
	Text bool
	// Timeout bounds one postqueue run (default 5s).
	Timeout time.Duration
	// CacheFor reuses one run's result for scrapes within this long
	// (default 10s): several Prometheus servers scraping must not each
	// walk a large queue.
	CacheFor time.Duration
	// Now is the clock for message ages and the cache (default time.Now).
	Now func() time.Time
	// Logger hears why a run failed (default: nobody).
	Logger *slog.Logger
}

// Queues lists the Postfix queues the collector reports, in the order it
// reports them; each is exported even when empty.
var Queues = [...]string{"active", "deferred", "hold", "incoming", "maildrop"}

func queueIndex(name string) int {
	for i, q := range Queues {
		if q == name {
			return i
		}
	}
	return -1
}

// Queue is a prometheus.Collector that reads the mail queue with postqueue
// at scrape time. A failed run sets postfix_queue_up to 0 and is logged; it
// never fails the scrape.
type Queue struct {
	cfg QueueConfig

	messages, bytes, oldest, up, duration *prometheus.Desc

	mu      sync.Mutex
	fetched time.Time
	last    queueSnapshot
}

// queueSnapshot is one postqueue run's result.
type queueSnapshot struct {
	ok       bool
	took     time.Duration
	messages [len(Queues)]int
	bytes    [len(Queues)]int64
	oldest   [len(Queues)]time.Time // zero: queue empty
}

// NewQueue makes the queue collector; register it with a Registerer.
func NewQueue(cfg QueueConfig) *Queue {
	if cfg.Postqueue == "" {
		cfg.Postqueue = "postqueue"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.CacheFor <= 0 {
		cfg.CacheFor = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		cfg: cfg,
		messages: prometheus.NewDesc("postfix_queue_messages",
			"Messages in each Postfix queue.", []string{"queue"}, nil),
		bytes: prometheus.NewDesc("postfix_queue_size_bytes",
			"Total size of the messages in each Postfix queue.", []string{"queue"}, nil),
		oldest: prometheus.NewDesc("postfix_queue_oldest_message_age_seconds",
			"Age of the oldest message in each Postfix queue (0 when empty).", []string{"queue"}, nil),
		up: prometheus.NewDesc("postfix_queue_up",
			"Whether the last postqueue run succeeded.", nil, nil),
		duration: prometheus.NewDesc("postfix_queue_scrape_duration_seconds",
			"How long the last postqueue run took.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (q *Queue) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.messages
	ch <- q.bytes
	ch <- q.oldest
	ch <- q.up
	ch <- q.duration
}

// Collect implements prometheus.Collector. Concurrent scrapes wait for one
// run and share its result.
func (q *Queue) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	now := q.cfg.Now()
	if q.fetched.IsZero() || now.Sub(q.fetched) >= q.cfg.CacheFor || now.Before(q.fetched) {
		q.last = q.run()
		q.fetched = now
	}
	s := q.last
	q.mu.Unlock()

	up := 0.0
	if s.ok {
		up = 1
		for i, name := range Queues {
			age := 0.0
			if !s.oldest[i].IsZero() {
				age = max(now.Sub(s.oldest[i]).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(q.messages, prometheus.GaugeValue, float64(s.messages[i]), name)
			ch <- prometheus.MustNewConstMetric(q.bytes, prometheus.GaugeValue, float64(s.bytes[i]), name)
			ch <- prometheus.MustNewConstMetric(q.oldest, prometheus.GaugeValue, age, name)
		}
	}
	ch <- prometheus.MustNewConstMetric(q.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(q.duration, prometheus.GaugeValue, s.took.Seconds())
}

// run runs postqueue once. Its duration is measured on the wall clock: it
// is a property of this machine, not of the log.
func (q *Queue) run() queueSnapshot {
	start := time.Now()
	s, err := q.read()
	s.took = time.Since(start)
	if err != nil {
		q.cfg.Logger.Warn("reading the mail queue failed", "command", q.cfg.Postqueue, "config_dir", q.cfg.ConfigDir, "err", err)
		return queueSnapshot{took: s.took}
	}
	s.ok = true
	return s
}

func (q *Queue) read() (queueSnapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Timeout)
	defer cancel()
	var args []string
	if q.cfg.ConfigDir != "" {
		args = append(args, "-c", q.cfg.ConfigDir)
	}
	if q.cfg.Text {
		args = append(args, "-p")
	} else {
		args = append(args, "-j")
	}
	cmd := exec.CommandContext(ctx, q.cfg.Postqueue, args...)
	// A child that keeps the output open after the kill must not hold the
	// scrape: give up on its pipes shortly after.
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return queueSnapshot{}, fmt.Errorf("postqueue output: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return queueSnapshot{}, fmt.Errorf("starting postqueue: %w", err)
	}
	var s queueSnapshot
	var perr error
	if q.cfg.Text {
		s, perr = parseShowqText(out, q.cfg.Now())
	} else {
		s, perr = parseQueueJSON(out)
	}
	if perr != nil {
		// Drain so that postqueue is not stuck writing to a full pipe.
		_, _ = io.Copy(io.Discard, out)
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return queueSnapshot{}, fmt.Errorf("postqueue timed out after %v", q.cfg.Timeout)
	case werr != nil:
		return queueSnapshot{}, fmt.Errorf("postqueue: %w: %s", werr, strings.TrimSpace(stderr.String()))
	case perr != nil:
		return queueSnapshot{}, fmt.Errorf("reading postqueue output: %w", perr)
	}
	return s, nil
}

// limitedWriter keeps the first n bytes: enough of stderr to log.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

// queueEntry is one line of "postqueue -j" (Postfix 3.1+): one JSON object
// per message. Recipients are not needed for counts and ages.
type queueEntry struct {
	QueueName   string `json:"queue_name"`
	QueueID     string `json:"queue_id"`
	ArrivalTime int64  `json:"arrival_time"`
	MessageSize int64  `json:"message_size"`
}

func parseQueueJSON(r io.Reader) (queueSnapshot, error) {
	var s queueSnapshot
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	for {
		var m queueEntry
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return s, nil
			}
			return s, err
		}
		if m.QueueName == "" || m.QueueID == "" {
			return s, fmt.Errorf("entry without queue_name or queue_id")
		}
		s.add(m.QueueName, m.MessageSize, time.Unix(m.ArrivalTime, 0))
	}
}

func (s *queueSnapshot) add(queue string, size int64, arrival time.Time) {
	i := queueIndex(queue)
	if i < 0 {
		// corrupt, or a queue a later Postfix adds: not in the closed set.
		return
	}
	s.messages[i]++
	s.bytes[i] += max(size, 0)
	if s.oldest[i].IsZero() || arrival.Before(s.oldest[i]) {
		s.oldest[i] = arrival
	}
}

// parseShowqText reads showq's listing ("postqueue -p", "mailq"):
//
//	-Queue ID- --Size-- ----Arrival Time---- -Sender/Recipient-------
//	C420820802*    4387 Mon Feb 24 13:35:18  sender@example.com
//	                                         recipient@lerum.se
//
// A '*' after the id marks the active queue and '!' the hold queue; the
// listing does not tell deferred from incoming, so the rest count as
// deferred. Arrival times have no year or zone: they are local time, in
// the year that puts them at most a day after now.
func parseShowqText(r io.Reader, now time.Time) (queueSnapshot, error) {
	var s queueSnapshot
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	header := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '(' {
			continue // recipients and delay reasons
		}
		switch {
		case strings.HasPrefix(line, "-Queue ID-"):
			header = true
			continue
		case strings.HasPrefix(line, "Mail queue is empty"):
			return s, nil
		case strings.HasPrefix(line, "-- "):
			// "-- 12 Kbytes in 3 Requests."
			continue
		}
		if !header {
			return s, fmt.Errorf("not a showq listing: %q", truncate(line, 80))
		}
		f := strings.Fields(line)
		if len(f) < 7 {
			return s, fmt.Errorf("short showq entry: %q", truncate(line, 80))
		}
		id, queue := f[0], "deferred"
		switch id[len(id)-1] {
		case '*':
			queue = "active"
		case '!':
			queue = "hold"
		}
		var size int64
		if _, err := fmt.Sscan(f[1], &size); err != nil {
			return s, fmt.Errorf("showq size %q: %w", f[1], err)
		}
		at, err := time.ParseInLocation("Jan 2 15:04:05", strings.Join(f[3:6], " "), now.Location())
		if err != nil {
			return s, fmt.Errorf("showq arrival time: %w", err)
		}
		t := time.Date(now.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), 0, now.Location())
		if t.After(now.Add(24 * time.Hour)) {
			t = t.AddDate(-1, 0, 0)
		}
		s.add(queue, size, t)
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
