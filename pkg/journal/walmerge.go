package journal

import (
	"context"
	"database/sql"
	"strconv"
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

// pageSize is the page size of a journal created now. SQLite's default
// of 4 KiB made every commit and every merge a syscall per 4 KiB (the log's
// frames are written, and merged, one page each): with 16 KiB pages replay
// costs 4% less CPU (a fifth less system time) and runs 6% faster, in a
// journal of the same size; 32 and 64 KiB measured no better. A journal
// keeps the page size it was created with.
const pageSize = 16384

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// The page size before WAL mode: only a database without a
		// page yet takes it, and turning WAL on writes the first.
		// journal_size_limit: a log that a flood made long is cut back to
		// 4 MiB when it starts over, rather than keeping its longest size
		// on disk.
		_, err := c.Exec("PRAGMA page_size = "+strconv.Itoa(pageSize)+"; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 4194304", nil)
		return err
	}})
}

const (
	// mergeBytes is about what SQLite's automatic checkpoint waits for
	// (1000 pages of 4 KiB): commits nudge the merger once they have
	// written this much since the last nudge.
	mergeBytes = 4 << 20
	// logLimit is the log's length (bytes) past which the
	// committer merges itself, as SQLite's own checkpoint did. A merge
	// beside a writer that never pauses copies what was committed but
	// cannot start the log over (SQLite restarts it only when a writer
	// finds every frame merged), so under a long flood the file would
	// only grow. A merge between two commits finds every frame merged and
	// the next commit starts the log over. Like SQLite's own, it is
	// PASSIVE: it never waits for readers.
	logLimit = 16 << 20
	// mergeEvery merges what writers other than Commit (erasures,
	// retention, jobs) left in the log: only Commit counts what it wrote.
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
	// pending is what was written since the last nudge, slack how much
	// longer than limit the log may grow before the committer merges
	// again after a merge that a reader kept from finishing; both the
	// committer's.
	pending, slack int64
	// logPages is the log's length found by the last merge (0 once a
	// merge between commits finished), sinceMerge what commits wrote
	// since that merge began: together, about how long the log is now.
	logPages, sinceMerge atomic.Int64
	// holdUntil (Unix ns) keeps merges back from a merge between commits
	// to the next commit, which starts the log over only if no merge runs
	// beside it; for a second at most, so that a journal no commit comes
	// to is still merged.
	holdUntil atomic.Int64
	// limit is logLimit, lower in tests; pageBytes the journal's page
	// size, what the log's frames (pages) are counted in.
	limit, pageBytes int64
	// merges counts the merges run (or held back) on the merger's side,
	// running tells whether one is under way; awaited is the count the
	// committer waits for before it merges between commits (0: none),
	// the committer's.
	merges  atomic.Int64
	running atomic.Bool
	awaited int64
	// waited and forced count the merges between commits that came after
	// the merger's, and those that could not wait for it: tests read them.
	waited, forced int
}

func startWALMerger(db *sql.DB, pageBytes int) *walMerger {
	m := newWALMerger(db, logLimit, pageBytes)
	go m.run()
	return m
}

func newWALMerger(db *sql.DB, limit, pageBytes int) *walMerger {
	return &walMerger{db: db, nudge: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		limit: int64(limit), pageBytes: int64(pageBytes)}
}

// wrote counts n bytes committed (the committer calls it between
// transactions) and nudges the merger once enough are. It merges itself,
// and waits for it, only when the log is long: once the merger has merged
// it as it was at three quarters of limit, or at limit whatever the
// merger did.
func (m *walMerger) wrote(n int) {
	m.holdUntil.Store(0)
	since := m.sinceMerge.Add(int64(n))
	log := m.logPages.Load()*m.pageBytes + since
	// The merge between commits copies what the merger has not yet, and
	// ingest waits for it: done at the limit right away, it copied up to
	// the 4 MiB since the merger's last merge, 7-11 ms of a stalled
	// committer every 16 MiB (~50 ms per 1M lines in replay). So from
	// three quarters of the limit the merger is asked to merge the log
	// first, beside the next commits, and the merge between commits
	// follows it, copying only what those commits wrote (2-4 ms). At the
	// limit it waits no longer.
	if m.awaited == 0 && log >= m.limit*3/4+m.slack {
		// A nudge already queued would start a merge that the one
		// between commits then waits for.
		select {
		case <-m.nudge:
		default:
		}
		m.awaited = m.merges.Load() + 1
		if !m.running.Load() {
			select {
			case m.nudge <- struct{}{}:
			default:
			}
		}
		if log < m.limit+m.slack {
			return
		}
	}
	if m.awaited != 0 {
		switch {
		case m.merges.Load() >= m.awaited:
			m.waited++
		case log >= m.limit+m.slack:
			m.forced++
		default:
			return
		}
		m.awaited = 0
		if m.mergeBetweenCommits(context.Background()) {
			m.slack = 0
		} else {
			m.slack += m.limit / 4
		}
		return
	}
	m.pending += int64(n)
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
	m.running.Store(true)
	defer func() {
		m.running.Store(false)
		m.merges.Add(1)
	}()
	if time.Now().UnixNano() < m.holdUntil.Load() {
		return
	}
	m.sinceMerge.Store(0)
	// A log SQLite could not read (another checkpoint, a writer
	// restarting it) gives -1: the estimate stays as it was.
	if _, frames, _, err := m.checkpoint(ctx, "PASSIVE"); err == nil && frames >= 0 {
		m.logPages.Store(int64(frames))
	}
}

// mergeBetweenCommits merges the whole log while no commit runs, so that
// the next one starts it over, and reports whether it could: a reader of
// an older snapshot keeps the pages it reads in the log.
func (m *walMerger) mergeBetweenCommits(ctx context.Context) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sinceMerge.Store(0)
	busy, frames, merged, err := m.checkpoint(ctx, "PASSIVE")
	if err != nil || frames < 0 {
		return false
	}
	if busy == 0 && merged == frames {
		m.logPages.Store(0)
		m.holdUntil.Store(time.Now().Add(time.Second).UnixNano())
		return true
	}
	m.logPages.Store(int64(frames))
	return false
}

// truncate merges the whole log and empties its file, after the merge
// under way if any: SQLite runs one checkpoint at a time and gives up at
// once beside another, so an erasure's truncation beside a merge would
// fail for no reason of its own. It reports whether the file was emptied
// (a reader of an older snapshot keeps it).
func (m *walMerger) truncate(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	busy, _, _, err := m.checkpoint(ctx, "TRUNCATE")
	if err != nil || busy != 0 {
		return false, err
	}
	m.logPages.Store(0)
	return true, nil
}

// checkpoint runs one checkpoint of mode on the merger's connection:
// whether it could not finish (a reader or writer in the way), the log's
// length and how much of it is merged, in pages.
func (m *walMerger) checkpoint(ctx context.Context, mode string) (busy, frames, merged int, err error) {
	if m.conn == nil {
		if m.conn, err = m.db.Conn(ctx); err != nil {
			return 0, 0, 0, err
		}
		// A checkpoint copies pages through a buffer of its own: the
		// connection's page cache would only hold memory.
		if _, err = m.conn.ExecContext(ctx, "PRAGMA cache_size = -64"); err != nil {
			m.dropConn()
			return 0, 0, 0, err
		}
	}
	if err = m.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &merged); err != nil {
		m.dropConn() // the next merge starts on a fresh one
	}
	return busy, frames, merged, err
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
