package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// The crash and disk-full tests run the real exporter binary, since only a
// separate process can be killed -9 or given its own file size limit. It
// is built once per test run, on first use, so tests that do not need it
// do not pay for the build.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// exporterBinary returns the path of the exporter built from this package.
func exporterBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mailtrail-exporter-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "exporter")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building the exporter: %v", binErr)
	}
	return binPath
}

// findSbin returns a daemon's or tool's binary, which Debian puts in
// /usr/sbin (not on every user's PATH); pkgs names the Debian packages that
// bring it, for the failure.
func findSbin(t *testing.T, name, pkgs string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := "/usr/sbin/" + name
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is needed (Debian %s; scripts/deps.sh installs it): %v", name, pkgs, err)
	}
	return p
}

// numberedLine is line n of a test log: a real Postfix line, so the parser
// is on the path too, whose pid and client name carry the number.
func numberedLine(n int) string {
	return fmt.Sprintf("Jun  3 10:40:57 mx postfix/smtpd[%d]: connect from h%d[192.0.2.1]", n, n)
}

var numberRE = regexp.MustCompile(`^Jun  3 10:40:57 mx postfix/smtpd\[(\d+)\]: `)

// lineNumber reads the number back; ok is false for a line that is not
// exactly one the writer wrote (cut, merged with another, garbled).
func lineNumber(raw string) (int, bool) {
	m := numberRE.FindStringSubmatch(raw)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || numberedLine(n) != raw {
		return 0, false
	}
	return n, true
}

// logWriter appends numbered lines to a log from a goroutine through one
// open descriptor, as a syslog daemon does: after a rotation renames the
// file it keeps writing to the renamed one until it is told to reopen.
type logWriter struct {
	path  string
	every time.Duration
	hupc  chan chan error
	stopc chan struct{}
	done  chan error
	next  int // owned by the goroutine until done yields
}

func startLogWriter(t *testing.T, path string, every time.Duration) *logWriter {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := &logWriter{path: path, every: every, hupc: make(chan chan error), stopc: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		defer func() { f.Close() }()
		for {
			select {
			case <-w.stopc:
				w.done <- nil
				return
			case reply := <-w.hupc:
				f.Close()
				f, err = os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				reply <- err
				if err != nil {
					w.done <- fmt.Errorf("reopen %s: %w", w.path, err)
					return
				}
			default:
				// One write per line: O_APPEND makes each land whole.
				if _, err := f.WriteString(numberedLine(w.next) + "\n"); err != nil {
					w.done <- fmt.Errorf("append to %s: %w", w.path, err)
					return
				}
				w.next++
				time.Sleep(w.every)
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-w.stopc:
		default:
			close(w.stopc)
		}
	})
	return w
}

// hup makes the writer reopen its path, as logrotate's postrotate does.
func (w *logWriter) hup() error {
	reply := make(chan error, 1)
	select {
	case w.hupc <- reply:
		return <-reply
	case err := <-w.done:
		w.done <- err
		return fmt.Errorf("writer already stopped: %v", err)
	}
}

// stop stops the writer and returns how many lines it wrote.
func (w *logWriter) stop(t *testing.T) int {
	t.Helper()
	close(w.stopc)
	if err := <-w.done; err != nil {
		t.Fatalf("log writer: %v", err)
	}
	return w.next
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = proctest.Output

// proc is one run of the exporter binary.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{} // closed once the process has been waited for
	state  *os.ProcessState
}

// startExporter runs `exporter serve args...`, behind the wrapper command
// (e.g. prlimit) if one is given.
func startExporter(t *testing.T, wrapper []string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), exporterBinary(t), "serve"), args...)
	p := &proc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start exporter: %v", err)
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is what the exporter printed, for failure messages.
func (p *proc) output() string {
	const keep = 4000
	errs := p.stderr.String()
	if len(errs) > keep {
		errs = "..." + errs[len(errs)-keep:]
	}
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), errs)
}

// kill9 kills the exporter with SIGKILL and fails the test if it had
// already exited on its own: serve runs until it is told to stop.
func (p *proc) kill9() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("exporter exited on its own (%v) before it was killed\n%s", p.state, p.output())
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("kill exporter: %v", err)
	}
	<-p.done
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		p.t.Fatalf("exporter exited on its own (%v) before it was killed\n%s", p.state, p.output())
	}
}

// term stops the exporter as systemd would and wants a clean exit.
func (p *proc) term() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("exporter exited on its own (%v) before SIGTERM\n%s", p.state, p.output())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM exporter: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("exporter still running 60s after SIGTERM\n%s", p.output())
	}
	if code := p.state.ExitCode(); code != 0 {
		p.t.Fatalf("exporter exited with %v after SIGTERM, want 0\n%s", p.state, p.output())
	}
}

var metricsURLRE = regexp.MustCompile(`metrics: (http://\S+/metrics)`)

// metricsURL waits for the line in which the exporter names its metrics
// address (it listens on port 0).
func (p *proc) metricsURL() string {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := metricsURLRE.FindStringSubmatch(p.stdout.String()); m != nil {
			return m[1]
		}
		if p.exited() {
			p.t.Fatalf("exporter exited (%v) before serving metrics\n%s", p.state, p.output())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("exporter named no metrics address within 60s\n%s", p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric scrapes one unlabelled sample from the exporter.
func (p *proc) metric(url, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("scrape %s: no sample %s", url, name)
}

// journalCount counts the journaled events, opening the journal read-only
// beside the running exporter (WAL lets readers in while it writes).
func journalCount(db string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer j.Close()
	return j.Count(ctx)
}

// waitJournaled waits until the journal holds at least n events, failing
// if the exporter exits meanwhile; then it waits a little longer so that
// duplicates, if any, have time to arrive.
func waitJournaled(t *testing.T, p *proc, db string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got int64
	var err error
	for {
		got, err = journalCount(db)
		if err == nil && got >= int64(n) {
			time.Sleep(500 * time.Millisecond)
			return
		}
		if p.exited() {
			t.Fatalf("exporter exited (%v) with %d of %d lines journaled (last read error: %v)\n%s", p.state, got, n, err, p.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal holds %d events after %v, want %d (last read error: %v); %s\n%s", got, within, n, err, tallySummary(db, n), p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertJournal checks the journal after the exporter has stopped: it holds
// lines 0..n-1 each exactly once and nothing else, and SQLite finds the
// database intact.
func assertJournal(t *testing.T, db string, n int) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	rows, err := j.DB().QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	var report []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("integrity_check: %v", err)
		}
		report = append(report, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if len(report) != 1 || report[0] != "ok" {
		t.Errorf("PRAGMA integrity_check: %q, want ok", report)
	}

	tl, err := tallyJournal(j, n)
	if err != nil {
		t.Fatal(err)
	}
	if !tl.exact() {
		t.Errorf("%s", tl)
	}
}

// tally is how often each of lines 0..n-1 was journaled.
type tally struct {
	events, n     int
	missing, dups []int
	foreign       []string
}

func tallyJournal(j *journal.Journal, n int) (*tally, error) {
	evs, err := j.Events(context.Background(), journal.Filter{})
	if err != nil {
		return nil, err
	}
	tl := &tally{events: len(evs), n: n}
	seen := make([]int, n)
	for _, e := range evs {
		num, ok := lineNumber(e.Event.Raw)
		if !ok || num >= n {
			tl.foreign = append(tl.foreign, e.Event.Raw)
			continue
		}
		seen[num]++
	}
	for num, c := range seen {
		switch {
		case c == 0:
			tl.missing = append(tl.missing, num)
		case c > 1:
			tl.dups = append(tl.dups, num)
		}
	}
	return tl, nil
}

func (tl *tally) exact() bool {
	return len(tl.missing) == 0 && len(tl.dups) == 0 && len(tl.foreign) == 0
}

func (tl *tally) String() string {
	return fmt.Sprintf("journal holds %d events for %d lines written: %d lines missing %s, %d journaled more than once %s, %d not written by the test %q",
		tl.events, tl.n, len(tl.missing), ranges(tl.missing), len(tl.dups), ranges(tl.dups), len(tl.foreign), tl.foreign[:min(3, len(tl.foreign))])
}

// tallySummary describes the journal for a failure message.
func tallySummary(db string, n int) string {
	j, err := journal.Open(context.Background(), db, journal.Options{ReadOnly: true})
	if err != nil {
		return err.Error()
	}
	defer j.Close()
	tl, err := tallyJournal(j, n)
	if err != nil {
		return err.Error()
	}
	return tl.String()
}

// ranges prints sorted numbers as runs, e.g. [7-9 12], at most ten runs.
func ranges(nums []int) string {
	var runs []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if len(runs) == 10 {
			runs = append(runs, "...")
			break
		}
		if i == j {
			runs = append(runs, strconv.Itoa(nums[i]))
		} else {
			runs = append(runs, fmt.Sprintf("%d-%d", nums[i], nums[j]))
		}
		i = j + 1
	}
	return "[" + strings.Join(runs, " ") + "]"
}
