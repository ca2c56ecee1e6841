package ingest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// recordingAck notes when it is told, and names its line as the position.
type recordingAck struct {
	mu        *sync.Mutex
	order     *[]int
	n         int
	committed bool
}

func (a *recordingAck) Committed() {
	a.mu.Lock()
	defer a.mu.Unlock()
	*a.order = append(*a.order, a.n)
	a.committed = true
}

func (a *recordingAck) Checkpoint() event.Position {
	return event.Position{Cursor: "upto-" + line(a.n)}
}

// Lines with an Ack are told once their batch committed, in order, and a
// Checkpointer's position for the batch's last line of its source is
// committed with the batch.
func TestAckAfterCommit(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "journal.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j, err := journal.Open(ctx, db, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	ch := make(chan []tailer.Line)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Parser: &parser.Parser{}, Journal: j, FlushInterval: time.Hour, AckInterval: time.Hour, BatchSize: 4}, ch)
	}()
	acks := make([]*recordingAck, 10)
	for i := range acks {
		acks[i] = &recordingAck{mu: &mu, order: &order, n: i}
	}
	// Lines of a file source in between carry no Ack.
	ch <- []tailer.Line{
		{Source: "relp", Text: line(0), Ack: acks[0]},
		{Source: "relp", Text: line(1), Ack: acks[1]},
		{Source: "/var/log/mail.log", Text: line(100), Pos: event.Position{Offset: 7}},
		{Source: "relp", Text: line(2), Ack: acks[2]},
	}
	// The batch of four commits before the next send is taken.
	ch <- []tailer.Line{{Source: "relp", Text: line(3), Ack: acks[3]}}
	mu.Lock()
	got := append([]int(nil), order...)
	mu.Unlock()
	if len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("told %v after the first batch committed, want [0 1 2]", got)
	}
	positions, err := j.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := positions["relp"]; p.Cursor != "upto-"+line(2) {
		t.Errorf("relp position %+v, want the last relp line's checkpoint", p)
	}
	if p := positions["/var/log/mail.log"]; p.Offset != 7 {
		t.Errorf("file position %+v", p)
	}
	if acks[3].committed {
		t.Error("line 3 told before its batch committed")
	}
	close(ch)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !acks[3].committed {
		t.Error("line 3 not told after the final commit")
	}
	if n, err := j.Count(ctx); err != nil || n != 5 {
		t.Errorf("journal holds %d events (%v), want 5", n, err)
	}
}

// A line whose sender waits is committed within AckInterval, not only at
// FlushInterval.
func TestAckInterval(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	var order []int
	ch := make(chan []tailer.Line)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Parser: &parser.Parser{}, Journal: j, FlushInterval: time.Hour, AckInterval: 10 * time.Millisecond}, ch)
	}()
	ch <- []tailer.Line{{Source: "relp", Text: line(0), Ack: &recordingAck{mu: &mu, order: &order}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		told := len(order)
		mu.Unlock()
		if told == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an acknowledged line was not committed within 10s with AckInterval 10ms")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
