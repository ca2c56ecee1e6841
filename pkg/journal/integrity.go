package journal

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// Checkpoint cadence defaults.
const (
	DefaultCheckpointEvery    = 10000
	DefaultCheckpointInterval = 5 * time.Minute
)

// appendLeaf appends the bytes an event's Merkle leaf covers: its sequence
// number (so a row moved elsewhere no longer matches), the columns (time,
// kind, queue id, source) and the codec bytes of everything else.
func appendLeaf(dst []byte, seq, t int64, kind event.Kind, qid, source string, data []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(seq))
	dst = binary.AppendVarint(dst, t)
	dst = append(dst, byte(kind))
	dst = binary.AppendUvarint(dst, uint64(len(qid)))
	dst = append(dst, qid...)
	dst = binary.AppendUvarint(dst, uint64(len(source)))
	dst = append(dst, source...)
	return append(dst, data...)
}

// loadTree reads the tree's size and frontier, computing them from the
// events of a journal written before tamper evidence existed.
func (j *Journal) loadTree(ctx context.Context) error {
	var size int64
	var frontier []byte
	err := j.db.QueryRowContext(ctx, "SELECT size, frontier FROM merkle WHERE id = 1").Scan(&size, &frontier)
	if errors.Is(err, sql.ErrNoRows) {
		t, err := j.readBase(ctx, j.db)
		if err != nil {
			return err
		}
		if err := j.eachLeaf(ctx, func(seq int64, leaf integrity.Hash) error {
			if uint64(seq) != t.Size()+1 {
				return fmt.Errorf("event %d follows event %d", seq, t.Size())
			}
			t.Append(leaf)
			return nil
		}); err != nil {
			return fmt.Errorf("build Merkle tree: %w", err)
		}
		j.tree = t
		j.lastCheckpointTime = j.now().UnixNano()
		return j.saveTree(ctx, j.saveMerkle)
	}
	if err != nil {
		return fmt.Errorf("read Merkle tree: %w", err)
	}
	if len(frontier)%integrity.HashSize != 0 {
		return fmt.Errorf("read Merkle tree: frontier of %d bytes", len(frontier))
	}
	hs := make([]integrity.Hash, len(frontier)/integrity.HashSize)
	for i := range hs {
		copy(hs[i][:], frontier[i*integrity.HashSize:])
	}
	t, err := integrity.RestoreTree(uint64(size), hs)
	if err != nil {
		return fmt.Errorf("read Merkle tree: %w", err)
	}
	j.tree = t
	if err := j.db.QueryRowContext(ctx, "SELECT coalesce(max(size), 0), coalesce(max(time), 0) FROM checkpoints").Scan(&j.lastCheckpoint, &j.lastCheckpointTime); err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	if j.lastCheckpointTime == 0 {
		// The interval counts from the first run that could sign.
		j.lastCheckpointTime = j.now().UnixNano()
	}
	return nil
}

const saveMerkleSQL = "INSERT INTO merkle (id, size, frontier) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier"

// saveTree stores the tree's frontier with save, the prepared saveMerkle
// statement or its form inside a transaction.
func (j *Journal) saveTree(ctx context.Context, save *sql.Stmt) error {
	var frontier []byte
	for _, h := range j.tree.Frontier() {
		frontier = append(frontier, h[:]...)
	}
	if frontier == nil {
		frontier = []byte{}
	}
	if _, err := save.ExecContext(ctx, int64(j.tree.Size()), frontier); err != nil {
		return fmt.Errorf("save Merkle tree: %w", err)
	}
	return nil
}

// maybeCheckpoint signs the tree's state when enough events or time have
// passed since the last checkpoint. Without a signer there are no
// checkpoints: the tree still detects accidental damage, not a tamperer.
func (j *Journal) maybeCheckpoint(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if j.signer == nil {
		return nil
	}
	size := int64(j.tree.Size())
	if size == j.lastCheckpoint {
		return nil
	}
	due := size-j.lastCheckpoint >= int64(j.opts.CheckpointEvery) ||
		now.UnixNano()-j.lastCheckpointTime >= int64(j.opts.CheckpointInterval)
	if !due {
		return nil
	}
	return j.checkpoint(ctx, tx, now)
}

func (j *Journal) checkpoint(ctx context.Context, tx *sql.Tx, now time.Time) error {
	// The note carries whole seconds; the column holds the same instant so
	// that verify can hold the two to each other exactly.
	now = now.Truncate(time.Second)
	root := j.tree.Root()
	note, err := integrity.Sign(integrity.Checkpoint{Origin: j.opts.Origin, Size: j.tree.Size(), Root: root, Time: now}, j.signer)
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	size := int64(j.tree.Size())
	if _, err := tx.ExecContext(ctx, "INSERT INTO checkpoints (size, root, time, note) VALUES (?, ?, ?, ?)", size, root[:], now.UnixNano(), note); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	j.lastCheckpoint, j.lastCheckpointTime = size, now.UnixNano()
	return nil
}

// Checkpoint signs the current state now, if anything was added since the
// last checkpoint (a clean shutdown leaves no events uncovered).
func (j *Journal) Checkpoint(ctx context.Context) error {
	if j.signer == nil || int64(j.tree.Size()) == j.lastCheckpoint {
		return nil
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal %s: checkpoint: %w", j.path, err)
	}
	if err := j.checkpoint(ctx, tx, j.now()); err != nil {
		tx.Rollback()
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return tx.Commit()
}

// Checkpoints returns the signed checkpoints, oldest first.
func (j *Journal) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT note FROM checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("journal %s: read checkpoints: %w", j.path, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var n []byte
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("journal %s: read checkpoints: %w", j.path, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// SignerKey returns the verifier key stored with the journal ("" if none).
func (j *Journal) SignerKey(ctx context.Context) (string, error) {
	var k string
	err := j.db.QueryRowContext(ctx, "SELECT vkey FROM signer WHERE id = 1").Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("journal %s: read signer key: %w", j.path, err)
	}
	return k, nil
}

// readBase returns the tree over the events removed by retention (an
// empty tree when none were).
func (j *Journal) readBase(ctx context.Context, db queryer) (*integrity.Tree, error) {
	if j.legacy {
		return &integrity.Tree{}, nil
	}
	var id, size int64
	var frontier []byte
	// By position, like the other tables' readers' columns: a damaged
	// schema text that renames a column of an empty table changes nothing.
	err := db.QueryRowContext(ctx, "SELECT * FROM base").Scan(&id, &size, &frontier)
	if errors.Is(err, sql.ErrNoRows) {
		return &integrity.Tree{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read retention base: %w", err)
	}
	hs, err := splitHashes(frontier)
	if err != nil {
		return nil, fmt.Errorf("read retention base: %w", err)
	}
	if size < 0 {
		return nil, fmt.Errorf("read retention base: size %d", size)
	}
	t, err := integrity.RestoreTree(uint64(size), hs)
	if err != nil {
		return nil, fmt.Errorf("read retention base: %w", err)
	}
	return t, nil
}

func splitHashes(b []byte) ([]integrity.Hash, error) {
	if len(b)%integrity.HashSize != 0 {
		return nil, fmt.Errorf("%d bytes of hashes", len(b))
	}
	hs := make([]integrity.Hash, len(b)/integrity.HashSize)
	for i := range hs {
		copy(hs[i][:], b[i*integrity.HashSize:])
	}
	return hs, nil
}

func joinHashes(hs []integrity.Hash) []byte {
	b := make([]byte, 0, len(hs)*integrity.HashSize)
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// eachLeaf calls fn with every retained event's sequence number and leaf
// hash, in sequence order: the sealed blocks, then the hot table.
func (j *Journal) eachLeaf(ctx context.Context, fn func(seq int64, leaf integrity.Hash) error) error {
	_, err := j.walk(ctx, j.db, false, nil, fn)
	return err
}

// walk reads every block and hot event in sequence order and calls fn with
// each leaf. With check, it also holds every block's metadata, checksum and
// postings to its entries and returns the first that does not match as a
// Problem (sources aside: a changed source name changes the leaf). visit,
// when set, sees every entry before its leaf is passed on.
func (j *Journal) walk(ctx context.Context, db queryer, check bool, visit func(e *entry), fn func(seq int64, leaf integrity.Hash) error) (*Problem, error) {
	sources, err := readSources(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	var buf, leafBuf []byte
	var es []entry
	if !j.legacy {
		pc := &postingsCheck{j: j, db: db, gen: -1}
		rows, err := db.QueryContext(ctx, `SELECT b.first_seq, b.last_seq, b.min_time, b.max_time, b.kinds, b.events, b.sum, d.data
			FROM blocks b LEFT JOIN block_data d ON d.first_seq = b.first_seq ORDER BY b.first_seq`)
		if err != nil {
			return nil, fmt.Errorf("read blocks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m blockMeta
			var kinds, sum int64
			var blob []byte
			if err := rows.Scan(&m.first, &m.last, &m.minT, &m.maxT, &kinds, &m.events, &sum, &blob); err != nil {
				return nil, fmt.Errorf("read block: %w", err)
			}
			m.kinds, m.sum = uint64(kinds), uint32(sum)
			where := fmt.Sprintf("the block of events %d to %d", m.first, m.last)
			if check && blob == nil {
				return &Problem{Seq: m.first, What: where + " has no data (a row was deleted)"}, nil
			}
			if check && (sum < 0 || sum > 0xffffffff || crc32.Checksum(blob, crcTable) != m.sum) {
				return &Problem{Seq: m.first, What: where + " does not match its checksum"}, nil
			}
			es, buf, err = decodeBlock(blob, buf, es[:0])
			if err != nil {
				if check {
					return &Problem{Seq: m.first, What: fmt.Sprintf("%s: %v", where, err)}, nil
				}
				return nil, fmt.Errorf("block %d: %w", m.first, err)
			}
			if len(es) == 0 {
				return &Problem{Seq: m.first, What: where + " is empty"}, nil
			}
			if check {
				got := metaOf(es)
				got.sum = m.sum
				got.hasLiveEvent = false
				if got != m {
					return &Problem{Seq: m.first, What: fmt.Sprintf("%s: its index row (%d to %d, %d events, kinds %#x, times %d to %d) does not match its data (%d to %d, %d events, kinds %#x, times %d to %d)",
						where, m.first, m.last, m.events, m.kinds, m.minT, m.maxT, got.first, got.last, got.events, got.kinds, got.minT, got.maxT)}, nil
				}
				if p, err := pc.add(ctx, m.first, es); p != nil || err != nil {
					return p, err
				}
			}
			for i := range es {
				if visit != nil {
					visit(&es[i])
				}
				var leaf integrity.Hash
				leaf, leafBuf = es[i].leafHash(leafBuf, sources[es[i].src])
				if err := fn(es[i].seq, leaf); err != nil {
					return nil, err
				}
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read blocks: %w", err)
		}
		rows.Close()
		if check {
			if p, err := pc.flush(ctx); p != nil || err != nil {
				return p, err
			}
			var orphan sql.NullInt64
			if err := db.QueryRowContext(ctx, "SELECT min(first_seq) FROM block_data WHERE first_seq NOT IN (SELECT first_seq FROM blocks)").Scan(&orphan); err != nil {
				return nil, fmt.Errorf("read blocks: %w", err)
			}
			if orphan.Valid {
				return &Problem{Seq: orphan.Int64, What: "block data without a block (a row was inserted or its index row deleted)"}, nil
			}
			if p, err := pc.orphans(ctx); p != nil || err != nil {
				return p, err
			}
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT seq, time, kind, queue_id, source, data, "+j.leafCol()+" FROM events ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e entry
		if err := scanHot(rows, &e); err != nil {
			if check {
				return &Problem{Seq: e.seq, What: err.Error()}, nil
			}
			return nil, err
		}
		if visit != nil {
			visit(&e)
		}
		var leaf integrity.Hash
		leaf, leafBuf = e.leafHash(leafBuf, sources[e.src])
		if err := fn(e.seq, leaf); err != nil {
			return nil, err
		}
	}
	return nil, rows.Err()
}

// postingsCheck compares the postings of each generation with the terms of
// its blocks.
type postingsCheck struct {
	j     *Journal
	db    queryer
	gen   int64
	want  map[[2]int64]bool
	terms termSet
}

func (pc *postingsCheck) add(ctx context.Context, first int64, es []entry) (*Problem, error) {
	if g := first >> genShift; g != pc.gen {
		if p, err := pc.flush(ctx); p != nil || err != nil {
			return p, err
		}
		pc.gen, pc.want = g, map[[2]int64]bool{}
	}
	for _, t := range pc.terms.block(es) {
		pc.want[[2]int64{t, first}] = true
	}
	return nil, nil
}

func (pc *postingsCheck) flush(ctx context.Context) (*Problem, error) {
	if pc.gen < 0 {
		return nil, nil
	}
	var problem *Problem
	err := pc.j.eachPosting(ctx, pc.db, pc.gen, func(_, t, b int64) {
		k := [2]int64{t, b}
		if problem != nil {
			return
		}
		if !pc.want[k] {
			problem = &Problem{Seq: b, What: fmt.Sprintf("the block starting at event %d: a lookup entry (term %#x) that its events do not have", b, uint64(t))}
			return
		}
		delete(pc.want, k)
	}, func(b int64, what string) {
		if problem == nil {
			problem = &Problem{Seq: b, What: fmt.Sprintf("the block starting at event %d: %s", b, what)}
		}
	})
	if err != nil || problem != nil {
		return problem, err
	}
	if len(pc.want) > 0 {
		var first int64 = -1
		for k := range pc.want {
			if first < 0 || k[1] < first {
				first = k[1]
			}
		}
		return &Problem{Seq: first, What: fmt.Sprintf("the block starting here lacks lookup entries (%d missing in its generation): queries would not find its events", len(pc.want))}, nil
	}
	return nil, nil
}

// orphans finds postings of generations without blocks.
func (pc *postingsCheck) orphans(ctx context.Context) (*Problem, error) {
	tables := []string{"postings"}
	if pc.j.packed {
		tables = append(tables, "packed_postings")
	}
	for _, table := range tables {
		var block sql.NullInt64
		if err := pc.db.QueryRowContext(ctx, "SELECT min(block) FROM "+table+" WHERE gen NOT IN (SELECT DISTINCT first_seq >> ? FROM blocks)", genShift).Scan(&block); err != nil {
			return nil, fmt.Errorf("read postings: %w", err)
		}
		if block.Valid {
			return &Problem{Seq: block.Int64, What: "lookup entries for a block that does not exist"}, nil
		}
	}
	return nil, nil
}
