package journal

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The journal's own connections leave the log to the merger: a commit
// never waits for a checkpoint's copy and fsyncs; a log a flood made long
// is cut back when it starts over.
func TestNoAutomaticCheckpoint(t *testing.T) {
	j := openTemp(t)
	var pages int
	if err := j.DB().QueryRowContext(context.Background(), "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 0 {
		t.Fatalf("wal_autocheckpoint = %d, want 0", pages)
	}
	var limit int
	if err := j.DB().QueryRowContext(context.Background(), "PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != 4<<20 {
		t.Fatalf("journal_size_limit = %d, want %d", limit, 4<<20)
	}
}

// Commits alone, with nobody else checkpointing, get their pages into the
// database file: the merger runs beside them.
func TestWALMergedBesideCommits(t *testing.T) {
	j := openTemp(t)
	ctx := context.Background()
	before := fileSize(t, j.Path())
	rng := rand.New(rand.NewPCG(1, 2))
	// Random text compresses badly: about 8 MB of blocks.
	for b := 0; b < 40; b++ {
		recs := make([]Record, 2048)
		for i := range recs {
			recs[i] = Record{Source: "/var/log/mail.log", Event: event.Event{Kind: event.KindUnknown,
				Raw: fmt.Sprintf("line %d %d %s", b, i, noise(rng, 200))}}
		}
		if err := j.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, j.Path()) < before+(4<<20) {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 80k events: the log was not merged", fileSize(t, j.Path()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Under a writer that never pauses, a merge beside it can copy pages but
// never start the log over; past the limit the writer merges between two
// of its commits, so the log's file stays bounded.
func TestWALMergerBoundsLog(t *testing.T) {
	db, path, pageBytes := floodDB(t)
	ctx := context.Background()
	const limit = 2 << 20
	m := newWALMerger(db, limit, pageBytes)
	go m.run()
	defer m.close()
	blob := []byte(strings.Repeat("x", 64<<10))
	var largest int64
	for i := 0; i < 1000; i++ { // ~64 MiB written, without a pause
		if _, err := db.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", blob); err != nil {
			t.Fatal(err)
		}
		m.wrote(len(blob))
		if st, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, st.Size())
		}
	}
	t.Logf("largest log: %d bytes (limit %d bytes, pages of %d)", largest, limit, pageBytes)
	// Commits are counted by their payload, not by the pages SQLite
	// writes for them (b-tree pages, frame headers), and a merge beside
	// the writer sees the log a little late: a few times the limit, not
	// the whole flood.
	if most := int64(3 * limit); largest > most {
		t.Fatalf("log grew to %d bytes under a flood of 64 MiB; want at most %d", largest, most)
	}
}

// floodDB is a database of one table in WAL mode, its path and page size.
func floodDB(t *testing.T) (db *sql.DB, path string, pageBytes int) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "flood.db")
	db, err := sql.Open(sqliteDriver, "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v BLOB)"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageBytes); err != nil {
		t.Fatal(err)
	}
	return db, path, pageBytes
}

// Past three quarters of the limit the committer asks the merger to merge
// the log and merges between its commits only after that, when little is
// left to copy; at the limit it merges whatever the merger did. The
// merger's loop is not started: the test runs its merges.
func TestMergeBetweenCommitsFollowsMerger(t *testing.T) {
	db, _, pageBytes := floodDB(t)
	ctx := context.Background()
	const limit = 1 << 20
	m := newWALMerger(db, limit, pageBytes)
	blob := []byte(strings.Repeat("x", 32<<10))
	commit := func() {
		t.Helper()
		if _, err := db.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", blob); err != nil {
			t.Fatal(err)
		}
		m.wrote(len(blob))
	}
	// Below three quarters of the limit (and of the 4 MiB after which
	// commits nudge the merger anyway) nothing is asked of the merger.
	n := 0
	for m.awaited == 0 {
		commit()
		n++
		if n > 100 {
			t.Fatalf("no merge asked of the merger after %d bytes (limit %d)", n*len(blob), limit)
		}
	}
	if got := n * len(blob); got < limit*3/4 || got > limit {
		t.Fatalf("the merger was asked to merge after %d bytes; want three quarters of the limit, %d", got, limit*3/4)
	}
	if len(m.nudge) != 1 {
		t.Fatal("past three quarters of the limit the merger was not nudged")
	}
	<-m.nudge
	commit()
	if m.waited+m.forced != 0 {
		t.Fatal("merged between commits before the merger merged")
	}
	m.merge(ctx)
	commit()
	if m.waited != 1 || m.forced != 0 {
		t.Fatalf("after the merger's merge: %d merges between commits after it, %d forced; want 1, 0", m.waited, m.forced)
	}
	if pages := m.logPages.Load(); pages != 0 {
		t.Fatalf("the merge between commits left %d pages of the log unmerged", pages)
	}
	// A merger that does not come: the committer merges at the limit.
	for n = 0; m.forced == 0; n++ {
		commit()
		if n > 100 {
			t.Fatalf("no merge between commits after %d bytes (limit %d)", n*len(blob), limit)
		}
	}
	if m.waited != 1 {
		t.Fatalf("%d merges between commits after the merger's; want still 1", m.waited)
	}
	if got := n * len(blob); got < limit {
		t.Fatalf("merged between commits without the merger after %d bytes; want the limit, %d", got, limit)
	}
}

func noise(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('!' + rng.IntN(90))
	}
	return string(b)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// An erasure empties the log's file even while the merger is merging: it
// waits for the merge instead of failing beside it (SQLite gives up at
// once on a second checkpoint).
func TestTruncateBesideMerges(t *testing.T) {
	j := openTemp(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	stop := make(chan struct{})
	merging := make(chan struct{})
	go func() {
		defer close(merging)
		for {
			select {
			case <-stop:
				return
			default:
				j.merger.merge(ctx)
			}
		}
	}()
	for i := 0; i < 30; i++ {
		recs := make([]Record, 64)
		for k := range recs {
			recs[k] = Record{Source: "/var/log/mail.log", Event: event.Event{Kind: event.KindUnknown, Raw: noise(rng, 300)}}
		}
		if err := j.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
		done, err := j.merger.truncate(ctx)
		if err != nil || !done {
			close(stop)
			<-merging
			t.Fatalf("truncation %d beside merges: done %v, %v", i, done, err)
		}
	}
	close(stop)
	<-merging
	if st, err := os.Stat(j.Path() + "-wal"); err != nil || st.Size() != 0 {
		t.Fatalf("log file after the last truncation: %v, %v", st, err)
	}
}

// A new journal takes 16 KiB pages; one created with SQLite's default 4
// KiB (every journal before them) keeps its pages, opens and takes
// commits, and its merger counts the log in its own page size.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pageOf := func(j *Journal) int {
		t.Helper()
		var n int
		if err := j.DB().QueryRowContext(ctx, "PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	fresh, err := Open(ctx, filepath.Join(dir, "new.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if n := pageOf(fresh); n != pageSize || fresh.merger.pageBytes != pageSize {
		t.Errorf("new journal: pages of %d, merger counts %d; want %d", n, fresh.merger.pageBytes, pageSize)
	}

	oldPath := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite3", "file:"+oldPath+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE before_us (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	old, err := Open(ctx, oldPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if n := pageOf(old); n != 4096 || old.merger.pageBytes != 4096 {
		t.Errorf("journal created with 4 KiB pages: pages of %d, merger counts %d; want 4096", n, old.merger.pageBytes)
	}
	var recs []Record
	for i := 0; i < 3000; i++ {
		recs = append(recs, Record{Source: "a", Event: event.Event{Raw: "line"}})
	}
	if err := old.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := old.Count(ctx); err != nil || n != 3000 {
		t.Errorf("4 KiB journal holds %d events (%v), want 3000", n, err)
	}
}
