package integrity

import (
	"fmt"
	"math/bits"
)

// ProofTree holds every level of a tree so that many inclusion proofs cost
// O(log n) hashes each, where InclusionProof rehashes O(n) leaves per
// proof: an evidence bundle proves thousands of events of one tree.
//
// Level 0 is the leaves; node k of level l+1 is NodeHash of nodes 2k and
// 2k+1 of level l, and a last node without a right sibling is carried up
// unchanged. That is RFC 6962's tree: its split at the largest power of
// two below the size puts every complete subtree at an aligned position.
//
// The leaves of a prefix may be missing (retention removed them), with
// only the frontier of their subtree known: nodes inside the prefix are
// unknown then, and so are proofs of its leaves, but every leaf after it
// can still be proved, since a sibling on its path lying wholly inside the
// prefix is always one of the frontier's subtrees.
type ProofTree struct {
	n      uint64
	levels [][]Hash
	known  [][]bool
}

// NewProofTree builds the tree whose first removed leaves are summarised
// by base (a Tree's Frontier over them) and whose next leaves are leaves.
func NewProofTree(removed uint64, base, leaves []Hash) (*ProofTree, error) {
	if want := bits.OnesCount64(removed); len(base) != want {
		return nil, fmt.Errorf("integrity: frontier of %d removed leaves has %d hashes, want %d: %w", removed, len(base), want, ErrSize)
	}
	n := removed + uint64(len(leaves))
	t := &ProofTree{n: n}
	if n == 0 {
		return t, nil
	}
	// The frontier's subtrees, largest first: which level and node each is.
	type node struct {
		level, k uint64
		h        Hash
	}
	var preset []node
	var off uint64
	i := 0
	for l := 63; l >= 0; l-- {
		if removed&(1<<l) != 0 {
			preset = append(preset, node{uint64(l), off >> l, base[i]})
			off += 1 << l
			i++
		}
	}
	lv := make([]Hash, n)
	kn := make([]bool, n)
	copy(lv[removed:], leaves)
	for k := removed; k < n; k++ {
		kn[k] = true
	}
	for l := uint64(0); ; l++ {
		for _, p := range preset {
			if p.level == l {
				lv[p.k], kn[p.k] = p.h, true
			}
		}
		t.levels = append(t.levels, lv)
		t.known = append(t.known, kn)
		if len(lv) == 1 {
			break
		}
		up := make([]Hash, (len(lv)+1)/2)
		upk := make([]bool, len(up))
		for k := range up {
			switch {
			case 2*k+1 == len(lv):
				up[k], upk[k] = lv[2*k], kn[2*k]
			case kn[2*k] && kn[2*k+1]:
				up[k], upk[k] = NodeHash(lv[2*k], lv[2*k+1]), true
			}
		}
		lv, kn = up, upk
	}
	return t, nil
}

// Size is the number of leaves.
func (t *ProofTree) Size() uint64 { return t.n }

// Root is the tree's RFC 6962 root hash.
func (t *ProofTree) Root() Hash {
	if t.n == 0 {
		return EmptyRoot()
	}
	return t.levels[len(t.levels)-1][0]
}

// Leaf returns leaf index, if it is known.
func (t *ProofTree) Leaf(index uint64) (Hash, bool) {
	if index >= t.n {
		return Hash{}, false
	}
	return t.levels[0][index], t.known[0][index]
}

// InclusionProof returns the audit path of leaf index in the whole tree,
// innermost hash first: the same hashes as InclusionProof over all the
// leaves.
func (t *ProofTree) InclusionProof(index uint64) ([]Hash, error) {
	if index >= t.n {
		return nil, fmt.Errorf("integrity: inclusion proof of leaf %d in tree of size %d: %w", index, t.n, ErrSize)
	}
	var proof []Hash
	k := index
	for l := 0; l < len(t.levels)-1; l++ {
		if s := k ^ 1; s < uint64(len(t.levels[l])) {
			if !t.known[l][s] {
				return nil, fmt.Errorf("integrity: inclusion proof of leaf %d needs hashes of leaves removed without their subtree: %w", index, ErrSize)
			}
			proof = append(proof, t.levels[l][s])
		}
		k >>= 1
	}
	return proof, nil
}
