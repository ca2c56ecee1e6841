package journal

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// Checkpoint cadence defaults.
const (
	DefaultCheckpointEvery    = 10000
	DefaultCheckpointInterval = 5 * time.Minute
)

// appendLeaf appends the bytes an event's Merkle leaf covers: its sequence
// number (so a row moved elsewhere no longer matches), the columns (time,
// kind, queue id, source) and the codec bytes of everything else.
func appendLeaf(dst []byte, seq, t int64, kind parser.Kind, qid, source string, data []byte) []byte {
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
		t := &integrity.Tree{}
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
		return j.saveTree(ctx, j.db)
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

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (j *Journal) saveTree(ctx context.Context, db execer) error {
	var frontier []byte
	for _, h := range j.tree.Frontier() {
		frontier = append(frontier, h[:]...)
	}
	if frontier == nil {
		frontier = []byte{}
	}
	_, err := db.ExecContext(ctx, "INSERT INTO merkle (id, size, frontier) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier",
		int64(j.tree.Size()), frontier)
	if err != nil {
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

// eachLeaf calls fn with every event's sequence number and leaf hash, in
// sequence order.
func (j *Journal) eachLeaf(ctx context.Context, fn func(seq int64, leaf integrity.Hash) error) error {
	rows, err := j.db.QueryContext(ctx, "SELECT e.seq, e.time, e.kind, e.queue_id, s.name, e.data FROM events e LEFT JOIN sources s ON s.id = e.source ORDER BY e.seq")
	if err != nil {
		return err
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		var seq, t, kind int64
		var qid, source sql.NullString
		var data []byte
		if err := rows.Scan(&seq, &t, &kind, &qid, &source, &data); err != nil {
			return fmt.Errorf("event after %d: %w", seq, err)
		}
		buf = appendLeaf(buf[:0], seq, t, parser.Kind(kind), qid.String, source.String, data)
		if err := fn(seq, integrity.LeafHash(buf)); err != nil {
			return err
		}
	}
	return rows.Err()
}
