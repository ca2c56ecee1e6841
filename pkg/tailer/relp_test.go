package tailer_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// startRELP runs a RELP listener on a loopback port until the test ends.
func startRELP(t *testing.T, start event.Position) (l *tailer.RELPListener, out chan []tailer.Line, stop func()) {
	t.Helper()
	l, err := tailer.ListenRELP("127.0.0.1:0", 64<<10, nil, start)
	if err != nil {
		t.Fatal(err)
	}
	out = make(chan []tailer.Line, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, out) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after ctx ended")
		}
	}
	t.Cleanup(stop)
	return l, out, stop
}

// relpClient speaks RELP as librelp's client does.
type relpClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	txnr int
}

func dialRELP(t *testing.T, addr string) *relpClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &relpClient{t: t, conn: conn, br: bufio.NewReader(conn)}
	n := c.send("open", "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog")
	txnr, data := c.rsp()
	if txnr != n || !strings.HasPrefix(data, "200 OK\n") || !strings.Contains(data, "\nrelp_version=0") || !strings.Contains(data, "\ncommands=syslog") {
		t.Fatalf("open answered %d %q", txnr, data)
	}
	return c
}

func (c *relpClient) send(cmd, data string) int {
	c.t.Helper()
	c.txnr++
	frame := fmt.Sprintf("%d %s %d", c.txnr, cmd, len(data))
	if len(data) > 0 {
		frame += " " + data
	}
	if _, err := c.conn.Write([]byte(frame + "\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.txnr
}

// rsp reads one answer, failing after 5s.
func (c *relpClient) rsp() (int, string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.conn.SetReadDeadline(time.Time{})
	txnr, data, err := c.readRsp()
	if err != nil {
		c.t.Fatalf("reading an answer: %v", err)
	}
	return txnr, data
}

func (c *relpClient) readRsp() (int, string, error) {
	head, err := c.br.ReadString(' ')
	if err != nil {
		return 0, "", err
	}
	txnr, _ := strconv.Atoi(strings.TrimSpace(head))
	cmd, err := c.br.ReadString(' ')
	if err != nil {
		return 0, "", err
	}
	if cmd != "rsp " {
		return 0, "", fmt.Errorf("command %q, want rsp", cmd)
	}
	lenText, err := c.br.ReadString(' ')
	if err != nil {
		return 0, "", err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(lenText))
	b := make([]byte, n+1)
	if _, err := io.ReadFull(c.br, b); err != nil {
		return 0, "", err
	}
	if b[n] != '\n' {
		return 0, "", fmt.Errorf("no trailer after %q", b)
	}
	return txnr, string(b[:n]), nil
}

// noRsp checks that no answer arrives within d.
func (c *relpClient) noRsp(d time.Duration) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	if txnr, data, err := c.readRsp(); err == nil {
		c.t.Fatalf("answer %d %q before the frame was committed", txnr, data)
	}
}

func relpMsg(i int) string {
	return fmt.Sprintf("<22>1 2026-12-02T04:00:00.%06d+00:00 mx1 postfix/smtpd %d - -  connect from unknown[127.0.0.5]", i, 100+i)
}

// commit does what ingest does after a batch committed: it asks the last
// line's Checkpointer for the position, then tells every line.
func commit(t *testing.T, ls []tailer.Line) event.Position {
	t.Helper()
	var pos event.Position
	if len(ls) > 0 {
		c, ok := ls[len(ls)-1].Ack.(tailer.Checkpointer)
		if !ok {
			t.Fatalf("a RELP line's Ack is %T, want a Checkpointer", ls[len(ls)-1].Ack)
		}
		pos = c.Checkpoint()
	}
	for _, l := range ls {
		l.Ack.Committed()
	}
	return pos
}

// A syslog frame is answered only once its line is committed; answers
// come in the order of the frames; close is answered after them.
func TestRELPAcknowledgesOnCommit(t *testing.T) {
	l, out, _ := startRELP(t, event.Position{})
	addr := l.Addr().String()
	c := dialRELP(t, addr)
	var txnrs []int
	for i := range 3 {
		txnrs = append(txnrs, c.send("syslog", relpMsg(i)))
	}
	got := receive(t, out, 3, 50*time.Millisecond)
	for i, l := range got {
		if l.Source != tailer.RELPSource || l.Text != relpMsg(i) || !l.Pos.IsZero() {
			t.Errorf("line %d: %+v", i, l)
		}
	}
	c.noRsp(200 * time.Millisecond)
	commit(t, got[:2])
	for _, want := range txnrs[:2] {
		if txnr, data := c.rsp(); txnr != want || data != "200 OK" {
			t.Fatalf("answer %d %q, want %d 200 OK", txnr, data, want)
		}
	}
	c.noRsp(100 * time.Millisecond)
	closeTxnr := c.send("close", "")
	c.noRsp(100 * time.Millisecond) // close waits for frame 3
	commit(t, got[2:])
	for _, want := range []int{txnrs[2], closeTxnr} {
		if txnr, data := c.rsp(); txnr != want || data != "200 OK" {
			t.Fatalf("answer %d %q, want %d 200 OK", txnr, data, want)
		}
	}
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := c.br.ReadByte(); err == nil {
		t.Fatalf("read %q after close was answered, want the connection closed", b)
	}
}

// A sender that lost its session sends again, first, what it had not seen
// answered. What was committed meanwhile, or is on its way, is answered
// without being handed on again; the rest is handed on.
func TestRELPResentFramesAreNotRepeated(t *testing.T) {
	l, out, _ := startRELP(t, event.Position{})
	addr := l.Addr().String()
	c1 := dialRELP(t, addr)
	for i := range 5 {
		c1.send("syslog", relpMsg(i))
	}
	first := receive(t, out, 5, 50*time.Millisecond)
	c1.conn.Close() // before any answer: the sender knows of none
	commit(t, first[:3])

	c2 := dialRELP(t, addr)
	var txnrs []int
	for i := range 7 { // 0-4 again, then two new ones
		txnrs = append(txnrs, c2.send("syslog", relpMsg(i)))
	}
	// 0-2 are committed: answered at once. 3 and 4 are on their way (in
	// ingest): answered once they commit, not handed on again.
	for _, want := range txnrs[:3] {
		if txnr, data := c2.rsp(); txnr != want || data != "200 OK" {
			t.Fatalf("answer %d %q, want %d 200 OK", txnr, data, want)
		}
	}
	second := receive(t, out, 2, 100*time.Millisecond)
	if second[0].Text != relpMsg(5) || second[1].Text != relpMsg(6) {
		t.Fatalf("handed on %q, want only the two new frames", texts(second))
	}
	c2.noRsp(100 * time.Millisecond)
	if n := l.Resent(); n != 5 {
		t.Errorf("Resent() = %d, want 5", n)
	}
	commit(t, first[3:])
	commit(t, second)
	for _, want := range txnrs[3:] {
		if txnr, data := c2.rsp(); txnr != want || data != "200 OK" {
			t.Fatalf("answer %d %q, want %d 200 OK", txnr, data, want)
		}
	}

	// A frame like a remembered one after the session's first new frame
	// is a new message, not a resend.
	c2.send("syslog", relpMsg(0))
	if again := receive(t, out, 1, 50*time.Millisecond); again[0].Text != relpMsg(0) {
		t.Fatalf("handed on %q", again[0].Text)
	}
}

// After a restart, the frames the last run committed (the saved position)
// are recognised when the sender sends them again.
func TestRELPResentFramesAfterRestart(t *testing.T) {
	l1, out, stop := startRELP(t, event.Position{})
	c1 := dialRELP(t, l1.Addr().String())
	for i := range 4 {
		c1.send("syslog", relpMsg(i))
	}
	first := receive(t, out, 4, 50*time.Millisecond)
	pos := commit(t, first[:2]) // the crash comes before 2 and 3 commit
	stop()

	l2, out2, _ := startRELP(t, pos)
	c2 := dialRELP(t, l2.Addr().String())
	var txnrs []int
	for i := range 4 {
		txnrs = append(txnrs, c2.send("syslog", relpMsg(i)))
	}
	for _, want := range txnrs[:2] {
		if txnr, _ := c2.rsp(); txnr != want {
			t.Fatalf("answer %d, want %d", txnr, want)
		}
	}
	got := receive(t, out2, 2, 100*time.Millisecond)
	if got[0].Text != relpMsg(2) || got[1].Text != relpMsg(3) {
		t.Fatalf("handed on %q, want frames 2 and 3", texts(got))
	}
	pos2 := commit(t, got)
	for _, want := range txnrs[2:] {
		if txnr, _ := c2.rsp(); txnr != want {
			t.Fatalf("answer %d, want %d", txnr, want)
		}
	}
	// The new position remembers all four.
	l3, out3, _ := startRELP(t, pos2)
	c3 := dialRELP(t, l3.Addr().String())
	for i := range 4 {
		c3.send("syslog", relpMsg(i))
	}
	for range 4 {
		c3.rsp()
	}
	receive(t, out3, 0, 100*time.Millisecond)
}

// The position keeps the newest RELPRemember frames and no more.
func TestRELPPositionIsBounded(t *testing.T) {
	l, out, _ := startRELP(t, event.Position{})
	addr := l.Addr().String()
	c := dialRELP(t, addr)
	n := tailer.RELPRemember + 300
	go func() {
		for i := range n {
			c.send("syslog", relpMsg(i))
		}
	}()
	got := receive(t, out, n, 50*time.Millisecond)
	pos := commit(t, got)
	// base64 of 8 bytes per frame
	if want := len("relp1:") + (8*tailer.RELPRemember*4+2)/3; len(pos.Cursor) != want {
		t.Errorf("position of %d bytes, want %d", len(pos.Cursor), want)
	}
}

// Frames that break the grammar end the session: it cannot be
// resynchronised.
func TestRELPBadFrames(t *testing.T) {
	l, out, _ := startRELP(t, event.Position{})
	addr := l.Addr().String()
	for _, bad := range []string{
		"x open 0\n",
		"1 op3n 0\n",
		"1 syslog 3 abcd\n",
		"1 syslog 9999999999 x\n",
		"1 syslog 2000000 x\n",
		"1234567890 open 0\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(bad))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, err := conn.Read(buf)
		if err == nil {
			t.Errorf("%q: read %q, want the connection closed", bad, buf[:n])
		}
		conn.Close()
	}
	// Before open, syslog is refused; unknown commands are answered 500.
	c := &relpClient{t: t}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.conn, c.br = conn, bufio.NewReader(conn)
	c.send("syslog", relpMsg(0))
	if _, data := c.rsp(); !strings.HasPrefix(data, "500") {
		t.Errorf("syslog before open answered %q, want 500", data)
	}
	c.send("starttls", "")
	if _, data := c.rsp(); !strings.HasPrefix(data, "500") {
		t.Errorf("starttls answered %q, want 500", data)
	}
	receive(t, out, 0, 50*time.Millisecond)
}
