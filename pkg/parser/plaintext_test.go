package parser

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPlainText compares the word-at-a-time check with the two searches it
// stands for: a NUL byte, an invalid sequence or a valid non-ASCII one at
// every position of lines of every length around the 16-byte step, alone
// and followed by a second one (the first may be valid, the second not).
func TestPlainText(t *testing.T) {
	want := func(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) }
	specials := []string{"\x00", "\x7f", "\x80", "\xff", "é", "\xc3", "€", "\xe2\x82", "😀", "\xf0\x9f\x98", "\x01", "\xed\xa0\x80"}
	n := 0
	for size := 0; size <= 40; size++ {
		base := strings.Repeat("a", size)
		for at := 0; at <= size; at++ {
			for _, sp := range specials {
				s := base[:at] + sp + base[at:]
				for _, s := range []string{base, s} {
					if got := plainText(s); got != want(s) {
						t.Fatalf("plainText(%q) = %v, want %v", s, got, want(s))
					}
				}
				for _, sp2 := range specials {
					s2 := s + base[:size-at] + sp2
					if got := plainText(s2); got != want(s2) {
						t.Fatalf("plainText(%q) = %v, want %v", s2, got, want(s2))
					}
					n++
				}
			}
		}
	}
	if n < 100000 {
		t.Fatalf("only %d strings compared", n)
	}
}
