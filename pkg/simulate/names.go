package simulate

import (
	"strconv"
)

// The pools map an index to a name deterministically, so a pool of any size
// costs no memory and a given index always renders the same way.

var firstNames = [...]string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
	"trent", "victor", "walter", "xena", "yusuf", "zoe", "amir", "bianca",
	"chen", "dmitri", "eva", "fatima", "gustav", "hana", "igor", "jana",
}

var lastNames = [...]string{
	"smith", "jones", "garcia", "muller", "rossi", "dubois", "tanaka", "kowalski",
	"nielsen", "silva", "novak", "ivanova", "larsen", "costa", "weber", "fischer",
	"moreau", "jansen", "horvat", "popescu", "berg", "khan", "lopez", "meyer",
	"nagy", "oliveira", "petrov", "quinn", "romero", "schulz", "tran", "vogel",
}

var domainWords = [...]string{
	"northwind", "contoso", "fabrikam", "tailspin", "wingtip", "adventure", "litware", "proseware",
	"woodgrove", "lucerne", "margie", "fourthcoffee", "humongous", "wideworld", "alpineski", "blueyonder",
	"coho", "datum", "relecloud", "southridge", "treyresearch", "graphicdesign", "cpandl", "lamna",
	"initech", "globex", "umbrella", "hooli", "vandelay", "acme", "stark", "wayne",
	"cyberdyne", "soylent", "gringotts", "oscorp", "wonka", "tyrell", "paperstreet", "dundermifflin",
}

var remoteLocals = [...]string{
	"info", "news", "billing", "noreply", "support", "sales", "hr", "jobs",
	"johndoe", "jane", "marketing", "orders", "alerts", "team", "hello", "office",
}

var tlds = [...]string{".example", ".test"}

// mtaZones and ispZones name client hosts; they are outside the domain pool
// so hostnames never add to Truth.DistinctDomains.
var mtaZones = [...]string{
	".outbound.protection.test", ".mailout.hosting.test", ".smtp.bulkmail.test",
	".mta.cloudmail.test", ".relay.isp.test", ".out.mailer.test",
}

var ispZones = [...]string{".dyn.isp.test", ".dsl.provider.test", ".cust.fibernet.test", ".mobile.carrier.test"}

// localDomains are the domains the simulated server hosts mail for.
var localDomains = [...]string{"example.com", "example.org", "example.net"}

const (
	serverIP   = "192.0.2.10"
	serverName = "mail.example.com"
	relayIP    = "127.0.0.1"
	relayPort  = 10026
)

// appendUser writes local mailbox user i. Names are unique per index: the
// first 1024 are first.last, later ones add the round number.
func appendUser(b []byte, i int) []byte {
	n := len(firstNames) * len(lastNames)
	f := i % len(firstNames)
	b = append(b, firstNames[f]...)
	b = append(b, '.')
	// Shifting the last name by the first keeps neighbours varied while
	// staying a bijection within each round of n names.
	b = append(b, lastNames[(i/len(firstNames)+7*f)%len(lastNames)]...)
	if r := i / n; r > 0 {
		b = strconv.AppendInt(b, int64(r), 10)
	}
	b = append(b, '@')
	return append(b, localDomains[i%len(localDomains)]...)
}

// appendDomain writes remote domain i, unique per index.
func appendDomain(b []byte, i int) []byte {
	b = append(b, domainWords[i%len(domainWords)]...)
	r := i / len(domainWords)
	if r > 0 {
		b = strconv.AppendInt(b, int64(r), 10)
	}
	return append(b, tlds[r%len(tlds)]...)
}

// appendClientIP writes client address i. The first 254 come from the
// documentation range 198.51.100.0/24; later ones are spread over 10.0.0.0/8
// by a bijective scramble, with every 16th an IPv6 documentation address, so
// a pool of any size up to 16M stays distinct.
func appendClientIP(b []byte, i int) []byte {
	if i < 254 {
		b = append(b, "198.51.100."...)
		return strconv.AppendInt(b, int64(i+1), 10)
	}
	if i%16 == 7 {
		b = append(b, "2001:db8:"...)
		b = strconv.AppendInt(b, int64(i>>16), 16)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(i&0xffff), 16)
		return append(b, "::25"...)
	}
	// Multiplying by an odd constant permutes 24-bit values, so neighbouring
	// indices land in unrelated subnets without ever colliding.
	v := (uint32(i) * 0x9E3779) & 0xFFFFFF
	b = append(b, "10."...)
	b = strconv.AppendInt(b, int64(v>>16), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v>>8&0xff), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(v&0xff), 10)
}

// appendMXIP writes the address of remote domain i's mail exchanger:
// 203.0.113.0/24 for the first domains, then 172.16.0.0/12. It never
// overlaps the client pool, so client-IP counts stay exact.
func appendMXIP(b []byte, i int) []byte {
	if i < 200 {
		b = append(b, "203.0.113."...)
		return strconv.AppendInt(b, int64(i+20), 10)
	}
	v := uint32(i) & 0xFFFFF
	b = append(b, "172."...)
	b = strconv.AppendInt(b, int64(16+v>>16), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v>>8&0xff), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(v&0xff), 10)
}

const hexDigits = "0123456789ABCDEF"

// appendHexFixed writes v as exactly n upper-case hex digits.
func appendHexFixed(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(4*uint(i)))&0xF])
	}
	return b
}

// appendHex writes v in upper-case hex without leading zeros.
func appendHex(b []byte, v uint64) []byte {
	n := 1
	for x := v >> 4; x > 0; x >>= 4 {
		n++
	}
	return appendHexFixed(b, v, n)
}

const b64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// appendDelay writes a duration in milliseconds the way Postfix prints delay=
// and delays=: two significant digits below 10 s, whole seconds above, and
// "0" for anything under 10 ms.
func appendDelay(b []byte, ms int64) []byte {
	switch {
	case ms < 10:
		return append(b, '0')
	case ms < 1000:
		cs := ms / 10
		b = append(b, "0."...)
		b = append(b, byte('0'+cs/10))
		if cs%10 != 0 {
			b = append(b, byte('0'+cs%10))
		}
		return b
	case ms < 10000:
		ds := ms / 100
		b = append(b, byte('0'+ds/10))
		if ds%10 != 0 {
			b = append(b, '.', byte('0'+ds%10))
		}
		return b
	default:
		return strconv.AppendInt(b, ms/1000, 10)
	}
}
