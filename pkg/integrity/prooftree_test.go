package integrity

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
)

// TestProofTree holds the level-wise proofs to RFC 6962's recursive
// definition (InclusionProof), with and without a removed prefix, for
// every leaf of every size up to 70.
func TestProofTree(t *testing.T) {
	var leaves []Hash
	for i := range 70 {
		leaves = append(leaves, LeafHash([]byte(fmt.Sprint(i))))
	}
	for n := 1; n <= len(leaves); n++ {
		for _, removed := range []int{0, 1, n / 3, n - 1} {
			var base Tree
			for _, l := range leaves[:removed] {
				base.Append(l)
			}
			pt, err := NewProofTree(uint64(removed), base.Frontier(), leaves[removed:n])
			if err != nil {
				t.Fatal(err)
			}
			root := RootFromLeaves(leaves[:n])
			if pt.Root() != root {
				t.Fatalf("n=%d removed=%d: root %s, want %s", n, removed, pt.Root(), root)
			}
			for i := removed; i < n; i++ {
				got, err := pt.InclusionProof(uint64(i))
				if err != nil {
					t.Fatalf("n=%d removed=%d leaf %d: %v", n, removed, i, err)
				}
				want, _ := InclusionProof(leaves, i, n)
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d removed=%d leaf %d: proof %v, want %v", n, removed, i, got, want)
				}
				if err := VerifyInclusion(i, n, leaves[i], root, got); err != nil {
					t.Fatal(err)
				}
			}
			// Leaf 0's path needs its removed neighbour's hash, which the
			// frontier does not hold.
			if removed >= 2 {
				if _, err := pt.InclusionProof(0); err == nil {
					t.Fatalf("n=%d removed=%d: a proof of a removed leaf", n, removed)
				}
			}
		}
	}
	if _, err := NewProofTree(3, []Hash{sha256.Sum256(nil)}, nil); err == nil {
		t.Fatal("a frontier of the wrong length was accepted")
	}
}
