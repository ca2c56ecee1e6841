package ship

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// VictoriaLogs answers "accepted" before it has saved the rows; killed -9
// then, it loses them. The shipper asks again recheck_after later and sends
// what is missing, so the store ends up holding every event.
func TestRecheckAfterStoreCrash(t *testing.T) {
	// A long in-memory interval makes the loss certain.
	vl := vltest.Start(t, "-retentionPeriod=100y", "-inmemoryDataFlushInterval=1m")
	j := openJournal(t)
	sink, err := NewVictoriaLogs(vl.URL, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(nil)
	s := New(j, Options{Instance: "mx1", BatchSize: 50, PollInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, RecheckAfter: 500 * time.Millisecond, Metrics: m}, sink)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	commitEvents(t, j, 1, 200)
	cursor := func() int64 { c, _ := j.ShipCursor(context.Background(), SinkVictoriaLogs); return c }
	waitFor(t, "the first events shipped", func() bool { return cursor() == 200 })
	vl.Kill()
	vl.Restart()
	commitEvents(t, j, 201, 100)
	waitFor(t, "every event in the store", func() bool {
		return len(seqCounts(t, vltest.Rows(t, vl.URL, "instance:=mx1"))) == 300
	})
	if got := testutil.ToFloat64(m.resent.WithLabelValues(SinkVictoriaLogs)); got < 1 {
		t.Fatalf("resent %v events, want the lost ones (some)", got)
	}
	counts := seqCounts(t, vltest.Rows(t, vl.URL, "instance:=mx1"))
	for seq, n := range counts {
		if n > 1 {
			t.Errorf("seq %d stored %d times: a recheck sends only what is missing", seq, n)
		}
	}
}
