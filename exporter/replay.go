package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"golang.org/x/term"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/cputime"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/server"
)

func replayCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("replay", "Journal log files (plain or .gz) once; a file replayed again is read only past where the last replay ended.")
	sf := addSourceFlags(cmd)
	var files []string
	var progress string
	cmd.Arg("file", "Log files to replay, in order.").Required().ExistingFilesVar(&files)
	cmd.Flag("progress", "Show a progress line: auto (on a terminal), always or never.").Default("auto").EnumVar(&progress, "auto", "always", "never")
	return cmd.FullCommand(), func() error {
		c, err := sf.settings()
		if err != nil {
			return fail(2, "%v", err)
		}
		if _, err := c.Redactor(); err != nil {
			return fail(2, "%v", err)
		}
		show := progress == "always"
		if f, ok := stderr.(*os.File); ok && progress == "auto" {
			show = term.IsTerminal(int(f.Fd()))
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		sum, err := replay(ctx, c, files, show, stderr)
		if sum != nil {
			sum.write(stdout)
		}
		if err != nil {
			return fail(1, "%v", err)
		}
		return nil
	}
}

// replaySummary counts what a replay journaled; it is the ingest observer.
// Ingest calls it from one goroutine, and it is read once ingest is done;
// only lines is read while it runs, by the progress line.
type replaySummary struct {
	kinds   [256]int // by event.Kind
	lines   atomic.Int64
	events  int64
	files   int
	start   time.Time
	elapsed time.Duration
	cpu     time.Duration
	size    int64
	maxRSS  int64 // bytes
	journal string
}

func (s *replaySummary) Observed(_ string, e *event.Event, _ correlate.Note) {
	s.lines.Add(1)
	s.kinds[e.Kind]++
}

func (s *replaySummary) Committed(n int, _ time.Duration) { s.events += int64(n) }

func (s *replaySummary) CommitFailed(error) {}

// replay journals files through the server's assembly, showing a
// progress line when show is set, and sums up what it did.
func replay(ctx context.Context, c *config.Config, files []string, show bool, stderr io.Writer) (*replaySummary, error) {
	srv, err := server.Open(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	sum := &replaySummary{start: time.Now(), files: len(files), journal: c.Journal.Path}
	cpu0 := cputime.Process()
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			srv.Close()
			return nil, err
		}
		total += uncompressedSize(f, st.Size())
	}
	var done atomic.Int64 // bytes of the files finished
	var cur atomic.Int64  // offset in the current file
	o := server.ReplayOptions{Observer: sum}
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if show {
		o.Read = func(offset int64) { cur.Store(offset) }
		o.File = func(path string) {
			if st, err := os.Stat(path); err == nil {
				done.Add(uncompressedSize(path, st.Size()))
			}
			cur.Store(0)
		}
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					fmt.Fprint(stderr, "\r\033[K")
					return
				case <-t.C:
					printProgress(stderr, sum.lines.Load(), done.Load()+cur.Load(), total, time.Since(sum.start))
				}
			}
		}()
	}
	err = srv.Replay(ctx, files, o)
	close(stopProgress)
	progressDone.Wait()
	// The size at rest: Close merges the write-ahead log into the file.
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	sum.size = srv.Journal().Size()
	sum.elapsed = time.Since(sum.start)
	sum.cpu = cputime.Process() - cpu0
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		sum.maxRSS = ru.Maxrss * 1024 // Linux reports KiB
	}
	return sum, err
}

func printProgress(w io.Writer, lines, at, total int64, elapsed time.Duration) {
	rate := float64(lines) / elapsed.Seconds()
	eta := "?"
	if at > 0 && total > at {
		eta = (time.Duration(float64(elapsed) * float64(total-at) / float64(at))).Round(time.Second).String()
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(at) / float64(total)
	}
	fmt.Fprintf(w, "\r\033[K%5.1f%%  %d lines  %.0f lines/s  ETA %s", pct, lines, rate, eta)
}

// uncompressedSize is a file's size, or for gzip files the size the
// trailer records (modulo 4 GiB, which is good enough for a progress bar).
func uncompressedSize(path string, size int64) int64 {
	if !strings.HasSuffix(path, ".gz") || size < 4 {
		return size
	}
	f, err := os.Open(path)
	if err != nil {
		return size
	}
	defer f.Close()
	var b [4]byte
	if _, err := f.ReadAt(b[:], size-4); err != nil {
		return size
	}
	return int64(binary.LittleEndian.Uint32(b[:]))
}

func (s *replaySummary) write(w io.Writer) {
	lines := s.lines.Load()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "replayed\t%d lines from %d file(s) into %s\n", lines, s.files, s.journal)
	fmt.Fprintf(tw, "journaled\t%d events\n", s.events)
	if lines > 0 {
		unknown := s.kinds[event.KindUnknown]
		fmt.Fprintf(tw, "unparsed\t%d (%.2f%%)\n", unknown, 100*float64(unknown)/float64(lines))
		fmt.Fprintf(tw, "took\t%s (%.0f lines/s, %.0f lines per CPU-second)\n", s.elapsed.Round(time.Millisecond), float64(lines)/s.elapsed.Seconds(), float64(lines)/s.cpu.Seconds())
	}
	if s.events > 0 {
		fmt.Fprintf(tw, "journal size\t%d bytes (%.0f bytes per event overall)\n", s.size, float64(s.size)/float64(s.events))
	}
	if s.maxRSS > 0 {
		fmt.Fprintf(tw, "peak RSS\t%.1f MiB\n", float64(s.maxRSS)/(1<<20))
	}
	type kc struct {
		k event.Kind
		n int
	}
	var kcs []kc
	for k, n := range s.kinds {
		if n > 0 {
			kcs = append(kcs, kc{event.Kind(k), n})
		}
	}
	sort.Slice(kcs, func(i, j int) bool { return kcs[i].n > kcs[j].n || (kcs[i].n == kcs[j].n && kcs[i].k < kcs[j].k) })
	for _, c := range kcs {
		fmt.Fprintf(tw, "  %s\t%d\n", c.k, c.n)
	}
	tw.Flush()
}
