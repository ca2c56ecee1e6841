package ingest

import (
	"fmt"
	"testing"
)

// A line written in two pieces (a writer flushing mid-line) is journaled
// once, whole, and only after its newline arrives, including when the
// exporter stops between the pieces and when it is the file's first line
// (which has no fingerprint until it is whole).
func TestPartialLine(t *testing.T) {
	for _, before := range []int{0, 50} {
		for _, restart := range []bool{false, true} {
			t.Run(fmt.Sprintf("after %d lines, restart %v", before, restart), func(t *testing.T) {
				r := newRig(t, "create")
				w := r.openWriter()
				defer w.close()
				w.write(before)
				r.start()
				whole := line(r.next)
				w.writeRaw(whole[:30])
				// The journal must hold the earlier lines and not the
				// piece, even after the reader has seen it.
				if got := r.waitFor(before); len(got) != before {
					t.Fatalf("journal holds %d events with a piece of a line written, want %d: %q", len(got), before, got[len(got)-1])
				}
				if restart {
					r.stop()
				}
				w.writeRaw(whole[30:] + "\n")
				r.next++
				w.write(10)
				if restart {
					r.start()
				}
				assertInOrder(t, r.waitFor(r.next), lines(0, r.next))
				if n := r.obs.cut.Load(); n != 0 {
					t.Errorf("lines cut: %d", n)
				}
			})
		}
	}
}
