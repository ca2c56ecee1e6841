package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/config"
)

func TestRetentionFlags(t *testing.T) {
	f := &retentionFlags{retention: "30d", kinds: []string{"reject=7d"}}
	c := &config.Config{}
	f.apply(c)
	if c.Journal.Retention != "30d" || c.Journal.RetentionKinds["reject"] != "7d" {
		t.Errorf("flags applied as %+v", c.Journal)
	}
}

// TestRestoreCommandRefusesJunk: a file that is no archive is refused with
// exit 1 and a message naming it.
func TestRestoreCommandRefusesJunk(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mtar")
	os.WriteFile(junk, []byte("not an archive"), 0o600)
	r := cliRun(t, "", "restore", "--journal.path="+filepath.Join(dir, "j.db"), "--archive="+junk)
	if r.code != 1 || !strings.Contains(r.stderr, "junk.mtar") {
		t.Fatalf("restore of junk: %s", r)
	}
}
