package correlate

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// memoPair runs every event through a correlator and through one that
// looks every record up in the cache (no memo), and fails at the first
// event, note, lookup or Stats that differ.
type memoPair struct {
	t          *testing.T
	memo, bare *Correlator
	n          int
	qids       map[[2]string]bool
}

func newMemoPair(t *testing.T, cfg Config) *memoPair {
	bare := New(cfg)
	bare.noMemo = true
	return &memoPair{t: t, memo: New(cfg), bare: bare, qids: map[[2]string]bool{}}
}

func (p *memoPair) observe(e event.Event) {
	p.t.Helper()
	p.n++
	a, b := e, e
	na, nb := p.memo.Observe(&a), p.bare.Observe(&b)
	if !reflect.DeepEqual(a, b) || na != nb {
		p.t.Fatalf("event %d (%s %s): with the memo %+v %+v, without %+v %+v", p.n, e.Kind, e.QueueID, a, na, b, nb)
	}
	if e.QueueID != "" {
		p.qids[[2]string{e.Host, e.QueueID}] = true
	}
	if p.n%997 == 0 {
		p.compareState()
	}
}

func (p *memoPair) compareState() {
	p.t.Helper()
	if a, b := p.memo.Stats(), p.bare.Stats(); a != b {
		p.t.Fatalf("after %d events: stats with the memo %+v, without %+v", p.n, a, b)
	}
	checkMemo(p.t, p.memo, &p.memo.mmemo, (*msgRec).encode)
	checkMemo(p.t, p.memo, &p.memo.smemo, (*sessRec).encode)
}

// checkMemo fails if a record the memo holds as current is not in the
// cache as it is in the memo.
func checkMemo[R any](t *testing.T, c *Correlator, m *memo[R], encode func(*R, []byte) []byte) {
	t.Helper()
	for i := range m.slots {
		s := &m.slots[i]
		if !s.ok || s.until < c.used {
			continue
		}
		v, ok := c.cache.HasGet(nil, s.key)
		if want := encode(&s.r, nil); !ok || !bytes.Equal(v, want) {
			t.Fatalf("memo slot %d: key %q holds %q, the cache %q (%v)", i, s.key, want, v, ok)
		}
	}
}

func (p *memoPair) finish() {
	p.t.Helper()
	p.compareState()
	held := 0
	for k := range p.qids {
		a, aok := p.memo.Message(k[0], k[1])
		b, bok := p.bare.Message(k[0], k[1])
		if aok != bok || a != b {
			p.t.Fatalf("Message(%q, %q): with the memo %+v %v, without %+v %v", k[0], k[1], a, aok, b, bok)
		}
		if aok {
			held++
		}
	}
	st := p.memo.Stats()
	p.t.Logf("%d events, %d queue ids (%d held at the end), stats %+v", p.n, len(p.qids), held, st)
}

func simEvents(t *testing.T, seed uint64, n int) []event.Event {
	lines, _ := simLines(t, simulate.Config{Seed: seed}, n)
	p := &parser.Parser{Location: time.UTC}
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		p.ParseInto(&evs[i], l, simulate.DefaultStart)
	}
	return evs
}

// TestMemoMatchesCache checks that the memos change nothing the correlator
// does: the same fields filled, notes, lookups and Stats as with every
// record looked up in the cache, through expiries, evictions and resets.
func TestMemoMatchesCache(t *testing.T) {
	evs := simEvents(t, 11, 100_000)
	t.Run("simulated", func(t *testing.T) {
		p := newMemoPair(t, Config{})
		for _, e := range evs {
			p.observe(e)
		}
		p.finish()
		if st := p.memo.Stats(); st.Messages == 0 || st.Sessions == 0 {
			t.Errorf("fixture: nothing held at the end: %+v", st)
		}
	})
	t.Run("short TTLs", func(t *testing.T) {
		// The simulated log spans minutes: sessions and messages expire
		// between their lines.
		p := newMemoPair(t, Config{SessionTTL: time.Second, MessageTTL: 20 * time.Second})
		for _, e := range evs {
			p.observe(e)
		}
		p.finish()
		if st := p.memo.Stats(); st.Expirations == 0 {
			t.Errorf("fixture: nothing expired: %+v", st)
		}
	})
	t.Run("evictions", func(t *testing.T) {
		// The smallest bound and three messages that never end between
		// two lines of the log: the log's own messages and sessions are
		// evicted while they are still being logged.
		if testing.Short() {
			t.Skip("300k messages")
		}
		p := newMemoPair(t, Config{MaxBytes: 1})
		var flood [3]event.Event
		i := 0
		for _, e := range evs {
			for range 3 {
				synthMessage(&flood, i, e.Time)
				i++
				for _, f := range flood {
					p.observe(f)
				}
			}
			p.observe(e)
		}
		p.finish()
		if st := p.memo.Stats(); st.Evictions == 0 {
			t.Errorf("fixture: nothing evicted: %+v", st)
		}
	})
	t.Run("idle through a flood", func(t *testing.T) {
		// A session memoised and then overwritten in the ring by messages
		// alone, and a message by sessions alone: the next line of each
		// must find it evicted, as the cache has.
		if testing.Short() {
			t.Skip("a million lines")
		}
		p := newMemoPair(t, Config{MaxBytes: 1})
		conn := event.Event{Time: synthStart, Host: "mail", Service: "postfix/smtpd", Program: "smtpd", PID: 1,
			Kind: event.KindConnect, ClientHost: "idle.example", ClientIP: "192.0.2.1"}
		p.observe(conn)
		var flood [3]event.Event
		for i := range 300_000 {
			synthMessage(&flood, i, synthStart)
			flood[0].PID = 0 // no session looked up: only messages touched
			for _, f := range flood {
				p.observe(f)
			}
		}
		p.observe(event.Event{Time: synthStart, Host: "mail", Service: "postfix/smtpd", Program: "smtpd", PID: 1,
			Kind: event.KindReject})
		synthMessage(&flood, -1, synthStart)
		for _, f := range flood {
			p.observe(f)
		}
		for i := range 700_000 {
			conn.PID, conn.ClientIP = 2+i, "192.0.2.2"
			p.observe(conn)
		}
		p.observe(event.Event{Time: synthStart, Host: "mail", Service: "postfix", Program: "smtp",
			QueueID: flood[0].QueueID, Kind: event.KindDelivery})
		p.finish()
	})
	t.Run("resets", func(t *testing.T) {
		p := newMemoPair(t, Config{})
		for i, e := range evs {
			if i%5000 == 2500 {
				p.memo.Reset()
				p.bare.Reset()
			}
			p.observe(e)
		}
		p.finish()
	})
}

// TestMemoOversizedEntry: a record too large for fastcache is not stored,
// and the line after it sees what the cache holds, not what was dropped.
func TestMemoOversizedEntry(t *testing.T) {
	p := newMemoPair(t, Config{})
	var evs [3]event.Event
	synthMessage(&evs, 1, synthStart)
	huge := evs[2]
	huge.Sender = strings.Repeat("x", 70<<10) + "@example.com"
	for _, e := range []event.Event{evs[0], evs[1], evs[2], huge} {
		p.observe(e)
	}
	d := event.Event{Time: synthStart, Host: "mail", Service: "postfix", Program: "smtp",
		QueueID: evs[0].QueueID, Kind: event.KindDelivery}
	p.observe(d)
	m, ok := p.memo.Message("mail", evs[0].QueueID)
	if !ok || m.Sender != evs[2].Sender {
		t.Errorf("Message after an oversized update = %+v, %v; want the sender before it, %q", m, ok, evs[2].Sender)
	}
	// A session too large to store.
	conn := event.Event{Time: synthStart, Host: "mail", Service: "postfix/smtpd", Program: "smtpd", PID: 5,
		Kind: event.KindConnect, ClientHost: strings.Repeat("h", 70<<10), ClientIP: "192.0.2.9"}
	p.observe(conn)
	rej := event.Event{Time: synthStart, Host: "mail", Service: "postfix/smtpd", Program: "smtpd", PID: 5,
		Kind: event.KindReject}
	p.observe(rej)
	p.finish()
}

// TestMemoResetBesideObserve resets from another goroutine while Observe
// runs (run under -race): afterwards nothing from before the last reset
// enriches a line.
func TestMemoResetBesideObserve(t *testing.T) {
	evs := simEvents(t, 12, 20_000)
	c := New(Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			c.Reset()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for _, e := range evs {
		c.Observe(&e)
	}
	<-done
	// The message just observed is in the memo when the reset comes.
	var m [3]event.Event
	synthMessage(&m, 1, synthStart)
	for i := range m {
		c.Observe(&m[i])
	}
	c.Reset()
	d := event.Event{Time: synthStart, Host: "mail", Service: "postfix", Program: "smtp",
		QueueID: m[0].QueueID, Kind: event.KindDelivery}
	c.Observe(&d)
	if d.Sender != "" || d.ClientIP != "" {
		t.Errorf("a delivery after the reset was enriched: %+v", d)
	}
}

// TestMemoKeepsNoLines: the records the memo keeps stop aliasing the
// strings of the events they were built from after 2×memoSweep lines: the
// strings may be pieces of a large read of the log, which the memo would
// otherwise keep alive for as long as a slot is not reused.
func TestMemoKeepsNoLines(t *testing.T) {
	var evs [3]event.Event
	synthMessage(&evs, 1, synthStart)
	conn := event.Event{Time: synthStart, Host: "mail", Service: "postfix/submission", Program: "smtpd", PID: evs[0].PID,
		Kind: event.KindConnect, ClientHost: evs[0].ClientHost, ClientIP: evs[0].ClientIP}
	tls := conn
	tls.Kind, tls.TLSProtocol, tls.TLSCipher, tls.TLSTrust = event.KindTLS, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "Trusted"
	all := []*event.Event{&conn, &tls, &evs[0], &evs[1], &evs[2]}
	fields := func(e *event.Event) []*string {
		return []*string{&e.Host, &e.Service, &e.Program, &e.QueueID, &e.ClientHost, &e.ClientIP, &e.SASLMethod,
			&e.SASLUsername, &e.MessageID, &e.Sender, &e.TLSProtocol, &e.TLSCipher, &e.TLSTrust}
	}
	// Every string field a piece of one large buffer, as a bulk read's
	// lines are.
	var big strings.Builder
	for _, e := range all {
		for _, f := range fields(e) {
			big.WriteString(*f)
		}
	}
	buf := big.String() + strings.Repeat(" ", 1<<20)
	off := 0
	for _, e := range all {
		for _, f := range fields(e) {
			*f, off = buf[off:off+len(*f)], off+len(*f)
		}
	}
	c := New(Config{})
	for _, e := range all {
		c.Observe(e)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(buf)))
	hi := lo + uintptr(len(buf))
	pieces := func() int {
		n := 0
		count := func(fs [][]byte) {
			for _, f := range fs {
				if p := uintptr(unsafe.Pointer(unsafe.SliceData(f))); len(f) > 0 && p >= lo && p < hi {
					n++
				}
			}
		}
		for i := range c.mmemo.slots {
			count(c.mmemo.slots[i].r.f[:])
			count(c.smemo.slots[i].r.f[:])
		}
		return n
	}
	if pieces() == 0 {
		t.Fatal("fixture: the memo holds no piece of the buffer to begin with")
	}
	// Lines of other programs, as many as two sweeps.
	for i := range 2 * memoSweep {
		o := event.Event{Time: synthStart, Host: "mail", Service: "postfix/postscreen", Program: "postscreen", PID: 9,
			Kind: event.KindPostscreen, ClientIP: "192.0.2." + strconv.Itoa(i%250)}
		c.Observe(&o)
	}
	if n := pieces(); n > 0 {
		t.Errorf("after %d lines the memo still keeps %d pieces of the lines it was built from", 2*memoSweep, n)
	}
	// The records still enrich, from the cache.
	d := event.Event{Time: synthStart, Host: "mail", Service: "postfix", Program: "smtp", QueueID: evs[0].QueueID, Kind: event.KindDelivery}
	c.Observe(&d)
	if d.Sender != evs[2].Sender || d.SASLUsername != evs[0].SASLUsername || d.MessageID != evs[1].MessageID {
		t.Errorf("delivery %+v", d)
	}
}
