package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// rig runs the real pipeline (tailer → parser → journal) on a log file in a
// temporary directory, rotated by the real logrotate, and can stop and
// restart it as an exporter restart would.
type rig struct {
	t         *testing.T
	logrotate string
	dir       string
	log       string
	db        string
	conf      string
	state     string
	maxLen    int
	obs       *countingObserver
	cancel    context.CancelFunc
	done      chan error
	next      int // number of the next line written
}

type countingObserver struct {
	rotated, truncated, cut, lost atomic.Int64
}

func (o *countingObserver) Rotated(string)      { o.rotated.Add(1) }
func (o *countingObserver) Truncated(string)    { o.truncated.Add(1) }
func (o *countingObserver) LineCut(string)      { o.cut.Add(1) }
func (o *countingObserver) Lost(string, string) { o.lost.Add(1) }

// newRig prepares a log directory and a logrotate configuration with the
// given directives (e.g. "create", "copytruncate", "compress\ndelaycompress").
func newRig(t *testing.T, directives string) *rig {
	t.Helper()
	logrotate := "/usr/sbin/logrotate"
	if p, err := exec.LookPath("logrotate"); err == nil {
		logrotate = p
	} else if _, err := os.Stat(logrotate); err != nil {
		t.Fatalf("logrotate is needed (Debian package logrotate; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	r := &rig{t: t, dir: dir, logrotate: logrotate, log: filepath.Join(dir, "mail.log"), db: filepath.Join(dir, "journal.db"),
		conf: filepath.Join(dir, "logrotate.conf"), state: filepath.Join(dir, "logrotate.state"), obs: &countingObserver{}}
	conf := fmt.Sprintf("%s {\n  rotate 10\n  missingok\n  %s\n}\n", r.log, strings.ReplaceAll(directives, "\n", "\n  "))
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cancel != nil {
			r.stop()
		}
	})
	return r
}

// line is the text of line n: a real Postfix line, so the parser is on the
// path too, numbered so the multiset can be checked.
func line(n int) string {
	return fmt.Sprintf("Jun  3 10:40:57 mx postfix/smtpd[%d]: connect from host%d.example[192.0.2.%d]", 100000+n, n, n%250+1)
}

// lines returns the texts of lines from..to-1.
func lines(from, to int) []string {
	var out []string
	for n := from; n < to; n++ {
		out = append(out, line(n))
	}
	return out
}

// writer appends to the log through one open descriptor, as syslog daemons
// do: after a rename it keeps writing to the renamed file until reopen.
type writer struct {
	r *rig
	f *os.File
}

// background writes numbered lines from a goroutine, about one every
// `every`, reopening the log whenever hup receives, until stop is closed.
// It returns a channel that yields the first write error (or nil) once it
// has stopped; the rig's line counter belongs to it meanwhile.
func (w *writer) background(every time.Duration, hup <-chan struct{}, stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			case <-hup:
				w.f.Close()
				f, err := os.OpenFile(w.r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					done <- err
					return
				}
				w.f = f
			default:
				if _, err := w.f.WriteString(line(w.r.next) + "\n"); err != nil {
					done <- err
					return
				}
				w.r.next++
				time.Sleep(every)
			}
		}
	}()
	return done
}

func (r *rig) openWriter() *writer {
	r.t.Helper()
	w := &writer{r: r}
	w.reopen()
	return w
}

func (w *writer) reopen() {
	w.r.t.Helper()
	if w.f != nil {
		w.f.Close()
	}
	f, err := os.OpenFile(w.r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.r.t.Fatal(err)
	}
	w.f = f
}

// write appends n numbered lines.
func (w *writer) write(n int) {
	w.r.t.Helper()
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(line(w.r.next))
		sb.WriteByte('\n')
		w.r.next++
	}
	if _, err := w.f.WriteString(sb.String()); err != nil {
		w.r.t.Fatal(err)
	}
}

func (w *writer) writeRaw(s string) {
	w.r.t.Helper()
	if _, err := w.f.WriteString(s); err != nil {
		w.r.t.Fatal(err)
	}
}

func (w *writer) close() { w.f.Close() }

// rotate runs logrotate -f on the log.
func (r *rig) rotate() {
	r.t.Helper()
	out, err := exec.Command(r.logrotate, "-f", "-s", r.state, r.conf).CombinedOutput()
	if err != nil {
		r.t.Fatalf("logrotate: %v\n%s", err, out)
	}
}

// start runs the pipeline from the journal's saved positions.
func (r *rig) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	j, err := journal.Open(ctx, r.db, journal.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	positions, err := j.Positions(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	r.cancel = cancel
	r.done = make(chan error, 1)
	ch := make(chan []tailer.Line, 64)
	go func() {
		RunSources(ctx, Sources{
			Paths: []string{r.log}, MaxLineBytes: r.maxLen, PollInterval: 20 * time.Millisecond,
			RotateWait: 100 * time.Millisecond, Positions: positions, Observer: r.obs,
		}, ch)
		close(ch)
	}()
	go func() {
		err := Run(ctx, Config{Parser: &parser.Parser{}, Journal: j, FlushInterval: 20 * time.Millisecond, BatchSize: 50}, ch)
		j.Close()
		r.done <- err
	}()
}

// stop stops the pipeline as a SIGTERM would.
func (r *rig) stop() {
	r.t.Helper()
	r.cancel()
	<-r.done
	r.cancel = nil
}

// journaled returns the raw lines in the journal, in journal order.
func (r *rig) journaled() []string {
	r.t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, r.db, journal.Options{ReadOnly: true})
	if err != nil {
		r.t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.Events(ctx, journal.Filter{})
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Event.Raw
	}
	return out
}

// waitFor waits until the journal holds n events (or more), then a little
// longer, so that duplicates would have time to show.
func (r *rig) waitFor(n int) []string {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := r.journaled()
		if len(got) >= n {
			time.Sleep(300 * time.Millisecond)
			return r.journaled()
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("journal holds %d events after 20s, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertSameLines fails unless got and want hold the same lines the same
// number of times, naming what is missing and what is extra.
func assertSameLines(t *testing.T, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var missing, extra []string
	for l, c := range count {
		for ; c > 0; c-- {
			missing = append(missing, l)
		}
		for ; c < 0; c++ {
			extra = append(extra, l)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("journal differs: %d lines missing, %d extra (journaled %d, want %d)\nmissing: %.5q\nextra: %.5q", len(missing), len(extra), len(got), len(want), missing, extra)
	}
}

// assertInOrder fails unless got is exactly want, in the same order: a
// single file source is read and journaled sequentially.
func assertInOrder(t *testing.T, got, want []string) {
	t.Helper()
	assertSameLines(t, got, want)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("journal order differs at %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// replaceWhileWriting has a background writer append lines while replace
// swaps the log n times, each swap followed 20ms later by the writer's
// reopen (the HUP; lines written meanwhile land in the old file). It then
// checks that every line was journaled exactly once, that n rotations were
// counted and that nothing was lost or truncated.
func (r *rig) replaceWhileWriting(w *writer, n int, replace func()) {
	r.t.Helper()
	hup, stop := make(chan struct{}), make(chan struct{})
	done := w.background(200*time.Microsecond, hup, stop)
	for i := 0; i < n; i++ {
		time.Sleep(250 * time.Millisecond)
		replace()
		time.Sleep(20 * time.Millisecond)
		hup <- struct{}{}
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	if err := <-done; err != nil {
		r.t.Fatal(err)
	}
	got := r.waitFor(r.next)
	assertSameLines(r.t, got, lines(0, r.next))
	if got := r.obs.rotated.Load(); got != int64(n) {
		r.t.Errorf("rotations counted: %d, want %d", got, n)
	}
	if got := r.obs.lost.Load() + r.obs.truncated.Load(); got != 0 {
		r.t.Errorf("lost or truncated files: %d", got)
	}
}
