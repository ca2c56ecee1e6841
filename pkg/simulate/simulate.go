// Package simulate writes a realistic, deterministic Postfix/Dovecot mail log
// and counts what it wrote, so tests and benchmarks can check the exporter
// against an exact ground truth.
//
// The simulator plays scenarios (an inbound SMTP session, a SASL submission,
// a postscreen rejection, an IMAP login, a brute-force burst, ...) whose lines
// are scheduled at future times on a priority queue, so concurrent scenarios
// interleave as on a real server while the output stays in time order. A
// line is counted in the Truth only when it is emitted, so any cut of the
// output has an exact truth.
package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Format is the syslog timestamp format of the envelope.
type Format uint8

const (
	// RFC3164 is the traditional "Jun  1 00:00:00 host prog[pid]: msg".
	RFC3164 Format = iota
	// RFC3339 is rsyslog's high-precision
	// "2024-06-01T00:00:00.000000+00:00 host prog[pid]: msg".
	RFC3339
)

func (f Format) String() string {
	if f == RFC3339 {
		return "rfc3339"
	}
	return "rfc3164"
}

// ParseFormat is the inverse of Format.String.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "rfc3164":
		return RFC3164, nil
	case "rfc3339":
		return RFC3339, nil
	}
	return 0, fmt.Errorf("unknown log format %q (want rfc3164 or rfc3339)", s)
}

// DefaultStart is where simulated time begins when Config.Start is zero.
var DefaultStart = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// Config tunes the simulation. The zero value is a sensible small server;
// zero fields take the defaults named in their comments.
type Config struct {
	// Seed selects the run: the same Config gives byte-identical output.
	Seed uint64
	// Start is the time of the first scenario (default DefaultStart).
	// Timestamps are written in Start's location.
	Start time.Time
	// Format is the envelope's timestamp format (default RFC3164).
	Format Format
	// Hostname is the envelope's host field (default "mail").
	Hostname string
	// SecondInstance is the syslog name of the outbound Postfix instance the
	// first one relays to (default "postfix-out").
	SecondInstance string
	// RelayPercent is the share of submitted messages the first instance
	// relays through the second one instead of delivering itself (default
	// 40; negative disables the second instance).
	RelayPercent int
	// ClientIPs, Users and Domains size the pools of remote client
	// addresses, local mailbox users and remote domains (defaults 5000, 200,
	// 1000). While a pool has unused members, each pick takes a new one
	// with probability 3/4, so a run needs roughly 4/3 picks per member to
	// use the whole pool (see Truth.Distinct*).
	ClientIPs, Users, Domains int
	// MeanGap is the mean time between scenario starts (default 2s); the
	// gaps are exponentially distributed.
	MeanGap time.Duration
	// MalformedPerMille is the share of scenarios that write a foreign or
	// cut line (default 10; negative disables).
	MalformedPerMille int
	// BruteForce schedules password-guessing bursts.
	BruteForce BruteForce
}

// BruteForce describes the password-guessing bursts. Bursts alternate
// between an "ip" burst (one address hammering SASL on
// postfix/submission/smtpd) and a "user" burst (many pool addresses trying
// one user against Dovecot IMAP), starting with "ip".
type BruteForce struct {
	// Every starts a burst at every Every-th scenario (default 5000;
	// negative disables bursts).
	Every int
	// Attempts is the number of failure lines per burst (default 60).
	Attempts int
	// IP is the address of "ip" bursts (default "203.0.113.66", outside the
	// client pool).
	IP string
	// User is the target of "user" bursts (default "admin@example.com",
	// outside the user pool).
	User string
}

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.Hostname == "" {
		c.Hostname = "mail"
	}
	if c.SecondInstance == "" {
		c.SecondInstance = "postfix-out"
	}
	if c.RelayPercent == 0 {
		c.RelayPercent = 40
	}
	if c.ClientIPs <= 0 {
		c.ClientIPs = 5000
	}
	if c.Users <= 0 {
		c.Users = 200
	}
	if c.Domains <= 0 {
		c.Domains = 1000
	}
	if c.MeanGap <= 0 {
		c.MeanGap = 2 * time.Second
	}
	if c.MalformedPerMille == 0 {
		c.MalformedPerMille = 10
	}
	if c.BruteForce.Every == 0 {
		c.BruteForce.Every = 5000
	}
	if c.BruteForce.Attempts <= 0 {
		c.BruteForce.Attempts = 60
	}
	if c.BruteForce.IP == "" {
		c.BruteForce.IP = "203.0.113.66"
	}
	if c.BruteForce.User == "" {
		c.BruteForce.User = "admin@example.com"
	}
	return c
}

// pending is a scheduled line. The body is everything after the host field;
// the envelope is added on emission.
type pending struct {
	t    int64 // unix microseconds
	seq  uint64
	body string
	slot int32
	sub  [2]int32 // subset slots, -1 when unused
	subN int32    // weight of sub[1] (sub[0] always counts 1)
	ip   int32    // pool indices to mark as seen, -1 when none
	user int32
	dom  int32
}

// pool hands out indices of a pool of n members and records which ones were
// written.
type pool struct {
	n, issued int
	seen      []uint64
	distinct  int
}

func newPool(n int) pool { return pool{n: n, seen: make([]uint64, (n+63)/64)} }

func (p *pool) mark(i int32) {
	if i < 0 {
		return
	}
	w, b := i>>6, uint64(1)<<(uint(i)&63)
	if p.seen[w]&b == 0 {
		p.seen[w] |= b
		p.distinct++
	}
}

// Simulator generates the log. It is not safe for concurrent use.
type Simulator struct {
	cfg Config
	r   *rand.Rand
	loc *time.Location

	heap    []pending
	seq     uint64
	now     int64 // start of the next scenario, unix microseconds
	meanGap float64
	nscen   int
	bursts  int

	ips, users, domains pool

	pidNext   int
	inode     uint64
	nextAnvil int64
	// What anvil reports at its next statistics tick.
	anvilIP    client
	anvilSvc   string
	anvilCount int
	anvilAt    int64
	anvilCache int
	pickupPid  int
	cleanupPid [2]int
	a, o       inst // first and second Postfix instance
	qmgrPid    [2]int
	dkimPid    int
	dmarcPid   int
	psPid      int
	psUntil    int64

	// Scratch state of the line being built.
	b   []byte
	cur pending

	slotIdx map[slotKey]int32
	slots   []slotKey
	counts  []int
	lines   int

	// Envelope cache: the formatted timestamp of the last second.
	stampSec int64
	stamp    []byte
	zone     []byte
	out      []byte
}

// New returns a simulator for cfg.
func New(cfg Config) *Simulator {
	cfg = cfg.withDefaults()
	s := &Simulator{
		cfg:      cfg,
		r:        rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6d61696c74726c21)),
		loc:      cfg.Start.Location(),
		now:      cfg.Start.UnixMicro(),
		meanGap:  float64(cfg.MeanGap.Microseconds()),
		ips:      newPool(cfg.ClientIPs),
		users:    newPool(cfg.Users),
		domains:  newPool(cfg.Domains),
		slotIdx:  map[slotKey]int32{},
		stampSec: -1 << 62,
	}
	s.a = newInst("postfix")
	s.o = newInst(cfg.SecondInstance)
	s.pidNext = 1000 + s.r.IntN(20000)
	s.inode = 0x10000 + uint64(s.r.IntN(0x40000))
	s.qmgrPid = [2]int{s.pid(), s.pid()}
	s.dkimPid, s.dmarcPid = s.pid(), s.pid()
	s.pickupPid = s.pid()
	s.cleanupPid = [2]int{s.pid(), s.pid()}
	s.nextAnvil = s.now + 600e6
	return s
}

// Next returns the next line, newline included. The slice is valid until the
// next call.
func (s *Simulator) Next() []byte {
	for len(s.heap) == 0 || s.heap[0].t > s.now {
		s.scenario()
		// Gaps of at least 1 µs keep scenario starts strictly increasing,
		// which is what keeps the output in time order.
		s.now += 1 + int64(s.r.ExpFloat64()*s.meanGap)
	}
	p := s.pop()
	s.lines++
	s.counts[p.slot]++
	if p.sub[0] >= 0 {
		s.counts[p.sub[0]]++
	}
	if p.sub[1] >= 0 {
		s.counts[p.sub[1]] += int(p.subN)
	}
	s.ips.mark(p.ip)
	s.users.mark(p.user)
	s.domains.mark(p.dom)
	s.out = s.appendStamp(s.out[:0], p.t)
	s.out = append(s.out, ' ')
	s.out = append(s.out, s.cfg.Hostname...)
	s.out = append(s.out, ' ')
	s.out = append(s.out, p.body...)
	s.out = append(s.out, '\n')
	return s.out
}

// appendStamp writes the envelope timestamp, formatting the date only once
// per second since that is the slow part.
func (s *Simulator) appendStamp(b []byte, us int64) []byte {
	sec := us / 1e6
	if us < 0 && us%1e6 != 0 {
		sec--
	}
	if sec != s.stampSec {
		s.stampSec = sec
		t := time.Unix(sec, 0).In(s.loc)
		if s.cfg.Format == RFC3339 {
			s.stamp = t.AppendFormat(s.stamp[:0], "2006-01-02T15:04:05.")
			s.zone = t.AppendFormat(s.zone[:0], "-07:00")
		} else {
			s.stamp = t.AppendFormat(s.stamp[:0], time.Stamp)
		}
	}
	b = append(b, s.stamp...)
	if s.cfg.Format == RFC3339 {
		b = appendDec(b, uint64(us-sec*1e6), 6)
		b = append(b, s.zone...)
	}
	return b
}

func appendDec(b []byte, v uint64, n int) []byte {
	var d [20]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// WriteLines writes exactly n lines to w.
func (s *Simulator) WriteLines(w io.Writer, n int) error {
	if n <= 0 {
		return nil
	}
	return s.Stream(context.Background(), w, n, 0, nil)
}

// Clock is the time source of paced output; tests pass a fake one so they do
// not sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Stream writes n lines to w, or lines until ctx is done when n <= 0. With
// rate > 0 it writes at most rate lines per second by clock (nil means
// RealClock) and flushes after every batch, so a process tailing the file
// sees lines as they are paced. It returns ctx.Err() when ctx ends the run.
func (s *Simulator) Stream(ctx context.Context, w io.Writer, n int, rate float64, clock Clock) error {
	if n <= 0 && rate <= 0 && ctx.Done() == nil {
		return fmt.Errorf("simulate: endless stream needs a rate or a cancellable context")
	}
	if clock == nil {
		clock = RealClock
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	written := 0
	write := func(upto int) error {
		for ; written < upto; written++ {
			if _, err := bw.Write(s.Next()); err != nil {
				return fmt.Errorf("write line %d: %w", written+1, err)
			}
		}
		return nil
	}
	if rate <= 0 {
		const batch = 4096
		for n <= 0 || written < n {
			if err := ctx.Err(); err != nil {
				if ferr := bw.Flush(); ferr != nil {
					return fmt.Errorf("flush: %w", ferr)
				}
				return err
			}
			upto := written + batch
			if n > 0 && upto > n {
				upto = n
			}
			if err := write(upto); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
		return nil
	}
	// Integer nanoseconds keep the schedule exact: after sleeping until
	// line k's slot, line k is due, so every round makes progress.
	interval := max(time.Duration(float64(time.Second)/rate), 1)
	start := clock.Now()
	for n <= 0 || written < n {
		due := int(clock.Now().Sub(start)/interval) + 1
		due = min(due, written+1<<16)
		if n > 0 && due > n {
			due = n
		}
		if err := write(due); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
		if n > 0 && written >= n {
			break
		}
		next := start.Add(time.Duration(written) * interval)
		if d := next.Sub(clock.Now()); d > 0 {
			if err := clock.Sleep(ctx, d); err != nil {
				return err
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// The priority queue of pending lines, ordered by time then scheduling
// order. It is hand-written because container/heap would box every element.

func (s *Simulator) push(p pending) {
	h := append(s.heap, p)
	i := len(h) - 1
	for i > 0 {
		j := (i - 1) / 2
		if !less(&h[i], &h[j]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
	s.heap = h
}

func (s *Simulator) pop() pending {
	h := s.heap
	p := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = pending{}
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && less(&h[r], &h[l]) {
			m = r
		}
		if !less(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return p
}

func less(a, b *pending) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}
