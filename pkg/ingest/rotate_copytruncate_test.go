package ingest

import (
	"testing"
	"time"
)

// copytruncate rotation while the log is being written, eight times. The
// writer holds one O_APPEND descriptor throughout (it is never told to
// reopen, which is the point of copytruncate), so after each truncation its
// lines land at the start of the same inode.
//
// Writing pauses while logrotate runs: copytruncate copies the file and
// then truncates it, and whatever is written between the two is in neither
// the copy nor the truncated file, so no reader can journal it. That loss is
// logrotate's, not ours. The reader is NOT given time to catch up before a
// rotation, though: lines it had not read yet when the file was truncated
// are still in mail.log.1 and must be journaled from there.
func TestRotateCopytruncate(t *testing.T) {
	const rotations = 8
	r := newRig(t, "copytruncate")
	w := r.openWriter()
	defer w.close()
	w.write(100)
	r.start()
	r.waitFor(100)
	hup := make(chan struct{}) // never sent: copytruncate needs no reopen
	for i := 0; i < rotations; i++ {
		stop := make(chan struct{})
		done := w.background(200*time.Microsecond, hup, stop)
		time.Sleep(250 * time.Millisecond)
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// A burst just before the rotation leaves the reader behind: it
		// waits on the journal, which commits 50 lines at a time.
		w.write(1000)
		r.rotate()
	}
	w.write(100)
	got := r.waitFor(r.next)
	assertSameLines(t, got, lines(0, r.next))
	if n := r.obs.truncated.Load(); n != rotations {
		t.Errorf("truncations counted: %d, want %d", n, rotations)
	}
	// Each copy is found by its first line and read as a rotated file.
	if n := r.obs.rotated.Load(); n != rotations {
		t.Errorf("rotations counted: %d, want %d", n, rotations)
	}
	if n := r.obs.lost.Load(); n != 0 {
		t.Errorf("lost files: %d", n)
	}
}
