package tailer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// fakeJournal is a directory holding a stand-in for journalctl, the entries
// it serves (one JSON object a line, in journal order) and the command
// lines it was run with (one a line).
type fakeJournal struct {
	t                     *testing.T
	command, entries, log string
}

// fakeJournalctl mimics `journalctl --follow --output=json`: with
// --after-cursor=C it prints the entries after the one whose cursor is C;
// with --lines=0 it prints only entries added while it runs (it watches
// the entries file for a second). Then it exits, as journalctl does when
// the journal is rotated away or it is killed, so the tailer restarts it.
//
// It records its command line only once it knows where it starts reading,
// so that a test may add entries as soon as it sees the record.
const fakeJournalctl = `#!/bin/sh
after=
for a in "$@"; do
	case "$a" in --after-cursor=*) after="${a#--after-cursor=}" ;; esac
done
n=$(wc -l < %[2]q)
printf '%%s\n' "$*" >> %[1]q
if [ -n "$after" ]; then
	exec awk -v c="\"__CURSOR\":\"$after\"" 'found { print } index($0, c) { found = 1 }' %[2]q
fi
i=0
while [ "$(wc -l < %[2]q)" -le "$n" ] && [ $i -lt 100 ]; do
	sleep 0.01
	i=$((i + 1))
done
exec tail -n +$((n + 1)) %[2]q
`

func newFakeJournal(t *testing.T) *fakeJournal {
	t.Helper()
	dir := t.TempDir()
	j := &fakeJournal{t: t, command: filepath.Join(dir, "journalctl"), entries: filepath.Join(dir, "entries"), log: filepath.Join(dir, "argv")}
	if err := os.WriteFile(j.command, fmt.Appendf(nil, fakeJournalctl, j.log, j.entries), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(j.entries, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return j
}

func journalCursor(n int) string {
	return fmt.Sprintf("s=0f2e;i=%x;b=9a1c;m=%x;t=62f1;x=77", n, 1000+n)
}

func journalEntry(n int) string {
	return fmt.Sprintf(`{"__CURSOR":"%s","__REALTIME_TIMESTAMP":"%d","_HOSTNAME":"mx","SYSLOG_FACILITY":"2","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"%d","MESSAGE":"connect from host%d.example[192.0.2.%d]"}`,
		journalCursor(n), int64(1780483257000000)+int64(n), 9000+n, n, n)
}

// add appends entries from..to-1 to the journal.
func (j *fakeJournal) add(from, to int) {
	j.t.Helper()
	f, err := os.OpenFile(j.entries, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		j.t.Fatal(err)
	}
	defer f.Close()
	var sb strings.Builder
	for n := from; n < to; n++ {
		sb.WriteString(journalEntry(n) + "\n")
	}
	// One write, so that a journalctl never sees part of a batch.
	if _, err := f.WriteString(sb.String()); err != nil {
		j.t.Fatal(err)
	}
}

// runs returns the command lines the fake was run with so far.
func (j *fakeJournal) runs() []string {
	j.t.Helper()
	b, err := os.ReadFile(j.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		j.t.Fatal(err)
	}
	// The fake's shell creates the file before it writes the line: only
	// finished lines are runs.
	done := string(b[:bytes.LastIndexByte(b, '\n')+1])
	if done == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(done, "\n"), "\n")
}

// waitRuns waits until the fake has been started n times.
func (j *fakeJournal) waitRuns(n int) []string {
	j.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if runs := j.runs(); len(runs) >= n {
			return runs
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("journalctl started %d times in 10s, want %d", len(j.runs()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// followJournald runs FollowJournald until the returned stop is called.
func followJournald(t *testing.T, cfg tailer.JournaldConfig, out chan []tailer.Line) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tailer.FollowJournald(ctx, cfg, out) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("FollowJournald returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("FollowJournald did not return after ctx ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

func checkEntries(t *testing.T, got []tailer.Line, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("received %d entries, want %d (%d to %d)", len(got), to-from, from, to-1)
	}
	for i, l := range got {
		n := from + i
		if l.Text != journalEntry(n) || l.Pos.Cursor != journalCursor(n) || l.Source != tailer.JournaldSource {
			t.Fatalf("entry %d: source %q, text %q, cursor %q; want entry %d with its cursor", i, l.Source, l.Text, l.Pos.Cursor, n)
		}
	}
}

// Without a saved cursor reading starts with new entries; when journalctl
// exits it is started again after the last cursor sent, and an exporter
// restarted from a line's position resumes right after that line.
func TestFollowJournaldResumesAfterCursor(t *testing.T) {
	j := newFakeJournal(t)
	j.add(0, 3) // before the exporter ever ran: not read
	cfg := tailer.JournaldConfig{Command: j.command, RestartWait: 20 * time.Millisecond,
		Matches: []string{"SYSLOG_IDENTIFIER=postfix/smtpd", "_SYSTEMD_UNIT=dovecot.service"}}
	out := make(chan []tailer.Line, 100)
	stop := followJournald(t, cfg, out)
	runs := j.waitRuns(1)
	j.add(3, 5) // while journalctl follows
	checkEntries(t, receive(t, out, 2, 0), 3, 5)
	if r := runs[0]; strings.Contains(r, "--after-cursor") || !hasArgs(r, "--lines=0") {
		t.Errorf("first run without a cursor: %q, want --lines=0 and no --after-cursor", r)
	}

	// journalctl exited: it is run again, after entry 4's cursor.
	n := len(j.waitRuns(2))
	j.add(5, 8)
	checkEntries(t, receive(t, out, 3, 0), 5, 8)
	runs = j.waitRuns(n + 2)
	for _, r := range runs[1:] {
		if !hasArgs(r, "--after-cursor="+journalCursor(4)) && !hasArgs(r, "--after-cursor="+journalCursor(7)) {
			t.Errorf("run after an exit: %q, want --after-cursor with the last cursor sent", r)
		}
	}
	if r := runs[len(runs)-1]; !hasArgs(r, "--after-cursor="+journalCursor(7)) {
		t.Errorf("latest run: %q, want --after-cursor=%s", r, journalCursor(7))
	}
	// Restarted journalctls sent nothing twice.
	receive(t, out, 0, 100*time.Millisecond)
	stop()

	// An exporter restart: the journal saved entry 6's position (7 was
	// read but not committed).
	cfg.Start = event.Position{Cursor: journalCursor(6)}
	n = len(j.runs())
	followJournald(t, cfg, out)
	if r := j.waitRuns(n + 1)[n]; !hasArgs(r, "--after-cursor="+journalCursor(6)) || hasArgs(r, "--lines=0") {
		t.Errorf("run from a saved position: %q, want --after-cursor=%s", r, journalCursor(6))
	}
	j.add(8, 10)
	checkEntries(t, receive(t, out, 3, 100*time.Millisecond), 7, 10)
}

// The command line asks for followed JSON output with the configured
// matches, or the mail facility by default; the entries parse as journal
// lines.
func TestFollowJournaldCommandLine(t *testing.T) {
	for _, tc := range []struct {
		matches, want []string
	}{
		{nil, []string{"SYSLOG_FACILITY=2"}},
		{[]string{"_SYSTEMD_UNIT=postfix@-.service", "+", "_SYSTEMD_UNIT=dovecot.service"}, []string{"_SYSTEMD_UNIT=postfix@-.service", "+", "_SYSTEMD_UNIT=dovecot.service"}},
	} {
		j := newFakeJournal(t)
		j.add(0, 3)
		out := make(chan []tailer.Line, 100)
		followJournald(t, tailer.JournaldConfig{Command: j.command, Matches: tc.matches, Start: event.Position{Cursor: journalCursor(0)}, RestartWait: 20 * time.Millisecond}, out)
		got := receive(t, out, 2, 0)
		checkEntries(t, got, 1, 3)
		r := j.waitRuns(1)[0]
		if !hasArgs(r, append([]string{"--follow", "--output=json", "--after-cursor=" + journalCursor(0)}, tc.want...)...) {
			t.Errorf("command line %q, want --follow --output=json and %q", r, tc.want)
		}
		if !strings.HasSuffix(r, " "+strings.Join(tc.want, " ")) {
			t.Errorf("command line %q, want the matches %q last", r, tc.want)
		}
		e := (&parser.Parser{}).Parse(got[0].Text, time.Now())
		if e.Host != "mx" || e.Service != "postfix" || e.Program != "smtpd" || e.PID != 9001 || e.Kind.String() != "connect" || e.ClientIP != "192.0.2.1" {
			t.Errorf("entry parsed as host %q service %q program %q pid %d kind %v client ip %q", e.Host, e.Service, e.Program, e.PID, e.Kind, e.ClientIP)
		}
	}
}

// hasArgs reports whether the space-separated command line holds every arg.
func hasArgs(cmdline string, args ...string) bool {
	fields := strings.Fields(cmdline)
	for _, a := range args {
		found := false
		for _, f := range fields {
			if f == a {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// A journalctl that is not on PATH is an error, not a retry loop.
func TestFollowJournaldMissingCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := tailer.FollowJournald(ctx, tailer.JournaldConfig{Command: "mailtrail-test-no-such-journalctl"}, make(chan []tailer.Line))
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "journald") {
		t.Fatalf("FollowJournald with no journalctl returned %v", err)
	}
}
