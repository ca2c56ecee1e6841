package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// Two rename-and-create rotations while the exporter is stopped, the second
// compressing the first generation (delaycompress). On restart the file the
// saved position names is mail.log.2.gz: it is read (decompressed) from the
// saved offset, then mail.log.1 whole, then the current file.
func TestRotateTwiceWhileStopped(t *testing.T) {
	r := newRig(t, "create\ncompress\ndelaycompress")
	w := r.openWriter()
	defer w.close()
	w.write(100)
	r.start()
	r.waitFor(100)
	r.stop()

	w.write(50) // after the saved offset, in what becomes mail.log.2.gz
	r.rotate()
	w.write(10) // the writer has not reopened yet: still mail.log.2.gz
	w.reopen()
	w.write(70) // mail.log.1
	r.rotate()
	w.reopen()
	w.write(30) // the current file
	for _, gen := range []string{"mail.log.2.gz", "mail.log.1"} {
		if _, err := os.Stat(filepath.Join(r.dir, gen)); err != nil {
			t.Fatalf("logrotate did not leave %s: %v", gen, err)
		}
	}

	r.start()
	got := r.waitFor(r.next)
	assertInOrder(t, got, lines(0, r.next))
	if n := r.obs.rotated.Load(); n != 2 {
		t.Errorf("rotations counted: %d, want 2", n)
	}
	if n := r.obs.lost.Load() + r.obs.truncated.Load(); n != 0 {
		t.Errorf("lost or truncated files: %d", n)
	}

	// Still following: the current file is the one being written.
	w.write(20)
	got = r.waitFor(r.next)
	assertSameLines(t, got, lines(0, r.next))
}
