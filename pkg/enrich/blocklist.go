package enrich

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// blocklist is a set of networks. Lookups mask the address once per
// distinct prefix length in the list, so a feed of a million /32s and a
// few hundred /24s costs a handful of map probes, not a million compares.
type blocklist struct {
	v4, v6 prefixSet
}

type prefixSet struct {
	lens []int // distinct prefix lengths, longest first
	nets map[netip.Prefix]struct{}
}

// parseBlocklist reads one CIDR or address per line; '#' starts a comment,
// blank lines are skipped. Any other line is an error naming its number:
// a threat feed that changed format must not silently shrink the list.
func parseBlocklist(r io.Reader, name string) (*blocklist, error) {
	b := &blocklist{
		v4: prefixSet{nets: map[netip.Prefix]struct{}{}},
		v6: prefixSet{nets: map[netip.Prefix]struct{}{}},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := parseNet(line)
		if err != nil {
			return nil, fmt.Errorf("blocklist %s line %d: %w", name, n, err)
		}
		s := &b.v6
		if p.Addr().Is4() {
			s = &b.v4
		}
		s.nets[p] = struct{}{}
		if !slices.Contains(s.lens, p.Bits()) {
			s.lens = append(s.lens, p.Bits())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("blocklist %s: %w", name, err)
	}
	for _, s := range []*prefixSet{&b.v4, &b.v6} {
		slices.Sort(s.lens)
		slices.Reverse(s.lens)
	}
	return b, nil
}

// parseNet reads "192.0.2.0/24", "2001:db8::/32" or a bare address, and
// normalises it: host bits cleared, IPv4-mapped IPv6 written as IPv4.
func parseNet(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an IP address", s)
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an IP address", s)
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped network needs a prefix of at least 96 bits", s)
		}
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// len is the number of distinct networks.
func (b *blocklist) len() int {
	if b == nil {
		return 0
	}
	return len(b.v4.nets) + len(b.v6.nets)
}

func (b *blocklist) contains(a netip.Addr) bool {
	if b == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	s := &b.v6
	if a.Is4() {
		s = &b.v4
	}
	for _, bits := range s.lens {
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		if _, ok := s.nets[p]; ok {
			return true
		}
	}
	return false
}
