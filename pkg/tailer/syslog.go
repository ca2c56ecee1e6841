package tailer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
)

// SyslogSource is the source name of lines received over the network.
const SyslogSource = "syslog"

// SyslogListener receives RFC 3164 and RFC 5424 messages over UDP (one
// message per datagram) and TCP (RFC 6587: octet-counted or
// newline-delimited), so rsyslog or syslog-ng on another host can forward
// their mail logs. Lines received are not re-sendable: a crash loses what
// was received but not yet journaled.
type SyslogListener struct {
	udp      net.PacketConn
	tcp      net.Listener
	maxBytes int
	obs      Observer
}

// ListenSyslog binds the given addresses ("" leaves a transport off).
func ListenSyslog(udpAddr, tcpAddr string, maxLineBytes int, obs Observer) (*SyslogListener, error) {
	if maxLineBytes <= 0 {
		maxLineBytes = 64 << 10
	}
	if obs == nil {
		obs = NopObserver{}
	}
	l := &SyslogListener{maxBytes: maxLineBytes, obs: obs}
	var err error
	if udpAddr != "" {
		if l.udp, err = net.ListenPacket("udp", udpAddr); err != nil {
			return nil, fmt.Errorf("syslog listener: %w", err)
		}
	}
	if tcpAddr != "" {
		if l.tcp, err = net.Listen("tcp", tcpAddr); err != nil {
			if l.udp != nil {
				l.udp.Close()
			}
			return nil, fmt.Errorf("syslog listener: %w", err)
		}
	}
	return l, nil
}

// Addrs returns the bound addresses (nil for a transport that is off).
func (l *SyslogListener) Addrs() (udp, tcp net.Addr) {
	if l.udp != nil {
		udp = l.udp.LocalAddr()
	}
	if l.tcp != nil {
		tcp = l.tcp.Addr()
	}
	return udp, tcp
}

// Close releases the sockets of a listener that will not Run.
func (l *SyslogListener) Close() {
	if l.udp != nil {
		l.udp.Close()
	}
	if l.tcp != nil {
		l.tcp.Close()
	}
}

// Run receives messages until ctx ends, then closes the sockets.
func (l *SyslogListener) Run(ctx context.Context, out chan<- []Line) error {
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	if l.udp != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, _, err := l.udp.ReadFrom(buf)
				if err != nil {
					return
				}
				msg := strings.TrimRight(string(buf[:n]), "\r\n\x00")
				cut := len(msg) > l.maxBytes
				if cut {
					msg = msg[:l.maxBytes]
					l.obs.LineCut(SyslogSource)
				}
				if send(ctx, out, []Line{{Source: SyslogSource, Text: msg, Cut: cut}}) != nil {
					return
				}
			}
		}()
	}
	if l.tcp != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				conn, err := l.tcp.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer conn.Close()
					go func() { <-ctx.Done(); conn.Close() }()
					l.serveTCP(ctx, conn, out)
				}()
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// serveTCP reads one connection's messages. A frame starting with a digit
// is octet-counted ("LEN SP MSG"); otherwise messages end at a newline.
func (l *SyslogListener) serveTCP(ctx context.Context, conn net.Conn, out chan<- []Line) {
	br := bufio.NewReaderSize(conn, 64<<10)
	// Messages already read go out together before the next read that may
	// block, and whatever is left when the connection ends.
	var batch []Line
	defer func() { send(ctx, out, batch) }()
	for {
		var err error
		if batch, err = sendBefore(ctx, out, br, batch); err != nil {
			return
		}
		first, err := br.Peek(1)
		if err != nil {
			return
		}
		var msg string
		cut := false
		if first[0] >= '0' && first[0] <= '9' {
			lenText, err := br.ReadString(' ')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
			if err != nil || n < 0 || n > 1<<20 {
				return // not a frame: the stream cannot be resynchronised
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				return
			}
			if len(b) > l.maxBytes {
				b, cut = b[:l.maxBytes], true
			}
			msg = strings.TrimRight(string(b), "\r\n")
		} else {
			msg, cut, err = readLine(br, l.maxBytes)
			if err != nil && !(errors.Is(err, io.EOF) && msg != "") {
				return
			}
			msg = strings.TrimRight(msg, "\r")
		}
		if cut {
			l.obs.LineCut(SyslogSource)
		}
		if msg != "" {
			batch = append(batch, Line{Source: SyslogSource, Text: msg, Cut: cut})
		}
	}
}
