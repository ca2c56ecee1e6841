package journal

import (
	"context"
	"fmt"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// What evidence bundles (pkg/evidence) need of the journal: the bytes a
// leaf covers, so that a verifier can recompute it from an exported event,
// and the tree's leaves, so that a writer can prove events against a
// checkpoint.

// LeafData returns the bytes the Merkle leaf of event seq covers, given
// its source's name and its time column: the event's own time in Unix
// nanoseconds, or, for an event without a time of its own, the time it was
// journaled.
func LeafData(seq int64, timeCol int64, source string, e *event.Event) []byte {
	return appendLeaf(nil, seq, timeCol, e.Kind, e.QueueID, source, appendEvent(nil, e))
}

// Snapshot is the journal's Merkle tree up to one size, as its leaves.
type Snapshot struct {
	// Removed counts the oldest events folded away by retention: only the
	// frontier of their subtree (Base, largest subtree first) is kept.
	Removed int64
	Base    []integrity.Hash
	// Leaves holds the leaf of event Removed+1+i at i.
	Leaves []integrity.Hash
	// Stubs are the events kept only by their leaf hash (retention's
	// tombstones), in sequence order.
	Stubs []int64
}

// Snapshot reads the leaves of the first size events in one read
// transaction, so that a block sealed meanwhile is seen once.
func (j *Journal) Snapshot(ctx context.Context, size int64) (*Snapshot, error) {
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal %s: read leaves: %w", j.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("journal %s: read leaves: %w", j.path, err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	base, err := j.readBase(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", j.path, err)
	}
	s := &Snapshot{Removed: int64(base.Size()), Base: base.Frontier()}
	if size < s.Removed {
		return nil, fmt.Errorf("journal %s: the tree of %d events is gone: retention removed the first %d", j.path, size, s.Removed)
	}
	_, err = j.walk(ctx, conn, false, func(e *entry) {
		if e.tomb && e.seq <= size {
			s.Stubs = append(s.Stubs, e.seq)
		}
	}, func(seq int64, leaf integrity.Hash) error {
		if seq > size {
			return errStop
		}
		if want := s.Removed + int64(len(s.Leaves)) + 1; seq != want {
			return fmt.Errorf("event %d follows event %d", seq, want-1)
		}
		s.Leaves = append(s.Leaves, leaf)
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("journal %s: read leaves: %w", j.path, err)
	}
	if got := s.Removed + int64(len(s.Leaves)); got != size {
		return nil, fmt.Errorf("journal %s: %d events, fewer than the %d asked for", j.path, got, size)
	}
	return s, nil
}

// ErasureNames reports whether e is one of the journal's erasure records
// (a forget or a retention run) and names event seq among those it
// rewrote or removed: what authorises a stored leaf in place of the event.
func ErasureNames(e *event.Event, seq int64) (bool, error) {
	rs, err := erasureSeqs(e)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if seq >= r.lo && seq <= r.hi {
			return true, nil
		}
	}
	return false, nil
}
