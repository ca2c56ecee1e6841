package main

import (
	"context"
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

func restoreCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("restore", "Bring events removed by retention back from archive files (--journal.archive-dir); each must match the tombstone the journal kept. Stop the exporter first.")
	var path string
	var files []string
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("archive", "Archive file (.mtar), repeatable; blocks removed whole come back newest first, so give all from the oldest wanted on.").Required().ExistingFilesVar(&files)
	return cmd.FullCommand(), func() error {
		ctx := context.Background()
		j, err := journal.Open(ctx, path, journal.Options{})
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		res, err := j.Restore(ctx, files)
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
