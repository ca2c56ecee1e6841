package correlate

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

var synthStart = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// synthQID is a queue id shaped like Postfix's long ones.
func synthQID(i int) string {
	return "4Z" + strconv.FormatInt(int64(1_000_000_000+i), 16) + "X"
}

// synthMessage writes the three lines every received message starts with
// (smtpd's client=, cleanup's message-id=, qmgr's from=) into evs, as the
// parser would make them. No removal follows: the message stays in flight.
func synthMessage(evs *[3]event.Event, i int, t time.Time) {
	qid := synthQID(i)
	ip := "198.51." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	evs[0] = event.Event{Time: t, Host: "mail", Service: "postfix/submission", Program: "smtpd", PID: 1000 + i%500,
		QueueID: qid, Kind: event.KindClient, ClientHost: "host" + strconv.Itoa(i) + ".example.net", ClientIP: ip,
		SASLMethod: "PLAIN", SASLUsername: "user" + strconv.Itoa(i%5000) + "@example.com"}
	evs[1] = event.Event{Time: t, Host: "mail", Service: "postfix", Program: "cleanup", PID: 77,
		QueueID: qid, Kind: event.KindMessageID, MessageID: strconv.Itoa(i) + ".1717200000@mail.example.com"}
	evs[2] = event.Event{Time: t, Host: "mail", Service: "postfix", Program: "qmgr", PID: 78,
		QueueID: qid, Kind: event.KindQueued, Sender: "user" + strconv.Itoa(i%5000) + "@example.com", Size: 4000 + int64(i%9000), Nrcpt: 1 + i%3}
}

func vmRSS(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(l); len(f) == 3 && string(f[0]) == "VmRSS:" {
			kb, _ := strconv.Atoi(string(f[1]))
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestMemoryBound feeds a million messages that never end into a
// correlator bounded to 64 MiB and checks that the memory it holds stays
// within the bound while the oldest messages are evicted, counted, and the
// newest still enrich their lines.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a million messages")
	}
	const n = 1_000_000
	const bound = 64 << 20
	runtime.GC()
	debug.FreeOSMemory()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	rss0 := vmRSS(t)

	c := New(Config{MaxBytes: bound})
	var evs [3]event.Event
	peakRSS := 0
	for i := range n {
		synthMessage(&evs, i, synthStart.Add(time.Duration(i)*time.Millisecond))
		for j := range evs {
			c.Observe(&evs[j])
		}
		if i%100_000 == 99_999 {
			peakRSS = max(peakRSS, vmRSS(t))
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := vmRSS(t)
	peakRSS = max(peakRSS, rss)
	st := c.Stats()
	heap := int64(ms.HeapInuse) - int64(ms0.HeapInuse)
	t.Logf("1M in-flight messages, MaxBytes %d MiB: RSS +%.1f MiB (peak +%.1f MiB), heap in use +%.1f MiB, stats %+v",
		bound>>20, float64(rss-rss0)/(1<<20), float64(peakRSS-rss0)/(1<<20), float64(heap)/(1<<20), st)

	if grown := peakRSS - rss0; grown > bound {
		t.Errorf("RSS grew by %d bytes, over the %d-byte bound", grown, bound)
	}
	if st.Bytes > bound {
		t.Errorf("Stats.Bytes = %d, over the bound %d", st.Bytes, bound)
	}
	if st.Evictions == 0 || st.Messages == 0 || uint64(st.Messages)+st.Evictions != n {
		t.Errorf("stats %+v: want evictions and live messages adding up to %d", st, n)
	}
	// The oldest are gone, the newest still enrich their deliveries.
	if _, ok := c.Message("mail", synthQID(0)); ok {
		t.Error("the first message survived a million newer ones")
	}
	// The derived count lags (see Stats): it may say more are held than
	// are, never fewer.
	live := 0
	for i := range n {
		if _, ok := c.Message("mail", synthQID(i)); ok {
			live++
		}
	}
	t.Logf("messages actually held: %d (Stats says %d)", live, st.Messages)
	if live == 0 || st.Messages < live {
		t.Errorf("%d messages held, Stats.Messages = %d", live, st.Messages)
	}
	last := synthQID(n - 1)
	d := event.Event{Time: synthStart.Add(n * time.Millisecond), Host: "mail", Service: "postfix", Program: "smtp",
		QueueID: last, Kind: event.KindDelivery, Recipient: "r@example.org", Status: "sent"}
	c.Observe(&d)
	if d.SASLUsername == "" || d.ClientIP == "" || d.Sender == "" || d.Origin != "submission" {
		t.Errorf("the newest message's delivery was not enriched: %+v", d)
	}
	runtime.KeepAlive(c)
}
