package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
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
	if req.Step < time.Second {
		return nil, &ParamError{Param: "step", Msg: "must be at least 1s"}
	}
	start := req.Since.Truncate(req.Step)
	n := int((req.Until.Sub(start) + req.Step - 1) / req.Step)
	if n > MaxPoints {
		return nil, &ParamError{Param: "step", Msg: "too small for the range: more than 11000 points"}
	}
	counts := make([]int64, n)
	err := j.Scan(ctx, req.journalFilter(&req.Access), func(s *journal.Stored) error {
		if i := int(s.Event.Time.Sub(start) / req.Step); i >= 0 && i < n {
			counts[i]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &StatsResult{StepSeconds: int64(req.Step / time.Second), Points: make([]Point, n)}
	for i := range counts {
		res.Points[i] = Point{Time: start.Add(time.Duration(i) * req.Step).UTC(), Count: counts[i]}
	}
	return res, nil
}
