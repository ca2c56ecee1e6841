package tailer

import "testing"

// A batch given back keeps nothing of the reads it pointed into, and a
// batch taken is empty with room for what was asked, recycled or not.
func TestRecycle(t *testing.T) {
	ls := make([]Line, 3, 8)
	for i := range ls {
		ls[i] = Line{Source: "/var/log/mail.log", Text: "a line", Ack: nil}
	}
	Recycle(ls)
	for i, l := range ls {
		if l != (Line{}) {
			t.Fatalf("line %d still %+v after Recycle", i, l)
		}
	}
	for _, n := range []int{1, 8, 9, 100} {
		got := takeLines(n)
		if len(got) != 0 || cap(got) < n {
			t.Fatalf("takeLines(%d): len %d cap %d", n, len(got), cap(got))
		}
		Recycle(append(got, Line{Text: "x"}))
	}
	Recycle(nil) // nothing to give back
}
