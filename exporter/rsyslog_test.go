package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/proctest"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// rsyslogConf is a private rsyslogd: it reads a growing log with imfile,
// as it would read /dev/log (lines without a host; needParse reads the
// stamp and the tag), and forwards every line three times to the
// exporter: over TCP in RFC 5424 (RSYSLOG_SyslogProtocol23Format,
// octet-counted), over TCP in RFC 3164 (RSYSLOG_TraditionalForwardFormat,
// newline-delimited) and over RELP with omrelp's default template
// (RSYSLOG_ForwardFormat). Each action has its own queue and retries for
// ever, as a forwarding setup does, so a dead exporter suspends only its
// actions. parser.permitSlashInProgramname keeps "postfix/smtpd" whole in
// RFC 5424's APP-NAME (rsyslog stops at the '/' otherwise, see the README).
const rsyslogConf = `global(workDirectory="{dir}/work" parser.permitSlashInProgramname="on")
module(load="imfile")
module(load="omrelp")
input(type="imfile" file="{dir}/mail.log" tag="mail" needParse="on" freshStartTail="off" ruleset="forward")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp" tcp_framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format"
         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
  action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp"
         template="RSYSLOG_TraditionalForwardFormat"
         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
  action(type="omrelp" target="127.0.0.1" port="{relp}"
         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
}
`

// rsyslogLine is line n as Postfix hands it to syslog: stamp, tag, text.
func rsyslogLine(n int, at time.Time) string {
	return fmt.Sprintf("%s postfix/smtpd[%d]: connect from h%d[192.0.2.1]", at.Format(time.Stamp), n, n)
}

// startRsyslogd runs the private rsyslogd until the test ends; it is
// stopped by its pid.
func startRsyslogd(t *testing.T, dir, tcpPort, relpPort string) {
	t.Helper()
	bin := findSbin(t, "rsyslogd", "packages rsyslog and rsyslog-relp")
	if err := os.MkdirAll(filepath.Join(dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("{dir}", dir, "{tcp}", tcpPort, "{relp}", relpPort).Replace(rsyslogConf)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", confPath).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1 rejects the configuration: %v\n%s", err, out)
	}
	var output proctest.Output
	cmd := exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", output.String())
		}
	})
}

// forwarded is how often each line arrived by each path.
type forwarded struct {
	relp, tcp5424, tcp3164 map[int]int
	foreign                []string
}

// readForwarded sorts the journal's events by the path they came by and
// checks that each is the Postfix line it was: forwarded lines must read
// as well as the log file's.
func readForwarded(t *testing.T, db string) forwarded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.Events(ctx, journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	f := forwarded{relp: map[int]int{}, tcp5424: map[int]int{}, tcp3164: map[int]int{}}
	for _, r := range evs {
		e := r.Event
		n := e.PID
		if e.Kind != event.KindConnect || e.Service != "postfix" || e.Program != "smtpd" || e.ClientHost != "h"+strconv.Itoa(n) || e.ClientIP != "192.0.2.1" {
			f.foreign = append(f.foreign, fmt.Sprintf("%s: %s %q", r.Source, e.Kind, e.Raw))
			continue
		}
		switch {
		case r.Source == tailer.RELPSource:
			f.relp[n]++
		case r.Source == tailer.SyslogSource && strings.HasPrefix(e.Raw[strings.IndexByte(e.Raw, '>')+1:], "1 "):
			f.tcp5424[n]++
		case r.Source == tailer.SyslogSource:
			f.tcp3164[n]++
		default:
			f.foreign = append(f.foreign, fmt.Sprintf("%s: %q", r.Source, e.Raw))
		}
	}
	return f
}

// A real rsyslog forwards a growing log to the exporter over TCP in both
// of its standard formats and over RELP while the exporter is killed -9
// and restarted. Over RELP every line is journaled exactly once. Over TCP
// a line is journaled at most once, and the lines lost are those the
// README says: received but not yet committed when the exporter died, or
// written by rsyslog into the dead connection before it noticed, so each
// lost line was written shortly before or while the exporter was down.
func TestRsyslogForwarding(t *testing.T) {
	exporterBinary(t) // build before the clocks start
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	// rsyslog must know the exporter's ports before the exporter starts,
	// and they must stay the same across its restarts.
	tcpPort, relpPort := strconv.Itoa(proctest.FreePort(t, "127.0.0.1")), strconv.Itoa(proctest.FreePort(t, "127.0.0.1"))
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const flush = 100 * time.Millisecond
	args := []string{
		"--journal.path=" + db, "--web.listen-address=127.0.0.1:0", "--instance=t",
		"--syslog.listen-tcp=127.0.0.1:" + tcpPort, "--syslog.listen-relp=127.0.0.1:" + relpPort,
		"--journal.flush-interval=" + flush.String(), "--postfix.postqueue=",
	}
	start := time.Now()
	p := startExporter(t, nil, args...)
	url := p.metricsURL() // the listeners are bound before the web one
	startRsyslogd(t, dir, tcpPort, relpPort)

	// The writer appends a line every 4 ms and notes when.
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var written []time.Time
	stopWriting := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-stopWriting:
				writerDone <- nil
				return
			default:
			}
			now := time.Now()
			mu.Lock()
			written = append(written, now)
			mu.Unlock()
			if _, err := f.WriteString(rsyslogLine(n, now) + "\n"); err != nil {
				writerDone <- err
				return
			}
			time.Sleep(4 * time.Millisecond)
		}
	}()

	// Kill the exporter three times while lines flow; it stays down a
	// moment each time, so rsyslog sees its connections fail.
	type outage struct{ killed, restarted time.Time }
	var outages []outage
	resent := 0.0 // frames recognised as sent again, which is rare: only
	// those committed in the instant before the kill, before their answer
	for range 3 {
		time.Sleep(2 * time.Second)
		if v, err := p.metric(url, "mailtrail_relp_resent_frames_total"); err == nil {
			resent += v
		}
		killed := time.Now()
		p.kill9()
		time.Sleep(300 * time.Millisecond)
		p = startExporter(t, nil, args...)
		url = p.metricsURL()
		outages = append(outages, outage{killed, time.Now()})
	}
	time.Sleep(time.Second)
	close(stopWriting)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	n := len(written)

	// RELP delivers everything; wait for it (rsyslog retries every second).
	deadline := time.Now().Add(30 * time.Second)
	var got forwarded
	for {
		got = readForwarded(t, db)
		if len(got.relp) >= n && len(got.tcp5424) > 0 && len(got.tcp3164) > 0 {
			break
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("after 30 s the journal holds %d of %d lines over RELP, %d and %d over TCP (5424, 3164)\n%s",
				len(got.relp), n, len(got.tcp5424), len(got.tcp3164), p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // duplicates, if any, would arrive now
	if v, err := p.metric(url, "mailtrail_relp_resent_frames_total"); err == nil {
		resent += v
	}
	p.term()
	got = readForwarded(t, db)

	if len(got.foreign) > 0 {
		t.Errorf("%d events are not the lines written, e.g. %q", len(got.foreign), got.foreign[:min(5, len(got.foreign))])
	}
	var relpMissing, relpDups []int
	for i := range n {
		switch c := got.relp[i]; {
		case c == 0:
			relpMissing = append(relpMissing, i)
		case c > 1:
			relpDups = append(relpDups, i)
		}
	}
	if len(relpMissing) > 0 || len(relpDups) > 0 || len(got.relp) != n {
		t.Errorf("over RELP, of %d lines %d are missing %s and %d journaled more than once %s", n, len(relpMissing), ranges(relpMissing), len(relpDups), ranges(relpDups))
	}

	// A line lost over TCP was written no earlier than a commit interval
	// (and slack for imfile, rsyslog's queues and a loaded machine)
	// before a kill, and before the exporter was back. And few are lost
	// at each kill: what one commit interval brings, and the line or two
	// rsyslog writes into the dead connection.
	const slack = 1500 * time.Millisecond
	lostNearKill := func(i int) bool {
		for _, o := range outages {
			if !written[i].Before(o.killed.Add(-flush-slack)) && written[i].Before(o.restarted.Add(slack)) {
				return true
			}
		}
		return false
	}
	for name, counts := range map[string]map[int]int{"RFC 5424": got.tcp5424, "RFC 3164": got.tcp3164} {
		var missing, dups, unexplained []int
		for i := range n {
			switch c := counts[i]; {
			case c == 0:
				missing = append(missing, i)
				if !lostNearKill(i) {
					unexplained = append(unexplained, i)
				}
			case c > 1:
				dups = append(dups, i)
			}
		}
		t.Logf("over TCP in %s: %d of %d lines lost across %d kills %s", name, len(missing), n, len(outages), ranges(missing))
		if len(dups) > 0 {
			t.Errorf("over TCP in %s, %d lines journaled more than once %s", name, len(dups), ranges(dups))
		}
		if len(unexplained) > 0 {
			t.Errorf("over TCP in %s, %d lines lost away from any kill %s", name, len(unexplained), ranges(unexplained))
		}
		// 250 lines a second: 25 a commit interval; ten times that is
		// room for a slow commit, not for a lost batch of seconds.
		if bound := len(outages) * 250; len(missing) > bound {
			t.Errorf("over TCP in %s, %d lines lost across %d kills, want at most %d", name, len(missing), len(outages), bound)
		}
	}
	t.Logf("%d lines, %d kills, %v RELP frames recognised as sent again; took %v", n, len(outages), resent, time.Since(start).Round(time.Millisecond))
}

// relpSend opens a RELP session, sends the lines as syslog frames and
// returns the connection and a reader of its answers.
func relpSend(t *testing.T, addr string, lines []string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var sb strings.Builder
	offers := "relp_version=0\nrelp_software=test\ncommands=syslog"
	fmt.Fprintf(&sb, "1 open %d %s\n", len(offers), offers)
	for i, l := range lines {
		fmt.Fprintf(&sb, "%d syslog %d %s\n", i+2, len(l), l)
	}
	if _, err := conn.Write([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// relpAnswers reads n answers and checks each is "200 OK" for its frame.
func relpAnswers(t *testing.T, conn net.Conn, br *bufio.Reader, n int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for i := 1; i <= n; i++ {
		var txnr, datalen int
		if _, err := fmt.Fscanf(br, "%d rsp %d ", &txnr, &datalen); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		data := make([]byte, datalen+1)
		if _, err := io.ReadFull(br, data); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if txnr != i || !strings.HasPrefix(string(data), "200 OK") {
			t.Fatalf("answer %d: %d %q", i, txnr, data)
		}
	}
}

// The instant between a commit and its acknowledgement, widened: a sender
// whose answers were lost (here: ignored) after its frames were committed
// sends them all again to the restarted exporter, which answers them
// without journaling them twice, from the position the killed run
// committed.
func TestRELPResendAfterKill(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	relpPort := strconv.Itoa(proctest.FreePort(t, "127.0.0.1"))
	args := []string{
		"--journal.path=" + db, "--web.listen-address=127.0.0.1:0", "--instance=t",
		"--syslog.listen-relp=127.0.0.1:" + relpPort, "--postfix.postqueue=",
	}
	addr := "127.0.0.1:" + relpPort
	// As RSYSLOG_TraditionalForwardFormat writes them.
	line := func(n int) string {
		return fmt.Sprintf("<22>%s mx postfix/smtpd[%d]: connect from h%d[192.0.2.1]", time.Now().Format(time.Stamp), n, n)
	}
	var first, second []string
	for n := range 100 {
		first = append(first, line(n))
		second = append(second, line(100+n))
	}
	p := startExporter(t, nil, args...)
	p.metricsURL()
	conn, br := relpSend(t, addr, first)
	relpAnswers(t, conn, br, 101) // open and 100 frames: all committed
	p.kill9()
	conn.Close()

	p = startExporter(t, nil, args...)
	url := p.metricsURL()
	conn, br = relpSend(t, addr, append(first, second...))
	relpAnswers(t, conn, br, 201)
	if v, err := p.metric(url, "mailtrail_relp_resent_frames_total"); err != nil || v != 100 {
		t.Errorf("mailtrail_relp_resent_frames_total %v (%v), want 100", v, err)
	}
	p.term()
	got := readForwarded(t, db)
	var wrong []int
	for n := range 200 {
		if got.relp[n] != 1 {
			wrong = append(wrong, n)
		}
	}
	if len(wrong) > 0 || len(got.relp) != 200 || len(got.foreign) > 0 {
		t.Errorf("lines journaled other than once: %s; %d foreign, e.g. %q", ranges(wrong), len(got.foreign), got.foreign[:min(3, len(got.foreign))])
	}
}
