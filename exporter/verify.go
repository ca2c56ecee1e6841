package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Exit codes of verify: a script can tell a tampered journal from one it
// could not read.
const (
	exitVerified   = 0
	exitTampered   = 1
	exitUsage      = 2
	exitUnreadable = 3
)

func verifyCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("verify", "Recompute the journal's Merkle tree and check it against its signed checkpoints. Exit 0: verified, 1: tampered, 3: cannot read.")
	var path, pubkey string
	var external []string
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("pubkey", "Verifier key file (the .pub written beside the signing key); default: the key stored in the journal, which a tamperer could replace.").StringVar(&pubkey)
	cmd.Flag("checkpoint", "A signed checkpoint kept elsewhere (exporter checkpoints --export), repeatable: the journal must extend it.").StringsVar(&external)
	return cmd.FullCommand(), func() error {
		ctx := context.Background()
		if _, err := os.Stat(path); err != nil {
			return fail(exitUnreadable, "%v", err)
		}
		vkey := ""
		if pubkey != "" {
			b, err := os.ReadFile(pubkey)
			if err != nil {
				return fail(exitUsage, "--pubkey: %v", err)
			}
			vkey = strings.TrimSpace(string(b))
		} else {
			j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
			if err != nil {
				return fail(exitUnreadable, "%v", err)
			}
			vkey, err = j.SignerKey(ctx)
			j.Close()
			if err != nil {
				return fail(exitUnreadable, "%v", err)
			}
			if vkey != "" {
				fmt.Fprintln(stderr, "exporter verify: no --pubkey: checking signatures with the key stored in the journal")
			}
		}
		var verifiers integrity.Verifiers
		if vkey != "" {
			v, err := integrity.NewVerifier(vkey)
			if err != nil {
				return fail(exitUsage, "verifier key: %v", err)
			}
			verifiers = integrity.NewVerifiers(v)
		}
		var notes [][]byte
		for _, f := range external {
			b, err := os.ReadFile(f)
			if err != nil {
				return fail(exitUsage, "--checkpoint: %v", err)
			}
			notes = append(notes, b)
		}
		r, err := journal.Verify(ctx, path, verifiers, notes)
		if err != nil {
			return fail(exitUnreadable, "cannot read: %v", err)
		}
		if r.Problem != nil {
			fmt.Fprintf(stdout, "TAMPERED: %s\n", r.Problem)
			return fail(exitTampered, "")
		}
		fmt.Fprintf(stdout, "verified: %d events, %d checkpoints", r.Events, r.Checkpoints)
		if r.Uncovered > 0 {
			fmt.Fprintf(stdout, " (%d newest events not yet under a checkpoint)", r.Uncovered)
		}
		fmt.Fprintln(stdout)
		if r.Checkpoints == 0 && r.Events > 0 {
			fmt.Fprintln(stderr, "exporter verify: the journal has no signed checkpoints: run serve with a signing key")
		}
		return nil
	}
}

func checkpointsCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("checkpoints", "Print the newest signed checkpoint, or export them all for storage off the host.")
	var path, export string
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("export", "Write every checkpoint into this directory as checkpoint-SIZE.note.").StringVar(&export)
	return cmd.FullCommand(), func() error {
		ctx := context.Background()
		j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
		if err != nil {
			return fail(1, "%v", err)
		}
		defer j.Close()
		notes, err := j.Checkpoints(ctx)
		if err != nil {
			return fail(1, "%v", err)
		}
		if len(notes) == 0 {
			return fail(1, "the journal has no checkpoints")
		}
		if export == "" {
			stdout.Write(notes[len(notes)-1])
			return nil
		}
		if err := os.MkdirAll(export, 0o755); err != nil {
			return fail(1, "%v", err)
		}
		for _, n := range notes {
			size, _, _ := strings.Cut(strings.SplitN(string(n), "\n", 3)[1], "\n")
			if err := os.WriteFile(filepath.Join(export, "checkpoint-"+size+".note"), n, 0o644); err != nil {
				return fail(1, "%v", err)
			}
		}
		fmt.Fprintf(stdout, "%d checkpoints written to %s\n", len(notes), export)
		return nil
	}
}
