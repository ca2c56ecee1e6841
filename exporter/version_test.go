package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionStamp builds the exporter with the -ldflags stamp the Makefile
// and scripts/release.sh pass, and checks that --version prints every part
// of it: a release whose binary says "dev" or lost its revision cannot be
// traced back to its commit.
func TestVersionStamp(t *testing.T) {
	const pkg = "github.com/prometheus/common/version"
	stamp := map[string]string{
		"Version":   "9.8.7",
		"Revision":  "0123456789abcdef0123456789abcdef01234567",
		"Branch":    "release-9.8",
		"BuildUser": "builder@ci",
		"BuildDate": "20260102-03:04:05",
	}
	var ldflags []string
	for k, v := range stamp {
		ldflags = append(ldflags, "-X", pkg+"."+k+"="+v)
	}
	bin := filepath.Join(t.TempDir(), "exporter")
	if out, err := exec.Command("go", "build", "-ldflags", strings.Join(ldflags, " "), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, want := range []string{
		"exporter, version 9.8.7 (branch: release-9.8, revision: 0123456789abcdef0123456789abcdef01234567)\n",
		"build user:       builder@ci\n",
		"build date:       20260102-03:04:05\n",
		"platform:         linux/",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version does not show %q:\n%s", want, out)
		}
	}
}
