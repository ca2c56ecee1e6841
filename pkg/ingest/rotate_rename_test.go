package ingest

import "testing"

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
	r.replaceWhileWriting(w, 20, r.rotate)
}
