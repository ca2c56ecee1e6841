package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

func TestParseRetention(t *testing.T) {
	r, err := parseRetention(config.Journal{Retention: "90d", RetentionKinds: map[string]string{"auth_failure": "365d", "access": "36h"}, ArchiveDir: "/a"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Default != 90*24*time.Hour || r.Kinds[parser.KindAuthFailure] != 365*24*time.Hour || r.Kinds[parser.KindAccess] != 36*time.Hour || r.ArchiveDir != "/a" {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []config.Journal{
		{Retention: "ninety days"}, {Retention: "-3d"}, {RetentionKinds: map[string]string{"nope": "1d"}}, {RetentionKinds: map[string]string{"login": "x"}},
	} {
		if _, err := parseRetention(bad); err == nil {
			t.Errorf("%+v parsed", bad)
		}
	}
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
