package ingest

import (
	"testing"
	"time"
)

// Rename-and-create rotation while the log is being written, twenty times.
// The writer keeps appending to the renamed file until it reopens the path
// (as syslog does until logrotate's postrotate HUP), generations are
// compressed one rotation later, and every line must be journaled exactly
// once.
func TestRotateRenameCreate(t *testing.T) {
	r := newRig(t, "create\ncompress\ndelaycompress")
	w := r.openWriter()
	defer w.close()
	w.write(100)
	r.start()
	r.waitFor(100)
	hup, stop := make(chan struct{}), make(chan struct{})
	done := w.background(200*time.Microsecond, hup, stop)
	for i := 0; i < 20; i++ {
		time.Sleep(250 * time.Millisecond)
		r.rotate()
		time.Sleep(20 * time.Millisecond) // lines land in the renamed file
		hup <- struct{}{}
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := r.waitFor(r.next)
	assertSameLines(t, got, lines(0, r.next))
	if n := r.obs.rotated.Load(); n != 20 {
		t.Errorf("rotations counted: %d, want 20", n)
	}
	if n := r.obs.lost.Load() + r.obs.truncated.Load(); n != 0 {
		t.Errorf("lost or truncated files: %d", n)
	}
}
