package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestIngestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Date(2024, 6, 1, 12, 0, 10, 0, time.UTC)
	m := NewIngest(reg, func() time.Time { return now }, func() int64 { return 12345 }, nil)

	m.Parsed("/var/log/mail.log", &event.Event{Kind: event.KindConnect, Service: "postfix", Time: now.Add(-4 * time.Second)})
	m.Parsed("/var/log/mail.log", &event.Event{Kind: event.KindUnknown, Service: "postfix-out"})
	m.Parsed("/var/log/mail.log", &event.Event{Kind: event.KindUnknown, Service: "kernel"})
	m.Parsed("syslog", &event.Event{Kind: event.KindUnknown})
	// An older event does not move the lag's reference back.
	m.Parsed("syslog", &event.Event{Kind: event.KindLogin, Service: "dovecot", Time: now.Add(-time.Hour)})
	m.Rotated("/var/log/mail.log")
	m.Truncated("/var/log/mail.log")
	m.LineCut("/var/log/mail.log")
	m.Lost("/var/log/mail.log", "gone")
	m.Committed(5, 3*time.Millisecond)
	m.CommitFailed(errors.New("disk full"))

	want := `
# HELP mailtrail_ingest_lag_seconds Now minus the time of the newest event journaled (0 before the first).
# TYPE mailtrail_ingest_lag_seconds gauge
mailtrail_ingest_lag_seconds 4
# HELP mailtrail_journal_errors_total Failed journal commits (each is retried; nothing is dropped).
# TYPE mailtrail_journal_errors_total counter
mailtrail_journal_errors_total 1
# HELP mailtrail_journal_events_total Events committed to the journal.
# TYPE mailtrail_journal_events_total counter
mailtrail_journal_events_total 5
# HELP mailtrail_journal_size_bytes Size of the journal database and its write-ahead log.
# TYPE mailtrail_journal_size_bytes gauge
mailtrail_journal_size_bytes 12345
# HELP mailtrail_log_lines_cut_total Log lines longer than --log.max-line-bytes, journaled cut.
# TYPE mailtrail_log_lines_cut_total counter
mailtrail_log_lines_cut_total 1
# HELP mailtrail_log_lines_total Log lines read, by source.
# TYPE mailtrail_log_lines_total counter
mailtrail_log_lines_total{source="/var/log/mail.log"} 3
mailtrail_log_lines_total{source="syslog"} 2
# HELP mailtrail_log_lines_unparsed_total Log lines journaled as kind unknown, by service family.
# TYPE mailtrail_log_lines_unparsed_total counter
mailtrail_log_lines_unparsed_total{service="none"} 1
mailtrail_log_lines_unparsed_total{service="other"} 1
mailtrail_log_lines_unparsed_total{service="postfix"} 1
# HELP mailtrail_log_lost_files_total Saved positions whose file could not be found again (its unread lines are lost).
# TYPE mailtrail_log_lost_files_total counter
mailtrail_log_lost_files_total 1
# HELP mailtrail_log_rotations_total Log file rotations followed.
# TYPE mailtrail_log_rotations_total counter
mailtrail_log_rotations_total 1
# HELP mailtrail_log_truncations_total Log files found truncated under the reader (copytruncate); the rest is read from the copy, then the file from 0.
# TYPE mailtrail_log_truncations_total counter
mailtrail_log_truncations_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"mailtrail_ingest_lag_seconds", "mailtrail_journal_errors_total", "mailtrail_journal_events_total",
		"mailtrail_journal_size_bytes", "mailtrail_log_lines_cut_total", "mailtrail_log_lines_total",
		"mailtrail_log_lines_unparsed_total", "mailtrail_log_lost_files_total", "mailtrail_log_rotations_total",
		"mailtrail_log_truncations_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.batchSeconds); n != 1 {
		t.Errorf("batch histogram: %d series", n)
	}
}

// TestServiceFamilyIsClosed: whatever a foreign program calls itself, the
// label takes one of a few values.
func TestServiceFamilyIsClosed(t *testing.T) {
	allowed := map[string]bool{"none": true, "postfix": true, "dovecot": true, "opendkim": true, "opendmarc": true,
		"saslauthd": true, "amavis": true, "policyd-spf": true, "other": true}
	for _, s := range []string{"", "postfix", "postfix/submission", "postfix-out", "dovecot", "imap-login", "amavisd-new",
		"policy-spf", "kernel", "CRON", "h-353d61658b320", "x\x00y", strings.Repeat("z", 1000)} {
		if f := ServiceFamily(s); !allowed[f] {
			t.Errorf("ServiceFamily(%q) = %q, not in the closed set", s, f)
		}
	}
	if ServiceFamily("postfix/submission") != "postfix" || ServiceFamily("imap-login") != "dovecot" || ServiceFamily("kernel") != "other" {
		t.Error("families mapped wrongly")
	}
}

func TestIngestLagNeverNegative(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	m := NewIngest(reg, func() time.Time { return now }, nil, nil)
	m.Parsed("s", &event.Event{Kind: event.KindConnect, Time: now.Add(time.Minute)})
	want := "# HELP mailtrail_ingest_lag_seconds Now minus the time of the newest event journaled (0 before the first).\n# TYPE mailtrail_ingest_lag_seconds gauge\nmailtrail_ingest_lag_seconds 0\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mailtrail_ingest_lag_seconds"); err != nil {
		t.Error(err)
	}
}
