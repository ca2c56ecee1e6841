package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

func openTemp(t *testing.T) *Journal {
	t.Helper()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	return openTempWith(t, Options{Now: func() time.Time { return now }})
}

// openTempWith opens a journal in a temporary directory with o, closed
// when the test ends.
func openTempWith(t *testing.T, o Options) *Journal {
	t.Helper()
	j, err := Open(context.Background(), filepath.Join(t.TempDir(), "j.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestCommitAndRead(t *testing.T) {
	ctx := context.Background()
	j := openTemp(t)
	t0 := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	var recs []Record
	for i := 0; i < 150; i++ { // more than one insert chunk
		recs = append(recs, Record{Source: "/var/log/mail.log", Event: event.Event{
			Time: t0.Add(time.Duration(i) * time.Second), Kind: event.KindDelivery,
			QueueID: "ABC" + string(rune('A'+i%3)), SASLUsername: "u" + string(rune('0'+i%2)), Raw: "line",
		}})
	}
	recs = append(recs, Record{Source: "-", Event: event.Event{Kind: event.KindUnknown, Raw: "no time"}})
	pos := event.Position{Fingerprint: "abc", Inode: 7, Offset: 4242}
	if err := j.Commit(ctx, recs, []SourcePosition{{Source: "/var/log/mail.log", Pos: pos}}); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Count(ctx); err != nil || n != 151 {
		t.Fatalf("count = %d, %v", n, err)
	}
	got, err := j.Positions(ctx)
	if err != nil || got["/var/log/mail.log"] != pos {
		t.Fatalf("positions = %v, %v", got, err)
	}
	evs, err := j.Events(ctx, Filter{QueueID: "ABCB", SASLUsername: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	// i%3 == 1 and i%2 == 1: i = 1, 7, 13, ... < 150 → 25 events.
	if len(evs) != 25 || !evs[0].Event.Time.Equal(t0.Add(time.Second)) || evs[0].Source != "/var/log/mail.log" {
		t.Fatalf("filtered events: %d, first %+v", len(evs), evs)
	}
	evs, err = j.Events(ctx, Filter{Kinds: []event.Kind{event.KindUnknown}})
	if err != nil || len(evs) != 1 || !evs[0].Event.Time.IsZero() || evs[0].Event.Raw != "no time" {
		t.Fatalf("unknown event: %+v, %v", evs, err)
	}
	// Time range uses the ingest time for events without one.
	evs, err = j.Events(ctx, Filter{Since: t0.Add(149 * time.Second), Limit: 10})
	if err != nil || len(evs) != 2 {
		t.Fatalf("since: %d events, %v", len(evs), err)
	}
}

func TestReopenKeepsSchemaAndData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, []Record{{Source: "s", Event: event.Event{Kind: event.KindConnect, Time: time.Unix(1, 0)}}}, nil); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n, err := j.Count(ctx); err != nil || n != 1 {
		t.Fatalf("count after reopen = %d, %v", n, err)
	}
	var mode string
	if err := j.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "nope.db"), Options{ReadOnly: true}); err == nil {
		t.Error("opening a missing journal read-only succeeded")
	}
}

// A query cancelled through its context leaves its connection flagged
// interrupted (sqlite3_interrupt), and SQLite's close-time checkpoint
// gives up on a flagged connection: Close must merge the log anyway. The
// filter build that Close cancels did this now and then under load.
func TestCloseMergesWALAfterCancelledQuery(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, []Record{{Source: "s", Event: event.Event{Kind: event.KindConnect, Time: time.Unix(1, 0)}}}, nil); err != nil {
		j.Close()
		t.Fatal(err)
	}
	// Its first row is seconds of stepping away: the cancellation lands
	// while SQLite runs it, the way a client going away does.
	qctx, cancel := context.WithCancel(ctx)
	stop := time.AfterFunc(20*time.Millisecond, cancel)
	var x int64
	err = j.DB().QueryRowContext(qctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT x FROM c WHERE x = 1000000000").Scan(&x)
	stop.Stop()
	cancel()
	if err == nil {
		t.Fatalf("the query was not cancelled: %d", x)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Fatalf("%s-wal left with %d bytes after Close", path, fi.Size())
	}
}

// CommitSealed's callback comes once per commit, after the blocks are
// sealed and before the transaction makes the events visible; a commit
// that fails before sealing still calls it, so a caller waiting for it is
// never left waiting.
func TestCommitSealedBeforeRows(t *testing.T) {
	ctx := context.Background()
	j := openTempWith(t, Options{BlockEvents: 64})
	batch := func(from, n int) []Record {
		var recs []Record
		for i := from; i < from+n; i++ {
			recs = append(recs, Record{Source: "a", Event: event.Event{Raw: fmt.Sprintf("line %d", i)}})
		}
		return recs
	}
	for _, tc := range []struct {
		name   string
		n      int
		before int64
	}{
		{"two blocks", 128, 0},
		{"less than a block", 10, 128},
	} {
		calls := 0
		err := j.CommitSealed(ctx, batch(0, tc.n), nil, func() {
			calls++
			if n, err := j.Count(ctx); err != nil || n != tc.before {
				t.Errorf("%s: when sealed, readers see %d events (%v), want %d", tc.name, n, err, tc.before)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Errorf("%s: sealed called %d times, want once", tc.name, calls)
		}
		if n, err := j.Count(ctx); err != nil || n != tc.before+int64(tc.n) {
			t.Errorf("%s: after the commit, %d events (%v), want %d", tc.name, n, err, tc.before+int64(tc.n))
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	calls := 0
	if err := j.CommitSealed(cancelled, batch(0, 64), nil, func() { calls++ }); err == nil || calls != 1 {
		t.Errorf("a commit on a cancelled context: err %v, sealed called %d times; want an error and one call", err, calls)
	}
}
