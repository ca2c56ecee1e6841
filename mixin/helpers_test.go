package mixin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// repoRoot is the module root: the tests run in mixin/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
	return root
}

// need finds a Debian tool the tests run for real (scripts/deps.sh installs
// them); without it the test fails rather than passing unseen, except under
// -short.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s not installed (-short)", name)
		}
		t.Fatalf("%s not installed: run scripts/deps.sh", name)
	}
	return p
}

// jsonnet renders the mixin with the Debian jsonnet, the same binary `make
// mixin` uses, so the drift test compares like with like.
func jsonnet(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := need(t, "jsonnet")
	cmd := exec.Command(bin, append([]string{"-J", filepath.Join(repoRoot(t), "mixin")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jsonnet %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = proctest.Output

// startServer runs a server until the test ends and waits until url
// answers 200. Its output is printed when the test fails.
func startServer(t *testing.T, name, url string, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// SIGTERM first so servers flush and remove their locks; the context
	// kills what is left.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("--- %s output (tail):\n%s", name, tail(out.String(), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("%s exited early:\n%s", name, tail(out.String(), 4000))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready at %s: %v", name, url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", path, err))
	}
}
