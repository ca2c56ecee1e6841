// Package enrich adds what a log line does not say about an address: its
// country and autonomous system from MaxMind-format databases, and whether
// it is on a threat list of networks.
//
// Enrichment happens when events are read (API, reports), never while they
// are ingested: a slow or missing database must not hold up the journal,
// and a database updated next week improves the answers about last week's
// events. Lookups are cached; files are re-read when they change.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure an Enricher. Every file is optional.
type Options struct {
	// GeoIP are MaxMind DB files (GeoLite2/GeoIP2 Country or City, ASN,
	// or any database with the same field names). Each lookup asks them
	// in order; the first that knows a country gives it, likewise the AS.
	GeoIP []string
	// Blocklist is a file of networks, one CIDR or address per line,
	// '#' comments.
	Blocklist string
	// PollInterval is how often Run checks the files for changes
	// (default 10s).
	PollInterval time.Duration
	// CacheSize bounds the cached GeoIP answers (default 65536 addresses).
	CacheSize int
	// Registerer receives the enrichment metrics (only when a file is
	// configured); nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Info is everything known about one address.
type Info struct {
	Country string `json:"country,omitempty"`
	ASN     uint   `json:"asn,omitempty"`
	ASOrg   string `json:"as_org,omitempty"`
	Listed  bool   `json:"listed,omitempty"`
}

// Enricher answers questions about addresses. Its methods are safe for
// concurrent use, and a nil *Enricher answers every question with
// "unknown", so callers need not check whether enrichment is configured.
type Enricher struct {
	opts    Options
	log     *slog.Logger
	geo     atomic.Pointer[[]*geoDB]
	block   atomic.Pointer[blocklist]
	files   []*watched // the blocklist (if any) first, then the GeoIP files
	cacheMu sync.RWMutex
	cache   map[netip.Addr]geoInfo

	entries      prometheus.Gauge
	reloads      *prometheus.CounterVec
	reloadErrors *prometheus.CounterVec
}

// watched is a file Run re-reads when its size or modification time
// changes. Polling rather than inotify: geoipupdate and feed fetchers
// replace files by rename, often into directories a watch would not
// survive, and a change a few seconds late is harmless here.
type watched struct {
	path  string
	kind  string // "blocklist" or "geoip": the metrics' closed label set
	index int    // position among the GeoIP files
	size  int64
	mtime time.Time
}

// DefaultPollInterval is how often the files are checked for changes.
const DefaultPollInterval = 10 * time.Second

// New reads every configured file. A file that cannot be read is an error
// here, at start-up, where the operator sees it; later reload failures
// keep the previous contents and are counted.
func New(opts Options) (*Enricher, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 65536
	}
	e := &Enricher{opts: opts, log: opts.Logger, cache: map[netip.Addr]geoInfo{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.entries = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mailtrail_enrich_blocklist_entries",
		Help: "Networks on the threat list (--enrich.blocklist) as last loaded.",
	})
	e.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailtrail_enrich_reloads_total",
		Help: "Enrichment files (re-)read successfully, by file kind (blocklist, geoip).",
	}, []string{"file"})
	e.reloadErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailtrail_enrich_reload_errors_total",
		Help: "Enrichment files that changed but could not be read; the previous contents stay in use.",
	}, []string{"file"})
	for _, k := range []string{"blocklist", "geoip"} {
		e.reloads.WithLabelValues(k)
		e.reloadErrors.WithLabelValues(k)
	}
	if opts.Blocklist != "" {
		e.files = append(e.files, &watched{path: opts.Blocklist, kind: "blocklist"})
	}
	dbs := make([]*geoDB, len(opts.GeoIP))
	e.geo.Store(&dbs)
	for i, p := range opts.GeoIP {
		e.files = append(e.files, &watched{path: p, kind: "geoip", index: i})
	}
	for _, w := range e.files {
		if _, err := e.load(w); err != nil {
			return nil, err
		}
	}
	// Without files there is nothing to watch, and no metric to show:
	// an exporter without enrichment exposes none of its series.
	if opts.Registerer != nil && len(e.files) > 0 {
		for _, c := range []prometheus.Collector{e.entries, e.reloads, e.reloadErrors} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register enrichment metrics: %w", err)
			}
		}
	}
	return e, nil
}

// Run re-reads changed files every PollInterval until ctx ends.
func (e *Enricher) Run(ctx context.Context) {
	if e == nil || len(e.files) == 0 {
		return
	}
	t := time.NewTicker(e.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Reload(); err != nil {
				e.log.Error("reload enrichment file; keeping the previous contents", "err", err)
			}
		}
	}
}

// Reload re-reads the files whose size or modification time changed since
// they were last read, and returns the errors of those that failed.
func (e *Enricher) Reload() error {
	if e == nil {
		return nil
	}
	var errs []error
	for _, w := range e.files {
		if _, err := e.load(w); err != nil {
			e.reloadErrors.WithLabelValues(w.kind).Inc()
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// load reads w if it changed; it reports whether it did.
func (e *Enricher) load(w *watched) (bool, error) {
	fi, err := os.Stat(w.path)
	if err != nil {
		return false, fmt.Errorf("%s file: %w", w.kind, err)
	}
	if fi.Size() == w.size && fi.ModTime().Equal(w.mtime) {
		return false, nil
	}
	switch w.kind {
	case "blocklist":
		f, err := os.Open(w.path)
		if err != nil {
			return false, fmt.Errorf("blocklist file: %w", err)
		}
		b, err := parseBlocklist(f, w.path)
		f.Close()
		if err != nil {
			return false, err
		}
		e.block.Store(b)
		e.entries.Set(float64(b.len()))
	case "geoip":
		db, err := openGeoDB(w.path)
		if err != nil {
			return false, err
		}
		// Copy on write: lookups in flight keep the slice they loaded.
		// The replaced reader is not closed: its memory map is released
		// by the library once no lookup holds it any more.
		dbs := append([]*geoDB(nil), *e.geo.Load()...)
		dbs[w.index] = db
		e.geo.Store(&dbs)
		e.cacheMu.Lock()
		clear(e.cache)
		e.cacheMu.Unlock()
	}
	w.size, w.mtime = fi.Size(), fi.ModTime()
	e.reloads.WithLabelValues(w.kind).Inc()
	e.log.Info("loaded enrichment file", "kind", w.kind, "path", w.path)
	return true, nil
}

// Country is the ISO 3166 country code of ip ("DE"), or "" when unknown.
func (e *Enricher) Country(ip string) string {
	return e.geoLookup(ip).country
}

// ASN is the autonomous system number and organisation of ip, or 0 and ""
// when unknown.
func (e *Enricher) ASN(ip string) (uint, string) {
	g := e.geoLookup(ip)
	return g.asn, g.asOrg
}

// Listed reports whether ip lies in a network of the threat list.
func (e *Enricher) Listed(ip string) bool {
	if e == nil {
		return false
	}
	b := e.block.Load()
	if b == nil {
		return false
	}
	a, ok := parseAddr(ip)
	return ok && b.contains(a)
}

// Lookup returns all that is known about ip.
func (e *Enricher) Lookup(ip string) Info {
	g := e.geoLookup(ip)
	return Info{Country: g.country, ASN: g.asn, ASOrg: g.asOrg, Listed: e.Listed(ip)}
}

// BlocklistEntries is the number of networks on the threat list.
func (e *Enricher) BlocklistEntries() int {
	if e == nil {
		return 0
	}
	return e.block.Load().len()
}

// HasGeoIP reports whether any GeoIP database is configured.
func (e *Enricher) HasGeoIP() bool {
	return e != nil && len(*e.geo.Load()) > 0
}

// parseAddr reads an event's client_ip. Pseudonymised addresses
// ("hmac:...") and garbage are simply unknown.
func parseAddr(ip string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func (e *Enricher) geoLookup(ip string) geoInfo {
	if e == nil {
		return geoInfo{}
	}
	dbs := *e.geo.Load()
	if len(dbs) == 0 {
		return geoInfo{}
	}
	a, ok := parseAddr(ip)
	if !ok {
		return geoInfo{}
	}
	e.cacheMu.RLock()
	g, hit := e.cache[a]
	e.cacheMu.RUnlock()
	if hit {
		return g
	}
	for _, db := range dbs {
		g.merge(db.lookup(a))
	}
	e.cacheMu.Lock()
	// Dropping everything when full keeps the bound without the
	// bookkeeping of an LRU; a report touches a working set far smaller.
	if len(e.cache) >= e.opts.CacheSize {
		clear(e.cache)
	}
	e.cache[a] = g
	e.cacheMu.Unlock()
	return g
}

// geoInfo is one address's answer, merged over the databases.
type geoInfo struct {
	country string
	asn     uint
	asOrg   string
}

func (g *geoInfo) merge(o geoInfo) {
	if g.country == "" {
		g.country = o.country
	}
	if g.asn == 0 {
		g.asn, g.asOrg = o.asn, o.asOrg
	}
}

type geoDB struct {
	path string
	r    *maxminddb.Reader
}

// geoRecord holds the fields of the GeoIP2/GeoLite2 Country, City and ASN
// databases that enrichment uses; absent fields stay empty.
type geoRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	ASN   uint   `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

func openGeoDB(path string) (*geoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return &geoDB{path: path, r: r}, nil
}

func (db *geoDB) lookup(a netip.Addr) geoInfo {
	if db == nil {
		return geoInfo{}
	}
	var rec geoRecord
	if err := db.r.Lookup(a).Decode(&rec); err != nil {
		// A record of another shape (a database of another type) is
		// not an answer; the address is simply unknown to it.
		return geoInfo{}
	}
	c := rec.Country.ISOCode
	if c == "" {
		c = rec.RegisteredCountry.ISOCode
	}
	return geoInfo{country: c, asn: rec.ASN, asOrg: rec.ASOrg}
}
