// Package proctest holds what tests that run real processes (the
// exporter, Prometheus, Alertmanager, the plugin binary) share.
package proctest

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Output collects a process's stdout or stderr while it runs: exec's
// copying goroutine writes while the test reads it for a failure message.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// FreePort returns a TCP port nobody listens on at host right now: for a
// process to bind, or as an address that refuses connections. Another
// process could take it before then; on a test machine that is rare
// enough.
func FreePort(t testing.TB, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr is FreePort on 127.0.0.1, as host:port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t, "127.0.0.1")))
}
