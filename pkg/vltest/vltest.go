// Package vltest runs a real VictoriaLogs (the fleet store) on loopback for
// tests: a single node, or the nodes of a cluster (the same binary with
// -storageNode), each stopped by the test that started it.
package vltest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// Version is the release scripts/deps.sh installs.
const Version = "v1.52.2"

// Binary finds victoria-logs on PATH or in `go env GOPATH`/bin, where
// scripts/deps.sh's `go install` puts it. Where it is missing the test is
// skipped, except in CI, where that is a failure.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("victoria-logs"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(trimNL(out))
		}
	}
	if gopath != "" {
		p := filepath.Join(gopath, "bin", "victoria-logs")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	why := "victoria-logs not found (scripts/deps.sh installs it: go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@" + Version + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Node is one running VictoriaLogs process.
type Node struct {
	// Addr is host:port of its HTTP listener; URL is http://Addr.
	Addr, URL string
	// DataDir is its -storageDataPath, kept across Restart.
	DataDir string
	args    []string
	bin     string
	cmd     *exec.Cmd
	done    chan struct{}
	out     *proctest.Output
	t       testing.TB
}

// Start runs a node on a free loopback port with its own data directory
// and the extra flags given (e.g. -retentionPeriod=100y, -delete.enable,
// -storageNode=A,B), waits until it answers /health and stops it (kill -9)
// when the test ends.
func Start(t testing.TB, extra ...string) *Node {
	t.Helper()
	n := &Node{bin: Binary(t), t: t, DataDir: t.TempDir(), args: extra}
	n.Addr = proctest.FreeAddr(t)
	n.URL = "http://" + n.Addr
	n.start()
	t.Cleanup(n.Kill)
	return n
}

func (n *Node) start() {
	n.t.Helper()
	args := append([]string{
		"-httpListenAddr=" + n.Addr,
		"-storageDataPath=" + n.DataDir,
		"-loggerLevel=WARN",
	}, n.args...)
	n.out = &proctest.Output{}
	n.cmd = exec.Command(n.bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start victoria-logs: %v", err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.done)
	if err := n.waitHealthy(30 * time.Second); err != nil {
		n.Kill()
		n.t.Fatalf("victoria-logs %v: %v\n%s", args, err, n.out)
	}
}

func (n *Node) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			return fmt.Errorf("exited before answering /health")
		default:
		}
		if resp, err := c.Get(n.URL + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer on /health within %v", limit)
}

// Kill stops the node with SIGKILL (a crash: nothing flushed) and waits
// for it; a stopped node is left alone.
func (n *Node) Kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// Stop stops the node with SIGTERM (it flushes what it holds) and waits.
func (n *Node) Stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		n.Kill()
	}
}

// Restart starts a stopped or killed node again on the same address and
// data directory.
func (n *Node) Restart() {
	n.t.Helper()
	n.Kill()
	n.start()
}

// Output is what the node printed so far, for failure messages.
func (n *Node) Output() string { return n.out.String() }

// Port is the node's port, for -storageNode lists.
func (n *Node) Port() int {
	_, p, _ := net.SplitHostPort(n.Addr)
	port, _ := strconv.Atoi(p)
	return port
}

// Flush makes the rows a store (a single node, or a cluster's insert or
// select node) has taken searchable at once instead of a second or so
// later; a store that does not answer is left to the query that follows.
func Flush(base string) {
	if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
}

// Query returns the rows the store at base holds for a LogsQL query,
// flushed first. VictoriaLogs writes every field's value as a JSON string.
func Query(base, query string) ([]map[string]string, error) {
	Flush(base)
	resp, err := http.Get(base + "/select/logsql/query?" + url.Values{"query": {query}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: %s", query, resp.Status)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("query %q: %w: %s", query, err, sc.Text())
		}
		rows = append(rows, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	return rows, nil
}

// Rows is Query in a test: an error fails it.
func Rows(t testing.TB, base, query string) []map[string]string {
	t.Helper()
	rows, err := Query(base, query)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
