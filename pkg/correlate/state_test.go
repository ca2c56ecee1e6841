package correlate

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

func TestTTL(t *testing.T) {
	t0 := synthStart
	tests := []struct {
		name     string
		after    time.Duration // when the delivery or disconnect comes
		kind     event.Kind
		enriched bool
	}{
		{"message within its TTL", 59 * time.Minute, event.KindDelivery, true},
		{"message past its TTL", 61 * time.Minute, event.KindDelivery, false},
		{"session within its TTL", 9 * time.Minute, event.KindDisconnect, true},
		{"session past its TTL", 11 * time.Minute, event.KindDisconnect, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{SessionTTL: 10 * time.Minute, MessageTTL: time.Hour})
			connect := event.Event{Time: t0, Host: "mail", Service: "postfix/submission", Program: "smtpd", PID: 1,
				Kind: event.KindConnect, ClientHost: "a.example", ClientIP: "192.0.2.1"}
			c.Observe(&connect)
			var evs [3]event.Event
			synthMessage(&evs, 1, t0)
			evs[0].PID = 1
			for i := range evs {
				c.Observe(&evs[i])
			}
			// A line with a wild timestamp in between must not expire
			// anything: TTLs are checked against each event's own time.
			wild := event.Event{Time: t0.Add(365 * 24 * time.Hour), Host: "mail", Service: "postfix", Program: "qmgr",
				QueueID: "OTHER", Kind: event.KindRemoved}
			c.Observe(&wild)

			e := event.Event{Time: t0.Add(tt.after), Host: "mail", Kind: tt.kind}
			var got string
			if tt.kind == event.KindDelivery {
				e.Service, e.Program, e.QueueID = "postfix", "smtp", evs[0].QueueID
				c.Observe(&e)
				got = e.Sender
			} else {
				e.Service, e.Program, e.PID = "postfix/submission", "smtpd", 1
				c.Observe(&e)
				got = e.ClientIP
			}
			if (got != "") != tt.enriched {
				t.Errorf("enriched = %v (%+v), want %v", got != "", e, tt.enriched)
			}
			st := c.Stats()
			wantExp := uint64(1)
			if tt.enriched {
				wantExp = 0
			}
			if st.Expirations != wantExp || st.Evictions != 0 {
				t.Errorf("stats %+v, want %d expirations and no evictions", st, wantExp)
			}
		})
	}
}

// TestEvictionSmallBound fills the smallest correlator with messages that
// never end: the oldest are evicted, counted, and their later lines pass
// through unenriched.
func TestEvictionSmallBound(t *testing.T) {
	c := New(Config{MaxBytes: 1})
	if c.Config().MaxBytes != MinMaxBytes {
		t.Errorf("MaxBytes 1 became %d, want %d", c.Config().MaxBytes, MinMaxBytes)
	}
	const n = 300_000
	var evs [3]event.Event
	for i := range n {
		synthMessage(&evs, i, synthStart.Add(time.Duration(i)*time.Millisecond))
		for j := range evs {
			c.Observe(&evs[j])
		}
	}
	st := c.Stats()
	if st.Evictions == 0 || uint64(st.Messages)+st.Evictions != n || st.Bytes > MinMaxBytes {
		t.Fatalf("stats %+v: want evictions, messages+evictions = %d, bytes ≤ %d", st, n, MinMaxBytes)
	}
	d := event.Event{Time: synthStart.Add(n * time.Millisecond), Host: "mail", Service: "postfix", Program: "smtp",
		QueueID: synthQID(0), Kind: event.KindDelivery}
	c.Observe(&d)
	if d.Sender != "" || d.Origin != "" {
		t.Errorf("an evicted message enriched its delivery: %+v", d)
	}
	// Removing evicted messages drops their index entries: the derived
	// count catches up and never goes back.
	for i := range n / 2 {
		r := event.Event{Time: d.Time, Host: "mail", Service: "postfix", Program: "qmgr", QueueID: synthQID(i), Kind: event.KindRemoved}
		c.Observe(&r)
	}
	st2 := c.Stats()
	if st2.Evictions < st.Evictions || uint64(st2.Messages)+st2.Evictions > n {
		t.Errorf("after removals %+v, before %+v", st2, st)
	}
	t.Logf("before removals %+v, after %+v", st, st2)
}

// simLines writes n simulated lines.
func simLines(t testing.TB, cfg simulate.Config, n int) ([]string, simulate.Truth) {
	t.Helper()
	s := simulate.New(cfg)
	var buf bytes.Buffer
	if err := s.WriteLines(&buf, n); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range bytes.Lines(buf.Bytes()) {
		lines = append(lines, string(bytes.TrimSuffix(l, []byte("\n"))))
	}
	return lines, s.Truth()
}

// TestSimulatedTruth checks NewMessage against the simulator's count of
// messages entering the queue, by origin. The simulator calls a message
// the second instance received from the first "relay"; for the correlator
// that is a message received by smtpd (with a parent).
func TestSimulatedTruth(t *testing.T) {
	lines, truth := simLines(t, simulate.Config{Seed: 7}, 200_000)
	c := New(Config{})
	p := &parser.Parser{Location: time.UTC}
	got := map[string]int{}
	var e event.Event
	submissionsWithUser, submissionDeliveries := 0, 0
	for _, l := range lines {
		p.ParseInto(&e, l, simulate.DefaultStart)
		n := c.Observe(&e)
		if n.NewMessage {
			got[e.Origin]++
		}
		if e.Kind == event.KindDelivery && e.Origin == "submission" && e.QueueID != "" {
			submissionDeliveries++
			if e.SASLUsername != "" && e.ClientIP != "" && e.Sender != "" {
				submissionsWithUser++
			}
		}
	}
	want := maps.Clone(truth.MessagesQueued)
	want["smtpd"] += want["relay"]
	delete(want, "relay")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("new messages by origin = %v, want %v", got, want)
	}
	if submissionDeliveries == 0 || submissionsWithUser != submissionDeliveries {
		t.Errorf("%d of %d deliveries of submitted messages carry user, client and sender", submissionsWithUser, submissionDeliveries)
	}
	st := c.Stats()
	if st.Evictions != 0 || st.Expirations != 0 {
		t.Errorf("stats %+v: nothing should have been evicted or expired", st)
	}
	t.Logf("new messages %v; stats %+v", got, st)
}

// TestRebuild restarts a correlator half way through a simulated log: one
// rebuilt from the journaled (enriched) events of the first half, only the
// kinds that change state, must enrich the second half exactly as one that
// never stopped.
func TestRebuild(t *testing.T) {
	lines, _ := simLines(t, simulate.Config{Seed: 3}, 60_000)
	p := &parser.Parser{Location: time.UTC}
	parse := func() []event.Event {
		evs := make([]event.Event, len(lines))
		for i, l := range lines {
			p.ParseInto(&evs[i], l, simulate.DefaultStart)
		}
		return evs
	}
	half := len(lines) / 2
	a, b := parse(), parse()
	ca := New(Config{})
	na := make([]Note, len(a))
	for i := range a {
		na[i] = ca.Observe(&a[i])
	}

	// The first half as the journal holds it: enriched by a correlator.
	journaled := parse()[:half]
	cj := New(Config{})
	for i := range journaled {
		cj.Observe(&journaled[i])
	}
	cb := New(Config{})
	replayed := cb.Rebuild(func(yield func(*event.Event) bool) {
		for i := range journaled {
			if Stateful(journaled[i].Kind) && !yield(&journaled[i]) {
				return
			}
		}
	})
	if replayed == 0 || replayed >= half {
		t.Fatalf("replayed %d of %d events", replayed, half)
	}
	diffs := 0
	for i := half; i < len(b); i++ {
		nb := cb.Observe(&b[i])
		if !reflect.DeepEqual(a[i], b[i]) || nb != na[i] {
			if diffs++; diffs <= 5 {
				t.Errorf("line %d after the restart:\n got %+v %+v\nwant %+v %+v", i+1, b[i], nb, a[i], na[i])
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d lines differ after the restart", diffs, len(b)-half)
	}
	sa, sb := ca.Stats(), cb.Stats()
	if sa.Sessions != sb.Sessions || sa.Messages != sb.Messages {
		t.Errorf("state after: never stopped %+v, rebuilt %+v", sa, sb)
	}
}

// TestNewMessageOnRetries checks Note.NewMessage across the life of a
// deferred message and a reused queue id whose removal went unread.
func TestNewMessageOnRetries(t *testing.T) {
	p := &parser.Parser{Location: time.UTC}
	lines := []string{
		"Dec  7 13:28:01 mail postfix/smtpd[18505]: A17F830001CA: client=localhost[127.0.0.1]",
		"Dec  7 13:28:01 mail postfix/cleanup[18502]: A17F830001CA: message-id=<000msgid0000@example.com>",
		"Dec  7 13:28:01 mail postfix/qmgr[3398]: A17F830001CA: from=<bounces@some.example.com>, size=2259, nrcpt=1 (queue active)",
		"Dec  7 13:35:07 mail postfix/qmgr[3398]: A17F830001CA: from=<bounces@some.example.com>, size=2259, nrcpt=1 (queue active)",
		"Dec  7 14:35:07 mail postfix/qmgr[3398]: A17F830001CA: from=<bounces@some.example.com>, size=2259, nrcpt=1 (queue active)",
		// removed never read; the id comes back with a new message
		"Dec  8 09:00:00 mail postfix/pickup[1]: A17F830001CA: uid=0 from=<root>",
		"Dec  8 09:00:00 mail postfix/cleanup[18502]: A17F830001CA: message-id=<other@example.com>",
		"Dec  8 09:00:00 mail postfix/qmgr[3398]: A17F830001CA: from=<root@example.com>, size=300, nrcpt=1 (queue active)",
		// and once more, this time only cleanup's line marks the start
		"Dec  9 09:00:00 mail postfix/cleanup[18502]: A17F830001CA: message-id=<third@example.com>",
		"Dec  9 09:00:00 mail postfix/qmgr[3398]: A17F830001CA: from=<>, size=300, nrcpt=1 (queue active)",
	}
	var news []int
	var origins []string
	c := New(Config{})
	for i, l := range lines {
		e := p.Parse(l, corpusRef)
		if c.Observe(&e).NewMessage {
			news = append(news, i)
			origins = append(origins, e.Origin+" "+e.MessageID)
		}
	}
	if want := []int{2, 7, 9}; !slices.Equal(news, want) {
		t.Errorf("NewMessage on lines %v, want %v", news, want)
	}
	if want := []string{"smtpd 000msgid0000@example.com", "pickup other@example.com", "bounce third@example.com"}; !slices.Equal(origins, want) {
		t.Errorf("origins %q, want %q", origins, want)
	}
}

// TestConcurrentReaders runs Stats, Message and Session (the scrape and
// the API) while Observe ingests; run under -race.
func TestConcurrentReaders(t *testing.T) {
	lines, _ := simLines(t, simulate.Config{Seed: 9}, 20_000)
	p := &parser.Parser{Location: time.UTC}
	c := New(Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			c.Stats()
			c.Message("mail", "4AA091855DA0")
			c.Session("mail", "postfix/smtpd", 1)
		}
	}()
	var e event.Event
	for _, l := range lines {
		p.ParseInto(&e, l, simulate.DefaultStart)
		c.Observe(&e)
	}
	<-done
}

func TestRingBytes(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct{ max, ring int }{
		{MinMaxBytes, 32 * mib}, {64 * mib, 32 * mib}, {96 * mib, 64 * mib}, {128 * mib, 96 * mib}, {256 * mib, 192 * mib}, {1024 * mib, 832 * mib},
	} {
		if got := ringBytes(tt.max); got != tt.ring {
			t.Errorf("ringBytes(%d MiB) = %d MiB, want %d MiB", tt.max/mib, got/mib, tt.ring/mib)
		}
	}
}
