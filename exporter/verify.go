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

func verifyCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() int) {
	cmd := app.Command("verify", "Recompute the journal's Merkle tree and check it against its signed checkpoints. Exit 0: verified, 1: tampered, 3: cannot read.")
	var path, pubkey string
	var external []string
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("pubkey", "Verifier key file (the .pub written beside the signing key); default: the key stored in the journal, which a tamperer could replace.").StringVar(&pubkey)
	cmd.Flag("checkpoint", "A signed checkpoint kept elsewhere (exporter checkpoints --export), repeatable: the journal must extend it.").StringsVar(&external)
	return cmd.FullCommand(), func() int {
		ctx := context.Background()
		if _, err := os.Stat(path); err != nil {
			fmt.Fprintf(stderr, "exporter verify: %v\n", err)
			return exitUnreadable
		}
		vkey := ""
		if pubkey != "" {
			b, err := os.ReadFile(pubkey)
			if err != nil {
				fmt.Fprintf(stderr, "exporter verify: --pubkey: %v\n", err)
				return exitUsage
			}
			vkey = strings.TrimSpace(string(b))
		} else {
			j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
			if err != nil {
				fmt.Fprintf(stderr, "exporter verify: %v\n", err)
				return exitUnreadable
			}
			vkey, err = j.SignerKey(ctx)
			j.Close()
			if err != nil {
				fmt.Fprintf(stderr, "exporter verify: %v\n", err)
				return exitUnreadable
			}
			if vkey != "" {
				fmt.Fprintln(stderr, "exporter verify: no --pubkey: checking signatures with the key stored in the journal")
			}
		}
		var verifiers integrity.Verifiers
		if vkey != "" {
			v, err := integrity.NewVerifier(vkey)
			if err != nil {
				fmt.Fprintf(stderr, "exporter verify: verifier key: %v\n", err)
				return exitUsage
			}
			verifiers = integrity.NewVerifiers(v)
		}
		var notes [][]byte
		for _, f := range external {
			b, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintf(stderr, "exporter verify: --checkpoint: %v\n", err)
				return exitUsage
			}
			notes = append(notes, b)
		}
		r, err := journal.Verify(ctx, path, verifiers, notes)
		if err != nil {
			fmt.Fprintf(stderr, "exporter verify: cannot read: %v\n", err)
			return exitUnreadable
		}
		if r.Problem != nil {
			fmt.Fprintf(stdout, "TAMPERED: %s\n", r.Problem)
			return exitTampered
		}
		fmt.Fprintf(stdout, "verified: %d events, %d checkpoints", r.Events, r.Checkpoints)
		if r.Uncovered > 0 {
			fmt.Fprintf(stdout, " (%d newest events not yet under a checkpoint)", r.Uncovered)
		}
		fmt.Fprintln(stdout)
		if r.Checkpoints == 0 && r.Events > 0 {
			fmt.Fprintln(stderr, "exporter verify: the journal has no signed checkpoints: run serve with a signing key")
		}
		return exitVerified
	}
}

func checkpointsCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() int) {
	cmd := app.Command("checkpoints", "Print the newest signed checkpoint, or export them all for storage off the host.")
	var path, export string
	cmd.Flag("journal.path", "SQLite event journal.").Default("mailtrail.db").StringVar(&path)
	cmd.Flag("export", "Write every checkpoint into this directory as checkpoint-SIZE.note.").StringVar(&export)
	return cmd.FullCommand(), func() int {
		ctx := context.Background()
		j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
		if err != nil {
			fmt.Fprintf(stderr, "exporter checkpoints: %v\n", err)
			return 1
		}
		defer j.Close()
		notes, err := j.Checkpoints(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "exporter checkpoints: %v\n", err)
			return 1
		}
		if len(notes) == 0 {
			fmt.Fprintln(stderr, "exporter checkpoints: the journal has no checkpoints")
			return 1
		}
		if export == "" {
			stdout.Write(notes[len(notes)-1])
			return 0
		}
		if err := os.MkdirAll(export, 0o755); err != nil {
			fmt.Fprintf(stderr, "exporter checkpoints: %v\n", err)
			return 1
		}
		for _, n := range notes {
			size, _, _ := strings.Cut(strings.SplitN(string(n), "\n", 3)[1], "\n")
			if err := os.WriteFile(filepath.Join(export, "checkpoint-"+size+".note"), n, 0o644); err != nil {
				fmt.Fprintf(stderr, "exporter checkpoints: %v\n", err)
				return 1
			}
		}
		fmt.Fprintf(stdout, "%d checkpoints written to %s\n", len(notes), export)
		return 0
	}
}
