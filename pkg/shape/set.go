package shape

import "sync"

// Set remembers distinct shapes, up to a bound, so that each is reported
// once: a log of many kinds of unknown lines cannot grow it without end.
type Set struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
	full bool
}

// NewSet returns a Set that remembers at most max shapes.
func NewSet(max int) *Set {
	return &Set{max: max, seen: make(map[string]struct{})}
}

// Full reports whether the set has stopped taking shapes; a caller can then
// skip computing them.
func (s *Set) Full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full
}

// Add remembers shape. isNew is true the first time a shape is added;
// filled is true once, for the first shape that no longer fits (which is
// not remembered, and neither is any after it).
func (s *Set) Add(shape string) (isNew, filled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		return false, false
	}
	if _, ok := s.seen[shape]; ok {
		return false, false
	}
	if len(s.seen) >= s.max {
		s.full = true
		return false, true
	}
	s.seen[shape] = struct{}{}
	return true, false
}

// Len is the number of shapes remembered.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}
