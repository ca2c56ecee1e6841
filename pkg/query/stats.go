package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/assemble"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// MaxPoints caps a stats series.
const MaxPoints = apiv1.MaxStatPoints

// StatsRequest counts the events a filter selects per step.
type StatsRequest struct {
	EventFilter
	Step   time.Duration
	Access Access
}

// The series' shapes are the API's.
type (
	StatsResult = apiv1.Stats
	Point       = apiv1.Point
)

// DefaultStep is the step for a range: a minute, or as coarse as keeps the
// series within MaxPoints.
func DefaultStep(since, until time.Time) time.Duration {
	step := time.Minute
	if n := until.Sub(since) / MaxPoints; n > step {
		step = n.Truncate(time.Second) + time.Second
	}
	return step
}

// Stats counts the events req selects per step bucket. Buckets start at
// Since truncated to the step; Since and Until must be set.
func Stats(ctx context.Context, j *journal.Journal, req StatsRequest) (*StatsResult, error) {
	series, err := assemble.NewSeries(req.Since, req.Until, req.Step)
	if err != nil {
		return nil, err
	}
	err = j.Scan(ctx, req.journalFilter(&req.Access), func(s *journal.Stored) error {
		series.Add(s.Event.Time)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return series.Stats(), nil
}
