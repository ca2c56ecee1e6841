// Package proctest holds what tests that run real processes (the
// exporter, Prometheus, Alertmanager, the plugin binary) share.
package proctest

import (
	"bytes"
	"sync"
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
