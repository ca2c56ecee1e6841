package config

import (
	"errors"

	"github.com/mailtrail/mailtrail/pkg/coldstore"
)

// ArchiveS3 says how to reach the bucket of Journal.ArchiveURL.
type ArchiveS3 struct {
	// Endpoint is host[:port] (HTTPS) or an http:// or https:// URL;
	// empty: AWS.
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	// PathStyle puts the bucket in the path, not the host name (MinIO,
	// Ceph and most self-hosted servers).
	PathStyle bool `yaml:"path_style"`
	// CredentialsFile is an AWS shared credentials file; empty takes
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.
	CredentialsFile string `yaml:"credentials_file"`
	// LockMode (governance or compliance) and LockDays: the Object Lock
	// retention each archive object is written with.
	LockMode string `yaml:"lock_mode"`
	LockDays int    `yaml:"lock_days"`
}

// ArchiveDirectory is where retention writes archives: ArchiveDir, or,
// with an ArchiveURL and no ArchiveDir, the journal's path + ".archive",
// where they wait until uploaded.
func (c Journal) ArchiveDirectory() string {
	if c.ArchiveDir == "" && c.ArchiveURL != "" {
		return c.Path + ".archive"
	}
	return c.ArchiveDir
}

// ColdStore is the archive bucket's client settings.
func (c Journal) ColdStore() coldstore.Config {
	s := c.ArchiveS3
	return coldstore.Config{URL: c.ArchiveURL, Endpoint: s.Endpoint, Region: s.Region, PathStyle: s.PathStyle,
		CredentialsFile: s.CredentialsFile, LockMode: s.LockMode, LockDays: s.LockDays}
}

// archiveProblems checks the archive bucket's settings, each problem under
// its own key.
func (c Journal) archiveProblems() Problems {
	err := c.ColdStore().Check()
	if err == nil {
		return nil
	}
	key := "journal.archive_url"
	var se *coldstore.SettingError
	if errors.As(err, &se) && se.Setting != "url" {
		key = "journal.archive_s3." + se.Setting
	}
	return Problems{{Key: key, Msg: err.Error()}}
}
