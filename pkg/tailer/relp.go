package tailer

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// RELPSource is the source name of lines received over RELP.
const RELPSource = "relp"

// RELPRemember is how many of the newest frames the RELP listener
// remembers, committed with every batch, to recognise them when a sender
// sends them again: a frame committed whose acknowledgement the sender
// never received (the exporter died, or the connection broke, in between)
// is sent again on the next session. rsyslog's omrelp keeps at most its
// window (128 frames by default) unacknowledged, so this covers eight
// senders at full window.
const RELPRemember = 1024

// relpMaxFrame bounds a frame's data: a larger one is an attack or a
// broken stream, and the session is dropped.
const relpMaxFrame = 1 << 20

// RELPListener receives syslog messages over RELP, the Reliable Event
// Logging Protocol of rsyslog's omrelp (librelp's doc/relp.md): frames
// "TXNR SP COMMAND SP DATALEN [SP DATA] LF"; the client opens a session
// with "open" (offers), sends each message as a "syslog" command and ends
// with "close"; the server answers every command, in order, with "rsp".
//
// A syslog frame is answered "200 OK" only once its line is committed to
// the journal (Line.Ack), so a sender keeps, and after a crash sends
// again, everything not committed: nothing is lost. Nor is anything
// journaled twice: the newest frames' hashes are committed with each
// batch (the source's position), and a session whose first frames are
// frames already committed, or on their way to be, has them acknowledged
// without journaling them again.
type RELPListener struct {
	ln       net.Listener
	maxBytes int
	obs      Observer

	// sendMu keeps frames in the order of their sequence numbers on the
	// way to the journal, so that the newest committed one tells which
	// are committed.
	sendMu sync.Mutex

	mu sync.Mutex
	// recent holds the hashes of the frames handed on (or loaded from the
	// saved position), oldest first; recent[i] has sequence number base+i.
	recent    []uint64
	base      uint64
	committed uint64 // the newest committed sequence number
	sessions  map[*relpSession]struct{}

	resent atomic.Int64
}

// ListenRELP binds addr. start is the source's saved position: the frames
// the last run committed.
func ListenRELP(addr string, maxLineBytes int, obs Observer, start event.Position) (*RELPListener, error) {
	if maxLineBytes <= 0 {
		maxLineBytes = 64 << 10
	}
	if obs == nil {
		obs = NopObserver{}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("relp listener: %w", err)
	}
	l := &RELPListener{ln: ln, maxBytes: maxLineBytes, obs: obs, base: 1, sessions: map[*relpSession]struct{}{}}
	// A position that cannot be read only costs the recognition of
	// resent frames, never a line.
	l.recent = decodeRELPPosition(start)
	l.committed = uint64(len(l.recent))
	return l, nil
}

// Addr returns the bound address.
func (l *RELPListener) Addr() net.Addr { return l.ln.Addr() }

// Resent counts the frames a sender sent again that were already
// journaled or on their way: answered, not journaled twice.
func (l *RELPListener) Resent() int64 { return l.resent.Load() }

// Close releases the socket of a listener that will not Run.
func (l *RELPListener) Close() { l.ln.Close() }

const relpPositionPrefix = "relp1:"

// decodeRELPPosition reads the frame hashes a position holds.
func decodeRELPPosition(p event.Position) []uint64 {
	enc, ok := strings.CutPrefix(p.Cursor, relpPositionPrefix)
	if !ok {
		return nil
	}
	b, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(b)%8 != 0 {
		return nil
	}
	hs := make([]uint64, len(b)/8)
	for i := range hs {
		hs[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return hs
}

// position is the source's position once frames up to seq are committed:
// the hashes of the newest RELPRemember of them.
func (l *RELPListener) position(seq uint64) event.Position {
	l.mu.Lock()
	end := int(seq - l.base + 1)
	if seq < l.base {
		end = 0
	}
	end = min(end, len(l.recent))
	from := max(0, end-RELPRemember)
	b := make([]byte, 8*(end-from))
	for i, h := range l.recent[from:end] {
		binary.LittleEndian.PutUint64(b[8*i:], h)
	}
	l.mu.Unlock()
	return event.Position{Cursor: relpPositionPrefix + base64.RawStdEncoding.EncodeToString(b)}
}

// commit records that frames up to seq are committed and wakes the
// sessions, whose answers may now go out.
func (l *RELPListener) commit(seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq <= l.committed {
		return
	}
	l.committed = seq
	// What is older than the newest RELPRemember committed frames is
	// neither saved nor looked for again; it goes in chunks, not one
	// copy of the rest per frame.
	if drop := int(int64(seq) - RELPRemember - int64(l.base) + 1); drop >= RELPRemember {
		drop = min(drop, len(l.recent))
		l.recent = append(l.recent[:0], l.recent[drop:]...)
		l.base += uint64(drop)
	}
	for s := range l.sessions {
		s.wake()
	}
}

// relpAck is a frame's line's Acker.
type relpAck struct {
	l    *RELPListener
	seq  uint64 // given when the line is handed on
	hash uint64
}

func (a *relpAck) Committed() { a.l.commit(a.seq) }

func (a *relpAck) Checkpoint() event.Position { return a.l.position(a.seq) }

// Run accepts sessions until ctx ends, then closes the socket and every
// session.
func (l *RELPListener) Run(ctx context.Context, out chan<- []Line) error {
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		l.ln.Close()
	}()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.serve(ctx, conn, out)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// relpRsp is an answer waiting to be sent: once the frame numbered seq is
// committed (0: at once), and after every answer before it.
type relpRsp struct {
	txnr  string
	data  string
	seq   uint64
	close bool // the session ends once it is sent
}

// pending is the seq of an answer whose frame has no number yet.
const pending = math.MaxUint64

type relpSession struct {
	l    *RELPListener
	conn net.Conn
	// queue holds the answers not yet sent, in order; guarded by l.mu,
	// as are the seqs in it.
	queue []*relpRsp
	woken chan struct{}
	// resending holds while the session's frames so far were all frames
	// seen before: a sender sends what it has not seen acknowledged first,
	// in order, after reconnecting.
	resending bool
	matched   map[uint64]bool // the remembered frames this session matched
}

func (s *relpSession) wake() {
	select {
	case s.woken <- struct{}{}:
	default:
	}
}

// serve runs one session: this goroutine reads and hands frames on, a
// second one writes the answers as their frames commit.
func (l *RELPListener) serve(ctx context.Context, conn net.Conn, out chan<- []Line) {
	s := &relpSession{l: l, conn: conn, woken: make(chan struct{}, 1), resending: true, matched: map[uint64]bool{}}
	l.mu.Lock()
	l.sessions[s] = struct{}{}
	l.mu.Unlock()
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeAnswers(ctx, stop)
	}()
	defer func() {
		close(stop)
		<-writerDone
		conn.Close()
		l.mu.Lock()
		delete(l.sessions, s)
		l.mu.Unlock()
	}()
	br := bufio.NewReaderSize(conn, 64<<10)
	var batch []Line
	var batchRsps []*relpRsp
	// Frames read go on together before the next read that may block.
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		err := l.handOn(ctx, out, batch, batchRsps)
		batch, batchRsps = nil, nil
		return err == nil
	}
	defer flush()
	opened := false
	for {
		if br.Buffered() == 0 || len(batch) >= maxBatch {
			if !flush() {
				return
			}
		}
		txnr, cmd, data, err := readRELPFrame(br)
		if err != nil {
			return // a broken frame cannot be resynchronised (relp.md: close)
		}
		switch {
		case cmd == "open":
			opened = true
			s.answer(&relpRsp{txnr: txnr, data: "200 OK\nrelp_version=0\nrelp_software=mailtrail\ncommands=syslog"})
		case cmd == "syslog" && opened:
			r := &relpRsp{txnr: txnr}
			msg := strings.TrimRight(string(data), "\r\n\x00")
			h := hashFrame(data)
			if s.resending {
				if seq, ok := s.seen(h); ok {
					l.resent.Add(1)
					r.seq = seq
					s.answer(r)
					continue
				}
				s.resending = false
			}
			cut := len(msg) > l.maxBytes
			if cut {
				msg = msg[:l.maxBytes]
				l.obs.LineCut(RELPSource)
			}
			r.seq = pending
			ack := &relpAck{l: l, hash: h}
			batch = append(batch, Line{Source: RELPSource, Text: msg, Cut: cut, Ack: ack})
			batchRsps = append(batchRsps, r)
			s.answer(r)
		case cmd == "close":
			// Answered after every frame before it, then the session ends.
			if !flush() {
				return
			}
			s.answer(&relpRsp{txnr: txnr, data: "200 OK", close: true})
			select {
			case <-writerDone:
			case <-ctx.Done():
			}
			return
		default:
			s.answer(&relpRsp{txnr: txnr, data: "500 command not supported"})
		}
	}
}

// handOn numbers the batch's frames, remembers their hashes and sends
// the lines on; numbering and sending are one step, so that lines reach
// the journal in the order of their numbers.
func (l *RELPListener) handOn(ctx context.Context, out chan<- []Line, batch []Line, rsps []*relpRsp) error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	l.mu.Lock()
	for i := range batch {
		a := batch[i].Ack.(*relpAck)
		l.recent = append(l.recent, a.hash)
		a.seq = l.base + uint64(len(l.recent)) - 1
		rsps[i].seq = a.seq
	}
	l.mu.Unlock()
	return send(ctx, out, batch)
}

// seen looks for a frame with hash h among the remembered ones this
// session has not matched yet, and returns its number.
func (s *relpSession) seen(h uint64) (uint64, bool) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range l.recent {
		seq := l.base + uint64(i)
		if r == h && !s.matched[seq] {
			s.matched[seq] = true
			return seq, true
		}
	}
	return 0, false
}

func (s *relpSession) answer(r *relpRsp) {
	s.l.mu.Lock()
	s.queue = append(s.queue, r)
	s.l.mu.Unlock()
	s.wake()
}

// writeAnswers sends the answers whose frames are committed, in order,
// until stop closes or a close is answered.
func (s *relpSession) writeAnswers(ctx context.Context, stop <-chan struct{}) {
	bw := bufio.NewWriter(s.conn)
	var ready []*relpRsp
	for {
		select {
		case <-s.woken:
		case <-stop:
			return
		case <-ctx.Done():
			// A hint that the session ends (relp.md "serverclose"); what
			// is unanswered will be sent again.
			s.conn.SetWriteDeadline(time.Now().Add(time.Second))
			bw.WriteString("0 serverclose 0\n")
			bw.Flush()
			s.conn.Close()
			return
		}
		s.l.mu.Lock()
		n := 0
		for n < len(s.queue) && s.queue[n].seq != pending && s.queue[n].seq <= s.l.committed {
			n++
		}
		ready = append(ready[:0], s.queue[:n]...)
		s.queue = append(s.queue[:0], s.queue[n:]...)
		s.l.mu.Unlock()
		closing := false
		for _, r := range ready {
			data := r.data
			if data == "" {
				data = "200 OK"
			}
			fmt.Fprintf(bw, "%s rsp %d %s\n", r.txnr, len(data), data)
			closing = closing || r.close
		}
		if err := bw.Flush(); err != nil {
			s.conn.Close() // the reader stops too
			return
		}
		if closing {
			s.conn.Close()
			return
		}
	}
}

// readRELPFrame reads "TXNR SP COMMAND SP DATALEN [SP DATA] LF".
func readRELPFrame(br *bufio.Reader) (txnr, cmd string, data []byte, err error) {
	if txnr, err = readRELPToken(br, 9, isDigitByte); err != nil {
		return "", "", nil, err
	}
	if cmd, err = readRELPToken(br, 32, isAlphaByte); err != nil {
		return "", "", nil, err
	}
	// DATALEN ends with SP before data, or with the trailer when 0.
	var num []byte
	var c byte
	for {
		if c, err = br.ReadByte(); err != nil {
			return "", "", nil, err
		}
		if !isDigitByte(c) {
			break
		}
		if num = append(num, c); len(num) > 9 {
			return "", "", nil, errors.New("relp: DATALEN too long")
		}
	}
	n, err := strconv.Atoi(string(num))
	if err != nil || n > relpMaxFrame {
		return "", "", nil, fmt.Errorf("relp: bad DATALEN %q", num)
	}
	if n > 0 {
		if c != ' ' {
			return "", "", nil, errors.New("relp: no space before data")
		}
		data = make([]byte, n)
		if _, err = io.ReadFull(br, data); err != nil {
			return "", "", nil, err
		}
		if c, err = br.ReadByte(); err != nil {
			return "", "", nil, err
		}
	}
	if c != '\n' {
		return "", "", nil, errors.New("relp: frame does not end with LF")
	}
	return txnr, cmd, data, nil
}

// readRELPToken reads up to max bytes of the given class and the space
// after them.
func readRELPToken(br *bufio.Reader, max int, class func(byte) bool) (string, error) {
	var b []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		if c == ' ' && len(b) > 0 {
			return string(b), nil
		}
		if !class(c) || len(b) == max {
			return "", fmt.Errorf("relp: bad frame header near %q", append(b, c))
		}
		b = append(b, c)
	}
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func isAlphaByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// hashFrame is FNV-1a over a frame's data: stable across runs, as the
// saved position needs.
func hashFrame(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
