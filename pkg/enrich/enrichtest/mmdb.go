// Package enrichtest writes small MaxMind-format databases for tests, so
// that GeoIP enrichment is tested against real files read by the real
// reader rather than a stand-in.
package enrichtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one entry of a test database: a CIDR and what it maps to.
// Empty fields are left out of the record, as in MaxMind's own files
// (an ASN database has no country, a country database no AS).
type Network struct {
	CIDR    string
	Country string // ISO code, written as country.iso_code
	ASN     uint32 // autonomous_system_number
	ASOrg   string // autonomous_system_organization
}

// WriteMMDB writes nets to path as a MaxMind DB of type dbType (say
// "GeoLite2-Country"), atomically: a reader polling path sees the old
// file or the new one, never half of one.
func WriteMMDB(path, dbType string, nets []Network) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		RecordSize:   24,
		// Tests use documentation ranges (192.0.2.0/24, 198.51.100.0/24,
		// 2001:db8::/32), which the writer leaves out unless told.
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("mmdb writer: %w", err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return fmt.Errorf("mmdb network %q: %w", n.CIDR, err)
		}
		rec := mmdbtype.Map{}
		if n.Country != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		}
		if n.ASN != 0 {
			rec["autonomous_system_number"] = mmdbtype.Uint32(n.ASN)
		}
		if n.ASOrg != "" {
			rec["autonomous_system_organization"] = mmdbtype.String(n.ASOrg)
		}
		if err := tree.Insert(ipnet, rec); err != nil {
			return fmt.Errorf("mmdb insert %s: %w", n.CIDR, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mmdb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tree.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
