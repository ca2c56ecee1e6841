package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/coldstore"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

func restoreCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("restore", "Bring events removed by retention back from archive files (--journal.archive-dir) or archive objects (--journal.archive-url); each must match the tombstone the journal kept. Stop the exporter first.")
	var path string
	var archives []string
	sf := &settingFlags{}
	cmd.Flag("config.file", "Optional YAML configuration file (for journal.archive_s3); flags override it.").StringVar(&sf.configFile)
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("archive", "Archive file (.mtar), archive object (s3://BUCKET/PREFIX/events-....mtar) or every archive object under a prefix (s3://BUCKET/PREFIX), repeatable; blocks removed whole come back newest first, so give all from the oldest wanted on.").Required().StringsVar(&archives)
	addArchiveS3Flags(cmd, sf)
	return cmd.FullCommand(), func() error {
		ctx := context.Background()
		c, err := sf.settings()
		if err != nil {
			return fail(2, "%v", err)
		}
		var files []string
		var objects []string
		for _, a := range archives {
			if strings.HasPrefix(a, "s3://") {
				objects = append(objects, a)
				continue
			}
			if _, err := os.Stat(a); err != nil {
				return fail(2, "--archive=%s: %v", a, err)
			}
			files = append(files, a)
		}
		var as []journal.ArchiveData
		for _, o := range objects {
			prefix, name := coldstore.Split(o)
			cfg := c.Journal.ColdStore()
			cfg.URL = prefix
			store, err := coldstore.New(cfg)
			if err != nil {
				return fail(2, "--archive=%s: %v", o, err)
			}
			var names []string
			if name != "" {
				names = []string{name}
			}
			got, err := journal.ReadColdArchives(ctx, store, names)
			if err != nil {
				return fail(1, "%v", err)
			}
			as = append(as, got...)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return fail(1, "%v", err)
			}
			as = append(as, journal.ArchiveData{Name: f, Data: b})
		}
		j, err := journal.Open(ctx, path, journal.Options{})
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		res, err := j.RestoreArchives(ctx, as)
		if err != nil {
			return fail(1, "%v", err)
		}
		fmt.Fprintf(stdout, "restored %d events into %d blocks of %s\n", res.Restored, res.Blocks, path)
		if res.Erased > 0 {
			fmt.Fprintf(stdout, "%d of them named a subject forgotten since the archive was written: they came back erased\n", res.Erased)
		}
		return nil
	}
}
