package offenders

import "time"

// Standing is one key's state in a scope's window.
type Standing struct {
	// Count is the key's count within the window.
	Count int
	// Over says the count is over the scope's threshold.
	Over bool
	// AfterFailures: a send key whose client IP had authentication
	// failures in the auth window (the compromised-account pattern).
	AfterFailures bool
}

// Lookup is key's standing in scope at the later of the newest observed
// event and at. It never moves the tracker's clock: the policy service
// asks with the wall clock, and a log read with a wrong time zone must not
// make the windows drop what ingest counts. It costs one map lookup, so
// it can answer a mail server while the client waits.
func (t *Tracker) Lookup(scope Scope, key string, at time.Time) Standing {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.scope(scope)
	if s == nil || key == "" {
		return Standing{}
	}
	ent := s.keys[key]
	if ent == nil {
		return Standing{}
	}
	now := t.now
	if ns := at.UnixNano(); !at.IsZero() && ns > now {
		now = ns
	}
	nb := s.bucket(now)
	sum := ent.sum
	switch d := nb - ent.head; {
	case d >= Buckets:
		sum = 0
	case d > 0:
		// The buckets that would fall out if the window slid to nb.
		for b := ent.head + 1; b <= nb; b++ {
			sum -= uint64(ent.counts[slot(b)])
		}
	}
	return Standing{Count: int(min(sum, 1<<31-1)), Over: sum > s.threshold, AfterFailures: sum > 0 && ent.after}
}
