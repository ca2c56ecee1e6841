package ship

import (
	"context"
	"fmt"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// The OTLP sink's export requests are taken by VictoriaLogs' own OTLP
// endpoint: every event arrives once, with instance and service as
// resource (stream) fields, the raw line as the message and the event's
// fields as typed attributes.
func TestOTLPIntoVictoriaLogs(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	j := openJournal(t)
	commitEvents(t, j, 1, 120)
	sink, err := NewOTLP(vl.URL+"/insert/opentelemetry/v1/logs", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Drain(ctx, j, sink, Options{Instance: "mx2", BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 120 || st.Batches != 3 {
		t.Fatalf("drain: %+v, want 120 events in 3 batches", st)
	}
	if c, _ := j.ShipCursor(ctx, SinkOTLP); c != 120 {
		t.Fatalf("otlp cursor %d, want 120", c)
	}
	rows := vltest.Rows(t, vl.URL, "instance:=mx2")
	if counts := seqCounts(t, rows); len(rows) != 120 || len(counts) != 120 {
		t.Fatalf("store holds %d rows, %d seqs; want 120 each", len(rows), len(counts))
	}
	got := vltest.Rows(t, vl.URL, "instance:=mx2 seq:=33")
	if len(got) != 1 {
		t.Fatalf("seq 33: %d rows", len(got))
	}
	want, err := j.Events(ctx, journal.Filter{AfterSeq: 32, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	e := want[0].Event
	r := got[0]
	for k, v := range map[string]string{
		"_msg": e.Raw, "service": "postfix", "queue_id": e.QueueID, "recipient": e.Recipient, "kind": "delivery",
		"pid": fmt.Sprint(e.PID), "delay": "0.5", "severity_text": "INFO", "_stream": `{instance="mx2",service="postfix",service.name="mailtrail"}`,
	} {
		if fmt.Sprint(r[k]) != v {
			t.Errorf("seq 33 %s = %v, want %q", k, r[k], v)
		}
	}
	if len(fmt.Sprint(r["leaf"])) != 64 {
		t.Errorf("leaf %v", r["leaf"])
	}
}
