package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/simulate"
)

func simulateCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("simulate", "Write a realistic, deterministic Postfix/Dovecot log.")
	var lines, clientIPs, users, domains int
	var rate float64
	intVar(cmd.Flag("lines", "Number of lines to write; with --rate and no --lines, run until interrupted."), &lines)
	seed := cmd.Flag("seed", "Seed; the same seed and options give byte-identical output.").Default("1").Uint64()
	start := cmd.Flag("start", "RFC 3339 time of the first line, or 'now' (a live log, as the container demo writes).").Default(simulate.DefaultStart.Format(time.RFC3339)).String()
	format := cmd.Flag("format", "Syslog timestamp format.").Default("rfc3164").Enum("rfc3164", "rfc3339")
	output := cmd.Flag("output", "File to write; stdout when absent or '-'.").Default("-").String()
	appendOut := cmd.Flag("append", "Append to --output instead of truncating it.").Bool()
	float64Var(cmd.Flag("rate", "Write at most this many lines per second, flushing as it goes (for tailing)."), &rate)
	truth := cmd.Flag("truth", "Write the counts of what was written, as JSON, to this file.").String()
	intVar(cmd.Flag("client-ips", "Distinct remote client addresses.").Default("5000"), &clientIPs)
	intVar(cmd.Flag("users", "Distinct local mailbox users.").Default("200"), &users)
	intVar(cmd.Flag("domains", "Distinct remote domains.").Default("1000"), &domains)
	return cmd.FullCommand(), func() error {
		for _, n := range []struct {
			flag  string
			value float64
		}{{"--lines", float64(lines)}, {"--rate", rate}, {"--client-ips", float64(clientIPs)}, {"--users", float64(users)}, {"--domains", float64(domains)}} {
			if n.value < 0 {
				return fail(2, "%s=%v: must not be negative", n.flag, n.value)
			}
		}
		if lines <= 0 && rate <= 0 {
			return fail(2, "give --lines, --rate or both")
		}
		t0, err := time.Parse(time.RFC3339, *start)
		if *start == "now" {
			t0, err = time.Now().UTC().Truncate(time.Second), nil
		}
		if err != nil {
			return fail(2, "--start=%q: %v", *start, err)
		}
		f, err := simulate.ParseFormat(*format)
		if err != nil {
			return fail(2, "%v", err)
		}
		cfg := simulate.Config{Seed: *seed, Start: t0, Format: f, ClientIPs: clientIPs, Users: users, Domains: domains}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := runSimulate(ctx, cfg, lines, rate, *output, *appendOut, *truth, stdout); err != nil {
			return fail(1, "%v", err)
		}
		return nil
	}
}

// runSimulate writes the log and then the truth. An interrupt is a normal
// end for an endless paced run, so the truth of what was written still
// gets saved.
func runSimulate(ctx context.Context, cfg simulate.Config, lines int, rate float64, output string, appendOut bool, truthFile string, stdout io.Writer) error {
	w := stdout
	var file *os.File
	if output != "" && output != "-" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if appendOut {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		var err error
		if file, err = os.OpenFile(output, flags, 0o644); err != nil {
			return fmt.Errorf("open output: %w", err)
		}
		defer file.Close()
		w = file
	}
	sim := simulate.New(cfg)
	err := sim.Stream(ctx, w, lines, rate, nil)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("close output: %w", err)
		}
	}
	if truthFile == "" {
		return nil
	}
	b, err := json.MarshalIndent(sim.Truth(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode truth: %w", err)
	}
	if err := os.WriteFile(truthFile, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
