package enrich_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/enrich"
	"github.com/mailtrail/mailtrail/pkg/enrich/enrichtest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// bump moves a file's modification time forward, so a rewrite of the same
// size within the file system's timestamp granularity still counts as a
// change.
func bump(t *testing.T, path string, by time.Duration) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Now(), fi.ModTime().Add(by)); err != nil {
		t.Fatal(err)
	}
}

func testDBs(t *testing.T, dir string) (country, asn string) {
	t.Helper()
	country = filepath.Join(dir, "country.mmdb")
	asn = filepath.Join(dir, "asn.mmdb")
	if err := enrichtest.WriteMMDB(country, "GeoLite2-Country", []enrichtest.Network{
		{CIDR: "198.51.100.0/24", Country: "DE"},
		{CIDR: "198.51.100.128/25", Country: "FR"},
		{CIDR: "203.0.113.0/24", Country: "BR"},
		{CIDR: "2001:db8::/32", Country: "JP"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := enrichtest.WriteMMDB(asn, "GeoLite2-ASN", []enrichtest.Network{
		{CIDR: "198.51.100.0/24", ASN: 64500, ASOrg: "Example Transit"},
		{CIDR: "192.0.2.0/24", ASN: 64511, ASOrg: "Doc Net"},
	}); err != nil {
		t.Fatal(err)
	}
	return country, asn
}

func TestGeoIP(t *testing.T) {
	country, asn := testDBs(t, t.TempDir())
	e, err := enrich.New(enrich.Options{GeoIP: []string{country, asn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip, country string
		asn         uint
		org         string
	}{
		{"198.51.100.7", "DE", 64500, "Example Transit"},
		{"198.51.100.200", "FR", 64500, "Example Transit"}, // the longer prefix wins
		{"::ffff:198.51.100.7", "DE", 64500, "Example Transit"},
		{"203.0.113.9", "BR", 0, ""},        // in the country database only
		{"192.0.2.1", "", 64511, "Doc Net"}, // in the ASN database only
		{"2001:db8::25", "JP", 0, ""},
		{"2001:db9::25", "", 0, ""},
		{"10.1.2.3", "", 0, ""},
		{"hmac:0123abcd", "", 0, ""}, // a pseudonymised address
		{"", "", 0, ""},
		{"not an ip", "", 0, ""},
	} {
		// Twice: the second answer comes from the cache and must agree.
		for range 2 {
			if got := e.Country(c.ip); got != c.country {
				t.Errorf("Country(%q) = %q, want %q", c.ip, got, c.country)
			}
			if n, org := e.ASN(c.ip); n != c.asn || org != c.org {
				t.Errorf("ASN(%q) = %d %q, want %d %q", c.ip, n, org, c.asn, c.org)
			}
		}
	}
	if !e.HasGeoIP() || e.Listed("198.51.100.7") {
		t.Errorf("HasGeoIP %v, Listed without a blocklist %v", e.HasGeoIP(), e.Listed("198.51.100.7"))
	}
}

func TestGeoIPReload(t *testing.T) {
	dir := t.TempDir()
	country, _ := testDBs(t, dir)
	reg := prometheus.NewRegistry()
	e, err := enrich.New(enrich.Options{GeoIP: []string{country}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Country("198.51.100.7"); got != "DE" {
		t.Fatalf("before the update: %q", got)
	}
	// geoipupdate replaces the file by rename.
	if err := enrichtest.WriteMMDB(country, "GeoLite2-Country", []enrichtest.Network{{CIDR: "198.51.100.0/24", Country: "AT"}}); err != nil {
		t.Fatal(err)
	}
	bump(t, country, time.Second)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := e.Country("198.51.100.7"); got != "AT" {
		t.Errorf("after the update, the cached answer %q stayed instead of AT", got)
	}
	// A broken update keeps the last good database and is counted.
	writeFile(t, country, "this is not a MaxMind database")
	if err := e.Reload(); err == nil || !strings.Contains(err.Error(), country) {
		t.Errorf("reload of a broken database: err %v, want one naming %s", err, country)
	}
	if got := e.Country("198.51.100.7"); got != "AT" {
		t.Errorf("after a broken update: %q, want the last good answer AT", got)
	}
	if got := value(t, reg, "mailtrail_enrich_reload_errors_total", "geoip"); got != 1 {
		t.Errorf("geoip reload errors = %v, want 1", got)
	}
}

// value is a gathered sample of reg: the metric name, with the file label
// value when file is not empty.
func value(t *testing.T, reg *prometheus.Registry, name, file string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if file != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != file) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s{file=%q}", name, file)
	return 0
}

const listV1 = `# threat feed, 2026-01-01
198.51.100.0/25      # a bad /25
203.0.113.77
2001:db8:bad::/48
192.0.2.130/24       # host bits set: the /24 is meant

   # indented comment
::ffff:100.64.0.0/106
`

func TestBlocklist(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "block.txt")
	writeFile(t, path, listV1)
	reg := prometheus.NewRegistry()
	e, err := enrich.New(enrich.Options{Blocklist: path, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	listed := []string{"198.51.100.0", "198.51.100.127", "203.0.113.77", "2001:db8:bad::1", "2001:db8:bad:ffff::1",
		"192.0.2.0", "192.0.2.255", "::ffff:198.51.100.5", "100.64.0.1", "100.127.255.255"}
	clean := []string{"198.51.100.128", "203.0.113.78", "2001:db8:bae::1", "192.0.3.0", "100.128.0.0", "10.0.0.1", "", "garbage", "hmac:abcd"}
	check := func(listed, clean []string) {
		t.Helper()
		for _, ip := range listed {
			if !e.Listed(ip) {
				t.Errorf("%q is not listed", ip)
			}
		}
		for _, ip := range clean {
			if e.Listed(ip) {
				t.Errorf("%q is listed", ip)
			}
		}
	}
	check(listed, clean)
	if got := value(t, reg, "mailtrail_enrich_blocklist_entries", ""); got != 5 || e.BlocklistEntries() != 5 {
		t.Errorf("blocklist entries: metric %v, BlocklistEntries %d, want 5", got, e.BlocklistEntries())
	}
	if e.Country("198.51.100.1") != "" || e.HasGeoIP() {
		t.Error("a country without a GeoIP database")
	}

	// Nothing changed: nothing is re-read.
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}

	// The feed drops the /25 and adds 10.0.0.0/8.
	writeFile(t, path, "10.0.0.0/8\n203.0.113.77\n")
	bump(t, path, time.Second)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	check([]string{"10.0.0.1", "203.0.113.77"}, []string{"198.51.100.0", "192.0.2.1"})
	if got := value(t, reg, "mailtrail_enrich_blocklist_entries", ""); got != 2 {
		t.Errorf("blocklist entries after the update: %v, want 2", got)
	}

	// A broken feed keeps the previous list, counts the error and names
	// the line.
	writeFile(t, path, "10.0.0.0/8\n# fine\n10.0.0.0/33\n")
	bump(t, path, 2*time.Second)
	err = e.Reload()
	if want := fmt.Sprintf(`blocklist %s line 3: "10.0.0.0/33" is neither a CIDR nor an IP address`, path); err == nil || err.Error() != want {
		t.Errorf("broken feed: err %v, want %s", err, want)
	}
	check([]string{"10.0.0.1", "203.0.113.77"}, nil)
	if got := value(t, reg, "mailtrail_enrich_reload_errors_total", "blocklist"); got != 1 {
		t.Errorf("blocklist reload errors = %v, want 1", got)
	}
	// A removed file is an error too, and still keeps the list.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(); err == nil {
		t.Error("reload of a missing file: no error")
	}
	check([]string{"10.0.0.1"}, nil)
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	writeFile(t, bad, "192.0.2.0/24\nexample.com\n")
	notDB := filepath.Join(dir, "not.mmdb")
	writeFile(t, notDB, "hello")
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		opts enrich.Options
		want string
	}{
		{enrich.Options{Blocklist: bad}, fmt.Sprintf(`blocklist %s line 2: "example.com" is neither a CIDR nor an IP address`, bad)},
		{enrich.Options{Blocklist: missing}, "blocklist file: stat " + missing + ": no such file or directory"},
		{enrich.Options{GeoIP: []string{missing}}, "geoip file: stat " + missing + ": no such file or directory"},
		{enrich.Options{GeoIP: []string{notDB}}, "geoip database " + notDB + ": "},
	} {
		_, err := enrich.New(c.opts)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("New(%+v): err %v, want %q", c.opts, err, c.want)
		}
	}
}

func TestNilEnricher(t *testing.T) {
	var e *enrich.Enricher
	if e.Country("198.51.100.1") != "" || e.Listed("198.51.100.1") || e.BlocklistEntries() != 0 || e.HasGeoIP() || e.Reload() != nil {
		t.Error("a nil Enricher knows something")
	}
	if n, org := e.ASN("198.51.100.1"); n != 0 || org != "" {
		t.Error("a nil Enricher knows an AS")
	}
	if e.Lookup("198.51.100.1") != (enrich.Info{}) {
		t.Error("a nil Enricher's Lookup is not empty")
	}
}

// TestConcurrentReload looks addresses up from several goroutines while the
// files are replaced; run with -race.
func TestConcurrentReload(t *testing.T) {
	dir := t.TempDir()
	country, asn := testDBs(t, dir)
	block := filepath.Join(dir, "block.txt")
	writeFile(t, block, "198.51.100.0/24\n")
	e, err := enrich.New(enrich.Options{GeoIP: []string{country, asn}, Blocklist: block, CacheSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ip := fmt.Sprintf("198.51.100.%d", (i*7+g)%256)
				if c := e.Country(ip); c != "DE" && c != "FR" && c != "AT" {
					t.Errorf("Country(%s) = %q during reloads", ip, c)
					return
				}
				if !e.Listed(ip) {
					t.Errorf("%s not listed during reloads", ip)
					return
				}
			}
		})
	}
	for i := range 20 {
		c := "AT"
		if i%2 == 1 {
			c = "DE"
		}
		if err := enrichtest.WriteMMDB(country, "GeoLite2-Country", []enrichtest.Network{{CIDR: "198.51.100.0/24", Country: c}}); err != nil {
			t.Fatal(err)
		}
		bump(t, country, time.Duration(i+1)*time.Second)
		writeFile(t, block, fmt.Sprintf("# v%d\n198.51.100.0/24\n", i))
		bump(t, block, time.Duration(i+1)*time.Second)
		if err := e.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func BenchmarkLookup(b *testing.B) {
	dir := b.TempDir()
	country := filepath.Join(dir, "country.mmdb")
	var nets []enrichtest.Network
	for i := range 256 {
		nets = append(nets, enrichtest.Network{CIDR: fmt.Sprintf("%d.0.0.0/8", i+1), Country: "DE", ASN: uint32(64500 + i)})
	}
	if err := enrichtest.WriteMMDB(country, "test", nets[:223]); err != nil {
		b.Fatal(err)
	}
	var list strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&list, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
	}
	list.WriteString("172.16.0.0/12\n192.168.0.0/16\n")
	block := filepath.Join(dir, "block.txt")
	if err := os.WriteFile(block, []byte(list.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	e, err := enrich.New(enrich.Options{GeoIP: []string{country}, Blocklist: block, CacheSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ips := make([]string, 4096)
	for i := range ips {
		ips[i] = fmt.Sprintf("%d.%d.%d.%d", i%200+1, i>>8&255, i&255, i%7)
	}
	b.Run("country-cached", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			e.Country(ips[i%len(ips)])
		}
	})
	b.Run("listed-100k", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			e.Listed(ips[i%len(ips)])
		}
	})
}
