package ship

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// t0 is the time of the test events: two years back, so that a store
// started without a long -retentionPeriod would drop them.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func openJournal(t testing.TB) *journal.Journal {
	t.Helper()
	j, err := journal.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"), journal.Options{BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// commitEvents journals n delivery events numbered from first.
func commitEvents(t testing.TB, j *journal.Journal, first, n int) {
	t.Helper()
	recs := make([]journal.Record, n)
	for i := range recs {
		k := first + i
		qid := fmt.Sprintf("Q%05X", k)
		rcpt := fmt.Sprintf("user%d@example.org", k%7)
		recs[i] = journal.Record{Source: "/var/log/mail.log", Event: event.Event{
			Time: t0.Add(time.Duration(k) * time.Second), Host: "mx1", Service: "postfix", Program: "smtp", PID: 100 + k,
			QueueID: qid, Kind: event.KindDelivery, Recipient: rcpt, RelayHost: "mx.example.org", Delay: 0.5, Status: "sent",
			DSN: "2.0.0", Response: "250 ok", Raw: fmt.Sprintf("%s mx1 postfix/smtp[%d]: %s: to=<%s>, status=sent", t0.Format(time.Stamp), 100+k, qid, rcpt),
		}}
	}
	if err := j.Commit(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
}

// seqCounts counts the rows per seq.
func seqCounts(t testing.TB, rows []map[string]string) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	for _, r := range rows {
		var seq int64
		if _, err := fmt.Sscan(r["seq"], &seq); err != nil {
			t.Fatalf("row without seq: %v", r)
		}
		out[seq]++
	}
	return out
}

// Drain ships the journal whole, each event once with its fields, seq and
// leaf; a second Drain sends nothing, and new events are shipped after the
// cursor.
func TestDrainVictoriaLogs(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	j := openJournal(t)
	commitEvents(t, j, 1, 150)
	sink, err := NewVictoriaLogs(vl.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Drain(ctx, j, sink, Options{Instance: "mx1", BatchSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 150 || st.Batches != 4 || st.Cursor != 150 {
		t.Fatalf("first drain: %+v, want 150 events in 4 batches, cursor 150", st)
	}
	if st, err := Drain(ctx, j, sink, Options{Instance: "mx1", BatchSize: 40}); err != nil || st.Events != 0 {
		t.Fatalf("second drain: %+v %v, want nothing sent", st, err)
	}
	commitEvents(t, j, 151, 10)
	if st, err := Drain(ctx, j, sink, Options{Instance: "mx1"}); err != nil || st.Events != 10 || st.Cursor != 160 {
		t.Fatalf("third drain: %+v %v, want the 10 new events", st, err)
	}
	rows := vltest.Rows(t, vl.URL, "instance:=mx1")
	counts := seqCounts(t, rows)
	if len(rows) != 160 || len(counts) != 160 {
		t.Fatalf("store holds %d rows, %d seqs; want 160 each", len(rows), len(counts))
	}
	// One row in full, against the journal's event and leaf.
	want, err := j.Events(ctx, journal.Filter{AfterSeq: 76, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var leaf string
	if _, err := j.ReadAfter(ctx, 76, 1, func(s *journal.Shipped) error { leaf = hex.EncodeToString(s.Leaf[:]); return nil }); err != nil {
		t.Fatal(err)
	}
	got := vltest.Rows(t, vl.URL, "seq:=77")
	if len(got) != 1 {
		t.Fatalf("seq 77: %d rows", len(got))
	}
	r, e := got[0], want[0].Event
	for k, v := range map[string]string{
		"_msg": e.Raw, "instance": "mx1", "service": "postfix", "queue_id": e.QueueID, "recipient": e.Recipient,
		"kind": "delivery", "status": "sent", "leaf": leaf, "pid": fmt.Sprint(e.PID), "_time": e.Time.UTC().Format(time.RFC3339Nano),
		"_stream": `{instance="mx1",service="postfix"}`,
	} {
		if fmt.Sprint(r[k]) != v {
			t.Errorf("seq 77 %s = %v, want %q", k, r[k], v)
		}
	}
	if c, _ := j.ShipCursor(ctx, SinkVictoriaLogs); c != 160 {
		t.Fatalf("cursor %d, want 160", c)
	}
}
