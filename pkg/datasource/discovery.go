package datasource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
)

// Matcher is one label matcher of a selector.
type Matcher struct {
	Name, Op, Value string
	re              *regexp.Regexp
}

// Selector picks Prometheus targets by their labels, in PromQL's matcher
// syntax: `job="mailtrail"`, `{job="mailtrail", env=~"prod|dr"}`. The
// targets API cannot filter by labels, so the plugin matches itself.
type Selector []Matcher

var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*(?:,|$)`)

// ParseSelector reads a selector; an empty one matches every target.
func ParseSelector(s string) (Selector, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		if !strings.HasSuffix(s, "}") {
			return nil, fmt.Errorf("%q: missing closing }", s)
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var sel Selector
	for s != "" {
		m := matcherRE.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("%q: want label matchers like job=\"mailtrail\" (=, !=, =~, !~)", s)
		}
		v, err := strconv.Unquote(m[3])
		if err != nil {
			return nil, fmt.Errorf("%s: bad quoted value %s: %w", m[1], m[3], err)
		}
		mt := Matcher{Name: m[1], Op: m[2], Value: v}
		if mt.Op == "=~" || mt.Op == "!~" {
			// Anchored like PromQL's regex matchers.
			if mt.re, err = regexp.Compile("^(?:" + v + ")$"); err != nil {
				return nil, fmt.Errorf("%s: bad regular expression: %w", m[1], err)
			}
		}
		sel = append(sel, mt)
		s = strings.TrimSpace(s[len(m[0]):])
	}
	return sel, nil
}

// Matches reports whether labels satisfy every matcher (a missing label is
// the empty string, as in PromQL).
func (sel Selector) Matches(labels map[string]string) bool {
	for _, m := range sel {
		v := labels[m.Name]
		var ok bool
		switch m.Op {
		case "=":
			ok = v == m.Value
		case "!=":
			ok = v != m.Value
		case "=~":
			ok = m.re.MatchString(v)
		case "!~":
			ok = !m.re.MatchString(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

type targetsResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			ScrapeURL string            `json:"scrapeUrl"`
		} `json:"activeTargets"`
	} `json:"data"`
}

// discoverTargets asks Prometheus's targets API for the active targets that
// match sel. An exporter is named by its target's instance label, so a
// relabelling rule that sets instance="mx1" names it in Grafana too; its
// base URL is the scrape URL without the metrics path.
func discoverTargets(ctx context.Context, c *http.Client, prom *url.URL, sel Selector) ([]Exporter, error) {
	var tr targetsResponse
	// Prometheus's API is not mailtrail's, but a JSON GET is a JSON GET.
	pc := &apiv1.Client{HTTP: c, Base: prom}
	if err := pc.Get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &tr); err != nil {
		return nil, fmt.Errorf("prometheus targets at %s: %w", prom, err)
	}
	if tr.Status != "success" {
		return nil, fmt.Errorf("prometheus targets at %s: status %q: %s", prom, tr.Status, tr.Error)
	}
	seen := map[string]bool{}
	var out []Exporter
	for _, t := range tr.Data.ActiveTargets {
		if !sel.Matches(t.Labels) {
			continue
		}
		u, err := url.Parse(t.ScrapeURL)
		if err != nil || u.Host == "" {
			continue
		}
		// The metrics path is the last element ("/metrics" by default).
		if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
			u.Path = u.Path[:i]
		}
		u.RawQuery, u.Fragment = "", ""
		name := t.Labels["instance"]
		if name == "" {
			name = u.Host
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, Exporter{Name: name, URL: u})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// discovery keeps the last good answer of Prometheus, refreshed in the
// background, so a query never waits for Prometheus once the first answer
// is in, and a Prometheus hiccup keeps the estate as it was.
type discovery struct {
	client  *http.Client
	prom    *url.URL
	sel     Selector
	refresh time.Duration
	timeout time.Duration

	mu      sync.Mutex
	found   []Exporter
	ok      bool // found holds an answer
	lastErr error
	stop    chan struct{}
	done    chan struct{}
}

func newDiscovery(c *http.Client, s *Settings) *discovery {
	return &discovery{client: c, prom: s.prometheusURL, sel: s.selector, refresh: s.refresh,
		timeout: s.timeout, stop: make(chan struct{}), done: make(chan struct{})}
}

// run refreshes until close.
func (d *discovery) run() {
	defer close(d.done)
	t := time.NewTicker(d.refresh)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
			d.update(ctx)
			cancel()
		}
	}
}

func (d *discovery) close() {
	close(d.stop)
	<-d.done
}

func (d *discovery) update(ctx context.Context) {
	found, err := discoverTargets(ctx, d.client, d.prom, d.sel)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastErr = err
	if err == nil {
		d.found, d.ok = found, true
	}
}

// exporters returns the discovered exporters, asking Prometheus first if
// it has not answered yet. The error is Prometheus's last failure, given
// along with the last good list.
func (d *discovery) exporters(ctx context.Context) ([]Exporter, error) {
	d.mu.Lock()
	ok := d.ok
	d.mu.Unlock()
	if !ok {
		ctx, cancel := context.WithTimeout(ctx, d.timeout)
		d.update(ctx)
		cancel()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.found, d.lastErr
}
