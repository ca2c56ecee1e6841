package tailer_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// What rsyslog forwards: RFC 3164 with a priority, and RFC 5424 with and
// without structured data.
var (
	msg3164     = "<22>Jun  3 10:40:57 mx postfix/smtpd[9708]: connect from host1.example[192.0.2.1]"
	msg5424     = "<22>1 2026-06-03T10:40:57.123Z mx postfix/smtpd 9709 - - connect from host2.example[192.0.2.2]"
	msg5424SD   = `<22>1 2026-06-03T10:40:58Z mx postfix/smtpd 9710 - [origin ip="192.0.2.250"][meta sequenceId="7"] connect from host3.example[192.0.2.3]`
	syslogRef   = time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	syslogWants = map[string]event.Event{
		msg3164:   {Time: time.Date(2026, 6, 3, 10, 40, 57, 0, time.UTC), PID: 9708, ClientHost: "host1.example", ClientIP: "192.0.2.1"},
		msg5424:   {Time: time.Date(2026, 6, 3, 10, 40, 57, 123e6, time.UTC), PID: 9709, ClientHost: "host2.example", ClientIP: "192.0.2.2"},
		msg5424SD: {Time: time.Date(2026, 6, 3, 10, 40, 58, 0, time.UTC), PID: 9710, ClientHost: "host3.example", ClientIP: "192.0.2.3"},
	}
)

// startSyslog listens on loopback ports the system picks and runs the
// listener until the test ends.
func startSyslog(t *testing.T, maxLineBytes int, obs tailer.Observer) (udp, tcp string, out chan []tailer.Line) {
	t.Helper()
	l, err := tailer.ListenSyslog("127.0.0.1:0", "127.0.0.1:0", maxLineBytes, obs)
	if err != nil {
		t.Fatal(err)
	}
	ua, ta := l.Addrs()
	out = make(chan []tailer.Line, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after ctx ended")
		}
		if c, err := net.Dial("tcp", ta.String()); err == nil {
			c.Close()
			t.Error("TCP socket still accepts connections after Run returned")
		}
	})
	return ua.String(), ta.String(), out
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// checkParsed parses the received messages as the pipeline would and checks
// that each is one of ours with its envelope and message understood.
func checkParsed(t *testing.T, got []tailer.Line) {
	t.Helper()
	p := &parser.Parser{}
	for _, l := range got {
		if l.Source != tailer.SyslogSource || !l.Pos.IsZero() {
			t.Errorf("%q: source %q, position %+v; want %q and none", l.Text, l.Source, l.Pos, tailer.SyslogSource)
		}
		want, ok := syslogWants[l.Text]
		if !ok {
			t.Errorf("received %q, which was not sent", l.Text)
			continue
		}
		e := p.Parse(l.Text, syslogRef)
		if !e.Time.Equal(want.Time) || e.Host != "mx" || e.Service != "postfix" || e.Program != "smtpd" || e.PID != want.PID ||
			e.Kind.String() != "connect" || e.ClientHost != want.ClientHost || e.ClientIP != want.ClientIP {
			t.Errorf("%q parsed as time %v host %q service %q program %q pid %d kind %v client %q[%q]",
				l.Text, e.Time, e.Host, e.Service, e.Program, e.PID, e.Kind, e.ClientHost, e.ClientIP)
		}
	}
}

// One message per datagram; the trailing newline, CR LF or NUL some
// senders add is not part of it.
func TestSyslogUDP(t *testing.T) {
	udp, _, out := startSyslog(t, 0, nil)
	c := dial(t, "udp", udp)
	send(t, c, msg3164)
	send(t, c, msg5424+"\n")
	send(t, c, msg5424SD+"\r\n\x00")
	got := receive(t, out, 3, 100*time.Millisecond)
	want := []string{msg3164, msg5424, msg5424SD}
	if g := texts(got); !equal(sorted(g), sorted(want)) {
		t.Fatalf("received %q, want %q", g, want)
	}
	checkParsed(t, got)
}

// Newline framing: several messages in one segment, one message over
// several, CR LF endings, and a last message ended by closing the
// connection.
func TestSyslogTCPNewlineFraming(t *testing.T) {
	_, tcp, out := startSyslog(t, 0, nil)
	c := dial(t, "tcp", tcp)
	send(t, c, msg3164+"\n"+msg5424+"\r\n")
	send(t, c, msg5424SD[:20])
	time.Sleep(20 * time.Millisecond) // let the first piece be read alone
	send(t, c, msg5424SD[20:]+"\n\n") // an empty line is no message
	send(t, c, msg3164)
	c.Close()
	got := receive(t, out, 4, 100*time.Millisecond)
	if want := []string{msg3164, msg5424, msg5424SD, msg3164}; !equal(texts(got), want) {
		t.Fatalf("received %q, want %q", texts(got), want)
	}
	checkParsed(t, got)
}

// RFC 6587 octet counting: "LEN SP MSG", frames back to back, a frame (and
// its length) split across segments, a message holding a newline.
func TestSyslogTCPOctetCounting(t *testing.T) {
	_, tcp, out := startSyslog(t, 0, nil)
	c := dial(t, "tcp", tcp)
	frame := func(m string) string { return fmt.Sprintf("%d %s", len(m), m) }
	send(t, c, frame(msg3164)+frame(msg5424+"\n"))
	f := frame(msg5424SD)
	send(t, c, f[:2])
	time.Sleep(20 * time.Millisecond)
	send(t, c, f[2:40])
	time.Sleep(20 * time.Millisecond)
	send(t, c, f[40:])
	multi := msg3164 + "\n continued"
	send(t, c, frame(multi))
	got := receive(t, out, 4, 100*time.Millisecond)
	if want := []string{msg3164, msg5424, msg5424SD, multi}; !equal(texts(got), want) {
		t.Fatalf("received %q, want %q", texts(got), want)
	}
	checkParsed(t, got[:3])
}

// Messages over the limit are cut to it and counted, and the stream goes on
// with the next message, in every framing.
func TestSyslogCut(t *testing.T) {
	const max = 100
	obs := &countingObserver{}
	udp, tcp, out := startSyslog(t, max, obs)
	long := msg3164 + " " + strings.Repeat("x", 200)

	send(t, dial(t, "udp", udp), long)
	if got := receive(t, out, 1, 0); got[0].Text != long[:max] || !got[0].Cut {
		t.Errorf("UDP: received %q (cut %v), want %q cut", got[0].Text, got[0].Cut, long[:max])
	}
	nl := dial(t, "tcp", tcp)
	send(t, nl, long+"\n"+msg3164+"\n")
	oc := dial(t, "tcp", tcp)
	send(t, oc, fmt.Sprintf("%d %s%d %s", len(long), long, len(msg3164), msg3164))
	got := receive(t, out, 4, 100*time.Millisecond)
	var cut, whole int
	for _, l := range got {
		switch {
		case l.Text == long[:max] && l.Cut:
			cut++
		case l.Text == msg3164 && !l.Cut:
			whole++
		default:
			t.Errorf("TCP: received %q (cut %v)", l.Text, l.Cut)
		}
	}
	if cut != 2 || whole != 2 {
		t.Errorf("TCP: %d cut and %d whole messages, want 2 and 2", cut, whole)
	}
	if n := obs.cut.Load(); n != 3 {
		t.Errorf("cut messages counted: %d, want 3", n)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
