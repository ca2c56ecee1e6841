package integrity

import (
	"encoding/hex"
	"testing"
)

// The Certificate Transparency reference leaves and roots (as published
// with transparency-dev/merkle and the CT implementations): the only check
// that the hashing agrees with other RFC 6962 implementations rather than
// only with itself.
var ctLeaves = []string{
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
}

var ctRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	var h Hash
	if b := mustHex(t, s); len(b) != HashSize || copy(h[:], b) != HashSize {
		t.Fatalf("%q is not a hash", s)
	}
	return h
}

func ctLeafHashes(t testing.TB) []Hash {
	hs := make([]Hash, len(ctLeaves))
	for i, s := range ctLeaves {
		hs[i] = LeafHash(mustHex(t, s))
	}
	return hs
}

// syntheticLeaves returns n distinct leaf hashes.
func syntheticLeaves(n int) []Hash {
	hs := make([]Hash, n)
	for i := range hs {
		hs[i] = LeafHash([]byte{byte(i), byte(i >> 8), 0xee})
	}
	return hs
}

func TestEmptyRoot(t *testing.T) {
	if got := EmptyRoot().String(); got != ctRoots[0] {
		t.Errorf("EmptyRoot() = %s, want SHA-256(\"\") %s", got, ctRoots[0])
	}
	var tree Tree
	if tree.Root() != EmptyRoot() || RootFromLeaves(nil) != EmptyRoot() {
		t.Error("empty tree root is not SHA-256(\"\")")
	}
}

func TestLeafHashPrefix(t *testing.T) {
	// A one-leaf tree's root is its leaf hash, SHA-256(0x00).
	if got := LeafHash(nil).String(); got != ctRoots[1] {
		t.Errorf("LeafHash(\"\") = %s, want %s", got, ctRoots[1])
	}
	// Both code paths of LeafHash (stack buffer and streaming) agree.
	big := make([]byte, 3*leafStack)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, n := range []int{leafStack - 2, leafStack - 1, leafStack, leafStack + 1, len(big)} {
		var tr1, tr2 Tree
		tr1.AppendData(big[:n])
		tr2.Append(LeafHash(append([]byte(nil), big[:n]...)))
		if tr1.Root() != tr2.Root() {
			t.Errorf("LeafHash of %d bytes unstable", n)
		}
	}
}

func TestCTVectors(t *testing.T) {
	leaves := ctLeafHashes(t)
	var tree Tree
	for n := 0; n <= len(leaves); n++ {
		if n > 0 {
			tree.Append(leaves[n-1])
		}
		if got := tree.Root().String(); got != ctRoots[n] {
			t.Errorf("Tree.Root() at size %d = %s, want %s", n, got, ctRoots[n])
		}
		if got := RootFromLeaves(leaves[:n]).String(); got != ctRoots[n] {
			t.Errorf("RootFromLeaves at size %d = %s, want %s", n, got, ctRoots[n])
		}
	}
}

func TestTreeMatchesReference(t *testing.T) {
	leaves := syntheticLeaves(300)
	var tree Tree
	for n := 0; n <= len(leaves); n++ {
		if n > 0 {
			tree.Append(leaves[n-1])
		}
		if tree.Size() != uint64(n) {
			t.Fatalf("Size() = %d, want %d", tree.Size(), n)
		}
		if got, want := tree.Root(), RootFromLeaves(leaves[:n]); got != want {
			t.Fatalf("size %d: Tree.Root() = %s, RootFromLeaves = %s", n, got, want)
		}
		if got := len(tree.Frontier()); got > 9 {
			t.Fatalf("size %d: frontier holds %d hashes, more than log2", n, got)
		}
	}
}

func TestSplit(t *testing.T) {
	// RFC 6962 splits at the largest power of two strictly below n, not at
	// the midpoint: both build a tree, only one interoperates.
	for n, want := range map[int]int{2: 1, 3: 2, 4: 2, 5: 4, 7: 4, 8: 4, 9: 8, 1000: 512, 1025: 1024} {
		if got := split(n); got != want {
			t.Errorf("split(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestRestoreTree(t *testing.T) {
	leaves := syntheticLeaves(100)
	for cut := 0; cut <= 60; cut++ {
		var a Tree
		for _, l := range leaves[:cut] {
			a.Append(l)
		}
		b, err := RestoreTree(a.Size(), a.Frontier())
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		for _, l := range leaves[cut:] {
			a.Append(l)
			b.Append(l)
		}
		if a.Root() != b.Root() || b.Size() != 100 {
			t.Fatalf("cut %d: restored tree diverged", cut)
		}
	}
	if _, err := RestoreTree(5, syntheticLeaves(1)); err == nil {
		t.Error("RestoreTree accepted a frontier of the wrong length")
	}
}

func TestFrontierIsACopy(t *testing.T) {
	var tree Tree
	tree.Append(LeafHash([]byte("a")))
	root := tree.Root()
	tree.Frontier()[0] = Hash{}
	if tree.Root() != root {
		t.Error("changing Frontier()'s result changed the tree")
	}
}
