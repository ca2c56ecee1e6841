package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// TestPrivacyHMAC: with SASL users, senders, recipients and client
// addresses pseudonymised, none of them is anywhere in the journal's files
// (what `strings` over the database would show), and `events
// --sasl-username=X` still finds X's events.
func TestPrivacyHMAC(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	secret := filepath.Join(dir, "secret")
	conf := filepath.Join(dir, "mailtrail.yml")
	cliMust(t, "", "simulate", "--lines", "3000", "--seed", "9", "--output", logPath)
	if err := os.WriteFile(secret, []byte("a secret of at least sixteen bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(`privacy:
  secret_file: `+secret+`
  fields:
    sasl_username: hmac
    sender: hmac
    recipient: hmac
    orig_recipient: hmac
    client_ip: hmac
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, "", "replay", "--config.file="+conf, "--journal.path="+db, "--instance=mx1", "--progress=never", logPath); r.code != 0 {
		t.Fatalf("replay: %s", r)
	}

	// Every personal value the log holds, as the parser reads it.
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &parser.Parser{Location: time.UTC}
	secrets := map[string]bool{}
	relays := map[string]bool{}
	users := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		e := p.Parse(l, time.Now())
		relays[e.RelayIP] = true
		for _, v := range []string{e.SASLUsername, e.Sender, e.Recipient, e.OrigRecipient, e.ClientIP} {
			// Short values (a bare "root", "::1") occur inside other text by
			// chance; addresses and IPs of some length do not.
			if len(v) >= 8 {
				secrets[v] = true
			}
		}
		if e.SASLUsername != "" {
			users[e.SASLUsername]++
		}
	}
	if len(secrets) < 100 || len(users) == 0 {
		t.Fatalf("fixture: %d personal values, %d users", len(secrets), len(users))
	}
	// An address that is also a relay (the loopback hop to the second
	// instance) is a server's, kept in relay_ip by design.
	for v := range relays {
		delete(secrets, v)
	}
	var files []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(db + suffix); err == nil {
			files = append(files, b...)
		}
	}
	found := 0
	for v := range secrets {
		if bytes.Contains(files, []byte(v)) {
			if found < 5 {
				t.Errorf("%q is in the journal's files", v)
			}
			found++
		}
	}
	if found > 0 {
		t.Errorf("%d of %d personal values found in the journal", found, len(secrets))
	}

	// The busiest user's events are found by the user's real name.
	var user string
	for u, n := range users {
		if n > users[user] || (n == users[user] && u < user) {
			user = u
		}
	}
	got := cliMust(t, "", "events", "--config.file="+conf, "--journal.path="+db, "--sasl-username="+user, "--limit=0")
	if n := strings.Count(got, "\n"); n < users[user] {
		t.Errorf("events --sasl-username=%s found %d events, the log has %d lines of that user", user, n, users[user])
	}
	if strings.Contains(got, user) {
		t.Errorf("the events of %s show the name itself", user)
	}
	// Without the configuration the name finds nothing: it is not stored.
	if got := cliMust(t, "", "events", "--journal.path="+db, "--sasl-username="+user); got != "" {
		t.Errorf("the raw user name found events in a pseudonymised journal")
	}
}
