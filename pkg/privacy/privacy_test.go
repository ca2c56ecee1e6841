package privacy

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// parse reads a real line (lightmeterio+ControlCenter 1_bounce_simple.log
// and friends) as ingest would.
func parse(t *testing.T, line string) event.Event {
	t.Helper()
	p := &parser.Parser{Location: time.UTC}
	return p.Parse(line, time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC))
}

const clientLine = "Jun  3 10:40:57 mail postfix/submission/smtpd[9708]: 4AA091855DA0: client=some.domain.name[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.com"

func TestHMACKeepsQueriesWorking(t *testing.T) {
	r, err := New(Config{Fields: map[string]Policy{"sasl_username": HMAC, "client_ip": HMAC}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	e := parse(t, clientLine)
	r.Apply(&e)
	if e.SASLUsername != r.Pseudonym("user@sender.com") || !strings.HasPrefix(e.SASLUsername, "hmac:") {
		t.Errorf("sasl_username = %q, want the pseudonym of the user", e.SASLUsername)
	}
	if e.ClientIP != r.Pseudonym("1.2.3.4") {
		t.Errorf("client_ip = %q", e.ClientIP)
	}
	for _, secretValue := range []string{"user@sender.com", "1.2.3.4"} {
		if strings.Contains(e.Raw, secretValue) {
			t.Errorf("raw still holds %q: %s", secretValue, e.Raw)
		}
	}
	if !strings.Contains(e.Raw, e.SASLUsername) || e.ClientHost != "some.domain.name" {
		t.Errorf("raw should carry the pseudonym, other fields stay: %+v", e)
	}
	// Stable across events and redactors with the same key; different
	// with another key.
	r2, _ := New(Config{Fields: map[string]Policy{"sasl_username": HMAC}, Secret: secret})
	other, _ := New(Config{Fields: map[string]Policy{"sasl_username": HMAC}, Secret: []byte("another secret of enough bytes!")})
	if r2.Pseudonym("user@sender.com") != e.SASLUsername || other.Pseudonym("user@sender.com") == e.SASLUsername {
		t.Error("pseudonyms are not stable per key")
	}
}

func TestPolicies(t *testing.T) {
	line := "Jun  3 10:40:57 mail postfix/qmgr[1005]: 4AA091855DA0: from=<user@sender.com>, size=391, nrcpt=1 (queue active)"
	for _, tt := range []struct {
		policy     Policy
		wantSender string
		wantInRaw  string
	}{
		{Keep, "user@sender.com", "from=<user@sender.com>"},
		{DropLocal, "@sender.com", "from=<@sender.com>"},
		{Drop, "", "from=<[redacted]>"},
	} {
		r, err := New(Config{Fields: map[string]Policy{"sender": tt.policy}})
		if err != nil {
			t.Fatal(err)
		}
		e := parse(t, line)
		r.Apply(&e)
		if e.Sender != tt.wantSender || !strings.Contains(e.Raw, tt.wantInRaw) {
			t.Errorf("%v: sender %q raw %q", tt.policy, e.Sender, e.Raw)
		}
		if e.Size != 391 || e.QueueID != "4AA091855DA0" {
			t.Errorf("%v: other fields changed: %+v", tt.policy, e)
		}
	}
}

// A value in two fields under two policies: the raw line follows the
// stricter.
func TestRawFollowsStrictestPolicy(t *testing.T) {
	r, err := New(Config{Fields: map[string]Policy{"sender": DropLocal, "sasl_username": HMAC}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{Kind: event.KindClient, Sender: "user@sender.com", SASLUsername: "user@sender.com",
		Raw: "from=<user@sender.com> sasl_username=user@sender.com"}
	r.Apply(&e)
	want := "from=<" + r.Pseudonym("user@sender.com") + "> sasl_username=" + r.Pseudonym("user@sender.com")
	if e.Raw != want || e.Sender != "@sender.com" {
		t.Errorf("raw %q sender %q, want raw %q", e.Raw, e.Sender, want)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{Fields: map[string]Policy{"passwd": Drop}}); err == nil || !strings.Contains(err.Error(), `no field "passwd"`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := New(Config{Fields: map[string]Policy{"sender": HMAC}, Secret: []byte("short")}); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short secret: %v", err)
	}
	if _, err := ParsePolicy("encrypt"); err == nil {
		t.Error("unknown policy accepted")
	}
	for _, name := range []string{"keep", "drop_local", "hmac", "drop"} {
		p, err := ParsePolicy(name)
		if err != nil || p.String() != name {
			t.Errorf("%s: %v %v", name, p, err)
		}
	}
	if r, _ := New(Config{}); r.Active() {
		t.Error("an empty config changes events")
	}
}

func BenchmarkApply(b *testing.B) {
	r, _ := New(Config{Fields: map[string]Policy{"sasl_username": HMAC, "client_ip": HMAC, "sender": DropLocal}, Secret: secret})
	p := &parser.Parser{Location: time.UTC}
	ref := time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e := p.Parse(clientLine, ref)
		r.Apply(&e)
	}
}

// An SMTP reply repeats the address it rejects: it follows the policy too.
func TestReplyTextFollowsPolicy(t *testing.T) {
	// whyscream+postfix-grok-patterns smtpd_0004 with a syslog header.
	line := "Jun  3 10:40:57 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from 061238241086.static.ctinets.com[61.238.241.86]: 550 5.1.1 <toernooicommissie@example.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<wumt5@cchfdc.com> to=<toernooicommissie@example.com> proto=ESMTP helo=<ecsolved.com>"
	r, err := New(Config{Fields: map[string]Policy{"recipient": HMAC, "sender": HMAC, "client_ip": Drop}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	e := parse(t, line)
	if e.Kind != event.KindReject || !strings.Contains(e.Response, "toernooicommissie@example.com") {
		t.Fatalf("fixture: %+v", e)
	}
	r.Apply(&e)
	for _, text := range []string{e.Raw, e.Response, e.Recipient, e.Sender, e.ClientIP} {
		for _, v := range []string{"toernooicommissie@example.com", "wumt5@cchfdc.com", "61.238.241.86"} {
			if strings.Contains(text, v) {
				t.Errorf("%q still in %q", v, text)
			}
		}
	}
	if !strings.Contains(e.Response, r.Pseudonym("toernooicommissie@example.com")) || !strings.Contains(e.Raw, "[[redacted]]") {
		t.Errorf("response %q raw %q", e.Response, e.Raw)
	}
}

// TestHMACLocal: the local part becomes a pseudonym of the whole address,
// the domain stays, in the field and in the raw line; a value without a
// domain is pseudonymised whole; queries and erasure find it.
func TestHMACLocal(t *testing.T) {
	r, err := New(Config{Fields: map[string]Policy{"sasl_username": HMACLocal, "sender": HMACLocal}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	e := parse(t, clientLine)
	r.Apply(&e)
	want := r.Pseudonym("user@sender.com") + "@sender.com"
	if e.SASLUsername != want || r.Query("sasl_username", "user@sender.com") != want {
		t.Errorf("sasl_username = %q, query %q, want %q", e.SASLUsername, r.Query("sasl_username", "user@sender.com"), want)
	}
	if strings.Contains(e.Raw, "user@") || !strings.Contains(e.Raw, "sasl_username="+want) {
		t.Errorf("raw: %s", e.Raw)
	}
	if Domain(e.SASLUsername) != "sender.com" {
		t.Errorf("the domain is lost: %q", e.SASLUsername)
	}
	if r.LocalPseudonym("user@other.example") == r.LocalPseudonym("user@sender.com")[:len("hmac:")+32]+"@other.example" {
		t.Error("the same local part in two domains has the same pseudonym")
	}
	bare := event.Event{SASLUsername: "bob", Raw: "user=<bob>"}
	r.Apply(&bare)
	if bare.SASLUsername != r.Pseudonym("bob") || bare.Raw != "user=<"+r.Pseudonym("bob")+">" {
		t.Errorf("a bare user: %+v", bare)
	}
	if got := r.Subjects("user@sender.com"); len(got) != 2 || got[1] != want {
		t.Errorf("Subjects = %q", got)
	}
	// Applying again (the correlator rebuilt from the journal) keeps it.
	again := e
	r.Apply(&again)
	if again.SASLUsername != want {
		t.Errorf("applied twice: %q", again.SASLUsername)
	}
	if _, err := New(Config{Fields: map[string]Policy{"sender": HMACLocal}}); err == nil {
		t.Error("hmac_local without a secret accepted")
	}
	if p, err := ParsePolicy("hmac_local"); err != nil || p != HMACLocal || p.String() != "hmac_local" {
		t.Errorf("ParsePolicy(hmac_local) = %v, %v", p, err)
	}
}

// TestMasker: the viewer masking pseudonymises every local part in text,
// keeps the domains, and a bare user name wholly.
func TestMasker(t *testing.T) {
	m := NewMasker([]byte("0123456789abcdef"))
	got := m.Text("to=<alice@example.com>, orig_to=<bob@mail.example.org>")
	if strings.Contains(got, "alice") || strings.Contains(got, "bob@") || !strings.Contains(got, "@example.com>") || !strings.Contains(got, "@mail.example.org>") {
		t.Errorf("Text: %q", got)
	}
	if m.User("al") != m.pseudonym("al") || m.User("AL@x.example") != m.pseudonym("al")+"@x.example" {
		t.Errorf("User: %q %q", m.User("al"), m.User("AL@x.example"))
	}
	// A journal written under hmac_local: the viewer sees the masked
	// pseudonym as one local part, not "hmac:" before a masked rest.
	r, _ := New(Config{Fields: map[string]Policy{"sender": HMACLocal}, Secret: secret})
	stored := r.LocalPseudonym("alice@example.com")
	if got := m.Text("from=<" + stored + ">"); got != "from=<"+m.pseudonym(stored[:len(stored)-len("@example.com")])+"@example.com>" {
		t.Errorf("Text over an hmac_local pseudonym: %q", got)
	}
}
