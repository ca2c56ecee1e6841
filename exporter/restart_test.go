package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// A message submitted before a restart and delivered after it: the
// delivery, journaled by the restarted exporter, still carries the SASL
// user, client and origin of the session that sent it, because the
// correlator is rebuilt from the journal. Lines from the lightmeter corpus
// (1_bounce_simple.log), shortened to one recipient.
func TestRestartKeepsCorrelation(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	before := `Jun  3 10:40:57 mail postfix/submission/smtpd[9708]: connect from some.domain.name[1.2.3.4]
Jun  3 10:40:57 mail postfix/submission/smtpd[9708]: 4AA091855DA0: client=some.domain.name[1.2.3.4], sasl_method=PLAIN, sasl_username=user@sender.com
Jun  3 10:40:57 mail postfix/sender-cleanup/cleanup[9709]: 4AA091855DA0: message-id=<ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com>
Jun  3 10:40:57 mail postfix/qmgr[1005]: 4AA091855DA0: from=<user@sender.com>, size=391, nrcpt=1 (queue active)
Jun  3 10:40:57 mail postfix/submission/smtpd[9708]: disconnect from some.domain.name[1.2.3.4] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8
`
	after := `Jun  3 10:40:58 mail postfix/smtp[9710]: 4AA091855DA0: to=<invalid.email@example.com>, relay=mx.example.com[11.22.33.44]:25, delay=0.92, delays=0.02/0.02/0.45/0.43, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1BE4E1A1E)
Jun  3 10:40:58 mail postfix/qmgr[1005]: 4AA091855DA0: removed
`
	if err := os.WriteFile(logPath, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--log.path=" + logPath, "--journal.path=" + db, "--web.listen-address=127.0.0.1:0",
		"--instance=mx1", "--log.timezone=UTC", "--journal.flush-interval=20ms", "--postfix.postqueue="}
	p := startExporter(t, nil, args...)
	waitJournaled(t, p, db, 5, 60*time.Second)
	p.term()

	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(after); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p = startExporter(t, nil, args...)
	waitJournaled(t, p, db, 7, 60*time.Second)
	p.term()

	ctx := context.Background()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.Events(ctx, journal.Filter{QueueID: "4AA091855DA0"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range evs {
		e := s.Event
		if e.Kind.String() != "delivery" {
			continue
		}
		found = true
		if e.SASLUsername != "user@sender.com" || e.ClientIP != "1.2.3.4" || e.Sender != "user@sender.com" ||
			e.Origin != "submission" || e.MessageID != "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com" {
			t.Errorf("delivery after the restart not enriched: %+v", e)
		}
		if e.RelayIP != "11.22.33.44" || e.Recipient != "invalid.email@example.com" {
			t.Errorf("delivery's own fields changed: %+v", e)
		}
	}
	if !found || len(evs) != 5 {
		t.Fatalf("%d events of the queue id, delivery found: %v", len(evs), found)
	}
}
