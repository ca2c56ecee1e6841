package integrity

import (
	"fmt"
	"math/bits"
)

// Tree is an append-only Merkle tree that keeps only its frontier (the
// "compact range"): the roots of the perfect subtrees that the leaves
// decompose into, one per set bit of the size, largest first. That is
// O(log n) hashes, enough to append and to compute the root, so the journal
// never needs to hold or reread old leaves to extend the tree.
//
// The zero Tree is an empty tree ready to use. A Tree is not safe for
// concurrent use.
type Tree struct {
	size     uint64
	frontier []Hash
}

// RestoreTree rebuilds a Tree from a size and frontier saved with Size and
// Frontier, so a restarted journal resumes without rehashing every event.
// The frontier cannot be checked against the leaves here; callers that need
// that should compare Root with a verified checkpoint.
func RestoreTree(size uint64, frontier []Hash) (*Tree, error) {
	if want := bits.OnesCount64(size); len(frontier) != want {
		return nil, fmt.Errorf("integrity: frontier of a tree of size %d has %d hashes, want %d", size, len(frontier), want)
	}
	return &Tree{size: size, frontier: append([]Hash(nil), frontier...)}, nil
}

// Size returns the number of leaves appended so far.
func (t *Tree) Size() uint64 { return t.size }

// Frontier returns a copy of the tree's frontier, largest subtree first, for
// persisting alongside Size.
func (t *Tree) Frontier() []Hash { return append([]Hash(nil), t.frontier...) }

// Append adds a leaf hash (see LeafHash) as the tree's next leaf.
func (t *Tree) Append(leaf Hash) {
	t.frontier = append(t.frontier, leaf)
	// Each trailing one bit of the old size is a perfect subtree of the same
	// height as the one just completed: merge them like a binary carry.
	for s := t.size; s&1 == 1; s >>= 1 {
		n := len(t.frontier)
		t.frontier[n-2] = NodeHash(t.frontier[n-2], t.frontier[n-1])
		t.frontier = t.frontier[:n-1]
	}
	t.size++
}

// AppendData hashes data as a leaf and appends it.
func (t *Tree) AppendData(data []byte) { t.Append(LeafHash(data)) }

// Root returns the RFC 6962 Merkle tree hash of the leaves so far.
func (t *Tree) Root() Hash {
	n := len(t.frontier)
	if n == 0 {
		return EmptyRoot()
	}
	// RFC 6962 splits at the largest power of two below the size, which is
	// exactly the frontier's first subtree; the right part recurses the same
	// way, so folding from the smallest subtree up gives MTH.
	r := t.frontier[n-1]
	for i := n - 2; i >= 0; i-- {
		r = NodeHash(t.frontier[i], r)
	}
	return r
}

// RootFromLeaves computes the Merkle tree hash of leaves directly from RFC
// 6962's recursive definition. It is the reference the incremental Tree is
// tested against, and what a verifier recomputes from a full export.
func RootFromLeaves(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return EmptyRoot()
	}
	return mth(leaves)
}

// mth is MTH(D[n]) for n >= 1.
func mth(d []Hash) Hash {
	if len(d) == 1 {
		return d[0]
	}
	k := split(len(d))
	return NodeHash(mth(d[:k]), mth(d[k:]))
}

// split returns the largest power of two smaller than n, for n >= 2.
func split(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}
