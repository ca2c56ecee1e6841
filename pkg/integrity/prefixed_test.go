package integrity

import "testing"

// LeafHashPrefixed must hash exactly what LeafHash does for the data behind
// the first byte, whatever that byte is, or ingest's leaves would not be
// the ones verifiers recompute.
func TestLeafHashPrefixed(t *testing.T) {
	for _, n := range []int{0, 1, 55, 56, 64, 300, leafStack, 3 * leafStack} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + 1)
		}
		want := LeafHash(data)
		if got := LeafHashPrefixed(append([]byte{LeafPrefix}, data...)); got != want {
			t.Errorf("%d bytes behind the prefix: %s, LeafHash %s", n, got, want)
		}
		if got := LeafHashPrefixed(append([]byte{0x7f}, data...)); got != want {
			t.Errorf("%d bytes behind another byte: %s, LeafHash %s", n, got, want)
		}
	}
	if got, want := LeafHashPrefixed(nil), LeafHash(nil); got != want {
		t.Errorf("nothing: %s, LeafHash of nothing %s", got, want)
	}
}
