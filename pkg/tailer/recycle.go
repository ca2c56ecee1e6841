package tailer

import "sync"

// lineSlices holds batches of lines given back by their receiver, for the
// next reads to fill. A Line takes about 100 bytes, about as much as the
// text it points to: allocating a batch for every read was a third of
// what serve allocated, and so of its collector's work.
var lineSlices sync.Pool

// Recycle gives back a batch of lines that its receiver is done with: it
// keeps no reference to the slice (the lines' strings it may keep; they
// are not reused). Recycling is optional.
func Recycle(ls []Line) {
	if cap(ls) == 0 {
		return
	}
	// Cleared, so that a slice waiting in the pool pins no read's memory.
	clear(ls)
	ls = ls[:0]
	lineSlices.Put(&ls)
}

// takeLines returns an empty batch with room for n lines, a recycled one
// if one is big enough.
func takeLines(n int) []Line {
	if p, ok := lineSlices.Get().(*[]Line); ok && cap(*p) >= n {
		return *p
	}
	return make([]Line, 0, n)
}
