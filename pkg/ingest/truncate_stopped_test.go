package ingest

import (
	"os"
	"testing"
)

// A copytruncate rotation while the exporter is stopped, after which the
// truncated file grows past the saved offset before the restart. The saved
// offset is then a valid offset into the wrong content: the restart must
// notice from the first line that mail.log is no longer the file it names,
// finish that file from its copy (mail.log.1), and read the new mail.log
// from its beginning, re-reading and skipping nothing.
func TestTruncateWhileStopped(t *testing.T) {
	for _, tc := range []struct {
		name string
		// afterStop lines are written after the stop and before the
		// rotation: they survive only in mail.log.1.
		afterStop int
	}{
		{"drained", 0},
		{"unread lines in the copy", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "copytruncate")
			w := r.openWriter()
			defer w.close()
			w.write(100)
			r.start()
			r.waitFor(100)
			r.stop()
			w.write(tc.afterStop)
			old := fileSize(t, r.log)
			r.rotate()
			if s := fileSize(t, r.log); s != 0 {
				t.Fatalf("mail.log holds %d bytes after copytruncate", s)
			}
			for fileSize(t, r.log) < old+200 {
				w.write(10)
			}

			r.start()
			got := r.waitFor(r.next)
			assertInOrder(t, got, lines(0, r.next))
			if n := r.obs.lost.Load(); n != 0 {
				t.Errorf("lost files: %d", n)
			}
			if n := r.obs.rotated.Load(); n != 1 {
				t.Errorf("rotations counted: %d, want 1 (the copy)", n)
			}

			w.write(20)
			assertInOrder(t, r.waitFor(r.next), lines(0, r.next))
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
