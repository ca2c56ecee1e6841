package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// soakRounds is how many times TestCrashKill9 kills the exporter:
// MAILTRAIL_SOAK_ROUNDS overrides it (`make soak` runs 300).
func soakRounds(t *testing.T) int {
	t.Helper()
	s := os.Getenv("MAILTRAIL_SOAK_ROUNDS")
	if s == "" {
		return 30
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("MAILTRAIL_SOAK_ROUNDS=%q: want a positive number", s)
	}
	return n
}

// soakSeed seeds the kill moments and rotations; MAILTRAIL_SOAK_SEED
// replays a logged seed (the interleaving with the exporter still varies).
func soakSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("MAILTRAIL_SOAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MAILTRAIL_SOAK_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// The exporter is killed -9 at random moments while a writer appends
// numbered lines and logrotate rotates the log now and then (rename and
// create, compressed one rotation later), and restarted each time. Kills
// land anywhere: during start-up and migration, mid-batch, mid-commit,
// while a rotated generation is being drained. Since events and positions
// are committed together, every line must end up journaled exactly once,
// and the database must pass SQLite's integrity check.
func TestCrashKill9(t *testing.T) {
	rounds := soakRounds(t)
	seed := soakSeed(t)
	t.Logf("rounds=%d seed=%d (MAILTRAIL_SOAK_SEED=%d replays the kill moments and rotations)", rounds, seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6d61696c))

	logrotate := findSbin(t, "logrotate", "package logrotate")
	exporterBinary(t) // build before the clock of the first round starts
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	conf := filepath.Join(dir, "logrotate.conf")
	state := filepath.Join(dir, "logrotate.state")
	// Generations are never deleted: a slow machine on which the exporter
	// falls many rotations behind would lose lines legitimately.
	confText := fmt.Sprintf("%s {\n  rotate 1000\n  missingok\n  create\n  compress\n  delaycompress\n}\n", logPath)
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--log.path=" + logPath, "--journal.path=" + db, "--web.listen-address=127.0.0.1:0", "--instance=t",
		"--journal.flush-interval=20ms", "--log.poll-interval=20ms", "--log.rotate-wait=100ms",
	}

	// On failure, say which generation held which lines: a missing range
	// that ends a generation points at rotation handling, one inside a
	// generation at the tailer's offsets or the journal.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log files at the end:\n%s", describeLogs(logPath))
		}
	})

	start := time.Now()
	w := startLogWriter(t, logPath, 500*time.Microsecond)

	// Rotations run on their own clock, so they fall both while the
	// exporter runs and while it is down.
	stopRotating := make(chan struct{})
	var stopOnce sync.Once
	stopRotator := func() { stopOnce.Do(func() { close(stopRotating) }) }
	t.Cleanup(stopRotator) // a failed round returns early
	rotatorDone := make(chan error, 1)
	rotRNG := rand.New(rand.NewPCG(seed, 1))
	rotations := 0
	go func() {
		for {
			select {
			case <-stopRotating:
				rotatorDone <- nil
				return
			case <-time.After(time.Duration(300+rotRNG.IntN(900)) * time.Millisecond):
			}
			if out, err := exec.Command(logrotate, "-f", "-s", state, conf).CombinedOutput(); err != nil {
				rotatorDone <- fmt.Errorf("logrotate: %v\n%s", err, out)
				return
			}
			if err := w.hup(); err != nil {
				rotatorDone <- err
				return
			}
			rotations++
		}
	}()

	for round := 0; round < rounds; round++ {
		p := startExporter(t, nil, args...)
		time.Sleep(time.Duration(20+rng.IntN(281)) * time.Millisecond)
		p.kill9()
	}

	stopRotator()
	if err := <-rotatorDone; err != nil {
		t.Fatal(err)
	}
	n := w.stop(t)
	during, err := journalCount(db)
	if err != nil {
		t.Fatalf("reading the journal after %d kills: %v", rounds, err)
	}
	t.Logf("%d kills, %d rotations, %d lines written; %d events journaled before the final start", rounds, rotations, n, during)

	p := startExporter(t, nil, args...)
	waitJournaled(t, p, db, n, 90*time.Second)
	p.term()
	assertJournal(t, db, n)
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// describeLogs lists the log and its rotated generations with the numbers
// of their first and last lines.
func describeLogs(logPath string) string {
	paths, _ := filepath.Glob(logPath + "*")
	var sb strings.Builder
	for _, path := range paths {
		fmt.Fprintf(&sb, "  %s: %s\n", filepath.Base(path), describeLog(path))
	}
	return sb.String()
}

func describeLog(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err.Error()
		}
		defer gz.Close()
		r = gz
	}
	first, last, count := -1, -1, 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n, ok := lineNumber(sc.Text())
		if !ok {
			n = -2 // not a whole line the writer wrote
		}
		if count == 0 {
			first = n
		}
		last = n
		count++
	}
	if err := sc.Err(); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d lines, first %d, last %d", count, first, last)
}
