package tailer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// JournaldConfig configures reading the systemd journal through journalctl,
// which keeps the exporter free of cgo bindings to libsystemd.
type JournaldConfig struct {
	// Command is the journalctl binary; "" means "journalctl" on PATH.
	Command string
	// Matches are journalctl match arguments; nil means the mail facility
	// (SYSLOG_FACILITY=2).
	Matches []string
	// Start is the saved position (a cursor); without one, reading starts
	// with new entries.
	Start        event.Position
	MaxLineBytes int
	// RestartWait is the pause before journalctl is started again after it
	// exits; 0 means 1s.
	RestartWait time.Duration
	Observer    Observer
}

// DefaultJournaldMatches selects the mail facility.
var DefaultJournaldMatches = []string{"SYSLOG_FACILITY=2"}

// JournaldSource is the source name of journal lines.
const JournaldSource = "journald"

// FollowJournald sends journal entries as `journalctl -o json` lines (the
// parser reads that format) until ctx ends, restarting journalctl from the
// last cursor sent if it exits.
func FollowJournald(ctx context.Context, cfg JournaldConfig, out chan<- []Line) error {
	if cfg.Command == "" {
		cfg.Command = "journalctl"
	}
	if cfg.Matches == nil {
		cfg.Matches = DefaultJournaldMatches
	}
	if cfg.RestartWait <= 0 {
		cfg.RestartWait = time.Second
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	cursor := cfg.Start.Cursor
	for {
		next, err := runJournalctl(ctx, cfg, cursor, out)
		cursor = next
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A journalctl that cannot be started will not start later.
		var ee *exec.Error
		if errors.As(err, &ee) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("journald: %w", err)
		}
		t := time.NewTimer(cfg.RestartWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func runJournalctl(ctx context.Context, cfg JournaldConfig, cursor string, out chan<- []Line) (string, error) {
	args := []string{"--follow", "--output=json", "--no-pager"}
	if cursor != "" {
		args = append(args, "--after-cursor="+cursor)
	} else {
		args = append(args, "--lines=0")
	}
	args = append(args, cfg.Matches...)
	cmd := exec.CommandContext(ctx, cfg.Command, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return cursor, err
	}
	if err := cmd.Start(); err != nil {
		return cursor, err
	}
	br := bufio.NewReaderSize(stdout, 64<<10)
	var batch []Line
	for {
		text, cut, rerr := readLine(br, cfg.MaxLineBytes)
		if text != "" {
			if cut {
				// A cut entry is not valid JSON: it is kept, as unknown.
				cfg.Observer.LineCut(JournaldSource)
			}
			if c := jsonField(text, "__CURSOR"); c != "" {
				cursor = c
			}
			batch = append(batch, Line{Source: JournaldSource, Text: text, Cut: cut, Pos: event.Position{Cursor: cursor}})
		}
		var err error
		if batch, err = sendBefore(ctx, out, br, batch); err != nil {
			cmd.Wait()
			return cursor, err
		}
		if rerr != nil {
			break
		}
	}
	return cursor, cmd.Wait()
}

// jsonField finds a string field in a flat JSON object without decoding it;
// journal cursors need no unescaping.
func jsonField(obj, key string) string {
	i := strings.Index(obj, `"`+key+`":"`)
	if i < 0 {
		return ""
	}
	rest := obj[i+len(key)+4:]
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return ""
	}
	return rest[:end]
}
