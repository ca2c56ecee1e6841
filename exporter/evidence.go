package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/evidence"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// writeEvidence writes the bundle to path, whole or not at all, and
// returns the report it holds.
func writeEvidence(ctx context.Context, stderr io.Writer, path, journalPath string, req evidence.Request) (*report.Doc, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fail(2, "--evidence=%s: is a directory", path)
	}
	// Before the work: a bundle that cannot be written is said at once.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		// The temporary file's name means nothing to the user.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fail(2, "--evidence=%s: cannot write in %s: %v", path, filepath.Dir(path), err)
	}
	defer os.Remove(tmp.Name())
	w, err := evidence.Write(ctx, journalPath, req, tmp)
	if err != nil {
		tmp.Close()
		if errors.Is(err, evidence.ErrNoCheckpoint) {
			return nil, fail(1, "--evidence: %v", err)
		}
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("--evidence: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return nil, fmt.Errorf("--evidence: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("--evidence: %w", err)
	}
	fmt.Fprintf(stderr, "exporter report %s: evidence %s: %d events proved against checkpoint %s of %d events (root %s)", req.Kind, path, w.Events, w.Checkpoint.Origin, w.Checkpoint.Size, w.Checkpoint.Root)
	if w.Erased+w.Removed > 0 {
		fmt.Fprintf(stderr, "; %d erased and %d removed by retention, kept by their leaves with %d erasure records", w.Erased, w.Removed, w.Authorities)
	}
	fmt.Fprintln(stderr)
	return w.Doc, nil
}

// newestCheckpoint is the footer of a PDF made without a bundle: the
// journal's newest checkpoint, which the report is not proved against.
func newestCheckpoint(ctx context.Context, j *journal.Journal) (*report.Checkpoint, error) {
	notes, err := j.Checkpoints(ctx)
	if err != nil || len(notes) == 0 {
		return nil, err
	}
	vkey, err := j.SignerKey(ctx)
	if err != nil || vkey == "" {
		return nil, err
	}
	v, err := integrity.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	cp, err := integrity.ParseCheckpoint(notes[len(notes)-1], integrity.NewVerifiers(v))
	if err != nil {
		return nil, fmt.Errorf("the journal's newest checkpoint (run exporter verify): %w", err)
	}
	return &report.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Root[:])}, nil
}

func verifyEvidenceCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("verify-evidence", "Check an evidence bundle (report --evidence) offline: its manifest, the checkpoint's signature, every event's leaf and inclusion proof, and that the report is what its events give. Exit 0: verified, 1: tampered, 3: cannot read.")
	var path, pubkey string
	cmd.Arg("bundle", "The bundle (a .zip).").Required().StringVar(&path)
	cmd.Flag("pubkey", "Verifier key file (the .pub written beside the journal's signing key), kept apart from the bundle; default: the key the bundle carries, which proves nothing on its own.").StringVar(&pubkey)
	return cmd.FullCommand(), func() error {
		var verifiers integrity.Verifiers
		if pubkey != "" {
			b, err := os.ReadFile(pubkey)
			if err != nil {
				return fail(exitUsage, "--pubkey: %v", err)
			}
			v, err := integrity.NewVerifier(strings.TrimSpace(string(b)))
			if err != nil {
				return fail(exitUsage, "--pubkey=%s: %v", pubkey, err)
			}
			verifiers = integrity.NewVerifiers(v)
		}
		f, err := os.Open(path)
		if err != nil {
			return fail(exitUnreadable, "%v", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fail(exitUnreadable, "%v", err)
		}
		r, err := evidence.Verify(context.Background(), f, fi.Size(), verifiers, version)
		if err != nil {
			return fail(exitUnreadable, "%s: %v", path, err)
		}
		if r.Problem != "" {
			fmt.Fprintf(stdout, "TAMPERED: %s\n", r.Problem)
			return fail(exitTampered, "")
		}
		fmt.Fprintf(stdout, "verified: %s report of %d events, proved against checkpoint %s of %d events (root %s)",
			r.Report, r.Events, r.Checkpoint.Origin, r.Checkpoint.Size, r.Checkpoint.Root)
		if r.Erased+r.Removed > 0 {
			fmt.Fprintf(stdout, "; %d erased and %d removed by retention, each named by a signed erasure record", r.Erased, r.Removed)
		}
		fmt.Fprintln(stdout)
		if r.PDFUnchecked {
			fmt.Fprintf(stderr, "exporter verify-evidence: report.pdf not compared: mailtrail %s made it, this is %s (its CSV and JSON were compared)\n", r.MadeBy, version)
		}
		if r.KeyFromBundle {
			fmt.Fprintln(stderr, "exporter verify-evidence: no --pubkey: the signature was checked with the key the bundle carries; give the journal's key from elsewhere to know who signed")
		}
		return nil
	}
}
