package suspend

import (
	"log/slog"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// MaxPending bounds the records waiting for their commit. Beyond it a
// record is refused, and so is the refusal it records: the policy service
// fails open rather than refuse off the record.
const MaxPending = 100000

// ErrBacklog is a full queue.
var ErrBacklog = journal.ErrQueueFull

// Recorder commits the policy services' records in the background, so
// that an answer never waits for a commit (a WAL checkpoint's fsync would
// stall the mail server).
type Recorder = journal.Queue

// NewRecorder starts a recorder; Close commits what is pending and stops.
func NewRecorder(j *journal.Journal, logger *slog.Logger) *Recorder {
	return journal.NewQueue(j, "policy records", MaxPending, logger)
}
