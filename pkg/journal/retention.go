package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// Retention says how long events are kept.
type Retention struct {
	// Default is how long an event is kept; 0 keeps events forever.
	Default time.Duration
	// Kinds overrides Default per kind (0 keeps that kind forever).
	Kinds map[event.Kind]time.Duration
	// ArchiveDir, when set, receives every block before its expired events
	// are removed (see WriteArchive).
	ArchiveDir string
	// Cold, when set, receives the archives written to ArchiveDir (their
	// staging): each file is removed once its object is stored and
	// checked, and what was not uploaded is tried again at the next run.
	Cold ColdStore
	// BlocksPerTx bounds the work of one transaction, so that ingest never
	// waits long for the journal; 0 means 4.
	BlocksPerTx int
}

// keep returns how long events of kind k are kept (0: forever). Erasure
// records are kept forever: they are what lets verify accept the events
// they rewrote or removed. So are suspensions and their lifts: serve
// rebuilds the suspensions in force from them, permanent ones included.
func (r *Retention) keep(k event.Kind) time.Duration {
	if k == event.KindErasure || k == event.KindSuspend || k == event.KindUnsuspend {
		return 0
	}
	if d, ok := r.Kinds[k]; ok {
		return d
	}
	return r.Default
}

// ExpireResult is what a retention run did.
type ExpireResult struct {
	// Deleted counts events removed (their leaf hashes kept).
	Deleted int64
	// Folded counts the events whose blocks were removed whole, their
	// tree kept as the base of the journal.
	Folded int64
	// Archives are the files written.
	Archives []string
	// Uploaded are the archives stored in Retention.Cold (those written
	// by earlier runs included).
	Uploaded []string
}

// Expire removes the events older than the retention allows, by the
// journal's clock, in transactions of a few blocks. An expired event
// becomes a tombstone (its leaf hash) inside its block, so the Merkle tree
// can still be recomputed; once a prefix of blocks holds only tombstones,
// it is folded into the base tree and removed whole. Events of the hot
// table are never expired: they are younger than any sealed block.
func (j *Journal) Expire(ctx context.Context, r Retention) (ExpireResult, error) {
	var res ExpireResult
	if r.BlocksPerTx <= 0 {
		r.BlocksPerTx = 4
	}
	if r.Cold != nil && r.ArchiveDir == "" {
		return res, fmt.Errorf("journal %s: retention: a cold store needs an archive directory to stage its uploads", j.path)
	}
	now := j.now()
	// The newest cutoff bounds the blocks worth opening.
	var latest int64
	forever := true
	for k := range event.Kinds() {
		if d := r.keep(event.Kind(k)); d > 0 {
			forever = false
			latest = max(latest, now.Add(-d).UnixNano())
		}
	}
	if forever {
		return res, nil
	}
	after := int64(0)
	for {
		n, last, err := j.expireSome(ctx, r, now, latest, after, &res)
		if err != nil {
			return res, fmt.Errorf("journal %s: retention: %w", j.path, err)
		}
		if n == 0 {
			break
		}
		after = last
	}
	if err := j.foldPrefix(ctx, &res); err != nil {
		return res, fmt.Errorf("journal %s: retention: %w", j.path, err)
	}
	if r.Cold != nil {
		var err error
		if res.Uploaded, err = j.UploadArchives(ctx, r.ArchiveDir, r.Cold); err != nil {
			return res, fmt.Errorf("journal %s: retention: %w", j.path, err)
		}
	}
	return res, nil
}

// expireSome handles up to r.BlocksPerTx blocks after the one starting at
// after, in one transaction. It returns how many blocks it looked at and
// the first sequence number of the last.
func (j *Journal) expireSome(ctx context.Context, r Retention, now time.Time, latest, after int64, res *ExpireResult) (int, int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	// The erasure record this run journals grows the tree: a failed
	// transaction puts it back.
	restore := j.saveState()
	committed := false
	defer func() {
		if !committed {
			restore()
		}
	}()
	if _, err := tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return 0, 0, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT first_seq FROM blocks WHERE first_seq > ? AND events > 0 AND min_time < ? ORDER BY first_seq LIMIT ?", after, latest, r.BlocksPerTx)
	if err != nil {
		return 0, 0, err
	}
	var firsts []int64
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return 0, 0, err
		}
		firsts = append(firsts, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(firsts) == 0 {
		return 0, 0, err
	}
	sources, err := readSources(ctx, tx)
	if err != nil {
		return 0, 0, err
	}
	var written []string
	var removed []int64
	for _, first := range firsts {
		es, err := readBlock(ctx, tx, first)
		if err != nil {
			return 0, 0, err
		}
		var expired int64
		var kept []entry
		for i := range es {
			e := &es[i]
			if e.tomb {
				continue
			}
			d := r.keep(e.kind)
			if d <= 0 || e.t >= now.Add(-d).UnixNano() {
				continue
			}
			if kept == nil {
				// The archive gets the block as it was.
				kept = append([]entry(nil), es...)
			}
			e.leaf, j.leafBuf = e.leafHash(j.leafBuf, sources[e.src])
			*e = entry{seq: e.seq, tomb: true, leaf: e.leaf}
			removed = append(removed, e.seq)
			expired++
		}
		if expired == 0 {
			continue
		}
		if r.ArchiveDir != "" {
			name, err := j.writeArchive(ctx, tx, r.ArchiveDir, kept, sources, now)
			if err != nil {
				return 0, 0, err
			}
			written = append(written, name)
		}
		if err := j.replaceBlock(ctx, tx, first, es); err != nil {
			return 0, 0, err
		}
		res.Deleted += expired
	}
	if len(removed) > 0 {
		rec := Record{Source: ErasureSource, Event: event.Event{
			Time: now, Kind: event.KindErasure, Service: "mailtrail", Program: "retention", Action: "expire",
			Detail: fmt.Sprintf("retention removed %d events;%s%s", len(removed), seqsMarker, formatSeqs(removed)),
		}}
		if err := j.commitSigned(ctx, tx, []Record{rec}); err != nil {
			removeFiles(written)
			return 0, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		removeFiles(written)
		return 0, 0, err
	}
	committed = true
	res.Archives = append(res.Archives, written...)
	return len(firsts), firsts[len(firsts)-1], nil
}

// readBlock reads and decodes the block starting at first, with its own
// copy of the bytes.
func readBlock(ctx context.Context, db queryer, first int64) ([]entry, error) {
	es, _, err := readBlockInto(ctx, db, first, nil, nil)
	return es, err
}

// readBlockInto reads and decodes the block starting at first, appending
// its entries to es and decoding into buf (as decodeBlock).
func readBlockInto(ctx context.Context, db queryer, first int64, buf []byte, es []entry) ([]entry, []byte, error) {
	var blob []byte
	if err := db.QueryRowContext(ctx, "SELECT data FROM block_data WHERE first_seq = ?", first).Scan(&blob); err != nil {
		return es, buf, fmt.Errorf("read block %d: %w", first, err)
	}
	es, buf, err := decodeBlock(blob, buf, es)
	if err != nil {
		return es, buf, fmt.Errorf("block %d: %w", first, err)
	}
	return es, buf, nil
}

// replaceBlock rewrites the block starting at first with es (the same
// sequence numbers, some turned into tombstones or back): the seam for
// anything that edits stored events (retention, erasure, restore).
func (j *Journal) replaceBlock(ctx context.Context, tx *sql.Tx, first int64, es []entry) error {
	if len(es) == 0 || es[0].seq != first {
		return fmt.Errorf("rewrite block %d: entries do not start there", first)
	}
	if err := deleteBlock(ctx, tx, first); err != nil {
		return err
	}
	return j.writeBlock(ctx, tx, es)
}

// foldPrefix removes the oldest blocks that hold only tombstones, adding
// their leaves to the base tree.
func (j *Journal) foldPrefix(ctx context.Context, res *ExpireResult) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	base, err := j.readBase(ctx, tx)
	if err != nil {
		return err
	}
	folded := false
	for {
		var first, events int64
		err := tx.QueryRowContext(ctx, "SELECT first_seq, events FROM blocks ORDER BY first_seq LIMIT 1").Scan(&first, &events)
		if err == sql.ErrNoRows || (err == nil && events > 0) {
			break
		}
		if err != nil {
			return err
		}
		es, err := readBlock(ctx, tx, first)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO folded (first_seq, last_seq, frontier) VALUES (?, ?, ?)",
			first, es[len(es)-1].seq, joinHashes(base.Frontier())); err != nil {
			return fmt.Errorf("fold block %d: %w", first, err)
		}
		for i := range es {
			if !es[i].tomb || es[i].seq != int64(base.Size())+1 {
				return fmt.Errorf("fold block %d: event %d does not follow the base of %d events", first, es[i].seq, base.Size())
			}
			base.Append(es[i].leaf)
		}
		if err := deleteBlock(ctx, tx, first); err != nil {
			return err
		}
		res.Folded += int64(len(es))
		folded = true
	}
	if !folded {
		return nil
	}
	if err := saveBase(ctx, tx, base); err != nil {
		return err
	}
	return tx.Commit()
}

func saveBase(ctx context.Context, tx *sql.Tx, base *integrity.Tree) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO base (id, size, frontier) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier",
		int64(base.Size()), joinHashes(base.Frontier()))
	if err != nil {
		return fmt.Errorf("save retention base: %w", err)
	}
	return nil
}
