package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The journal runs out of space while lines keep arriving: the exporter
// must keep running, count the failed commits, hold on to what it read and
// journal every line exactly once when space returns. Two ways to run out
// are tried, each skipped only where it cannot be set up:
//
//   - tmpfs: the journal lives on a tiny tmpfs that a filler file fills up
//     (SQLITE_FULL from ENOSPC); deleting the filler brings space back
//     while the same exporter process keeps running.
//   - fsize: the exporter runs under `prlimit --fsize` (EFBIG, and the
//     SIGXFSZ the kernel sends with it, which must not kill the process);
//     space returns when it is restarted without the limit.
func TestDiskFull(t *testing.T) {
	t.Run("tmpfs", testDiskFullTmpfs)
	t.Run("fsize", testDiskFullFsize)
}

// diskFullSetup prepares a log with some lines and the exporter's flags.
type diskFullSetup struct {
	log, db string
	args    []string
}

func newDiskFullSetup(t *testing.T, journalDir string) *diskFullSetup {
	t.Helper()
	exporterBinary(t)
	dir := t.TempDir()
	s := &diskFullSetup{log: filepath.Join(dir, "mail.log"), db: filepath.Join(journalDir, "journal.db")}
	s.args = []string{
		"--log.path=" + s.log, "--journal.path=" + s.db, "--web.listen-address=127.0.0.1:0", "--instance=t",
		"--journal.flush-interval=20ms", "--log.poll-interval=20ms", "--log.rotate-wait=100ms",
	}
	return s
}

// waitErrors waits until the exporter counts failed journal commits while
// it keeps running, and logs them; the writer keeps the journal busy
// meanwhile.
func waitErrors(t *testing.T, p *proc, url string) float64 {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		v, err := p.metric(url, "mailtrail_journal_errors_total")
		if err == nil && v > 0 {
			// The log line is written before the counter is scraped, but
			// give the stderr pipe a moment to deliver it.
			for wait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if m := commitFailedRE.FindString(p.stderr.String()); m != "" {
					t.Logf("logged: %s", m)
					break
				}
				if time.Now().After(wait) {
					t.Fatalf("%v failed commits counted but none logged\n%s", v, p.output())
				}
			}
			return v
		}
		if p.exited() {
			t.Fatalf("exporter exited (%v) with the journal out of space; it should pause and retry\n%s", p.state, p.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed journal commit counted within 90s of the space running out (last scrape: %v, %v)\n%s", v, err, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var commitFailedRE = regexp.MustCompile(`msg="journal commit failed[^\n]*`)

func testDiskFullTmpfs(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "journal")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): %v; the fsize subtest covers the disk-full path without a mount", err)
	}
	// Registered after TempDir, so it runs before the directory is removed,
	// and before the exporter's own cleanup, which is registered later and
	// so kills it first.
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	s := newDiskFullSetup(t, mnt)

	w := startLogWriter(t, s.log, 200*time.Microsecond)
	p := startExporter(t, nil, s.args...)
	url := p.metricsURL()
	waitJournaled(t, p, s.db, 200, 60*time.Second)

	filled, err := fill(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	errs := waitErrors(t, p, url)
	t.Logf("filler took the last %d KiB; %v failed commits counted", filled>>10, errs)
	// The writer goes on for a while with the disk full, so that reading
	// stays paused behind a batch that cannot be committed.
	time.Sleep(time.Second)

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	n := w.stop(t)
	// Ingest backs off up to 10s between retries.
	waitJournaled(t, p, s.db, n, 90*time.Second)
	if v, err := p.metric(url, "mailtrail_journal_errors_total"); err == nil {
		t.Logf("%d lines written; %v failed commits counted in all", n, v)
	}
	p.term()
	assertJournal(t, s.db, n)
}

// fill writes a file until the file system is full and returns its size.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("filler: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = 'x'
	}
	var total int64
	for {
		n, err := f.Write(buf)
		total += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			if total == 0 {
				return 0, fmt.Errorf("filler: file system already full")
			}
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("filler: %w", err)
		}
		if total > 1<<30 {
			return total, fmt.Errorf("filler: wrote 1 GiB and the file system is not full")
		}
	}
}

func testDiskFullFsize(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skipf("prlimit (util-linux) is not installed: %v", err)
	}
	s := newDiskFullSetup(t, t.TempDir())

	w := startLogWriter(t, s.log, 200*time.Microsecond)
	p := startExporter(t, nil, s.args...)
	p.metricsURL()
	waitJournaled(t, p, s.db, 200, 60*time.Second)
	p.term()

	// The limit leaves the existing files a little room to grow: the
	// write-ahead log soon needs more than that.
	var largest int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if st, err := os.Stat(s.db + suffix); err == nil {
			largest = max(largest, st.Size())
		}
	}
	limit := largest + 64<<10
	p = startExporter(t, []string{prlimit, "--fsize=" + strconv.FormatInt(limit, 10), "--"}, s.args...)
	url := p.metricsURL()
	errs := waitErrors(t, p, url)
	t.Logf("file size limit %d KiB; %v failed commits counted", limit>>10, errs)
	time.Sleep(time.Second)
	if p.exited() {
		t.Fatalf("exporter exited (%v) under the file size limit; it should pause and retry\n%s", p.state, p.output())
	}
	p.term()

	p = startExporter(t, nil, s.args...)
	time.Sleep(500 * time.Millisecond)
	n := w.stop(t)
	waitJournaled(t, p, s.db, n, 90*time.Second)
	p.term()
	assertJournal(t, s.db, n)
	t.Logf("%d lines written", n)
}
