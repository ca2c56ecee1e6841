package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/privacy"
	"github.com/mailtrail/mailtrail/pkg/server"
	"github.com/mailtrail/mailtrail/pkg/ship"
)

// forgetCommand is the GDPR erasure: every appearance of an address (or
// user name) is replaced in the journal, the proofs stay verifiable and the
// erasure is journaled.
func forgetCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("forget", "Erase every appearance of an address or user name from the journal (right to erasure): events keep their place in the Merkle tree, the erasure is journaled and signed; with --ship.victorialogs.url the store's copies are deleted too. Stop the exporter first (or use the API's forget).")
	f := addSourceFlags(cmd)
	addArchiveFlags(cmd, f)
	var subject, actor, archiveDir string
	var dryRun bool
	cmd.Flag("subject", "The address or user name to erase (matched whole, in any letter case).").Required().StringVar(&subject)
	cmd.Flag("journal.archive-dir", "Rewrite the archive files of expired events there too (default: journal.archive_dir of the configuration file).").StringVar(&archiveDir)
	cmd.Flag("actor", "Who asks for the erasure, recorded in the erasure event (default: the user running the command).").StringVar(&actor)
	cmd.Flag("dry-run", "Only count the events that name the subject.").BoolVar(&dryRun)
	return cmd.FullCommand(), func() error {
		ctx := context.Background()
		subject = strings.TrimSpace(subject)
		if err := privacy.CheckSubject(subject); err != nil {
			return fail(2, "--subject=%q: %v", subject, err)
		}
		c, err := f.settings()
		if err != nil {
			return fail(2, "%v", err)
		}
		if archiveDir != "" {
			c.Journal.ArchiveDir = archiveDir
		}
		if _, err := os.Stat(c.Journal.Path); err != nil {
			return fail(1, "%v", err)
		}
		// Under a pseudonymising policy the journal holds the subject's
		// pseudonym, not the subject: erase both.
		r, err := c.Redactor()
		if err != nil {
			return fail(2, "%v", err)
		}
		subjects := r.Subjects(subject)
		if dryRun {
			return forgetDryRun(ctx, c, subjects, stdout)
		}
		if actor == "" {
			actor = "cli:" + firstNonEmpty(os.Getenv("SUDO_USER"), os.Getenv("USER"), "unknown")
		}
		logger := slog.New(slog.NewTextHandler(stderr, nil))
		j, _, err := server.OpenJournal(ctx, c, logger)
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		// With a fleet store, its copies are deleted too and its answer
		// recorded in the erasure.
		shipper, err := server.NewShipper(c, j, nil, logger)
		if err != nil {
			return fail(2, "%v", err)
		}
		var res journal.EraseResult
		var answers []ship.StoreAnswer
		if shipper != nil {
			res, answers, err = shipper.Forget(ctx, subjects, actor, 0)
		} else {
			res, err = j.Erase(ctx, subjects, actor)
		}
		if err != nil {
			return fail(1, "%v", err)
		}
		var kept []string
		for _, a := range answers {
			fmt.Fprintf(stdout, "fleet store %s\n", a)
			if a.NoDelete {
				fmt.Fprintf(stderr, "exporter forget: warning: %s %s keeps its copies: erase %s in the backend behind it\n", a.Sink, a.URL, subject)
			} else if !a.Deleted {
				kept = append(kept, a.Sink+" "+a.URL)
			}
		}
		if res.Events == 0 {
			fmt.Fprintf(stdout, "no event names %s; nothing changed in the journal\n", subject)
			if len(kept) > 0 {
				return fail(1, "fleet store %s still holds copies naming %s; run forget again once it is reachable", strings.Join(kept, ", "), subject)
			}
			return nil
		}
		inArchives := ""
		if res.Archived > 0 {
			inArchives = fmt.Sprintf(", %d of them in %d archive files", res.Archived, res.ArchiveFiles)
		}
		fmt.Fprintf(stdout, "erased %s from %d events%s (now %s); the erasure is event %d, signed\n", subject, res.Events, inArchives, res.StandIn, res.Seq)
		if !res.WALTruncated {
			fmt.Fprintln(stderr, "exporter forget: warning: a reader kept the write-ahead log busy, so old pages may remain in "+c.Journal.Path+"-wal until the next checkpoint; run forget again once readers are gone")
		}
		if len(kept) > 0 {
			return fail(1, "the journal is erased, but fleet store %s still holds copies naming %s (the erasure record says so); run forget again once it is reachable", strings.Join(kept, ", "), subject)
		}
		return nil
	}
}

func forgetDryRun(ctx context.Context, c *config.Config, subjects []string, stdout io.Writer) error {
	path, archiveDir := c.Journal.Path, c.Journal.ArchiveDirectory()
	cold, err := server.ColdStore(c)
	if err != nil {
		return fail(2, "%v", err)
	}
	j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true, ArchiveDir: archiveDir, Cold: cold})
	if err != nil {
		return fail(1, "%v", err)
	}
	defer j.Close()
	res, total, err := j.EraseDryRun(ctx, subjects)
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "%d of %d events name %s; nothing changed (dry run)\n", res.Events-res.Archived, total, subjects[0])
	if archiveDir != "" || cold != nil {
		where := archiveDir
		if cold != nil {
			where += " and " + cold.URL("")
		}
		fmt.Fprintf(stdout, "%d archived events in %d files of %s name it\n", res.Archived, res.ArchiveFiles, strings.TrimPrefix(where, " and "))
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
