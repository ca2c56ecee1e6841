package server

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListenPolicyUnix: a unix socket smtpd (running as postfix) can reach,
// replacing a stale one a killed exporter left; a regular file in the way
// is not removed.
func TestListenPolicyUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy")
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	l, err := listenPolicy("unix:" + path)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer l.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o666 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v %v", fi.Mode(), err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("keep me"), 0o644)
	if _, err := listenPolicy("unix:" + file); err == nil || !strings.Contains(err.Error(), "policy.listen unix:"+file) {
		t.Errorf("over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("a regular file was replaced")
	}
}
