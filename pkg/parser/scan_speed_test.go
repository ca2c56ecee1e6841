package parser

import (
	"strings"
	"testing"
)

// queueIDPrefixBefore is queueIDPrefix as it was written before its
// table-driven form: the reference that form must agree with.
func queueIDPrefixBefore(s string) (id, rest string, ok bool) {
	n := 0
	upper := true
	for n < len(s) && n < 32 {
		c := s[n]
		if c >= 'a' && c <= 'z' {
			upper = false
			if c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' {
				return "", s, false
			}
		} else if !isDigit(c) && (c < 'A' || c > 'Z') {
			break
		}
		n++
	}
	if n < 5 || n+1 >= len(s) || s[n] != ':' || s[n+1] != ' ' {
		return "", s, false
	}
	if !upper && n < 10 {
		return "", s, false
	}
	if upper && !hasDigit(s[:n]) && strings.Trim(s[:n], "ABCDEF") != "" {
		return "", s, false
	}
	return s[:n], s[n+2:], true
}

// TestQueueIDPrefix compares queueIDPrefix with the reference on every
// string of up to 5 bytes from an alphabet holding each class (digits,
// hex and other upper-case letters, consonants, vowels, the separators)
// followed by ": ", on long ids around the 32-byte limit and on real
// message starts.
func TestQueueIDPrefix(t *testing.T) {
	check := func(s string) {
		t.Helper()
		gi, gr, gok := queueIDPrefix(s)
		wi, wr, wok := queueIDPrefixBefore(s)
		if gi != wi || gr != wr || gok != wok {
			t.Fatalf("queueIDPrefix(%q) = %q, %q, %v; want %q, %q, %v", s, gi, gr, gok, wi, wr, wok)
		}
	}
	alphabet := []byte("09AFGZbzae:- \xff")
	var walk func(b []byte, depth int)
	walk = func(b []byte, depth int) {
		s := string(b)
		for _, tail := range []string{"", ": ", ": x", ":", " "} {
			check(s + tail)
			check("ABCDE" + s + tail)
			check("3Xbcdfghjk" + s + tail)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			walk(append(b, c), depth-1)
		}
	}
	walk(nil, 4)
	for n := 25; n <= 40; n++ {
		for _, c := range []string{"A", "1", "b", "G"} {
			check(strings.Repeat(c, n) + ": x")
			check("4" + strings.Repeat(c, n-1) + ": x")
		}
	}
	for _, s := range []string{"D4E70389B3: to=<a@b>", "4Wq1xT2bVkz3Jd: client=x", "NOQUEUE: reject:", "BABABABABA: x",
		"CONFIGURATION: x", "AXDA0: x", "connect from x", "warning: x", "3Tm9Q5bq7kz6p: x", "abcdefghij: x"} {
		check(s)
	}
}
