package integrity

import (
	"errors"
	"slices"
	"testing"
)

const maxProofSize = 64

func TestInclusionCTVectors(t *testing.T) {
	leaves := ctLeafHashes(t)
	root := mustHash(t, ctRoots[8])
	for _, tc := range []struct {
		index int
		proof []string
	}{
		{0, []string{
			"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		}},
		{5, []string{
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
	} {
		want := make([]Hash, len(tc.proof))
		for i, s := range tc.proof {
			want[i] = mustHash(t, s)
		}
		got, err := InclusionProof(leaves, tc.index, 8)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("InclusionProof(%d, 8) = %v, %v; want %v", tc.index, got, err, want)
		}
		if err := VerifyInclusion(tc.index, 8, leaves[tc.index], root, want); err != nil {
			t.Errorf("VerifyInclusion(%d, 8): %v", tc.index, err)
		}
	}
}

func TestConsistencyCTVectors(t *testing.T) {
	leaves := ctLeafHashes(t)
	for _, tc := range []struct {
		m, n  int
		proof []string
	}{
		{2, 8, []string{
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		}},
		{6, 8, []string{
			"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
		{2, 5, []string{
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		}},
	} {
		want := make([]Hash, len(tc.proof))
		for i, s := range tc.proof {
			want[i] = mustHash(t, s)
		}
		got, err := ConsistencyProof(leaves, tc.m, tc.n)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ConsistencyProof(%d, %d) = %v, %v; want %v", tc.m, tc.n, got, err, want)
		}
		rm, rn := mustHash(t, ctRoots[tc.m]), mustHash(t, ctRoots[tc.n])
		if err := VerifyConsistency(tc.m, tc.n, rm, rn, want); err != nil {
			t.Errorf("VerifyConsistency(%d, %d): %v", tc.m, tc.n, err)
		}
	}
}

func TestInclusionAllSizes(t *testing.T) {
	leaves := syntheticLeaves(maxProofSize)
	other := LeafHash([]byte("not in the tree"))
	for n := 1; n <= maxProofSize; n++ {
		root := RootFromLeaves(leaves[:n])
		for i := range n {
			proof, err := InclusionProof(leaves, i, n)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, n, err)
			}
			if err := VerifyInclusion(i, n, leaves[i], root, proof); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", i, n, err)
			}
			if err := VerifyInclusion(i, n, other, root, proof); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("wrong leaf (%d, %d): got %v, want ErrRootMismatch", i, n, err)
			}
			if err := VerifyInclusion(i, n, leaves[i], other, proof); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("wrong root (%d, %d): got %v, want ErrRootMismatch", i, n, err)
			}
			for j := range proof {
				bad := slices.Clone(proof)
				bad[j][0] ^= 1
				if err := VerifyInclusion(i, n, leaves[i], root, bad); !errors.Is(err, ErrRootMismatch) {
					t.Fatalf("tampered hash %d (%d, %d): got %v, want ErrRootMismatch", j, i, n, err)
				}
			}
			if err := VerifyInclusion(i, n, leaves[i], root, append(slices.Clone(proof), root)); !errors.Is(err, ErrProofLength) {
				t.Fatalf("long proof (%d, %d): got %v, want ErrProofLength", i, n, err)
			}
			if len(proof) > 0 {
				if err := VerifyInclusion(i, n, leaves[i], root, proof[:len(proof)-1]); !errors.Is(err, ErrProofLength) {
					t.Fatalf("short proof (%d, %d): got %v, want ErrProofLength", i, n, err)
				}
			}
			// A proof must not verify the same leaf at another position.
			if i+1 < n {
				if err := VerifyInclusion(i+1, n, leaves[i], root, proof); err == nil {
					t.Fatalf("leaf %d's proof verified at index %d in size %d", i, i+1, n)
				}
			}
		}
	}
}

func TestConsistencyAllSizes(t *testing.T) {
	leaves := syntheticLeaves(maxProofSize)
	roots := make([]Hash, maxProofSize+1)
	for n := range roots {
		roots[n] = RootFromLeaves(leaves[:n])
	}
	for n := 0; n <= maxProofSize; n++ {
		for m := 0; m <= n; m++ {
			proof, err := ConsistencyProof(leaves, m, n)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", m, n, err)
			}
			if err := VerifyConsistency(m, n, roots[m], roots[n], proof); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", m, n, err)
			}
			if m == 0 {
				if err := VerifyConsistency(0, n, roots[1], roots[n], proof); !errors.Is(err, ErrOldRootMismatch) {
					t.Fatalf("(0, %d) non-empty old root: got %v, want ErrOldRootMismatch", n, err)
				}
				continue
			}
			if m == n {
				if n > 1 {
					if err := VerifyConsistency(m, n, roots[m], roots[n-1], proof); !errors.Is(err, ErrNewRootMismatch) {
						t.Fatalf("(%d, %d) different roots: got %v, want ErrNewRootMismatch", m, n, err)
					}
				}
				continue
			}
			// A wrong old root: a root of another size.
			if err := VerifyConsistency(m, n, roots[m-1], roots[n], proof); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("(%d, %d) wrong old root: got %v, want ErrRootMismatch", m, n, err)
			}
			if err := VerifyConsistency(m, n, roots[m], roots[n-1], proof); !errors.Is(err, ErrNewRootMismatch) {
				t.Fatalf("(%d, %d) wrong new root: got %v, want ErrNewRootMismatch", m, n, err)
			}
			for j := range proof {
				bad := slices.Clone(proof)
				bad[j][31] ^= 0x80
				if err := VerifyConsistency(m, n, roots[m], roots[n], bad); !errors.Is(err, ErrRootMismatch) {
					t.Fatalf("(%d, %d) tampered hash %d: got %v, want ErrRootMismatch", m, n, j, err)
				}
			}
			if err := VerifyConsistency(m, n, roots[m], roots[n], proof[:len(proof)-1]); !errors.Is(err, ErrProofLength) {
				t.Fatalf("(%d, %d) short proof: got %v, want ErrProofLength", m, n, err)
			}
			if err := VerifyConsistency(m, n, roots[m], roots[n], append(slices.Clone(proof), roots[n])); !errors.Is(err, ErrProofLength) {
				t.Fatalf("(%d, %d) long proof: got %v, want ErrProofLength", m, n, err)
			}
			if err := VerifyConsistency(n, m, roots[n], roots[m], proof); !errors.Is(err, ErrSize) {
				t.Fatalf("(%d, %d) swapped sizes: got %v, want ErrSize", m, n, err)
			}
			// Swapping the roots but not the sizes must not verify either.
			if err := VerifyConsistency(m, n, roots[n], roots[m], proof); err == nil {
				t.Fatalf("(%d, %d) swapped roots verified", m, n)
			}
			// A tree whose first m leaves were rewritten is not consistent.
			forged := slices.Clone(leaves[:n])
			forged[m-1][0] ^= 1
			fproof, _ := ConsistencyProof(forged, m, n)
			if err := VerifyConsistency(m, n, roots[m], RootFromLeaves(forged), fproof); !errors.Is(err, ErrRootMismatch) {
				t.Fatalf("(%d, %d) rewritten history: got %v, want ErrRootMismatch", m, n, err)
			}
		}
	}
}

func TestProofSizeErrors(t *testing.T) {
	leaves := syntheticLeaves(4)
	for _, c := range [][2]int{{-1, 2}, {3, 2}, {1, 5}} {
		if _, err := ConsistencyProof(leaves, c[0], c[1]); !errors.Is(err, ErrSize) {
			t.Errorf("ConsistencyProof(%d, %d): got %v, want ErrSize", c[0], c[1], err)
		}
	}
	for _, c := range [][2]int{{-1, 2}, {2, 2}, {0, 0}, {0, 5}} {
		if _, err := InclusionProof(leaves, c[0], c[1]); !errors.Is(err, ErrSize) {
			t.Errorf("InclusionProof(%d, %d): got %v, want ErrSize", c[0], c[1], err)
		}
		if err := VerifyInclusion(c[0], c[1], Hash{}, Hash{}, nil); c[1] < 5 && !errors.Is(err, ErrSize) {
			t.Errorf("VerifyInclusion(%d, %d): got %v, want ErrSize", c[0], c[1], err)
		}
	}
	if err := VerifyConsistency(2, 2, Hash{}, Hash{}, []Hash{{}}); !errors.Is(err, ErrProofLength) {
		t.Errorf("non-empty proof for m == n: got %v, want ErrProofLength", err)
	}
}

func TestProofLengths(t *testing.T) {
	// The length formulas used to reject proofs early must agree with what
	// the generators produce, or valid proofs would be refused.
	leaves := syntheticLeaves(130)
	for n := 1; n <= len(leaves); n++ {
		for m := 1; m < n; m++ {
			p, _ := ConsistencyProof(leaves, m, n)
			if got := consistencyLen(uint64(m), uint64(n)); got != len(p) {
				t.Fatalf("consistencyLen(%d, %d) = %d, proof has %d", m, n, got, len(p))
			}
		}
		for i := range n {
			p, _ := InclusionProof(leaves, i, n)
			if got := inclusionLen(uint64(i), uint64(n)); got != len(p) {
				t.Fatalf("inclusionLen(%d, %d) = %d, proof has %d", i, n, got, len(p))
			}
		}
	}
}

func FuzzVerifyConsistency(f *testing.F) {
	leaves := syntheticLeaves(16)
	p, _ := ConsistencyProof(leaves, 3, 16)
	var seed []byte
	for _, h := range p {
		seed = append(seed, h[:]...)
	}
	f.Add(3, 16, seed, byte(0))
	f.Add(0, 0, []byte{}, byte(1))
	f.Add(1<<62, 1<<63-1, seed, byte(2))
	f.Fuzz(func(t *testing.T, m, n int, raw []byte, pick byte) {
		proof := make([]Hash, len(raw)/HashSize)
		for i := range proof {
			copy(proof[i][:], raw[i*HashSize:])
		}
		rm, rn := RootFromLeaves(leaves[:3]), RootFromLeaves(leaves)
		if pick&1 == 1 && len(proof) > 0 {
			rm = proof[0]
		}
		err := VerifyConsistency(m, n, rm, rn, proof)
		if err == nil && m == 3 && n == 16 && !slices.Equal(proof, p) {
			t.Fatalf("forged proof %v verified", proof)
		}
		_ = VerifyInclusion(m, n, rm, rn, proof)
	})
}
