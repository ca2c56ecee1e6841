package journal

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// The journal's connections never merge the write-ahead log into the
// database file themselves. SQLite's automatic checkpoint runs inside the
// commit that takes the log past 1000 pages: that commit returns only once
// the pages are copied and both files are fsynced, and ingest, whose
// committer waited for it, stopped parsing. In serve that was most of the
// committer's wall-clock time on a fast log (Tx.Commit 0.82 s of wall
// against 0.13 s of CPU per 1M lines) and kept it from using a second core.
// A writer's journal merges on its own goroutine and connection instead
// (walMerger), which a commit only nudges.
const sqliteDriver = "sqlite3-mailtrail"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
		return err
	}})
}

const (
	// mergeBytes is about what SQLite's automatic checkpoint waits for
	// (1000 pages of 4 KiB): commits nudge the merger once they have
	// written this much since the last nudge.
	mergeBytes = 4 << 20
	// restartFrames is the log's length (pages) past which a merge also
	// waits for the log to be reset. A passive merge beside a writer that
	// never pauses copies what was committed but cannot start the log
	// over (SQLite restarts it only when a writer finds every frame
	// merged), so under a long flood the file would only grow; the
	// restart bounds it at ~64 MiB, at the price of holding the next
	// commit back while it runs, as every merge did before.
	restartFrames = 16000
	// mergeEvery merges what other writers (the access log, jobs,
	// erasures, retention) left in the log, which commits do not count.
	mergeEvery = 30 * time.Second
)

// walMerger merges the write-ahead log into the database file beside the
// commits.
type walMerger struct {
	db *sql.DB
	// mu keeps merges one at a time: SQLite lets only one checkpoint run,
	// and a second one gives up at once as busy.
	mu sync.Mutex
	// conn is the merges' own connection (under mu), so that they do not
	// take the pool's and open more, each with its page cache.
	conn  *sql.Conn
	nudge chan struct{}
	stop  chan struct{}
	done  chan struct{}
	// pending is what was written since the last nudge; the committer's.
	pending int
	// logPages is the log's length found by the last merge (0 after a
	// restart), sinceMerge what commits wrote since that merge began:
	// together, about how long the log is now.
	logPages, sinceMerge atomic.Int64
	// restartAt is restartFrames, lower in tests.
	restartAt int
}

const pageBytes = 4096

func startWALMerger(db *sql.DB) *walMerger {
	m := newWALMerger(db, restartFrames)
	go m.run()
	return m
}

func newWALMerger(db *sql.DB, restartAt int) *walMerger {
	return &walMerger{db: db, nudge: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), restartAt: restartAt}
}

// wrote counts n bytes committed and nudges the merger once enough are.
// It waits only when the merger has fallen so far behind that the log is
// twice restartAt long: then it restarts the log itself, as SQLite's own
// checkpoint would have, so that the file stays bounded.
func (m *walMerger) wrote(n int) {
	since := m.sinceMerge.Add(int64(n))
	if m.logPages.Load()*pageBytes+since >= int64(2*m.restartAt*pageBytes) {
		m.restart(context.Background())
		return
	}
	m.pending += n
	if m.pending < mergeBytes {
		return
	}
	m.pending = 0
	select {
	case m.nudge <- struct{}{}:
	default: // a merge is pending; it takes these pages too
	}
}

func (m *walMerger) run() {
	defer close(m.done)
	tick := time.NewTicker(mergeEvery)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.nudge:
		case <-tick.C:
		}
		m.merge(context.Background())
	}
}

// merge copies the committed pages into the database file. Failures are
// left for the next merge: the log stays valid whatever is merged, and
// Close merges what is left.
func (m *walMerger) merge(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sinceMerge.Store(0)
	busy, frames, err := m.checkpoint(ctx, "PASSIVE")
	if err != nil || busy != 0 {
		return
	}
	m.logPages.Store(int64(frames))
	if frames >= m.restartAt {
		m.restartLocked(ctx)
	}
}

// restart merges the whole log and has the next commit start it over. It
// waits for the commit under way, and the next waits for it.
func (m *walMerger) restart(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.restartLocked(ctx)
}

func (m *walMerger) restartLocked(ctx context.Context) {
	m.sinceMerge.Store(0)
	busy, _, err := m.checkpoint(ctx, "RESTART")
	switch {
	case err != nil, busy != 0:
		// A reader kept the log in use: the next merge tries again.
	default:
		m.logPages.Store(0)
	}
}

// checkpoint runs one checkpoint: whether it could not finish (a reader
// or writer in the way), the log's length and how much of it is merged, in
// pages.
func (m *walMerger) checkpoint(ctx context.Context, mode string) (busy, frames int, err error) {
	if m.conn == nil {
		if m.conn, err = m.db.Conn(ctx); err != nil {
			return 0, 0, err
		}
		// A checkpoint copies pages through a buffer of its own: the
		// connection's page cache would only hold memory.
		if _, err = m.conn.ExecContext(ctx, "PRAGMA cache_size = -64"); err != nil {
			m.dropConn()
			return 0, 0, err
		}
	}
	var merged int
	if err = m.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &merged); err != nil {
		m.dropConn() // the next merge starts on a fresh one
	}
	return busy, frames, err
}

func (m *walMerger) dropConn() {
	m.conn.Close()
	m.conn = nil
}

// close stops the merger, after the merge under way if any, and gives its
// connection back.
func (m *walMerger) close() {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn != nil {
		m.dropConn()
	}
}
