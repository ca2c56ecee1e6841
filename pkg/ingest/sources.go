package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// Sources says what to read.
type Sources struct {
	// Paths are log files or globs; "-" reads Stdin.
	Paths        []string
	RotatedGlobs []string
	MaxLineBytes int
	PollInterval time.Duration
	RotateWait   time.Duration
	// Rescan is how often globs are expanded again to find new files; 0
	// means 10s.
	Rescan   time.Duration
	Stdin    io.Reader
	Journald *tailer.JournaldConfig
	Syslog   *tailer.SyslogListener
	RELP     *tailer.RELPListener
	// Positions are the saved positions by source name.
	Positions map[string]event.Position
	Observer  tailer.Observer
	Logger    *slog.Logger
}

// RunSources reads every source into out until ctx ends, or until every
// source has ended (stdin at EOF and nothing else configured). It never
// closes out.
func RunSources(ctx context.Context, s Sources, out chan<- []tailer.Line) error {
	if s.Rescan <= 0 {
		s.Rescan = 10 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.RotatedGlobs == nil {
		s.RotatedGlobs = tailer.DefaultRotatedGlobs
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	start := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
				s.Logger.Error("source stopped", "source", name, "err", err)
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	var globs []string
	for _, p := range s.Paths {
		if p == "-" {
			start("-", func() error {
				return tailer.ReadStream(ctx, "-", s.Stdin, s.MaxLineBytes, s.Observer, out)
			})
			continue
		}
		globs = append(globs, p)
	}
	if s.Journald != nil {
		cfg := *s.Journald
		cfg.Start = s.Positions[tailer.JournaldSource]
		start(tailer.JournaldSource, func() error { return tailer.FollowJournald(ctx, cfg, out) })
	}
	if s.Syslog != nil {
		start(tailer.SyslogSource, func() error { return s.Syslog.Run(ctx, out) })
	}
	if s.RELP != nil {
		start(tailer.RELPSource, func() error { return s.RELP.Run(ctx, out) })
	}
	if len(globs) > 0 {
		// Following files never ends by itself: new files matching the
		// globs are picked up until ctx ends.
		wg.Add(1)
		go func() {
			defer wg.Done()
			following := map[string]bool{}
			for {
				for _, path := range expand(globs, s.RotatedGlobs) {
					if following[path] {
						continue
					}
					following[path] = true
					s.Logger.Info("following log file", "path", path)
					cfg := tailer.FileConfig{
						Path: path, RotatedGlobs: s.RotatedGlobs, Start: s.Positions[path],
						MaxLineBytes: s.MaxLineBytes, PollInterval: s.PollInterval, RotateWait: s.RotateWait,
						Observer: s.Observer,
					}
					start(path, func() error { return tailer.FollowFile(ctx, cfg, out) })
				}
				t := time.NewTimer(s.Rescan)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// expand lists the files the globs match, leaving out the rotated
// generations of other matches (a glob like /var/log/mail.* also matches
// mail.log.1, which is read as part of mail.log). A glob without
// metacharacters names a file that may not exist yet, and is kept.
func expand(globs, rotated []string) []string {
	var all []string
	seen := map[string]bool{}
	for _, g := range globs {
		matches, _ := filepath.Glob(g)
		if len(matches) == 0 && !strings.ContainsAny(g, "*?[") {
			matches = []string{g}
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				all = append(all, m)
			}
		}
	}
	var out []string
	for _, m := range all {
		generation := false
		for _, other := range all {
			if other == m {
				continue
			}
			for _, r := range rotated {
				if ok, _ := filepath.Match(strings.ReplaceAll(r, "{path}", other), m); ok {
					generation = true
				}
			}
		}
		if !generation {
			out = append(out, m)
		}
	}
	return out
}
