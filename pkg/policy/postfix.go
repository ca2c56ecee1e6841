package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// Limits of one Postfix policy request. Postfix sends about 30 attributes
// of a few dozen bytes each (SMTPD_POLICY_README); the limits leave room
// for long certificate subjects and SASL names and bound what a broken or
// hostile client can make the service hold.
const (
	// MaxLineBytes is the longest name=value line kept; a longer one is
	// read to its end and dropped, and the request answered DUNNO.
	MaxLineBytes = 4096
	// MaxAttributes is how many lines one request may have.
	MaxAttributes = 256
	// MaxRequestBytes is how much one request may send before its empty
	// line; beyond it the request is answered DUNNO and the connection
	// closed, since its end cannot be found in bounded memory.
	MaxRequestBytes = 256 << 10
)

// PostfixRequest is the part of an smtpd_access_policy request the
// decision needs.
type PostfixRequest struct {
	Request       string // "smtpd_access_policy"
	ProtocolState string
	ClientAddress string
	SASLUsername  string
	PolicyContext string
	Instance      string
	Attributes    int // name=value lines read
	problem       string
}

// Problem is why the request cannot be decided on ("" when it can).
func (r *PostfixRequest) Problem() string { return r.problem }

func (r *PostfixRequest) fail(format string, args ...any) {
	if r.problem == "" {
		r.problem = fmt.Sprintf(format, args...)
	}
}

// ErrTooLarge ends a connection whose request grew past MaxRequestBytes.
var ErrTooLarge = errors.New("policy request larger than the limit")

// ReadPostfixRequest reads one request, up to and including its empty
// line. A malformed request (a line without "=", a line or attribute
// count over the limits, a missing request attribute) is still read to
// its end and returned with a Problem, so that the connection stays in
// step; an error means the connection cannot go on: io.EOF before any
// line (the client closed between requests), io.ErrUnexpectedEOF within
// one, ErrTooLarge, or the reader's error. r must have been made with a
// buffer of at least MaxLineBytes (NewPostfixReader).
func ReadPostfixRequest(r *bufio.Reader) (*PostfixRequest, error) {
	req := &PostfixRequest{}
	total, lines := 0, 0
	for {
		line, err := r.ReadSlice('\n')
		total += len(line)
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: skip to its end.
			req.fail("line %d is longer than %d bytes", lines+1, MaxLineBytes)
			for errors.Is(err, bufio.ErrBufferFull) {
				if total > MaxRequestBytes {
					return req, ErrTooLarge
				}
				line, err = r.ReadSlice('\n')
				total += len(line)
			}
			lines++
			if err != nil {
				return req, unexpected(err)
			}
			continue
		}
		if err != nil {
			if err == io.EOF && total == 0 {
				return nil, io.EOF
			}
			return req, unexpected(err)
		}
		if total > MaxRequestBytes {
			return req, ErrTooLarge
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
		if len(line) == 0 {
			break
		}
		lines++
		if lines > MaxAttributes {
			req.fail("more than %d attributes", MaxAttributes)
			continue
		}
		name, value, ok := bytes.Cut(line, []byte{'='})
		if !ok || len(name) == 0 {
			req.fail("line %d is not name=value: %q", lines, cutQuote(line))
			continue
		}
		if bytes.IndexByte(line, 0) >= 0 {
			req.fail("line %d holds a NUL byte", lines)
			continue
		}
		req.Attributes++
		// Only the attributes the decision reads are kept (and copied,
		// since line points into the reader's buffer); repeated ones
		// keep the last value, as the protocol allows.
		switch string(name) {
		case "request":
			req.Request = string(value)
		case "protocol_state":
			req.ProtocolState = strings.ToLower(string(value))
		case "client_address":
			req.ClientAddress = string(value)
		case "sasl_username":
			req.SASLUsername = string(value)
		case "policy_context":
			req.PolicyContext = string(value)
		case "instance":
			req.Instance = string(value)
		}
	}
	switch {
	case lines == 0:
		req.fail("empty request (an empty line with no attributes)")
	case req.Request == "":
		req.fail("no request attribute")
	case req.Request != "smtpd_access_policy":
		req.fail("request=%q is not smtpd_access_policy", cutQuote([]byte(req.Request)))
	}
	if req.ClientAddress != "" {
		if _, err := netipParse(req.ClientAddress); err != nil {
			req.fail("client_address=%q is not an IP address", cutQuote([]byte(req.ClientAddress)))
		}
	}
	return req, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// cutQuote shortens a value for a log line.
func cutQuote(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// NewPostfixReader is a reader ReadPostfixRequest can use.
func NewPostfixReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, MaxLineBytes) }

// PostfixAction is the action= answer for a decision: DUNNO unless the
// decision refuses and is not a dry run.
func PostfixAction(d Decision) string {
	if !d.Refuse || d.DryRun {
		return "DUNNO"
	}
	verb := "REJECT"
	switch d.Response {
	case "defer_if_permit":
		verb = "DEFER_IF_PERMIT"
	case "hold":
		verb = "HOLD"
	}
	if d.Text == "" {
		return verb
	}
	return verb + " " + oneLine(d.Text)
}

// oneLine keeps an answer's text on its line: a newline in it would end
// the answer early and desynchronise the connection.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

// PostfixServer serves the policy delegation protocol.
type PostfixServer struct {
	Decider Decider
	Metrics *Metrics
	Logger  *slog.Logger
	// IdleTimeout closes a connection that sends no request for this long
	// (Postfix's smtpd_policy_service_max_idle is 300s, after which it
	// closes its side); 0 means 330s. RequestTimeout bounds the time from
	// a request's first byte to its empty line (Postfix writes it at
	// once); 0 means 10s.
	IdleTimeout, RequestTimeout time.Duration
	// MaxConns bounds the open connections (each smtpd process keeps
	// one); beyond it a new one is closed at once, which Postfix treats
	// as its default_action. 0 means 1000.
	MaxConns int

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Serve answers connections on l until l is closed.
func (s *PostfixServer) Serve(l net.Listener) error {
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = 1000
	}
	logger := orDiscard(s.Logger)
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("policy service: accept: %w", err)
		}
		s.mu.Lock()
		if len(s.conns) >= maxConns {
			s.mu.Unlock()
			logger.Warn("postfix policy: too many connections; closing a new one (Postfix applies its default_action)", "max", maxConns)
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c, logger)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close ends the open connections and waits for their handlers (the
// listener is its owner's to close).
func (s *PostfixServer) Close() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *PostfixServer) handle(c net.Conn, logger *slog.Logger) {
	defer c.Close()
	idle, reqTimeout := s.IdleTimeout, s.RequestTimeout
	if idle <= 0 {
		idle = 330 * time.Second
	}
	if reqTimeout <= 0 {
		reqTimeout = 10 * time.Second
	}
	r := NewPostfixReader(c)
	w := bufio.NewWriter(c)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		// The first byte of a request starts its own, shorter clock.
		if _, err := r.Peek(1); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				logger.Debug("postfix policy: connection ends", "err", err)
			}
			return
		}
		c.SetReadDeadline(time.Now().Add(reqTimeout))
		req, err := ReadPostfixRequest(r)
		start := time.Now()
		if err != nil {
			if req != nil {
				// Half a request: answer it, so the client is not left
				// waiting if it still reads, then close.
				logger.Warn("postfix policy: unreadable request; answering DUNNO and closing the connection", "err", err, "remote", c.RemoteAddr().String())
				s.Metrics.count(ProtocolPostfix, Decision{Reason: ReasonMalformed}, 0)
				c.SetWriteDeadline(time.Now().Add(reqTimeout))
				fmt.Fprint(w, "action=DUNNO\n\n")
				w.Flush()
			}
			return
		}
		var d Decision
		if p := req.Problem(); p != "" {
			logger.Warn("postfix policy: malformed request; answering DUNNO", "problem", p, "attributes", req.Attributes)
			d = Decision{Reason: ReasonMalformed}
		} else {
			d = s.Decider.Decide(Query{
				Protocol: ProtocolPostfix, Stage: req.ProtocolState, ClientIP: req.ClientAddress,
				User: req.SASLUsername, Service: req.PolicyContext,
			})
		}
		w.WriteString("action=")
		w.WriteString(PostfixAction(d))
		w.WriteString("\n\n")
		// Counted before it is sent: whoever has the answer sees it
		// counted.
		s.Metrics.count(ProtocolPostfix, d, time.Since(start))
		c.SetWriteDeadline(time.Now().Add(reqTimeout))
		if err := w.Flush(); err != nil {
			logger.Debug("postfix policy: write answer", "err", err)
			return
		}
	}
}
