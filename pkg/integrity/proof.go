package integrity

import (
	"fmt"
	"math/bits"
)

// Proof generation follows RFC 6962 §2.1.1 and §2.1.2 literally, recursing
// over the leaves. It rehashes O(n) leaves per proof, which is fine for
// tests, exports and verification of a full dump; serving proofs from a
// large live journal would want stored subtree hashes instead.

// InclusionProof returns the RFC 6962 audit path PATH(index, D[n]) proving
// that leaves[index] is in the tree of the first n leaves.
func InclusionProof(leaves []Hash, index, n int) ([]Hash, error) {
	if n < 1 || n > len(leaves) || index < 0 || index >= n {
		return nil, fmt.Errorf("integrity: inclusion proof of leaf %d in tree of size %d from %d leaves: %w", index, n, len(leaves), ErrSize)
	}
	return path(nil, index, leaves[:n]), nil
}

// path appends PATH(m, d) to proof, innermost hash first.
func path(proof []Hash, m int, d []Hash) []Hash {
	if len(d) <= 1 {
		return proof
	}
	k := split(len(d))
	if m < k {
		return append(path(proof, m, d[:k]), mth(d[k:]))
	}
	return append(path(proof, m-k, d[k:]), mth(d[:k]))
}

// VerifyInclusion checks that leaf is at index in the tree of size n with
// the given root, following RFC 9162 §2.1.3.2.
func VerifyInclusion(index, n int, leaf, root Hash, proof []Hash) error {
	if index < 0 || n < 1 || index >= n {
		return fmt.Errorf("integrity: inclusion of leaf %d in tree of size %d: %w", index, n, ErrSize)
	}
	if want := inclusionLen(uint64(index), uint64(n)); len(proof) != want {
		return fmt.Errorf("integrity: inclusion proof of leaf %d in tree of size %d has %d hashes, want %d: %w", index, n, len(proof), want, ErrProofLength)
	}
	fn, sn := uint64(index), uint64(n-1)
	r := leaf
	for _, p := range proof {
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if r != root {
		return fmt.Errorf("integrity: inclusion proof of leaf %d gives root %s for tree of size %d, want %s: %w", index, r, n, root, ErrRootMismatch)
	}
	return nil
}

// inclusionLen is the length of PATH(index, D[n]): one hash per level
// where the paths to index and to the last leaf have diverged, plus one per
// left sibling above that point.
func inclusionLen(index, n uint64) int {
	inner := bits.Len64(index ^ (n - 1))
	return inner + bits.OnesCount64(index>>inner)
}

// ConsistencyProof returns the RFC 6962 proof PROOF(m, D[n]) that the tree
// of the first m leaves is a prefix of the tree of the first n. For m == n
// and for m == 0 the proof is empty: every tree extends itself and the
// empty tree.
func ConsistencyProof(leaves []Hash, m, n int) ([]Hash, error) {
	if m < 0 || m > n || n > len(leaves) {
		return nil, fmt.Errorf("integrity: consistency proof from size %d to %d with %d leaves: %w", m, n, len(leaves), ErrSize)
	}
	if m == 0 || m == n {
		return []Hash{}, nil
	}
	return subproof(nil, m, leaves[:n], true), nil
}

// subproof appends SUBPROOF(m, d, b) to proof.
func subproof(proof []Hash, m int, d []Hash, b bool) []Hash {
	n := len(d)
	if m == n {
		if b {
			return proof
		}
		return append(proof, mth(d))
	}
	k := split(n)
	if m <= k {
		return append(subproof(proof, m, d[:k], b), mth(d[k:]))
	}
	return append(subproof(proof, m-k, d[k:], false), mth(d[:k]))
}

// consistencyLen is the length of PROOF(m, D[n]) for 0 < m < n, by the
// same recursion as subproof without the hashing.
func consistencyLen(m, n uint64) int {
	l, b := 0, true
	for m != n {
		k := uint64(1) << (bits.Len64(n-1) - 1)
		if m <= k {
			n = k
		} else {
			m, n, b = m-k, n-k, false
		}
		l++
	}
	if !b {
		l++
	}
	return l
}

// VerifyConsistency checks that rootM, the root of a tree of size m, and
// rootN, the root of a tree of size n, belong to the same append-only
// log, following RFC 9162 §2.1.4.2. For m == 0 the proof must be empty and
// rootM must be the empty tree's root; for m == n it must be empty and the
// roots equal.
func VerifyConsistency(m, n int, rootM, rootN Hash, proof []Hash) error {
	if m < 0 || m > n {
		return fmt.Errorf("integrity: consistency from size %d to %d: %w", m, n, ErrSize)
	}
	want := 0
	if m > 0 && m < n {
		want = consistencyLen(uint64(m), uint64(n))
	}
	if len(proof) != want {
		return fmt.Errorf("integrity: consistency proof from size %d to %d has %d hashes, want %d: %w", m, n, len(proof), want, ErrProofLength)
	}
	switch {
	case m == 0:
		if e := EmptyRoot(); rootM != e {
			return fmt.Errorf("integrity: root %s given for the empty tree, want %s: %w", rootM, e, ErrOldRootMismatch)
		}
		return nil
	case m == n:
		if rootM != rootN {
			return fmt.Errorf("integrity: roots %s and %s differ for the same size %d: %w", rootM, rootN, n, ErrNewRootMismatch)
		}
		return nil
	}

	// When m is a power of two the old tree is a complete subtree of the new
	// one, so its root is the proof's implicit first hash.
	if m&(m-1) == 0 {
		proof = append([]Hash{rootM}, proof...)
	}
	fn, sn := uint64(m-1), uint64(n-1)
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if fr != rootM {
		return fmt.Errorf("integrity: consistency proof gives root %s for size %d, want %s: %w", fr, m, rootM, ErrOldRootMismatch)
	}
	if sr != rootN {
		return fmt.Errorf("integrity: consistency proof gives root %s for size %d, want %s: %w", sr, n, rootN, ErrNewRootMismatch)
	}
	return nil
}
