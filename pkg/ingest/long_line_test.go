package ingest

import (
	"strings"
	"testing"
)

// longMax is well above the length of the rig's lines (about 85 bytes).
const longMax = 120

// longLine is line n made over-long.
func longLine(n int) string {
	return line(n) + " " + strings.Repeat("x", 3*longMax)
}

// An over-long line is journaled cut to its first longMax bytes, once, and
// counted; the rest of it up to its newline is skipped and the lines after
// it arrive intact.
func TestLongLine(t *testing.T) {
	r := newRig(t, "create")
	r.maxLen = longMax
	w := r.openWriter()
	defer w.close()
	w.write(20)
	long := longLine(r.next)
	w.writeRaw(long + "\n")
	r.next++
	w.write(20)
	w.writeRaw(longLine(r.next) + "\n" + longLine(r.next+1) + "\n")
	r.next += 2
	w.write(5)
	r.start()

	want := lines(0, r.next)
	for _, n := range []int{20, 41, 42} {
		want[n] = longLine(n)[:longMax]
	}
	assertInOrder(t, r.waitFor(r.next), want)
	if n := r.obs.cut.Load(); n != 3 {
		t.Errorf("cut lines counted: %d, want 3", n)
	}
}

// An over-long line arriving in pieces (the first shorter than longMax, the
// second taking it past longMax, the last bringing the newline) is journaled
// cut, once, only when its newline arrives, also when the exporter restarts
// between the pieces.
func TestLongLineInPieces(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "running"
		if restart {
			name = "restart between pieces"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, "create")
			r.maxLen = longMax
			w := r.openWriter()
			defer w.close()
			w.write(20)
			r.start()
			long := longLine(r.next)
			pieces := []string{long[:longMax-20], long[longMax-20 : 2*longMax], long[2*longMax:] + "\n"}
			for _, p := range pieces[:2] {
				w.writeRaw(p)
				if got := r.waitFor(20); len(got) != 20 {
					t.Fatalf("journal holds %d events before the long line's newline, want 20: %q", len(got), got[len(got)-1])
				}
				if restart {
					r.stop()
					r.start()
				}
			}
			w.writeRaw(pieces[2])
			r.next++
			w.write(10)

			want := lines(0, r.next)
			want[20] = long[:longMax]
			assertInOrder(t, r.waitFor(r.next), want)
			if n := r.obs.cut.Load(); n != 1 {
				t.Errorf("cut lines counted: %d, want 1", n)
			}
		})
	}
}
