package journal

import (
	"strings"
	"testing"
)

// termReference is the posting term as journals store it: FNV-1a of the
// field byte and the value, addresses lower-cased first. term must give
// the same, or lookups miss what older blocks hold.
func termReference(field byte, v string) int64 {
	if field == termSender || field == termRecipient {
		v = strings.ToLower(v)
	}
	h := uint64(14695981039346656037)
	h = (h ^ uint64(field)) * 1099511628211
	for i := 0; i < len(v); i++ {
		h = (h ^ uint64(v[i])) * 1099511628211
	}
	return int64(h)
}

func TestTermMatchesReference(t *testing.T) {
	values := []string{"", "a", "Bob@Example.NET", "bob@example.net", "ÄRGER@Beispiel.DE", "jörg@example.org",
		"MIXED\u00e9CASE@X", "4Q0ABC123", "192.0.2.7", "<Msg-ID@Host>", "\xff\xfe invalid", "ZZZ"}
	for _, field := range []byte{termQueueID, termSender, termRecipient, termNextQueueID} {
		for _, v := range values {
			if got, want := term(field, []byte(v)), termReference(field, v); got != want {
				t.Errorf("term(%d, %q) = %x, want %x", field, v, got, want)
			}
		}
	}
}
