package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

type eventRecorder struct{ seen []event.Event }

func (o *eventRecorder) Observed(_ string, e *event.Event, _ correlate.Note) {
	o.seen = append(o.seen, *e)
}
func (o *eventRecorder) Committed(int, time.Duration) {}
func (o *eventRecorder) CommitFailed(error)           {}

// "last message repeated N times" names no message: it repeats the line
// before it from the same source. Ingest observes it as a copy of that
// source's previous event weighted N (raw: the repeat line, time: its
// time), whichever sources' lines came in between; with no previous event
// (a source's first line) it stays the notice the parser made of it. The
// journal keeps one event per line, with its repeat count.
func TestLastMessageRepeated(t *testing.T) {
	const (
		failure = "Jun  3 10:40:57 mx postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
		reject  = "Jun  3 10:40:58 mx2 postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.20]: 554 5.7.1 <a@example.test>: Relay access denied; from=<b@example.test> to=<a@example.test> proto=ESMTP helo=<x>"
		repA    = "Jun  3 10:41:30 mx postfix/smtpd[1]: last message repeated 3 times"
		repB    = "Jun  3 10:41:31 mx2 last message repeated 2 times"
		repC    = "Jun  3 10:41:32 mx3 last message repeated 5 times"
	)
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ch := make(chan []tailer.Line, 8)
	off := int64(0)
	send := func(src string, texts ...string) {
		var ls []tailer.Line
		for _, text := range texts {
			off += int64(len(text) + 1)
			ls = append(ls, tailer.Line{Source: src, Text: text, Pos: event.Position{Fingerprint: src, Offset: off}})
		}
		ch <- ls
	}
	send("a", failure)
	send("b", reject)
	send("a", repA)
	send("b", repB)
	send("c", repC)
	close(ch)
	rec := &eventRecorder{}
	ref := time.Date(2024, 6, 4, 0, 0, 0, 0, time.UTC)
	err = Run(ctx, Config{Parser: &parser.Parser{Location: time.UTC}, Journal: j, Observer: rec, Now: func() time.Time { return ref }}, ch)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind     event.Kind
		repeat   int
		clientIP string
		time     string
		raw      string
	}
	wants := []want{
		{event.KindAuthFailure, 0, "192.0.2.9", "10:40:57", failure},
		{event.KindReject, 0, "192.0.2.20", "10:40:58", reject},
		{event.KindAuthFailure, 3, "192.0.2.9", "10:41:30", repA},
		{event.KindReject, 2, "192.0.2.20", "10:41:31", repB},
		{event.KindNotice, 5, "", "10:41:32", repC},
	}
	check := func(what string, got []event.Event) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("%s: %d events, want %d", what, len(got), len(wants))
		}
		for i, w := range wants {
			e := got[i]
			g := want{e.Kind, e.Repeat, e.ClientIP, e.Time.Format("15:04:05"), e.Raw}
			if g != w {
				t.Errorf("%s: event %d = %+v, want %+v", what, i, g, w)
			}
		}
	}
	check("observed", rec.seen)
	evs, err := j.Events(ctx, journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var journaled []event.Event
	for _, e := range evs {
		journaled = append(journaled, e.Event)
	}
	check("journaled", journaled)
	if w := rec.seen[2].Weight(); w != 3 {
		t.Errorf("weight of the copy = %d, want 3", w)
	}
}
