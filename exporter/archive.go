package main

import (
	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// addArchiveFlags declares the cold archive's settings (journal.archive_url
// and journal.archive_s3); serve, doctor and forget share them.
func addArchiveFlags(cmd *kingpin.CmdClause, s *settingFlags) {
	bind(s, cmd, "journal.archive-url", "journal.archive_url", "Keep the archives retention writes on S3-compatible storage, s3://BUCKET/PREFIX: they are staged in --journal.archive-dir (default: the journal's path + .archive) and each is removed there once its object is stored and checked; what could not be uploaded is retried at the next retention run. See docs/archive.md.", "", flagString,
		func(c *config.Config, v string) { c.Journal.ArchiveURL = v })
	addArchiveS3Flags(cmd, s)
}

// addArchiveS3Flags declares how to reach the bucket (journal.archive_s3):
// restore takes them without an archive URL, which its --archive gives.
func addArchiveS3Flags(cmd *kingpin.CmdClause, s *settingFlags) {
	bind(s, cmd, "journal.archive-endpoint", "journal.archive_s3.endpoint", "S3 endpoint: host[:port] (HTTPS), http://host:port or https://host:port (default: AWS).", "", flagString,
		func(c *config.Config, v string) { c.Journal.ArchiveS3.Endpoint = v })
	bind(s, cmd, "journal.archive-region", "journal.archive_s3.region", "The bucket's region (default: us-east-1).", "", flagString,
		func(c *config.Config, v string) { c.Journal.ArchiveS3.Region = v })
	bind(s, cmd, "journal.archive-path-style", "journal.archive_s3.path_style", "Address the bucket in the path (endpoint/bucket/key), as MinIO and most self-hosted servers want.", "", flagBool,
		func(c *config.Config, v bool) { c.Journal.ArchiveS3.PathStyle = v })
	bind(s, cmd, "journal.archive-credentials-file", "journal.archive_s3.credentials_file", "AWS shared credentials file (profile AWS_PROFILE or default); without it AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are read from the environment.", "", flagString,
		func(c *config.Config, v string) { c.Journal.ArchiveS3.CredentialsFile = v })
	bind(s, cmd, "journal.archive-lock-mode", "journal.archive_s3.lock_mode", "Object Lock mode of each archive object: governance or compliance (the bucket must have Object Lock enabled); erasure and WORM conflict, see docs/archive.md.", "", flagString,
		func(c *config.Config, v string) { c.Journal.ArchiveS3.LockMode = v })
	bind(s, cmd, "journal.archive-lock-days", "journal.archive_s3.lock_days", "Days each archive object is locked (with --journal.archive-lock-mode).", "", flagInt,
		func(c *config.Config, v int) { c.Journal.ArchiveS3.LockDays = v })
}
