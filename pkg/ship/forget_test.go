package ship

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// After Forget, no row in the store names the subject, in any field or
// letter case; the store still holds every event (the rewritten ones sent
// again); the erasure record says what the store answered. With the store
// down, Forget still erases the journal and says, and records, that the
// store's copies remain.
func TestForgetReachesTheStore(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y", "-delete.enable")
	j := openJournal(t)
	commitEvents(t, j, 1, 70) // user3@example.org: seqs 3, 10, 17, ...
	ctx := context.Background()
	sink, err := NewVictoriaLogs(vl.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Drain(ctx, j, sink, Options{Instance: "mx1"}); err != nil {
		t.Fatal(err)
	}
	// Another instance's rows naming the subject are its own journal's
	// business: they stay.
	other := openJournal(t)
	commitEvents(t, other, 1, 7)
	if _, err := Drain(ctx, other, sink, Options{Instance: "mx9"}); err != nil {
		t.Fatal(err)
	}
	naming := func(inst string) int {
		return len(vltest.Rows(t, vl.URL, `instance:=`+inst+` *:i("USER3@example.org")`))
	}
	if n := naming("mx1"); n != 10 {
		t.Fatalf("before: %d rows of mx1 name the subject, want 10", n)
	}
	s := New(j, Options{Instance: "mx1"}, sink)
	res, answers, err := s.Forget(ctx, []string{"User3@Example.org"}, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 10 || len(answers) != 1 || !answers[0].Deleted || !strings.Contains(answers[0].Detail, "rows deleted") {
		t.Fatalf("forget: %+v %+v", res, answers)
	}
	if n := naming("mx1"); n != 0 {
		t.Fatalf("after: %d rows of mx1 still name the subject", n)
	}
	rows := vltest.Rows(t, vl.URL, "instance:=mx1")
	for _, r := range rows {
		for k, v := range r {
			if strings.Contains(strings.ToLower(v), "user3@example.org") {
				t.Fatalf("row %v still names the subject in %s", r["seq"], k)
			}
		}
	}
	if c := seqCounts(t, rows); len(c) != 70 || len(vltest.Rows(t, vl.URL, `instance:=mx1 "`+res.StandIn+`"`)) != 10 {
		t.Fatalf("after: the store holds %d events of mx1 (want 70), with the stand-in %d (want 10)", len(c), len(vltest.Rows(t, vl.URL, `"`+res.StandIn+`"`)))
	}
	if n := naming("mx9"); n != 1 {
		t.Fatalf("the other instance's row was touched: %d", n)
	}
	rec := erasureRecord(t, j, res.Seq)
	if !strings.Contains(rec, "stores: victorialogs "+vl.URL+": rows deleted (instance mx1, task ") {
		t.Fatalf("erasure record does not say what the store did: %s", rec)
	}

	// An OTLP sink beside it cannot delete: it says so, apart from a
	// failure.
	otlp, err := NewOTLP(vl.URL+"/insert/opentelemetry/v1/logs", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, answers, err = New(j, Options{Instance: "mx1"}, sink, otlp).Forget(ctx, []string{"user5@example.org"}, "test", 0)
	if err != nil || len(answers) != 2 || !answers[0].Deleted || answers[1].Deleted || !answers[1].NoDelete || answers[1].Sink != SinkOTLP ||
		!strings.Contains(answers[1].Detail, "no delete") {
		t.Fatalf("forget with an OTLP sink too: %+v %v", answers, err)
	}

	// The store down: the journal is erased, the answer says the copies
	// remain, and so does the record.
	commitEvents(t, j, 71, 7)
	if _, err := Drain(ctx, j, sink, Options{Instance: "mx1"}); err != nil {
		t.Fatal(err)
	}
	vl.Kill()
	res, answers, err = s.Forget(ctx, []string{"user4@example.org"}, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events == 0 || answers[0].Deleted || !strings.Contains(answers[0].Detail, "not deleted, its copies still name the subject: store not reached (connect)") {
		t.Fatalf("forget with the store down: %+v %+v", res, answers)
	}
	if rec := erasureRecord(t, j, res.Seq); !strings.Contains(rec, "not deleted, its copies still name the subject") || strings.Contains(rec, "user4@") {
		t.Fatalf("erasure record: %s", rec)
	}
}

func erasureRecord(t *testing.T, j *journal.Journal, seq int64) string {
	t.Helper()
	evs, err := j.Events(context.Background(), journal.Filter{AfterSeq: seq - 1, Limit: 1, Kinds: []event.Kind{event.KindErasure}})
	if err != nil || len(evs) != 1 || evs[0].Seq != seq {
		t.Fatalf("erasure record %d: %v %v", seq, evs, err)
	}
	return evs[0].Event.Detail
}
