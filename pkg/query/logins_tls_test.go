package query

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// TestLoginsSASLOverSTARTTLS: the login audit shows a SASL submission
// made after STARTTLS with tls true, taken from the session (the
// correlator enriches the client= line as ingest does), and one without
// TLS with tls false.
func TestLoginsSASLOverSTARTTLS(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	p := &parser.Parser{Location: time.UTC}
	c := correlate.New(correlate.Config{})
	var recs []journal.Record
	for _, l := range []string{
		"2024-06-01T10:00:00+00:00 mail postfix/submission/smtpd[1001]: connect from client.example.net[198.51.100.7]",
		"2024-06-01T10:00:00+00:00 mail postfix/submission/smtpd[1001]: Anonymous TLS connection established from client.example.net[198.51.100.7]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		"2024-06-01T10:00:01+00:00 mail postfix/submission/smtpd[1001]: AAA1111111: client=client.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.com",
		"2024-06-01T10:01:00+00:00 mail postfix/submission/smtpd[1002]: connect from other.example.net[198.51.100.8]",
		"2024-06-01T10:01:01+00:00 mail postfix/submission/smtpd[1002]: BBB2222222: client=other.example.net[198.51.100.8], sasl_method=PLAIN, sasl_username=bob@example.com",
	} {
		e := p.Parse(l, time.Now())
		c.Observe(&e)
		recs = append(recs, journal.Record{Event: e, Source: "test"})
	}
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := Logins(ctx, j, LoginRequest{Since: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	tls := map[string]bool{}
	for _, r := range rows {
		tls[r.User] = r.TLS
	}
	if len(rows) != 2 || !tls["alice@example.com"] || tls["bob@example.com"] {
		t.Errorf("login rows %+v: want alice over TLS, bob without", rows)
	}
}
