package integrity

import (
	"strconv"
	"testing"
)

// eventBytes approximates one journal event's canonical encoding: a
// delivery record with its raw log line is a few hundred bytes.
func eventBytes(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*31 + 7)
	}
	return b
}

func BenchmarkLeafHash(b *testing.B) {
	for _, size := range []int{128, 400, 2048} {
		data := eventBytes(size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				LeafHash(data)
			}
		})
	}
}

// BenchmarkAppendEvent is the per-event cost the journal pays: hash the
// event as a leaf and extend the tree (amortised one node hash per leaf).
func BenchmarkAppendEvent(b *testing.B) {
	data := eventBytes(400)
	var tree Tree
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tree.AppendData(data)
	}
}

func BenchmarkTreeAppend(b *testing.B) {
	leaf := LeafHash(eventBytes(400))
	var tree Tree
	b.ReportAllocs()
	for b.Loop() {
		tree.Append(leaf)
	}
}

func BenchmarkTreeRoot(b *testing.B) {
	var tree Tree
	leaf := LeafHash(nil)
	for range 1_000_003 {
		tree.Append(leaf)
	}
	b.ReportAllocs()
	for b.Loop() {
		tree.Root()
	}
}
