package correlate

import (
	"bytes"
	"hash/maphash"
	"unsafe"
)

// memoSlots is the number of records of each kind the memo keeps: more
// than the messages and sessions a busy log interleaves.
const memoSlots = 256

// memoSweep is how many lines a memoised record is certainly kept for,
// and half the most it keeps an event's strings alive (see memo).
const memoSweep = 4096

// memo keeps the records the correlator last read from or wrote to the
// cache, decoded: the lines of a message or session come close together,
// and each would otherwise look its record up and decode it again.
//
// The cache stays the source of truth (every change is written through,
// and Message and Session read the cache), so the memo must never hold
// what the cache no longer does. fastcache loses an entry only to Del,
// Reset, or the Sets that come after it wrapping its bucket's ring over
// it (a Set of the same key replaces it; a Set of another key with the
// same 64-bit hash, which the design ignores, replaces it too). Each of
// its 512 buckets is a ring of ring/512 bytes, and a Set advances the
// bucket's write position by its entry, 4+len(k)+len(v) bytes, plus less
// than that skipped at the end of a 64 KiB chunk. So an entry written
// stays at least until Sets worth bucket−len bytes (counted twice: see
// used) have followed it, whichever buckets they went to. A record the
// memo got from a Get (where it lies in the ring is unknown) is kept only
// until the next Set. Del and Reset drop records explicitly (Observe drops
// all after a Reset, which may come from another goroutine).
//
// The records' fields alias either an event's strings or a buffer
// fastcache returned for that record alone: neither is ever written to,
// so events are filled with views of them (fill) instead of copies. An
// event's strings may be pieces of a large read of the log, which a
// record would keep alive: every memoSweep lines, the records memoised
// before the previous sweep are dropped (sweep), so the memo keeps nothing
// of a line more than 2×memoSweep lines old (ingest's batches hold as
// many). Otherwise it holds 512 records and keys, some 100 KiB of Go heap
// outside MaxBytes.
type memo[R any] struct {
	seed  maphash.Seed
	slots [memoSlots]memoSlot[R]
}

type memoSlot[R any] struct {
	ok bool
	// until is the value of Correlator.used up to which the record is
	// certainly still in the cache.
	until uint64
	// line is the value of Correlator.lines when it was memoised.
	line uint64
	key  []byte
	r    R
}

func (m *memo[R]) init() { m.seed = maphash.MakeSeed() }

func (m *memo[R]) slot(key []byte) *memoSlot[R] {
	return &m.slots[maphash.Bytes(m.seed, key)%memoSlots]
}

// get returns the record of key if it is memoised and still in the cache
// by the count of bytes Set so far (used).
func (m *memo[R]) get(key []byte, used uint64) (*R, bool) {
	s := m.slot(key)
	if !s.ok || s.until < used || !bytes.Equal(s.key, key) {
		return nil, false
	}
	return &s.r, true
}

// put memoises r as the record of key until used passes until; line is
// the number of the line being observed.
func (m *memo[R]) put(key []byte, r *R, until, line uint64) {
	s := m.slot(key)
	s.ok, s.until, s.line, s.r = true, until, line, *r
	s.key = append(s.key[:0], key...)
}

// drop forgets key's record.
func (m *memo[R]) drop(key []byte) {
	if s := m.slot(key); s.ok && bytes.Equal(s.key, key) {
		s.ok = false
	}
}

// reset forgets every record.
func (m *memo[R]) reset() {
	for i := range m.slots {
		m.slots[i].ok = false
		m.slots[i].r = *new(R) // nothing of an erased record stays referenced
	}
}

// sweep drops the records memoised before line−memoSweep, and those no
// longer valid, with what they reference.
func (m *memo[R]) sweep(line, used uint64) {
	for i := range m.slots {
		s := &m.slots[i]
		if s.ok && s.until >= used && line-s.line < memoSweep {
			continue
		}
		s.ok = false
		s.r = *new(R)
	}
}

// set writes key and the encoded record in c.enc to the cache and returns
// the value of c.used up to which they certainly stay there, or false if
// fastcache does not store them.
func (c *Correlator) set(key []byte) (uint64, bool) {
	c.cache.Set(key, c.enc)
	n := uint64(4 + len(key) + len(c.enc))
	// Counted twice: a Set may skip up to its own size at a chunk's end.
	c.used += 2 * n
	if n >= 64<<10 || n >= c.bucketBytes {
		// fastcache drops an entry that does not fit in a chunk, without
		// a word, and the key keeps its previous value.
		return 0, false
	}
	return c.used + c.bucketBytes - n, true
}

// memoGot memoises a record just read from the cache, until the next Set.
func memoGot[R any](c *Correlator, m *memo[R], key []byte, r *R) {
	if !c.noMemo {
		m.put(key, r, c.used, c.lines)
	}
}

// memoSet memoises a record just written to the cache, or drops key's
// record if fastcache did not store it.
func memoSet[R any](c *Correlator, m *memo[R], key []byte, r *R, until uint64, stored bool) {
	if stored && !c.noMemo {
		m.put(key, r, until, c.lines)
	} else {
		m.drop(key)
	}
}

// putSession writes r as the session whose key is in c.skey.
func (c *Correlator) putSession(r *sessRec) {
	c.enc = r.encode(c.enc[:0])
	until, ok := c.set(c.skey)
	memoSet(c, &c.smemo, c.skey, r, until, ok)
}

// delSession deletes the session whose key is in c.skey.
func (c *Correlator) delSession() {
	c.cache.Del(c.skey)
	c.smemo.drop(c.skey)
}

// delMessage deletes the message of key.
func (c *Correlator) delMessage(key []byte) {
	c.cache.Del(key)
	c.mmemo.drop(key)
}

// fill sets an empty event field to a record's field, as a view of its
// bytes: they are never written to (see memo).
func fill(dst *string, src []byte) {
	if *dst == "" && len(src) > 0 {
		*dst = unsafe.String(unsafe.SliceData(src), len(src))
	}
}
