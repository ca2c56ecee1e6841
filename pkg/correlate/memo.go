package correlate

import (
	"unsafe"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// msgMemo is the last message record the correlator read from or wrote to
// the cache, decoded: most lines of a message follow one another, and
// each of them would otherwise look the record up and decode it again.
// The cache stays the source of truth (every change is written through,
// and Message reads the cache), so the memo must never hold what the cache
// no longer does. fastcache loses an entry only to Del, Reset, or a Set of
// another key overwriting it in its ring (a Set of the same key replaces
// it), so every Set and Del invalidates the memo of any other key, and
// Observe drops both memos after a Reset. A Set fastcache silently skips
// (an entry too large for a chunk, see fits) leaves no memo either.
//
// The memo keeps the record's fields, which alias either the strings of
// an event or a buffer fastcache returned for this record alone: neither
// is ever written to, so events are filled with views of them (fill)
// instead of copies.
type msgMemo struct {
	ok        bool
	host, qid string
	r         msgRec
}

// sessMemo is msgMemo for the last session record.
type sessMemo struct {
	ok            bool
	pid           int
	host, service string
	r             sessRec
}

// memoMessage makes r the message memo for (host, qid), or drops the memo
// if ok is false.
func (c *Correlator) memoMessage(host, qid string, r *msgRec, ok bool) {
	m := &c.mmemo
	m.ok = ok
	if ok {
		m.host, m.qid, m.r = host, qid, *r
	}
}

// memoSession makes r the session memo for e's smtpd process, or drops the
// memo if ok is false.
func (c *Correlator) memoSession(e *event.Event, r *sessRec, ok bool) {
	m := &c.smemo
	m.ok = ok
	if ok {
		m.host, m.service, m.pid, m.r = e.Host, e.Service, e.PID, *r
	}
}

// putSession writes r as the session of e's smtpd process, whose key is
// in c.skey.
func (c *Correlator) putSession(e *event.Event, r *sessRec) {
	c.enc = r.encode(c.enc[:0])
	c.cache.Set(c.skey, c.enc)
	c.mmemo.ok = false
	c.memoSession(e, r, !c.noMemo && fits(c.skey, c.enc))
}

// delSession deletes the session whose key is in c.skey.
func (c *Correlator) delSession() {
	c.cache.Del(c.skey)
	c.smemo.ok = false
}

// delMessage deletes the message of key.
func (c *Correlator) delMessage(key []byte) {
	c.cache.Del(key)
	c.mmemo.ok = false
}

// fits reports whether fastcache's Set stores k and v: an entry (a 4-byte
// header, the key and the value) must fit in one of its 64 KiB chunks, or
// Set drops it without a word and the key keeps its previous value.
func fits(k, v []byte) bool {
	return 4+len(k)+len(v) < 64<<10
}

// fill sets an empty event field to a record's field, as a view of its
// bytes: they are never written to (see msgMemo).
func fill(dst *string, src []byte) {
	if *dst == "" && len(src) > 0 {
		*dst = unsafe.String(unsafe.SliceData(src), len(src))
	}
}
