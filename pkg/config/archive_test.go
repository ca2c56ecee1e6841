package config

import (
	"strings"
	"testing"
)

// TestArchiveConfig: the archive bucket's settings decode, archives are
// staged beside the journal by default, and each bad setting is told
// under its own key.
func TestArchiveConfig(t *testing.T) {
	c, err := Parse([]byte(`journal:
  path: /var/lib/mailtrail/journal.db
  archive_url: s3://mail-archive/mx1
  archive_s3:
    endpoint: http://127.0.0.1:9000
    region: eu-central-1
    path_style: true
    credentials_file: /etc/mailtrail/s3.credentials
    lock_mode: compliance
    lock_days: 400
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Journal.ColdStore()
	if s.URL != "s3://mail-archive/mx1" || s.Endpoint != "http://127.0.0.1:9000" || s.Region != "eu-central-1" || !s.PathStyle ||
		s.CredentialsFile != "/etc/mailtrail/s3.credentials" || s.LockMode != "compliance" || s.LockDays != 400 {
		t.Errorf("decoded %+v", s)
	}
	if d := c.Journal.ArchiveDirectory(); d != "/var/lib/mailtrail/journal.db.archive" {
		t.Errorf("staging %q", d)
	}
	if r, err := c.Journal.RetentionPolicy(); err != nil || r.ArchiveDir != "/var/lib/mailtrail/journal.db.archive" {
		t.Errorf("retention %+v, %v", r, err)
	}
	c.Journal.ArchiveDir = "/srv/archive"
	if d := c.Journal.ArchiveDirectory(); d != "/srv/archive" {
		t.Errorf("staging %q, want the archive directory given", d)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"journal:\n  archive_url: https://bucket/x\n", `journal.archive_url: archive URL "https://bucket/x": want s3://bucket/prefix`},
		{"journal:\n  archive_url: s3://b\n  archive_s3:\n    lock_mode: worm\n", `journal.archive_s3.lock_mode: object lock mode "worm" (want governance or compliance)`},
		{"journal:\n  archive_url: s3://b\n  archive_s3:\n    lock_mode: governance\n", `journal.archive_s3.lock_days: object lock retain days 0 (want more than 0 with a lock mode)`},
		{"journal:\n  archive_url: s3://b\n  archive_s3:\n    endpoint: ftp://h\n", `journal.archive_s3.endpoint: archive endpoint "ftp://h": want host:port`},
	} {
		if _, err := Parse([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
