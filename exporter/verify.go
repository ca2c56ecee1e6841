package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailtrail/mailtrail/pkg/config"
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

// loadOrCreateKey returns the signer in keyPath, creating a key pair (the
// public half in keyPath.pub) on first use so that a journal is signed
// from its first checkpoint on. The public key belongs off the host.
func loadOrCreateKey(keyPath, name string, logger *slog.Logger) (integrity.Signer, string, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		skey, vkey, err := integrity.GenerateKey(name)
		if err != nil {
			return nil, "", fmt.Errorf("generate signing key: %w", err)
		}
		if err := os.WriteFile(keyPath, []byte(skey+"\n"), 0o600); err != nil {
			return nil, "", fmt.Errorf("write signing key: %w", err)
		}
		if err := os.WriteFile(keyPath+".pub", []byte(vkey+"\n"), 0o644); err != nil {
			return nil, "", fmt.Errorf("write verifier key: %w", err)
		}
		logger.Info("generated a checkpoint signing key; keep a copy of its public half off this host", "key", keyPath, "public", keyPath+".pub")
	}
	signer, err := integrity.LoadSigner(keyPath)
	if err != nil {
		return nil, "", err
	}
	vkey, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		return nil, "", fmt.Errorf("read verifier key: %w", err)
	}
	return signer, strings.TrimSpace(string(vkey)), nil
}

// openJournal opens the configured journal with its checkpoint signer and
// returns the verifier key too.
func openJournal(ctx context.Context, c *config.Config, logger *slog.Logger) (*journal.Journal, string, error) {
	signer, vkey, err := loadOrCreateKey(c.Journal.SigningKey, c.Instance, logger)
	if err != nil {
		return nil, "", fmt.Errorf("journal signing key %s: %w", c.Journal.SigningKey, err)
	}
	j, err := journal.Open(ctx, c.Journal.Path, journal.Options{
		Signer: signer, VerifierKey: vkey, Origin: c.Instance,
		CheckpointEvery: c.Journal.CheckpointEvery, CheckpointInterval: time.Duration(c.Journal.CheckpointInterval),
		Compression: c.Journal.Compression, ArchiveDir: c.Journal.ArchiveDir,
	})
	return j, vkey, err
}

// backgroundVerifier re-verifies the journal every interval and exports
// the outcome, so that tampering shows on a dashboard, not only when
// someone runs `exporter verify`.
type backgroundVerifier struct {
	path     string
	vkey     string
	interval time.Duration
	logger   *slog.Logger
	verified prometheus.Gauge
	failures prometheus.Counter
}

func newBackgroundVerifier(reg prometheus.Registerer, path, vkey string, interval time.Duration, logger *slog.Logger) *backgroundVerifier {
	v := &backgroundVerifier{path: path, vkey: vkey, interval: interval, logger: logger,
		verified: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mailtrail_journal_verified_events", Help: "Events the last background verification found intact.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailtrail_journal_verify_failures_total", Help: "Background verifications that found the journal tampered with or could not read it.",
		}),
	}
	reg.MustRegister(v.verified, v.failures)
	return v
}

// run verifies once at once, then every interval, until ctx ends.
func (v *backgroundVerifier) run(ctx context.Context) {
	t := time.NewTicker(v.interval)
	defer t.Stop()
	for {
		v.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (v *backgroundVerifier) once(ctx context.Context) {
	var verifiers integrity.Verifiers
	if v.vkey != "" {
		ver, err := integrity.NewVerifier(v.vkey)
		if err != nil {
			v.failures.Inc()
			v.logger.Error("journal verification: verifier key", "err", err)
			return
		}
		verifiers = integrity.NewVerifiers(ver)
	}
	start := time.Now()
	r, err := journal.Verify(ctx, v.path, verifiers, nil)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		v.failures.Inc()
		v.logger.Error("journal verification could not read the journal", "err", err)
	case r.Problem != nil:
		v.failures.Inc()
		v.logger.Error("journal verification found tampering", "problem", r.Problem.String())
	default:
		v.verified.Set(float64(r.Events))
		v.logger.Debug("journal verified", "events", r.Events, "checkpoints", r.Checkpoints, "took", time.Since(start))
	}
}
