package ingest

import (
	"os"
	"testing"
)

// The log is deleted and recreated while being written, five times. The
// writer goes on appending to the deleted file until it reopens the path
// (as syslog does until told to), and those lines must be read from the
// still-open deleted file before the new one is started on.
func TestDeleteRecreate(t *testing.T) {
	const deletions = 5
	r := newRig(t, "create")
	w := r.openWriter()
	defer w.close()
	w.write(100)
	r.start()
	r.waitFor(100)
	r.replaceWhileWriting(w, deletions, func() {
		if err := os.Remove(r.log); err != nil {
			t.Fatal(err)
		}
	})
}

// The log is deleted and recreated while the exporter is stopped. Lines
// written to the old file after the stop went with it and cannot be
// journaled; that is reported as a loss, and the new file is read whole.
func TestDeleteRecreateWhileStopped(t *testing.T) {
	r := newRig(t, "create")
	w := r.openWriter()
	defer w.close()
	w.write(100)
	r.start()
	r.waitFor(100)
	r.stop()
	w.write(30) // gone with the file
	if err := os.Remove(r.log); err != nil {
		t.Fatal(err)
	}
	w.reopen()
	w.write(50)

	r.start()
	got := r.waitFor(150)
	want := append(lines(0, 100), lines(130, 180)...)
	assertInOrder(t, got, want)
	if n := r.obs.lost.Load(); n != 1 {
		t.Errorf("losses reported: %d, want 1", n)
	}

	w.write(20)
	assertInOrder(t, r.waitFor(170), append(want, lines(180, 200)...))
}
