// Package assemble builds the API's answers (message traces, the login
// audit, per-step counts) from journaled events, wherever they were read:
// the exporter's own journal (pkg/query) or rows fetched from the fleet
// store (pkg/fleet). Both call the same code, so a trace or a login table
// reads the same whichever way its events came. It depends on nothing
// that needs cgo, so the Grafana plugin can link it.
package assemble

import (
	"errors"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// Row is a journaled event: its sequence number in its instance's journal
// and its fields.
type Row = apiv1.Event

// ErrStop ends a Source's scan early without an error.
var ErrStop = errors.New("stop scan")

// ErrNotFound is returned when a lookup (a trace) finds nothing visible.
var ErrNotFound = errors.New("not found")

// ParamError is a request that cannot be answered as asked; Param names
// the parameter at fault.
type ParamError struct {
	Param, Msg string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// SystemKind reports whether k is one of the journal's own records (API
// accesses, erasures), which a trace never shows.
func SystemKind(k event.Kind) bool { return k == event.KindAccess || k == event.KindErasure }
