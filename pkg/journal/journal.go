// Package journal is mailtrail's local event store: a SQLite database that
// holds every parsed event and the position of every source, committed
// together so that ingest resumes exactly where it stopped.
package journal

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure a journal.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// ReadOnly opens an existing journal for queries only.
	ReadOnly bool
	// Signer signs checkpoints of the Merkle tree over the events; nil
	// writes none. VerifierKey is its public key, stored in the journal.
	Signer      integrity.Signer
	VerifierKey string
	// Origin names the log in checkpoints (the instance).
	Origin string
	// A checkpoint is signed once this many events or this much time have
	// passed since the last one; 0 means the defaults.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// BlockEvents is how many events are sealed into one compressed block;
	// 0 means DefaultBlockEvents. Tests use small blocks.
	BlockEvents int
	// Compression is the codec of the blocks a writer seals, CompressS2
	// (when empty) or CompressZstd; blocks of either are read.
	Compression string
	// ArchiveDir is where retention archives expired blocks (as
	// Retention.ArchiveDir): Erase rewrites the archives there too.
	ArchiveDir string
	// UpTo, when positive, hides the events after it from reads: the
	// journal as the checkpoint of that size signed it, so that a report
	// holds only events an evidence bundle can prove.
	UpTo int64
	// Observe, when set, sees every event a read passes on, with its time
	// column, before the caller does: what a report read is what its
	// evidence bundle must carry. Reads may call it concurrently.
	Observe func(s *Stored, timeCol int64)
	// Cold is where archives are kept off the host (retention uploads what
	// it wrote to ArchiveDir there): Erase rewrites its objects too.
	Cold ColdStore
}

// Journal is an open event journal. Commit may be called from several
// goroutines (ingest, the API's access log); queries run concurrently with
// it (WAL).
type Journal struct {
	// mu serialises commits: the Merkle tree grows in memory in step with
	// the transaction.
	mu   sync.Mutex
	lock *os.File // the writer lock; nil for readers
	// filters narrow postings lookups (a writer's only); stopFilters ends
	// their background build.
	filters     *filters
	stopFilters func()
	filtersDone chan struct{}
	db          *sql.DB
	path        string
	now         func() time.Time
	sources     map[string]int64
	// Inserts of insertChunk rows and of one row, prepared at Open so a
	// transaction never waits for a second connection to prepare them.
	insertMany, insertOne *sql.Stmt
	// A commit's other statements, prepared at Open too: preparing them
	// anew in every transaction (SQLite parses and plans each) was 2% of
	// replay's CPU.
	insertBlock, insertBlockData, saveMerkle, savePosition *sql.Stmt
	// packMany inserts packedChunk packed postings rows; packBuf, packRows
	// and packArgs are its reused buffers.
	packMany *sql.Stmt
	packBuf  []byte
	packRows []packedRow
	packArgs []any
	// packed: the database has packed_postings; rowPostings: postings
	// holds rows of blocks sealed before it.
	packed, rowPostings bool
	// hot are the events of the hot table, oldest first: sealed into a
	// block once there are BlockEvents of them. Only a writer keeps them.
	hot []entry
	// sealers compress the blocks a commit seals, side by side.
	sealers []*sealer
	// merger merges the write-ahead log beside the commits (a writer's
	// only); written is what the transaction under way wrote, roughly.
	merger  *walMerger
	written int
	// batchBuf, ends and fresh hold a commit's encoded events; reused.
	batchBuf []byte
	ends     []int
	fresh    []entry
	// sealed is CommitSealed's callback for the commit under way, until
	// it is called.
	sealed func()
	// legacy marks a read-only journal of a schema before blocks.
	legacy bool

	opts               Options
	signer             integrity.Signer
	tree               *integrity.Tree
	lastCheckpoint     int64 // tree size at the last checkpoint
	lastCheckpointTime int64 // Unix ns
	leafBuf            []byte

	// archiveMu keeps an erasure and an upload of staged archives apart:
	// an upload must not store (and then delete) a staged file an erasure
	// is rewriting, nor add an object after the erasure listed them.
	// Taken before mu, never while holding it.
	archiveMu sync.Mutex
}

// Open opens (creating if needed) the journal at path and brings its schema
// up to date.
func Open(ctx context.Context, path string, opts Options) (*Journal, error) {
	var lock *os.File
	if !opts.ReadOnly {
		var err error
		if lock, err = lockWriter(path); err != nil {
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
	}
	j, err := open(ctx, path, opts)
	if err != nil {
		unlockWriter(lock)
		return nil, err
	}
	j.lock = lock
	return j, nil
}

func open(ctx context.Context, path string, opts Options) (*Journal, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.BlockEvents <= 0 {
		opts.BlockEvents = DefaultBlockEvents
	}
	switch opts.Compression {
	case "", CompressS2, CompressZstd:
	default:
		return nil, fmt.Errorf("open journal %s: compression %q: want %s or %s", path, opts.Compression, CompressS2, CompressZstd)
	}
	q := url.Values{}
	// WAL mode is set by the driver's connect hook (walmerge.go), after
	// the page size.
	// NORMAL is durable against process crashes (kill -9) in WAL mode; a
	// power loss may drop the last commits, events and positions together.
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		q.Set("mode", "ro")
	}
	db, err := sql.Open(sqliteDriver, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	// Queries (the API's, the verifier's) run beside ingest; a connection
	// closed for being idle loses its page cache and its parsed schema.
	db.SetMaxIdleConns(8)
	j := &Journal{db: db, path: path, now: opts.Now, sources: map[string]int64{}, opts: opts, signer: opts.Signer}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if opts.ReadOnly {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'blocks'").Scan(&n); err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		j.legacy = n == 0
		if !j.legacy {
			if j.packed, j.rowPostings, err = hasPacked(ctx, db); err != nil {
				db.Close()
				return nil, fmt.Errorf("open journal %s: %w", path, err)
			}
		}
	} else {
		if err := j.migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		if j.packed, j.rowPostings, err = hasPacked(ctx, db); err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		for _, p := range []struct {
			stmt **sql.Stmt
			sql  string
		}{
			{&j.insertMany, insertSQL(insertChunk)}, {&j.insertOne, insertSQL(1)}, {&j.packMany, packedSQL(packedChunk)},
			{&j.insertBlock, insertBlockSQL}, {&j.insertBlockData, insertBlockDataSQL},
			{&j.saveMerkle, saveMerkleSQL}, {&j.savePosition, savePositionSQL},
		} {
			if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
				break
			}
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: prepare insert: %w", path, err)
		}
		if err := j.loadTree(ctx); err != nil {
			j.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		if err := j.loadHot(ctx); err != nil {
			j.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		if opts.VerifierKey != "" {
			if _, err := db.ExecContext(ctx, "INSERT INTO signer (id, vkey) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET vkey = excluded.vkey", opts.VerifierKey); err != nil {
				j.Close()
				return nil, fmt.Errorf("open journal %s: store signer key: %w", path, err)
			}
		}
		j.startFilters()
		var pageBytes int
		if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageBytes); err != nil {
			j.Close()
			return nil, fmt.Errorf("open journal %s: read page size: %w", path, err)
		}
		j.merger = startWALMerger(db, pageBytes)
	}
	return j, nil
}

// Path is the database file.
func (j *Journal) Path() string { return j.path }

// DB exposes the database for packages that extend the journal (integrity,
// queries).
func (j *Journal) DB() *sql.DB { return j.db }

// Close closes the database. A writer's write-ahead log is merged into the
// file: the file alone is then the journal (copied, archived, verified).
func (j *Journal) Close() error {
	for _, s := range []*sql.Stmt{j.insertMany, j.insertOne, j.packMany, j.insertBlock, j.insertBlockData, j.saveMerkle, j.savePosition} {
		if s != nil {
			s.Close()
		}
	}
	if j.stopFilters != nil {
		j.stopFilters()
		<-j.filtersDone
	}
	if j.merger != nil {
		j.merger.close()
	}
	if !j.opts.ReadOnly {
		j.mergeWAL()
	}
	err := j.db.Close()
	unlockWriter(j.lock)
	j.lock = nil
	return err
}

// mergeWAL makes the connection that closes last merge and delete the
// write-ahead log. SQLite does that on closing the last connection, but
// skips it, silently, when that connection still carries an interrupt: a
// query cancelled through its context (the filter build stopped by Close, an
// API request whose client went away) calls sqlite3_interrupt, and the flag
// stays set until the connection's next statement, so the close-time
// checkpoint stops at its first page with SQLITE_INTERRUPT. Keeping one idle
// connection and running a statement on it clears its flag, and the
// checkpoint that statement runs merges the log even if some connection
// still in use keeps the file from being deleted. Best effort: Close must
// close even when this fails, and the log stays valid for the next open.
func (j *Journal) mergeWAL() {
	j.db.SetMaxIdleConns(1)
	_, _ = j.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
}

// lockWriter takes the journal's writer lock, a lock file beside it: the
// Merkle tree and the hot events live in the writer's memory, so a second
// writer (an `exporter forget` or `restore` while `serve` runs, two
// exporters given one journal) would fork the tree. Readers take no lock.
// The lock is flock(2), released by the kernel when the process dies.
func lockWriter(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("writer lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("another process is writing to this journal (stop the exporter, or use its API)")
		}
		return nil, fmt.Errorf("writer lock: %w", err)
	}
	return f, nil
}

func unlockWriter(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// migrate applies the embedded migrations newer than the database's
// user_version, each in its own transaction, in number order; user_version
// becomes the number of the last one applied. Numbers are reserved per
// change and may arrive on a branch before the ones below them: a gap is
// skipped, a repeated number is refused.
func (j *Journal) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var version int
	if err := j.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	last := 0
	nums := make([]int, len(names))
	for i, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || n <= last {
			return fmt.Errorf("migration %s out of sequence (after %04d)", name, last)
		}
		nums[i], last = n, n
	}
	if version > last {
		return fmt.Errorf("schema version %d is newer than this program knows (%d)", version, last)
	}
	for i, name := range names {
		n := nums[i]
		if n <= version {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := j.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// SourcePosition is where one source stands after a batch.
type SourcePosition struct {
	Source string
	Pos    event.Position
}

// Record is an event with where it came from.
type Record struct {
	Event  event.Event
	Source string
}

// insertChunk is how many events one INSERT statement carries: a
// multi-row insert pays the statement overhead once per chunk.
const insertChunk = 64

// Commit writes a batch of records and the positions they were read up to,
// in one transaction: after a crash either all of it is there or none.
func (j *Journal) Commit(ctx context.Context, recs []Record, positions []SourcePosition) error {
	return j.CommitSealed(ctx, recs, positions, nil)
}

// CommitSealed is Commit that calls sealed, if not nil, once the batch's
// blocks are compressed and indexed and what is left is mostly writing
// rows, one-threaded, in the transaction; or, if the commit ends before
// that, as it ends. A caller that commits in the background can go on to
// work that uses the other cores meanwhile.
func (j *Journal) CommitSealed(ctx context.Context, recs []Record, positions []SourcePosition, sealed func()) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sealed = sealed
	defer j.callSealed()
	// A commit does not begin once ctx has ended, and a begun one is not
	// cut short: the batch would only be read again. Without a cancellable
	// context the driver also runs each statement on this goroutine rather
	// than starting one per statement.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("journal %s: commit: %w", j.path, err)
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal %s: begin: %w", j.path, err)
	}
	undo := j.saveState()
	j.written = 0
	if err := j.commit(ctx, tx, recs, positions); err != nil {
		tx.Rollback()
		undo()
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := tx.Commit(); err != nil {
		undo()
		return fmt.Errorf("journal %s: commit: %w", j.path, err)
	}
	if j.merger != nil {
		// The pages near the ends of the b-trees (tree frontier, positions,
		// the indexes' last leaves) are written by every commit.
		j.merger.wrote(j.written + 8<<10)
	}
	return nil
}

const savePositionSQL = "UPDATE sources SET position = ?, updated = ? WHERE id = ?"

func (j *Journal) commit(ctx context.Context, tx *sql.Tx, recs []Record, positions []SourcePosition) error {
	now := j.now()
	// One buffer for the batch's queue ids and codec bytes, reused from
	// batch to batch (allocating it anew cost more than filling it): the
	// events that stay in the hot table get bytes of their own in addHot.
	buf := j.batchBuf[:0]
	if want := 320 * len(recs); buf == nil || cap(buf) < want {
		// Room for the batch at once (an event's leaf bytes are ~290 on
		// the simulated log): grown by append from a small start it was
		// copied some twenty times over. Non-nil: an empty codec is not
		// NULL.
		buf = make([]byte, 0, max(want, 64<<10))
	}
	// Each event's leaf bytes (the RFC 6962 prefix, then appendLeaf's
	// layout) are written once, here, and its queue id and codec bytes are
	// the slices of them that the block and the postings need: hashing
	// the leaf then reads them in place, where building them again for
	// every leaf cost a copy and a cleared stack buffer.
	first := int64(j.tree.Size()) + 1
	ends := j.ends[:0]
	ends = append(ends, make([]int, 4*len(recs))...)
	j.ends = ends
	for i := range recs {
		r := &recs[i]
		e := &r.Event
		t := e.Time
		if t.IsZero() {
			t = now
		}
		ends[4*i] = len(buf)
		buf = append(buf, integrity.LeafPrefix)
		buf = binary.AppendUvarint(buf, uint64(first+int64(i)))
		buf = binary.AppendVarint(buf, timeToCol(t))
		buf = append(buf, byte(e.Kind))
		buf = binary.AppendUvarint(buf, uint64(len(e.QueueID)))
		ends[4*i+1] = len(buf)
		buf = append(buf, e.QueueID...)
		ends[4*i+2] = len(buf)
		buf = binary.AppendUvarint(buf, uint64(len(r.Source)))
		buf = append(buf, r.Source...)
		ends[4*i+3] = len(buf)
		buf = appendEvent(buf, e)
	}
	j.batchBuf = buf
	fresh := j.fresh[:0]
	fresh = append(fresh, make([]entry, len(recs))...)
	j.fresh = fresh
	// A batch's lines mostly come from one source, in runs: its id is
	// looked up once a run, not hashed from its name for every event.
	var lastSrc string
	var src int64 = -1
	for i := range recs {
		r := &recs[i]
		if src < 0 || r.Source != lastSrc {
			id, err := j.sourceID(ctx, tx, r.Source)
			if err != nil {
				return err
			}
			lastSrc, src = r.Source, id
		}
		t := r.Event.Time
		if t.IsZero() {
			t = now
		}
		end := len(buf)
		if i+1 < len(recs) {
			end = ends[4*(i+1)]
		}
		// Sequence numbers are given, not left to SQLite, because the
		// Merkle leaf covers them: event n is leaf n.
		fresh[i] = entry{seq: first + int64(i), t: timeToCol(t), kind: r.Event.Kind, src: src,
			qid: buf[ends[4*i+1]:ends[4*i+2]:ends[4*i+2]], data: buf[ends[4*i+3]:end:end]}
	}
	// The leaves are hashed into the tree beside the sealing (compression,
	// postings, inserts), which reads the same entries and nothing else
	// of the tree's: a third of a commit's CPU moved to a second core.
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for i := range fresh {
			end := len(buf)
			if i+1 < len(recs) {
				end = ends[4*(i+1)]
			}
			j.tree.Append(integrity.LeafHashPrefixed(buf[ends[4*i]:end]))
		}
	}()
	err := j.addHot(ctx, tx, fresh)
	<-hashed
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		if err := j.saveTree(ctx, tx.StmtContext(ctx, j.saveMerkle)); err != nil {
			return err
		}
		if err := j.maybeCheckpoint(ctx, tx, now); err != nil {
			return err
		}
	}
	for _, p := range positions {
		src, err := j.sourceID(ctx, tx, p.Source)
		if err != nil {
			return err
		}
		b, err := json.Marshal(p.Pos)
		if err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, j.savePosition).ExecContext(ctx, string(b), now.UnixNano(), src); err != nil {
			return fmt.Errorf("save position of %s: %w", p.Source, err)
		}
	}
	return nil
}

// CommitSize is the batch size, at most want (and at least 1), that ends
// on a block boundary: a commit of it seals its events straight into
// blocks, while the events of a commit that ends mid-block are written
// into the hot table only to be deleted from it once the block fills.
// When want is less than the room left in the block, it is want.
func (j *Journal) CommitSize(want int) int {
	hot, be := j.HotEvents()
	return AlignedCommitSize(want, hot, be)
}

// HotEvents is how many events wait in the hot table for their block to
// fill, and how many a block holds.
func (j *Journal) HotEvents() (hot, blockEvents int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.hot), j.opts.BlockEvents
}

// AlignedCommitSize is CommitSize for a journal with hot events waiting
// and blocks of blockEvents: what a caller that commits in the background
// works out for its next batch before the one in flight is done.
func AlignedCommitSize(want, hot, blockEvents int) int {
	room := blockEvents - hot%blockEvents
	if want <= room {
		return max(want, 1)
	}
	return room + (want-room)/blockEvents*blockEvents
}

// saveState returns what puts back the writer's in-memory state after a
// failed transaction: the source ids it may have created, the tree it
// grew, the checkpoint it signed and the hot events it sealed.
func (j *Journal) saveState() (restore func()) {
	size, frontier := j.tree.Size(), j.tree.Frontier()
	lastCP, lastCPTime := j.lastCheckpoint, j.lastCheckpointTime
	hot := j.hot
	return func() {
		j.sources = map[string]int64{}
		j.tree, _ = integrity.RestoreTree(size, frontier)
		j.lastCheckpoint, j.lastCheckpointTime = lastCP, lastCPTime
		j.hot = hot
	}
}

// insertSQL is an INSERT of rows events.
func insertSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO events (seq, time, kind, queue_id, source, data) VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?)")
	}
	return sb.String()
}

// addHot appends fresh events to the hot ones and seals every full block:
// rows already in the hot table that are sealed are deleted, fresh events
// that are sealed at once never touch it.
func (j *Journal) addHot(ctx context.Context, tx *sql.Tx, fresh []entry) error {
	be := j.opts.BlockEvents
	persisted := len(j.hot)
	all := fresh
	if persisted > 0 {
		all = append(j.hot[:persisted:persisted], fresh...)
	}
	sealed := len(all) / be * be
	if err := j.writeBlocks(ctx, tx, all[:sealed], be); err != nil {
		return err
	}
	if sealed > 0 && persisted > 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq <= ?", all[min(sealed, persisted)-1].seq); err != nil {
			return fmt.Errorf("seal hot events: %w", err)
		}
	}
	if err := j.insertHot(ctx, tx, all[max(sealed, persisted):]); err != nil {
		return err
	}
	j.hot = append([]entry(nil), all[sealed:]...)
	ownBytes(j.hot[max(persisted-sealed, 0):])
	return nil
}

// ownBytes gives entries pointing into a reused buffer a copy of their
// bytes, one allocation for all of them.
func ownBytes(es []entry) {
	n := 0
	for i := range es {
		n += len(es[i].qid) + len(es[i].data)
	}
	b := make([]byte, 0, n)
	for i := range es {
		e := &es[i]
		b = append(b, e.qid...)
		e.qid = b[len(b)-len(e.qid) : len(b) : len(b)]
		b = append(b, e.data...)
		e.data = b[len(b)-len(e.data) : len(b) : len(b)]
	}
}

// insertHot writes events into the hot table.
func (j *Journal) insertHot(ctx context.Context, tx *sql.Tx, es []entry) error {
	args := make([]any, 0, insertChunk*6)
	for start := 0; start < len(es); start += insertChunk {
		chunk := es[start:min(start+insertChunk, len(es))]
		args = args[:0]
		for i := range chunk {
			e := &chunk[i]
			var qid any
			if len(e.qid) > 0 {
				qid = string(e.qid)
			}
			args = append(args, e.seq, e.t, int64(e.kind), qid, e.src, e.data)
			j.written += len(e.data) + len(e.qid) + 24
		}
		if len(chunk) == insertChunk {
			if _, err := tx.StmtContext(ctx, j.insertMany).ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
			continue
		}
		one := tx.StmtContext(ctx, j.insertOne)
		for i := 0; i < len(args); i += 6 {
			if _, err := one.ExecContext(ctx, args[i:i+6]...); err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
		}
	}
	return nil
}

// leafCol is the hot table's tombstone column, absent before blocks.
func (j *Journal) leafCol() string {
	if j.legacy {
		return "NULL"
	}
	return "leaf"
}

// loadHot reads the hot table. A journal from before blocks holds all its
// events there: they are sealed now, a page of blocks per transaction.
func (j *Journal) loadHot(ctx context.Context) error {
	be := j.opts.BlockEvents
	page := be * 16
	var after int64
	for {
		es, err := j.readHot(ctx, after, page)
		if err != nil {
			return err
		}
		full := len(es) / be * be
		if full > 0 {
			tx, err := j.db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("seal old events: %w", err)
			}
			for s := 0; s < full; s += be {
				if err := j.writeBlock(ctx, tx, es[s:s+be]); err != nil {
					tx.Rollback()
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq <= ?", es[full-1].seq); err != nil {
				tx.Rollback()
				return fmt.Errorf("seal old events: %w", err)
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("seal old events: %w", err)
			}
			after = es[full-1].seq
		}
		if len(es) < page {
			j.hot = es[full:]
			return nil
		}
	}
}

// readHot reads up to limit hot rows after seq, with their own copies of
// the bytes.
func (j *Journal) readHot(ctx context.Context, after int64, limit int) ([]entry, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT seq, time, kind, queue_id, source, data, "+j.leafCol()+" FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("read hot events: %w", err)
	}
	defer rows.Close()
	var es []entry
	for rows.Next() {
		var e entry
		if err := scanHot(rows, &e); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

func (j *Journal) sourceID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	if id, ok := j.sources[name]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM sources WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.ExecContext(ctx, "INSERT INTO sources (name) VALUES (?)", name)
		if err != nil {
			return 0, fmt.Errorf("add source %s: %w", name, err)
		}
		id, err = res.LastInsertId()
		if err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, fmt.Errorf("look up source %s: %w", name, err)
	}
	j.sources[name] = id
	return id, nil
}

// Positions returns every source's saved position.
func (j *Journal) Positions(ctx context.Context) (map[string]event.Position, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT name, position FROM sources")
	if err != nil {
		return nil, fmt.Errorf("journal %s: read positions: %w", j.path, err)
	}
	defer rows.Close()
	out := map[string]event.Position{}
	for rows.Next() {
		var name, pos string
		if err := rows.Scan(&name, &pos); err != nil {
			return nil, fmt.Errorf("journal %s: read positions: %w", j.path, err)
		}
		var p event.Position
		if err := json.Unmarshal([]byte(pos), &p); err != nil {
			return nil, fmt.Errorf("journal %s: position of %s: %w", j.path, name, err)
		}
		out[name] = p
	}
	return out, rows.Err()
}

// IsDiskFull reports whether err is SQLite running out of space (or the
// file size limit), after which ingest pauses and retries.
func IsDiskFull(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrFull || se.Code == sqlite3.ErrIoErr
	}
	return false
}

// Size is the journal's size on disk: the database and its WAL.
func (j *Journal) Size() int64 {
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(j.path + suffix); err == nil {
			total += st.Size()
		}
	}
	return total
}
