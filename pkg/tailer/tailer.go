// Package tailer reads log lines from files, journald, stdin and syslog and
// sends them, in order per source, on a channel. A send carries as many
// lines as one read gave: a hand-off per line cost more CPU than parsing
// it. Every line carries the position just after it, so that whoever
// commits the line can commit where to resume in the same breath; the
// tailer itself stores nothing.
package tailer

import (
	"bufio"
	"context"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Line is one line read from a source, without its newline. Lines of one
// read share memory: whoever keeps a piece of Text past the batch must
// clone it (strings.Clone), or it pins the whole read.
type Line struct {
	// Source names where the line came from: a configured path, "-" for
	// stdin, "journald" or "syslog".
	Source string
	Text   string
	// Pos is the position just after this line: resuming from it reads the
	// next line.
	Pos event.Position
	// Cut is set when the line was longer than the limit and only its
	// beginning is in Text.
	Cut bool
	// Ack, when set, is told once the line is committed: a RELP frame is
	// acknowledged to its sender only then.
	Ack Acker
}

// Acker is told that a line it was given with has been committed to the
// journal.
type Acker interface {
	// Committed is called after the batch holding the line committed,
	// once per line, in the order of the lines.
	Committed()
}

// Checkpointer is an Acker whose source's position is too large to carry
// on every line (RELP's: what was committed but perhaps not acknowledged):
// it is asked for it once per batch, for the batch's last line of that
// source, just before the batch commits.
type Checkpointer interface {
	Acker
	Checkpoint() event.Position
}

// Observer is told about what the tailer does besides reading lines; the
// metrics package implements it. Methods must be safe for concurrent use.
type Observer interface {
	Rotated(source string)
	Truncated(source string)
	LineCut(source string)
	// Lost is called when lines could not be read back: a saved position
	// names a file that no longer exists anywhere.
	Lost(source string, why string)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) Rotated(string)      {}
func (NopObserver) Truncated(string)    {}
func (NopObserver) LineCut(string)      {}
func (NopObserver) Lost(string, string) {}

// sendBefore sends the lines read from br so far when the next read may
// block (nothing is buffered, as after a read error or the end) or the
// batch is full, so that they never wait for more input; it returns the
// batch left to fill.
func sendBefore(ctx context.Context, out chan<- []Line, br *bufio.Reader, batch []Line) ([]Line, error) {
	if br.Buffered() > 0 && len(batch) < maxBatch {
		return batch, nil
	}
	return nil, send(ctx, out, batch)
}

// maxBatch caps the lines of one send from a buffered reader.
const maxBatch = 1024

// send delivers a batch of lines, which the receiver then owns, unless ctx
// ends first. A full channel blocks: a slow journal slows reading rather
// than dropping lines.
func send(ctx context.Context, out chan<- []Line, ls []Line) error {
	if len(ls) == 0 {
		return nil
	}
	select {
	case out <- ls:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
