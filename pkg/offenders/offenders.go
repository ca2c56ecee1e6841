// Package offenders finds brute-force sources and compromised-looking
// accounts: per client IP and per user name, authentication failures in a
// sliding window; per SASL user, recipients sent in a window. Memory is
// bounded: the least recently seen keys are dropped first.
//
// Time is log time: the newest event time observed, never the wall clock,
// so a replay of last month's log finds last month's offenders.
package offenders

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// Config sets the windows and thresholds.
type Config struct {
	// Window and Threshold: more than Threshold authentication failures
	// within Window make an IP or user an offender. Defaults 5m and 10.
	Window    time.Duration
	Threshold int
	// SendWindow and SendThreshold: more than SendThreshold recipients
	// within SendWindow from one SASL user make a send offender. Defaults
	// 1h and 500.
	SendWindow    time.Duration
	SendThreshold int
	// MaxKeys bounds how many IPs, users and senders are tracked each;
	// 0 means 100000.
	MaxKeys int
	// History bounds how many offenders, current or past, are remembered
	// per scope for Offenders; 0 means 1000.
	History int
}

// Buckets is how many time buckets a window is cut into: a count is kept
// per bucket, so memory per key is constant and a window slides in steps of
// Window/Buckets. An event stops counting between Window-Window/Buckets and
// Window after its time.
const Buckets = 10

// The windows' defaults, also the configuration's (pkg/config).
const (
	DefaultWindow        = 5 * time.Minute
	DefaultThreshold     = 10
	DefaultSendWindow    = time.Hour
	DefaultSendThreshold = 500
)

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.SendWindow <= 0 {
		c.SendWindow = DefaultSendWindow
	}
	if c.SendThreshold <= 0 {
		c.SendThreshold = DefaultSendThreshold
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100000
	}
	if c.History <= 0 {
		c.History = 1000
	}
	return c
}

// Scope says what an offender is.
type Scope string

// The scopes.
const (
	ScopeIP   Scope = "ip"
	ScopeUser Scope = "user"
	ScopeSend Scope = "send"
)

// Scopes lists every scope; they are the only label values the metrics use.
func Scopes() []Scope { return []Scope{ScopeIP, ScopeUser, ScopeSend} }

// Offender is one source over its threshold, now or recently.
type Offender struct {
	Scope Scope  `json:"scope"`
	Key   string `json:"key"`
	// Count is the count within the window at the newest observed time (0
	// once the key's events have left the window or the key was evicted).
	Count int `json:"count"`
	// Peak is the highest count seen while an offender.
	Peak int `json:"peak"`
	// FirstSeen is the first event of the run that made the key an
	// offender: the earliest event since its count was last zero.
	// LastSeen is the newest event that counted while over the threshold.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// AfterFailures marks a send offender whose sending IP had
	// authentication failures in the window: the compromised-account
	// pattern.
	AfterFailures bool `json:"after_failures,omitempty"`
	// Active says the count is over the threshold right now.
	Active bool `json:"active"`
}

// ScopeStats describe one scope's state.
type ScopeStats struct {
	// Keys is how many keys are tracked (at most Config.MaxKeys).
	Keys int
	// Evictions counts keys dropped to stay within MaxKeys.
	Evictions uint64
}

// entry is one key's window: counts[b%Buckets] holds bucket b for the
// Buckets buckets up to head. Entries are linked in least-recently-seen
// order for eviction.
type entry struct {
	key        string
	prev, next *entry
	head       int64
	counts     [Buckets]uint32
	sum        uint64
	// streak is the time (Unix ns) of the first event since sum was last
	// zero: where an offender's run began.
	streak int64
	// after: the send key's client IP had failures in the auth window
	// during this streak.
	after  bool
	active bool
	rec    *record
}

// record is an offender remembered for Offenders, linked most recently
// updated first. ent is nil once the key was evicted.
type record struct {
	key         string
	first, last int64
	peak        uint64
	after       bool
	ent         *entry
	prev, next  *record
}

type scope struct {
	name      Scope
	res       int64 // bucket width in ns
	threshold uint64
	maxKeys   int
	keys      map[string]*entry
	lru       entry // sentinel: lru.next is the most recently seen
	// active holds every key that went over the threshold and has not been
	// seen under it since; counts only fall with time, so no other key can
	// be over it.
	active    map[*entry]struct{}
	evictions uint64
	hist      record // sentinel: hist.next is the most recently updated
	recs      map[string]*record
	maxHist   int
}

// Tracker keeps the windows. Safe for concurrent use: ingest observes while
// the API and the metrics read.
type Tracker struct {
	cfg Config

	mu   sync.Mutex
	now  int64 // Unix ns of the newest event observed
	ip   scope
	user scope
	send scope
}

// New makes a tracker.
func New(cfg Config) *Tracker {
	cfg = cfg.withDefaults()
	t := &Tracker{cfg: cfg}
	t.ip.init(ScopeIP, cfg.Window, cfg.Threshold, cfg.MaxKeys, cfg.History)
	t.user.init(ScopeUser, cfg.Window, cfg.Threshold, cfg.MaxKeys, cfg.History)
	t.send.init(ScopeSend, cfg.SendWindow, cfg.SendThreshold, cfg.MaxKeys, cfg.History)
	return t
}

// Config returns the configuration in effect, defaults filled in.
func (t *Tracker) Config() Config { return t.cfg }

func (s *scope) init(name Scope, window time.Duration, threshold, maxKeys, maxHist int) {
	s.name = name
	s.res = max(int64(window)/Buckets, 1)
	s.threshold = uint64(threshold)
	s.maxKeys = maxKeys
	s.maxHist = maxHist
	s.keys = make(map[string]*entry)
	s.active = make(map[*entry]struct{})
	s.recs = make(map[string]*record)
	s.lru.next, s.lru.prev = &s.lru, &s.lru
	s.hist.next, s.hist.prev = &s.hist, &s.hist
}

// Observe counts e if it is an authentication failure or a delivery.
//
// An authentication failure counts for its client IP and its user name,
// each when present. Dovecot's "auth failed, N attempts" lines count N
// (Attempts), since one login session may carry many guesses; every other
// failure line counts 1; a repeat line ("message repeated N times") counts
// that many times (event.Event.FailedAttempts). A back end's verdict
// (auth_backend) counts nothing: the front end's line already did.
//
// A delivery counts one recipient for its SASL user (set by the correlator
// from the session that submitted the message). Every delivery line counts,
// so a deferred recipient counts again at each retry that falls within the
// send window. When the message's client IP has failures in the auth
// window, the send key is marked AfterFailures.
//
// Events older than their window at the newest observed time are ignored.
// Every other event with a time only moves the tracker's clock.
func (t *Tracker) Observe(e *event.Event) {
	switch e.Kind {
	case event.KindAuthFailure:
		if e.ClientIP == "" && e.SASLUsername == "" {
			return
		}
		w := uint64(e.FailedAttempts())
		t.mu.Lock()
		ts := t.observeTime(e.Time)
		if e.ClientIP != "" {
			if ent := t.ip.touch(e.ClientIP, ts, t.now); ent != nil {
				ent.add(t.ip.bucket(ts), ts, w)
				t.ip.check(ent, ts)
			}
		}
		if e.SASLUsername != "" {
			if ent := t.user.touch(e.SASLUsername, ts, t.now); ent != nil {
				ent.add(t.user.bucket(ts), ts, w)
				t.user.check(ent, ts)
			}
		}
		t.mu.Unlock()
	case event.KindDelivery:
		if e.SASLUsername == "" {
			return
		}
		t.mu.Lock()
		ts := t.observeTime(e.Time)
		if ent := t.send.touch(e.SASLUsername, ts, t.now); ent != nil {
			ent.add(t.send.bucket(ts), ts, uint64(e.Weight()))
			if !ent.after && e.ClientIP != "" {
				if ip := t.ip.keys[e.ClientIP]; ip != nil {
					ip.advance(t.ip.bucket(t.now))
					ent.after = ip.sum > 0
				}
			}
			t.send.check(ent, ts)
		}
		t.mu.Unlock()
	default:
		// Every line moves the window's clock, so an offender stops being
		// one once its failures have aged out, even when no more failures
		// or deliveries follow (a burst that simply ended).
		if !e.Time.IsZero() {
			t.mu.Lock()
			t.observeTime(e.Time)
			t.mu.Unlock()
		}
	}
}

// Advance moves the tracker's notion of now forward to at, as if an event
// of that time had been observed: windows drain while the log is quiet.
// Ingest may call it from an injected clock when it has caught up; times
// not after the newest observed one are ignored.
func (t *Tracker) Advance(at time.Time) {
	if at.IsZero() {
		return
	}
	t.mu.Lock()
	t.now = max(t.now, at.UnixNano())
	t.mu.Unlock()
}

// observeTime returns the time to count an event at and moves now forward.
// An event without a time counts at now.
func (t *Tracker) observeTime(at time.Time) int64 {
	if at.IsZero() {
		return t.now
	}
	ts := at.UnixNano()
	if ts > t.now {
		t.now = ts
	}
	return ts
}

// Active is how many keys of scope are over their threshold at now (log
// time of the newest event observed).
func (t *Tracker) Active(scope Scope) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.scope(scope)
	if s == nil {
		return 0
	}
	nb := s.bucket(t.now)
	for ent := range s.active {
		ent.advance(nb)
		if ent.sum <= s.threshold {
			ent.active = false
			delete(s.active, ent)
		}
	}
	return len(s.active)
}

// Stats reports how many keys a scope tracks and how many it evicted.
func (t *Tracker) Stats(scope Scope) ScopeStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.scope(scope)
	if s == nil {
		return ScopeStats{}
	}
	return ScopeStats{Keys: len(s.keys), Evictions: s.evictions}
}

// Now is the newest event time observed (zero before the first).
func (t *Tracker) Now() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.now == 0 {
		return time.Time{}
	}
	return time.Unix(0, t.now).UTC()
}

// Forget drops every key equal to a subject, in any letter case, from the
// windows and the history: after an erasure the offender list must not
// name the address.
func (t *Tracker) Forget(subjects []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range []*scope{&t.ip, &t.user, &t.send} {
		for _, sub := range subjects {
			for key, ent := range s.keys {
				if strings.EqualFold(key, sub) {
					s.remove(ent)
				}
			}
			for key, r := range s.recs {
				if strings.EqualFold(key, sub) {
					s.dropRecord(r)
				}
			}
		}
	}
}

// Offenders lists current and recent offenders, most recent first: per
// scope the Config.History most recently updated keys that went over their
// threshold, one entry per key (its latest run).
func (t *Tracker) Offenders() []Offender {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Offender
	for _, s := range []*scope{&t.ip, &t.user, &t.send} {
		nb := s.bucket(t.now)
		for r := s.hist.next; r != &s.hist; r = r.next {
			o := Offender{
				Scope:         s.name,
				Key:           r.key,
				Peak:          int(min(r.peak, math.MaxInt32)),
				FirstSeen:     time.Unix(0, r.first).UTC(),
				LastSeen:      time.Unix(0, r.last).UTC(),
				AfterFailures: r.after,
			}
			if r.ent != nil {
				r.ent.advance(nb)
				o.Count = int(min(r.ent.sum, math.MaxInt32))
				o.Active = r.ent.sum > s.threshold
			}
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out
}

func (t *Tracker) scope(sc Scope) *scope {
	switch sc {
	case ScopeIP:
		return &t.ip
	case ScopeUser:
		return &t.user
	case ScopeSend:
		return &t.send
	}
	return nil
}

// bucket is the index of the bucket holding time ns (floor division, so
// times before 1970 still fall into consecutive buckets).
func (s *scope) bucket(ns int64) int64 {
	b := ns / s.res
	if ns < 0 && ns%s.res != 0 {
		b--
	}
	return b
}

func slot(b int64) int {
	i := b % Buckets
	if i < 0 {
		i += Buckets
	}
	return int(i)
}

// touch finds or inserts key's entry, marks it most recently seen and
// slides its window to now. It returns nil for an event at ts that is
// already out of the window, which is then not counted at all.
func (s *scope) touch(key string, ts, now int64) *entry {
	nb := s.bucket(now)
	if s.bucket(ts) <= nb-Buckets {
		return nil
	}
	ent := s.keys[key]
	if ent == nil {
		if len(s.keys) >= s.maxKeys {
			// At the bound, the least recently seen entry makes room and
			// its memory is reused: spraying from ever new addresses
			// allocates only the key.
			ent = s.lru.prev
			s.evict(ent)
			*ent = entry{head: nb}
		} else {
			ent = &entry{head: nb}
		}
		if r := s.recs[key]; r != nil {
			// A remembered offender evicted from the windows: its record
			// follows the key again (and lends it its copy of the key).
			ent.key, ent.rec, r.ent = r.key, r, ent
		} else {
			// The event's strings point into the whole log line; the clone
			// lets the line be freed.
			ent.key = strings.Clone(key)
		}
		s.keys[ent.key] = ent
		s.pushFront(ent)
		return ent
	}
	if s.lru.next != ent {
		ent.unlink()
		s.pushFront(ent)
	}
	ent.advance(nb)
	return ent
}

func (s *scope) pushFront(ent *entry) {
	ent.prev, ent.next = &s.lru, s.lru.next
	s.lru.next.prev = ent
	s.lru.next = ent
}

func (ent *entry) unlink() {
	ent.prev.next, ent.next.prev = ent.next, ent.prev
	ent.prev, ent.next = nil, nil
}

// evict drops ent to make room, and counts it.
func (s *scope) evict(ent *entry) {
	s.remove(ent)
	s.evictions++
}

// remove drops ent from the window.
func (s *scope) remove(ent *entry) {
	ent.unlink()
	delete(s.keys, ent.key)
	if ent.active {
		delete(s.active, ent)
	}
	if ent.rec != nil {
		ent.rec.ent = nil
	}
}

// advance slides the window so that nb is its newest bucket, dropping the
// buckets that fall out.
func (ent *entry) advance(nb int64) {
	d := nb - ent.head
	if d <= 0 {
		return
	}
	if d >= Buckets {
		ent.counts = [Buckets]uint32{}
		ent.sum = 0
	} else {
		for b := ent.head + 1; b <= nb; b++ {
			i := slot(b)
			ent.sum -= uint64(ent.counts[i])
			ent.counts[i] = 0
		}
	}
	ent.head = nb
}

// add counts w at bucket b (within the window: touch checked). A bucket
// saturates rather than wrap.
func (ent *entry) add(b, ts int64, w uint64) {
	if ent.sum == 0 {
		ent.streak = ts
		ent.after = false
	} else if ts < ent.streak {
		ent.streak = ts
	}
	i := slot(b)
	if c := uint64(ent.counts[i]); c+w > math.MaxUint32 {
		w = math.MaxUint32 - c
	}
	ent.counts[i] += uint32(w)
	ent.sum += w
}

// check records ent as an offender when it is over the threshold.
func (s *scope) check(ent *entry, ts int64) {
	if ent.sum <= s.threshold {
		return
	}
	if !ent.active {
		ent.active = true
		s.active[ent] = struct{}{}
	}
	r := ent.rec
	switch {
	case r == nil:
		r = &record{key: ent.key, ent: ent, first: ent.streak, last: ts}
		ent.rec = r
		s.recs[r.key] = r
		if len(s.recs) > s.maxHist {
			s.dropRecord(s.hist.prev)
		}
	case ent.streak > r.last:
		// The previous run left the window before this one began: a new
		// run of the same key.
		*r = record{key: r.key, ent: ent, first: ent.streak, last: ts, prev: r.prev, next: r.next}
	case r.first > ent.streak:
		// An out-of-order event began the run earlier.
		r.first = ent.streak
	}
	if ts > r.last {
		r.last = ts
	}
	r.peak = max(r.peak, ent.sum)
	r.after = r.after || ent.after
	if s.hist.next != r {
		if r.next != nil {
			r.prev.next, r.next.prev = r.next, r.prev
		}
		r.prev, r.next = &s.hist, s.hist.next
		s.hist.next.prev = r
		s.hist.next = r
	}
}

func (s *scope) dropRecord(r *record) {
	r.prev.next, r.next.prev = r.next, r.prev
	r.prev, r.next = nil, nil
	if r.ent != nil {
		r.ent.rec = nil
	}
	delete(s.recs, r.key)
}
