package journal

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// Problem is the first thing verification found not to match.
type Problem struct {
	// Seq is the event concerned, 0 when the problem is a checkpoint's.
	Seq int64
	// Checkpoint is the size of the checkpoint concerned, 0 if none.
	Checkpoint int64
	What       string
}

func (p *Problem) String() string {
	switch {
	case p.Seq > 0:
		return fmt.Sprintf("event %d: %s", p.Seq, p.What)
	case p.Checkpoint > 0:
		return fmt.Sprintf("checkpoint at %d events: %s", p.Checkpoint, p.What)
	}
	return p.What
}

// Report is what Verify found.
type Report struct {
	Events int64
	// Removed counts the oldest events that retention removed: the tree
	// over them is kept, the events are not.
	Removed     int64
	Checkpoints int
	// Uncovered counts the events after the last checkpoint: intact as
	// far as the tree goes, but not yet signed.
	Uncovered int64
	// Problem is the first mismatch; nil means the journal verified.
	Problem *Problem
}

type verifyCheckpoint struct {
	size int64
	root integrity.Hash
}

// Verify recomputes the Merkle tree over every event of the journal at
// path and compares it with the signed checkpoints (those in the journal,
// checked with verifiers, and the external ones given, e.g. copies kept
// off-host). It returns an error only when the journal cannot be read; a
// journal that reads but does not match gets a Report with a Problem naming
// the first event or checkpoint that does not.
func Verify(ctx context.Context, path string, verifiers integrity.Verifiers, external [][]byte) (*Report, error) {
	j, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	r := &Report{}
	cps, problem, err := j.verifyCheckpoints(ctx, verifiers, external)
	if err != nil {
		return nil, err
	}
	r.Checkpoints = len(cps)
	if problem != nil {
		r.Problem = problem
		return r, nil
	}
	var stored struct {
		size     int64
		frontier []byte
	}
	if err := j.db.QueryRowContext(ctx, "SELECT size, frontier FROM merkle WHERE id = 1").Scan(&stored.size, &stored.frontier); err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("journal %s: read Merkle tree: %w", path, err)
	}

	tree, err := j.readBase(ctx, j.db)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	r.Removed = int64(tree.Size())
	next := 0
	// Checkpoints inside the removed prefix were checked when their events
	// were there; one at its very end must still match what is left of it.
	for next < len(cps) && cps[next].size <= r.Removed {
		if cps[next].size == r.Removed && tree.Root() != cps[next].root {
			r.Problem = &Problem{Checkpoint: cps[next].size, What: "the Merkle tree kept for the events removed by retention does not match the signed root"}
			return r, nil
		}
		next++
	}
	var kept storedLeaves
	problem, err = j.walk(ctx, j.db, true, kept.visit, func(seq int64, leaf integrity.Hash) error {
		want := int64(tree.Size()) + 1
		if seq != want {
			if seq < want {
				r.Problem = &Problem{Seq: seq, What: fmt.Sprintf("out of order: it follows event %d (a row was inserted or moved)", want-1)}
			} else {
				r.Problem = &Problem{Seq: want, What: fmt.Sprintf("missing: the next event is %d (a row was deleted)", seq)}
			}
			return errStop
		}
		tree.Append(leaf)
		for next < len(cps) && cps[next].size == seq {
			if tree.Root() != cps[next].root {
				prev := r.Removed
				if next > 0 && cps[next-1].size > prev {
					prev = cps[next-1].size
				}
				r.Problem = &Problem{Checkpoint: seq, What: fmt.Sprintf(
					"events %d to %d do not match the signed root: one of them was changed, inserted or moved", prev+1, seq)}
				return errStop
			}
			next++
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("journal %s: read events: %w", path, err)
	}
	if r.Problem == nil {
		r.Problem = problem
	}
	r.Events = int64(tree.Size()) - r.Removed
	if r.Problem != nil {
		return r, nil
	}
	if next < len(cps) {
		r.Problem = &Problem{Checkpoint: cps[next].size, What: fmt.Sprintf("the journal holds %d events: its tail was cut off", tree.Size())}
		return r, nil
	}
	// The tree the exporter kept must be the one recomputed: events added
	// behind its back (an inserted row) or a tree rewound to hide a cut
	// show here even after the last checkpoint.
	if stored.size != int64(tree.Size()) {
		if stored.size < int64(tree.Size()) {
			r.Problem = &Problem{Seq: stored.size + 1, What: "not journaled by the exporter (a row was inserted)"}
		} else {
			r.Problem = &Problem{Seq: int64(tree.Size()) + 1, What: fmt.Sprintf("missing: the exporter journaled %d events (the tail was cut off)", stored.size)}
		}
		return r, nil
	}
	var frontier []byte
	for _, h := range tree.Frontier() {
		frontier = append(frontier, h[:]...)
	}
	if !bytes.Equal(frontier, stored.frontier) && !(len(frontier) == 0 && len(stored.frontier) == 0) {
		r.Problem = &Problem{What: "the stored Merkle tree does not match the events"}
		return r, nil
	}
	signed := int64(-1)
	if len(cps) > 0 {
		signed = cps[len(cps)-1].size
	}
	if p := kept.check(signed); p != nil {
		r.Problem = p
		return r, nil
	}
	if len(cps) > 0 {
		r.Uncovered = int64(tree.Size()) - cps[len(cps)-1].size
	} else {
		r.Uncovered = int64(tree.Size())
	}
	return r, nil
}

var errStop = fmt.Errorf("stop")

// verifyCheckpoints checks every checkpoint's signature and that its
// columns say what its signed note says, and returns them by size.
func (j *Journal) verifyCheckpoints(ctx context.Context, verifiers integrity.Verifiers, external [][]byte) ([]verifyCheckpoint, *Problem, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT size, root, time, note FROM checkpoints ORDER BY size")
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: read checkpoints: %w", j.path, err)
	}
	defer rows.Close()
	var cps []verifyCheckpoint
	for rows.Next() {
		var size, at int64
		var root, note []byte
		if err := rows.Scan(&size, &root, &at, &note); err != nil {
			return nil, nil, fmt.Errorf("journal %s: read checkpoints: %w", j.path, err)
		}
		cp, err := integrity.ParseCheckpoint(note, verifiers)
		if err != nil {
			return nil, &Problem{Checkpoint: size, What: err.Error()}, nil
		}
		if int64(cp.Size) != size || !bytes.Equal(cp.Root[:], root) {
			return nil, &Problem{Checkpoint: size, What: fmt.Sprintf("the signed note says %d events and root %s", cp.Size, cp.Root)}, nil
		}
		// The time column decides when the next checkpoint is due: one
		// moved into the future would quietly stop time-based signing.
		if !cp.Time.IsZero() && at != cp.Time.UnixNano() {
			return nil, &Problem{Checkpoint: size, What: fmt.Sprintf("the signed note is dated %s", cp.Time.Format(time.RFC3339))}, nil
		}
		cps = append(cps, verifyCheckpoint{size: size, root: cp.Root})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("journal %s: read checkpoints: %w", j.path, err)
	}
	for i, n := range external {
		cp, err := integrity.ParseCheckpoint(n, verifiers)
		if err != nil {
			return nil, &Problem{What: fmt.Sprintf("external checkpoint %d: %v", i+1, err)}, nil
		}
		cps = append(cps, verifyCheckpoint{size: int64(cp.Size), root: cp.Root})
	}
	sort.SliceStable(cps, func(a, b int) bool { return cps[a].size < cps[b].size })
	// Two checkpoints of one size must agree: a later one is only ever an
	// extension of an earlier one.
	for i := 1; i < len(cps); i++ {
		if cps[i].size == cps[i-1].size && cps[i].root != cps[i-1].root {
			return nil, &Problem{Checkpoint: cps[i].size, What: "two signed checkpoints of this size disagree"}, nil
		}
	}
	// A checkpoint of the empty journal says nothing about any event.
	for len(cps) > 0 && cps[0].size == 0 {
		if cps[0].root != integrity.EmptyRoot() {
			return nil, &Problem{What: "a checkpoint of zero events with a root other than the empty tree's"}, nil
		}
		cps = cps[1:]
	}
	return cps, nil, nil
}
