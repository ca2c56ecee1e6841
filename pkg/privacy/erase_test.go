package privacy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

func TestErase(t *testing.T) {
	var p parser.Parser
	line := `Jun  3 10:40:57 mail postfix/smtp[9708]: 4AA091855DA0: to=<Alice@Example.org>, orig_to=<alice@example.org>, relay=mx.example.org[192.0.2.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.7] said: 550 5.1.1 <alice@example.org>: Recipient address rejected (in reply to RCPT TO command))`
	e := p.Parse(line, time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC))
	if e.Recipient == "" || e.OrigRecipient == "" {
		t.Fatalf("test line did not parse as a delivery: %+v", e)
	}
	if !Mentions(&e, "ALICE@example.ORG") {
		t.Fatal("Mentions: the subject is in the event but was not found")
	}
	if !Erase(&e, "alice@example.org", "[erased:1]") {
		t.Fatal("Erase reported no change")
	}
	b, _ := json.Marshal(&e)
	if strings.Contains(strings.ToLower(string(b)), "alice") {
		t.Fatalf("subject left after erasure: %s", b)
	}
	if got := strings.Count(string(b), "[erased:1]"); got < 4 {
		t.Errorf("want the stand-in in recipient, orig_recipient, response and raw (4+), got %d: %s", got, b)
	}
	if e.RelayHost != "mx.example.org" || e.DSN != "5.1.1" || e.Status != "bounced" {
		t.Errorf("fields not naming the subject changed: %+v", e)
	}
	if Erase(&e, "alice@example.org", "x") || Mentions(&e, "alice@example.org") {
		t.Error("a second erasure found the subject again")
	}
	if Erase(&e, "", "x") {
		t.Error("an empty subject erased something")
	}
}

func TestReplaceFold(t *testing.T) {
	for _, c := range []struct{ s, old, want string }{
		{"a Bob b bob", "BOB", "a X b X"},
		{"no match", "bob", "no match"},
		{"bo", "bob", "bo"},
		// Only whole addresses and names.
		{"malice@example.org alice@example.org", "alice@example.org", "malice@example.org X"},
		{"alice@example.org.evil.net, <alice@example.org>.", "alice@example.org", "alice@example.org.evil.net, <X>."},
		{"user=bob, bobby, bob@example.org", "bob", "user=X, bobby, bob@example.org"},
	} {
		if got, _ := replaceFold(c.s, c.old, "X"); got != c.want {
			t.Errorf("replaceFold(%q, %q) = %q, want %q", c.s, c.old, got, c.want)
		}
	}
}
