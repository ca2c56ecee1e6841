package assemble

import (
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
)

// Series counts events per step bucket; buckets start at the range's
// start truncated to the step.
type Series struct {
	start  time.Time
	step   time.Duration
	counts []int64
}

// NewSeries makes the empty series of since..until by step, or a
// ParamError naming step when it is too small.
func NewSeries(since, until time.Time, step time.Duration) (*Series, error) {
	if step < time.Second {
		return nil, &ParamError{Param: "step", Msg: "must be at least 1s"}
	}
	start := since.Truncate(step)
	n := int((until.Sub(start) + step - 1) / step)
	if n > apiv1.MaxStatPoints {
		return nil, &ParamError{Param: "step", Msg: "too small for the range: more than 11000 points"}
	}
	return &Series{start: start, step: step, counts: make([]int64, max(n, 0))}, nil
}

// Add counts an event at t; times outside the range are not counted.
func (s *Series) Add(t time.Time) { s.AddN(t, 1) }

// AddN counts n events at t (a bucket counted elsewhere, by its start).
func (s *Series) AddN(t time.Time, n int64) {
	if i := int(t.Sub(s.start) / s.step); i >= 0 && i < len(s.counts) {
		s.counts[i] += n
	}
}

// Stats is the series as the API answers it, every step present.
func (s *Series) Stats() *apiv1.Stats {
	res := &apiv1.Stats{StepSeconds: int64(s.step / time.Second), Points: make([]apiv1.Point, len(s.counts))}
	for i := range s.counts {
		res.Points[i] = apiv1.Point{Time: s.start.Add(time.Duration(i) * s.step).UTC(), Count: s.counts[i]}
	}
	return res
}
