package datasource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// answer is one exporter's reply in a fan-out.
type answer[T any] struct {
	ex  Exporter
	val T
	err error
}

// fanOut calls fn for every exporter, at most maxConc at a time, each with
// its own timeout, and returns the answers in the order of exs. A slow or
// dead exporter costs at most the timeout and never the others' answers.
func fanOut[T any](ctx context.Context, exs []Exporter, timeout time.Duration, maxConc int, fn func(context.Context, Exporter) (T, error)) []answer[T] {
	out := make([]answer[T], len(exs))
	sem := make(chan struct{}, max(maxConc, 1))
	var wg sync.WaitGroup
	for i, ex := range exs {
		out[i].ex = ex
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i].err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i].val, out[i].err = fn(cctx, ex)
			if out[i].err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				out[i].err = fmt.Errorf("no answer within %s", timeout)
			}
		}()
	}
	wg.Wait()
	return out
}

// failure is an exporter that did not answer usefully.
type failure struct {
	name string
	err  error
}

// describe shortens transport errors to what an operator acts on.
func (f failure) describe() string {
	var ue *url.Error
	if errors.As(f.err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("%s (no answer in time)", f.name)
		}
		f.err = ue.Err // the URL is in the settings; the cause is news
	}
	var ne *net.OpError
	if errors.As(f.err, &ne) {
		return fmt.Sprintf("%s (%s: %v)", f.name, ne.Op, ne.Err)
	}
	var ae *APIError
	if errors.As(f.err, &ae) && ae.Status == 401 {
		return fmt.Sprintf("%s (unauthorized: check the token)", f.name)
	}
	return fmt.Sprintf("%s (%v)", f.name, f.err)
}

// failureText names the failing exporters for a notice or a health
// message, in name order.
func failureText(fs []failure) string {
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.describe()
	}
	return strings.Join(parts, "; ")
}
