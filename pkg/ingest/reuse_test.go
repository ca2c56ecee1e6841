package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// A committed batch's records are filled again without being cleared
// first: an event journaled from a reused record carries what its own line
// says and nothing of the event that record held before. Batches of 4
// lines with many fields or with none, in a period of three batches while
// the record slices alternate in a period of two: records of each kind are
// filled again by the other.
func TestReusedRecordsCarryNothingOver(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rich := func(i int) string {
		return fmt.Sprintf("Jun  3 10:40:57 mx postfix/smtp[%d]: 4Q%05dA: to=<bob@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9A%d)", 100+i, i, i)
	}
	bare := func(i int) string { return fmt.Sprintf("not a log line %d", i) }
	const n = 64
	ch := make(chan []tailer.Line, n)
	var want []string
	for i := 0; i < n; i++ {
		text := rich(i)
		if (i/4)%3 == 1 {
			text = bare(i)
		}
		want = append(want, text)
		ch <- []tailer.Line{{Source: "a", Text: text, Pos: event.Position{Fingerprint: "a", Offset: int64(i + 1)}}}
	}
	close(ch)
	if err := Run(ctx, Config{Parser: &parser.Parser{Location: time.UTC}, Journal: j, BatchSize: 4, FlushInterval: time.Hour}, ch); err != nil {
		t.Fatal(err)
	}
	got, err := j.Events(ctx, journal.Filter{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("journal holds %d events, want %d", len(got), n)
	}
	p := &parser.Parser{Location: time.UTC}
	ref := time.Now()
	for i, s := range got {
		fresh := p.Parse(want[i], ref)
		e := s.Event
		e.Time, fresh.Time = time.Time{}, time.Time{} // unknown lines are dated at ingest
		if e != fresh {
			t.Fatalf("event %d journaled as\n%+v\nwant (parsed afresh)\n%+v", i, e, fresh)
		}
	}
}
