package correlate

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// TestClientTakesSessionTLS: a SASL submission's client= line says nothing
// of TLS; after STARTTLS in the same smtpd session it carries the
// session's protocol, cipher and trust, and without TLS it carries none.
func TestClientTakesSessionTLS(t *testing.T) {
	p := &parser.Parser{Location: time.UTC}
	c := New(Config{})
	for _, c2 := range []struct {
		lines []string
		want  string
	}{
		{[]string{
			"2024-06-01T10:00:00+00:00 mail postfix/submission/smtpd[1001]: connect from client.example.net[198.51.100.7]",
			"2024-06-01T10:00:00+00:00 mail postfix/submission/smtpd[1001]: Anonymous TLS connection established from client.example.net[198.51.100.7]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
			"2024-06-01T10:00:01+00:00 mail postfix/submission/smtpd[1001]: AAA1111111: client=client.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.com",
		}, "TLSv1.3"},
		{[]string{
			"2024-06-01T10:01:00+00:00 mail postfix/submission/smtpd[1002]: connect from other.example.net[198.51.100.8]",
			"2024-06-01T10:01:01+00:00 mail postfix/submission/smtpd[1002]: BBB2222222: client=other.example.net[198.51.100.8], sasl_method=PLAIN, sasl_username=bob@example.com",
		}, ""},
	} {
		var e event.Event
		for _, l := range c2.lines {
			e = p.Parse(l, time.Now())
			c.Observe(&e)
		}
		if e.Kind != event.KindClient || e.TLSProtocol != c2.want {
			t.Errorf("%s: kind %s, tls_protocol %q, want %q", e.QueueID, e.Kind, e.TLSProtocol, c2.want)
		}
		if c2.want != "" && (e.TLSCipher != "TLS_AES_256_GCM_SHA384" || e.TLSTrust != "Anonymous") {
			t.Errorf("%s: cipher %q trust %q", e.QueueID, e.TLSCipher, e.TLSTrust)
		}
	}
}
