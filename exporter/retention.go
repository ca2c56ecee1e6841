package main

import (
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// retentionFlags are serve's retention settings; they override the
// config file's journal.retention, retention_kinds and archive_dir.
type retentionFlags struct {
	retention  string
	kinds      []string
	archiveDir string
}

func addRetentionFlags(cmd *kingpin.CmdClause, sf *settingFlags) *retentionFlags {
	f := &retentionFlags{}
	sf.merge = append(sf.merge, f.apply)
	cmd.Flag("journal.retention", "Remove events older than this (e.g. 90d, 2160h); empty or 0 keeps them forever.").StringVar(&f.retention)
	cmd.Flag("journal.retention-kind", "Retention of one kind, KIND=DURATION (e.g. auth_failure=365d), repeatable.").StringsVar(&f.kinds)
	cmd.Flag("journal.archive-dir", "Write expired blocks here (compressed, checksummed, with their checkpoints) before removing them; exporter restore brings them back.").StringVar(&f.archiveDir)
	return f
}

// apply puts the flags given into c.
func (f *retentionFlags) apply(c *config.Config) {
	if f.retention != "" {
		c.Journal.Retention = f.retention
	}
	if len(f.kinds) > 0 {
		if c.Journal.RetentionKinds == nil {
			c.Journal.RetentionKinds = map[string]string{}
		}
		for _, kv := range f.kinds {
			k, v, _ := strings.Cut(kv, "=")
			c.Journal.RetentionKinds[k] = v
		}
	}
	if f.archiveDir != "" {
		c.Journal.ArchiveDir = f.archiveDir
	}
}
