// Package correlate ties log lines together: an smtpd session (process id,
// from connect to disconnect) to the messages it submitted, and a message
// (queue id) to everything later logged about it, so that a delivery line
// carries the sender, the client address and the SASL user of the session
// that sent the message. State is bounded in memory and expires.
//
// State lives in a fastcache ring (github.com/VictoriaMetrics/fastcache):
// a fixed amount of memory, allocated outside the Go heap as it fills,
// where new values overwrite the oldest ones once it is full. That is the
// bound: a flood of messages that are never removed (a log cut short, a
// queue that keeps growing) costs evictions of the oldest state, never
// memory. The records of the last few hundred messages and sessions are
// also kept decoded beside it (memo.go), written through, for the lines
// that follow.
package correlate

import (
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"

	"github.com/VictoriaMetrics/fastcache"
)

// Bounds and defaults.
const (
	// DefaultMaxBytes is Config.MaxBytes when zero.
	DefaultMaxBytes = 64 << 20
	// MinMaxBytes is the smallest bound honoured; a smaller MaxBytes is
	// raised to it. fastcache splits its ring into 512 buckets of whole
	// 64 KiB chunks, so it never holds less than 32 MiB, and its index
	// needs room beside that (see ringBytes).
	MinMaxBytes = 40 << 20
	// DefaultSessionTTL is Config.SessionTTL when zero.
	DefaultSessionTTL = time.Hour
	// DefaultMessageTTL is Config.MessageTTL when zero.
	DefaultMessageTTL = 6 * 24 * time.Hour
)

// ringStep is fastcache's granularity: 512 buckets of whole 64 KiB chunks,
// so a ring of any other size is rounded up to a multiple of 32 MiB.
const ringStep = 512 * 64 << 10

// ringBytes is the part of maxBytes given to fastcache's ring: the largest
// multiple of ringStep that leaves a sixth of maxBytes (at least 8 MiB)
// for its index. The index is a Go map of 8-byte hashes to 8-byte
// positions, one per entry (entries already overwritten included, until
// their bucket wraps again), and fastcache does not count it in its own
// bound. TestMemoryBound measures it: about 5 MiB per 32 MiB of ring.
func ringBytes(maxBytes int) int {
	reserve := max(maxBytes/6, 8<<20)
	return max((maxBytes-reserve)/ringStep*ringStep, ringStep)
}

// Config bounds the correlator.
type Config struct {
	// MaxBytes bounds the memory held for sessions and messages, index
	// included; 0 means 64 MiB, less than 40 MiB means 40 MiB (see
	// MinMaxBytes). The state itself gets a multiple of 32 MiB of it: a
	// 64 MiB bound holds about 85k messages in flight, each written three
	// times as its first lines come (see ringBytes and TestMemoryBound).
	MaxBytes int
	// SessionTTL forgets an smtpd session not heard of for this long (by
	// log time); 0 means 1h.
	SessionTTL time.Duration
	// MessageTTL forgets a message not heard of for this long; 0 means
	// 6 days (Postfix's maximal_queue_lifetime is 5 days).
	MessageTTL time.Duration
}

// Note is what the correlator knows about an event beyond its fields.
type Note struct {
	// NewMessage is set on the first queued (qmgr from=) event of a queue
	// id: the message has been received.
	NewMessage bool
	// Parent is the queue id of the message this event's message came
	// from: the original of a non-delivery or delay notification (the
	// event's Origin is then "bounce"), or the message whose delivery
	// handed this one over ("250 ... queued as", a content filter or a
	// second Postfix instance on the same host). Empty when there is none
	// or it is not known yet: a notification's own lines before the bounce
	// daemon names it have no parent.
	Parent string
}

// Stats describe the correlator's state.
type Stats struct {
	Sessions, Messages int
	// Bytes is the memory held: fastcache's allocated chunks and an
	// estimate of its index.
	Bytes int
	// Evictions counts sessions and messages overwritten by newer state
	// before they ended or expired (see Correlator.Stats).
	Evictions uint64
	// Expirations counts sessions and messages found past their TTL.
	Expirations uint64
}

// Correlator holds sessions and messages. Observe, Rebuild and the
// scratch buffers are not safe for concurrent use (ingest calls them from
// its one goroutine); Stats, Message and Session may be called from any
// goroutine at any time.
type Correlator struct {
	cfg        Config
	cache      *fastcache.Cache
	ring       int
	sessionTTL int64 // seconds
	messageTTL int64

	// now is the newest log time seen, Unix seconds: the clock of lookups
	// that come without an event (Message, Session).
	now atomic.Int64

	// Scratch buffers for keys and encoding, so that building them
	// allocates nothing.
	key, skey, ckey []byte
	enc             []byte

	// The message and session records last read from or written to the
	// cache, decoded (see memo).
	mmemo memo[msgRec]
	smemo memo[sessRec]
	// used counts the bytes Set so far, twice; bucketBytes is the size of
	// one of fastcache's buckets (see memo).
	used, bucketBytes uint64
	// lines counts the lines observed, for sweeping the memo.
	lines uint64
	// memoGen is the value of gen the memos belong to; gen counts Resets,
	// which may come from another goroutine.
	memoGen uint64
	gen     atomic.Uint64
	// noMemo turns the memos off, for the tests that compare against
	// lookups in the cache alone.
	noMemo bool

	sessIns, sessDel, msgIns, msgDel, expirations atomic.Uint64

	statsMu   sync.Mutex
	evictions uint64
}

// New makes a correlator.
func New(cfg Config) *Correlator {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxBytes < MinMaxBytes {
		cfg.MaxBytes = MinMaxBytes
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MessageTTL <= 0 {
		cfg.MessageTTL = DefaultMessageTTL
	}
	ring := ringBytes(cfg.MaxBytes)
	c := &Correlator{
		cfg:         cfg,
		cache:       fastcache.New(ring),
		ring:        ring,
		bucketBytes: uint64(ring / 512),
		sessionTTL:  int64(cfg.SessionTTL / time.Second),
		messageTTL:  int64(cfg.MessageTTL / time.Second),
	}
	c.mmemo.init()
	c.smemo.init()
	return c
}

// Config returns the configuration in force, defaults and the 32 MiB floor
// applied.
func (c *Correlator) Config() Config { return c.cfg }

// Reset forgets every session and message. After an erasure nothing the
// correlator remembers may copy the erased address into a later event; the
// records are not searchable, so all of them go (messages in flight lose
// their enrichment). Safe beside Observe.
func (c *Correlator) Reset() {
	c.cache.Reset()
	c.gen.Add(1)
	c.sessIns.Store(0)
	c.sessDel.Store(0)
	c.msgIns.Store(0)
	c.msgDel.Store(0)
	c.statsMu.Lock()
	c.evictions = 0
	c.statsMu.Unlock()
}

// Observe updates the state with e and fills e's empty fields from what
// earlier events said (sender, client, SASL identity, message id, size,
// recipient count, origin). It never overwrites what the line said.
func (c *Correlator) Observe(e *event.Event) Note {
	now := c.now.Load()
	if !e.Time.IsZero() {
		// TTLs are checked against the event's own time, so one line with
		// a wild timestamp cannot expire everything; the clock for lookups
		// without an event only moves forward.
		t := e.Time.Unix()
		if t > now {
			c.now.Store(t)
		}
		now = t
	}
	if g := c.gen.Load(); g != c.memoGen {
		c.mmemo.reset()
		c.smemo.reset()
		c.memoGen = g
	}
	if c.lines++; c.lines%memoSweep == 0 {
		c.mmemo.sweep(c.lines, c.used)
		c.smemo.sweep(c.lines, c.used)
	}
	if e.QueueID != "" {
		return c.observeMessage(e, now)
	}
	if e.PID != 0 && e.Program == "smtpd" {
		c.observeSession(e, now)
	}
	return Note{}
}

// Rebuild replays events, oldest first, into the correlator, so that a
// restarted exporter enriches the lines of messages received before the
// restart. It returns how many events it replayed. The events are the
// journal's, already enriched: Observe only fills what is empty, and takes
// a journaled origin as given.
func (c *Correlator) Rebuild(events iter.Seq[*event.Event]) int {
	n := 0
	for e := range events {
		c.Observe(e)
		n++
	}
	return n
}

// Stateful reports whether events of kind k change the correlator's state.
// A rebuild may replay only those: the others are only enriched.
func Stateful(k event.Kind) bool {
	switch k {
	case event.KindConnect, event.KindDisconnect, event.KindTLS, event.KindClient,
		event.KindPickup, event.KindMessageID, event.KindQueued, event.KindBounceNotice,
		event.KindDelivery, event.KindRemoved, event.KindExpired:
		return true
	}
	return false
}

func (c *Correlator) observeSession(e *event.Event, now int64) {
	switch e.Kind {
	case event.KindConnect:
		c.skey = sessionKey(c.skey, e.Host, e.Service, e.PID)
		// A session whose disconnect was never logged is simply replaced:
		// the pid is being used by a new smtpd process.
		existed := c.cache.Has(c.skey)
		r := sessRec{seen: now}
		r.f[sClientHost], r.f[sClientIP] = str(e.ClientHost), str(e.ClientIP)
		c.putSession(&r)
		if !existed {
			c.sessIns.Add(1)
		}
	case event.KindDisconnect:
		var r sessRec
		if c.getSession(e, now, &r) {
			c.fillFromSession(e, &r)
			c.sessDel.Add(1)
		}
		// Even when the lookup missed: an overwritten entry's index stays
		// in fastcache's map until its bucket wraps, and deleting it keeps
		// the entry count, hence the derived evictions, current.
		c.delSession()
	case event.KindTLS:
		var r sessRec
		if e.TLSProtocol == "" || !c.getSession(e, now, &r) {
			return
		}
		r.f[sTLSProtocol], r.f[sTLSCipher], r.f[sTLSTrust] = str(e.TLSProtocol), str(e.TLSCipher), str(e.TLSTrust)
		r.seen = now
		c.putSession(&r)
	default:
		if e.ClientIP != "" && (e.SASLUsername != "" || e.Kind == event.KindAuthFailure) {
			return // nothing the session could add
		}
		var r sessRec
		if c.getSession(e, now, &r) {
			c.fillFromSession(e, &r)
		}
	}
}

// getSession looks up e's smtpd session into r; its key is left in c.skey.
// r's fields alias memory nothing writes to (see memo).
func (c *Correlator) getSession(e *event.Event, now int64, r *sessRec) bool {
	c.skey = sessionKey(c.skey, e.Host, e.Service, e.PID)
	if m, ok := c.smemo.get(c.skey, c.used); ok {
		*r = *m
	} else {
		// A nil buffer: the value gets memory of its own, which the
		// record, the memo and the events filled from it may keep.
		v, ok := c.cache.HasGet(nil, c.skey)
		if !ok {
			return false
		}
		if !r.decode(v) {
			c.delSession()
			c.sessDel.Add(1)
			return false
		}
		memoGot(c, &c.smemo, c.skey, r)
	}
	if now-r.seen > c.sessionTTL {
		c.delSession()
		c.sessDel.Add(1)
		c.expirations.Add(1)
		return false
	}
	return true
}

func (c *Correlator) fillFromSession(e *event.Event, r *sessRec) {
	fill(&e.ClientHost, r.f[sClientHost])
	fill(&e.ClientIP, r.f[sClientIP])
	// A failed authentication is not the identity of a later success (nor
	// the other way round).
	if e.Kind != event.KindAuthFailure {
		fill(&e.SASLMethod, r.f[sSASLMethod])
		fill(&e.SASLUsername, r.f[sSASLUsername])
	}
	// A SASL submission happened inside the session's TLS (STARTTLS or
	// smtps): the login audit reads it from the client= line, which does
	// not say so itself.
	if e.Kind == event.KindClient {
		fill(&e.TLSProtocol, r.f[sTLSProtocol])
		fill(&e.TLSCipher, r.f[sTLSCipher])
		fill(&e.TLSTrust, r.f[sTLSTrust])
	}
}

func (c *Correlator) observeMessage(e *event.Event, now int64) Note {
	c.key = messageKey(c.key, e.Host, e.QueueID)
	var r msgRec
	found := c.getMessage(c.key, now, &r)
	var note Note
	switch e.Kind {
	case event.KindClient:
		c.startFromClient(e, now, found)
		return note
	case event.KindPickup:
		// pickup's line is a message's first, so an existing record is
		// a previous message under a reused queue id.
		nr := msgRec{seen: now, origin: originPickup}
		nr.f[mSender] = str(e.Sender)
		c.putMessage(c.key, &nr, found)
		if e.Origin == "" {
			e.Origin = originNames[originPickup]
		}
		return note
	case event.KindMessageID:
		// cleanup logs message-id= once per message, before qmgr; after
		// from= or an expiry it belongs to a new message under a reused
		// queue id (whose removal went unlogged or unread).
		if !found || r.flags&(flagQueued|flagEnded) != 0 {
			r = msgRec{origin: originCode(e.Origin)}
		}
		if e.MessageID != "" {
			r.f[mMessageID] = str(e.MessageID)
		}
		r.seen = now
		note = c.fillFromMessage(e, &r)
		c.putMessage(c.key, &r, found)
	case event.KindQueued:
		if found && r.flags&flagEnded != 0 {
			r, found = msgRec{}, true
		} else if !found {
			r = msgRec{}
		}
		if r.origin == originUnknown {
			r.origin = originCode(e.Origin)
		}
		// Nothing received it through smtpd or pickup and its sender is
		// null: Postfix made it itself (bounce, delay, or double-bounce
		// notification). The bounce daemon names its parent only after
		// qmgr has logged it.
		if r.origin == originUnknown && e.Sender == "" && len(r.f[mClientIP]) == 0 && len(r.f[mClientHost]) == 0 {
			r.origin = originBounce
		}
		// qmgr's from= is the envelope sender after canonical rewriting:
		// it wins over pickup's.
		if e.Sender != "" {
			r.f[mSender] = str(e.Sender)
		}
		if e.Size > 0 {
			r.size = e.Size
		}
		if e.Nrcpt > 0 {
			r.nrcpt = e.Nrcpt
		}
		// Postfix logs from= again on every retry of a deferred message.
		note.NewMessage = r.flags&flagQueued == 0
		r.flags |= flagQueued
		r.seen = now
		n := c.fillFromMessage(e, &r)
		n.NewMessage = note.NewMessage
		note = n
		c.putMessage(c.key, &r, found)
	case event.KindBounceNotice:
		if found {
			note = c.fillFromMessage(e, &r)
		}
		if e.NextQueueID != "" && e.NextQueueID != e.QueueID {
			c.link(e, &r, found, linkBounce, now)
		}
	case event.KindDelivery:
		if found {
			note = c.fillFromMessage(e, &r)
		}
		if e.NextQueueID != "" && e.NextQueueID != e.QueueID {
			c.link(e, &r, found, linkHop, now)
		}
	case event.KindRemoved:
		if found {
			note = c.fillFromMessage(e, &r)
			c.msgDel.Add(1)
		}
		c.delMessage(c.key) // even on a miss: see the disconnect case
	case event.KindExpired:
		if found {
			note = c.fillFromMessage(e, &r)
			// Kept until qmgr's "removed", which follows once the bounce
			// daemon has queued the notification: the bounce notice in
			// between still needs the original's fields.
			r.flags |= flagEnded
			r.seen = now
			c.putMessage(c.key, &r, true)
		}
	default:
		if found {
			note = c.fillFromMessage(e, &r)
		}
	}
	return note
}

// startFromClient starts a message at smtpd's "QID: client=" line, the
// first of every message smtpd receives: an existing record under the
// same key is a previous message (Postfix reuses queue ids).
func (c *Correlator) startFromClient(e *event.Event, now int64, existed bool) {
	var s sessRec
	sok := e.PID != 0 && c.getSession(e, now, &s)
	if sok {
		c.fillFromSession(e, &s)
	}
	origin := originCode(e.Origin)
	if origin == originUnknown {
		origin = originSMTPD
		if e.SASLUsername != "" || strings.Contains(e.Service, "submission") || strings.Contains(e.Service, "smtps") {
			origin = originSubmission
		}
	}
	if e.Origin == "" {
		e.Origin = originNames[origin]
	}
	nr := msgRec{seen: now, origin: origin}
	nr.f[mClientHost], nr.f[mClientIP] = str(e.ClientHost), str(e.ClientIP)
	nr.f[mSASLMethod], nr.f[mSASLUsername] = str(e.SASLMethod), str(e.SASLUsername)
	c.putMessage(c.key, &nr, existed)
	// The session remembers its SASL identity for the lines that do not
	// repeat it (disconnect, a later reject).
	if sok && e.SASLUsername != "" && len(s.f[sSASLUsername]) == 0 {
		s.f[sSASLMethod], s.f[sSASLUsername] = str(e.SASLMethod), str(e.SASLUsername)
		s.seen = now
		c.putSession(&s)
	}
}

// link records that e.NextQueueID came from e.QueueID (whose record, if
// found, is p). A notification is created if not known yet (the bounce
// daemon may name it before qmgr logs it) and is marked as a bounce. A hop
// is linked only when it is known here: "queued as" may name a queue id of
// another server. A hop inherits the parent's SASL identity and sender
// where it has none, so the deliveries of a message a content filter
// re-injected still name the user who submitted it.
func (c *Correlator) link(e *event.Event, p *msgRec, pfound bool, kind uint8, now int64) {
	c.ckey = messageKey(c.ckey, e.Host, e.NextQueueID)
	var r msgRec
	found := c.getMessage(c.ckey, now, &r)
	switch kind {
	case linkBounce:
		if !found {
			r = msgRec{}
		}
		r.origin = originBounce
	case linkHop:
		if !found || len(r.f[mParent]) > 0 {
			return
		}
		if pfound && len(r.f[mSASLUsername]) == 0 {
			r.f[mSASLMethod], r.f[mSASLUsername] = p.f[mSASLMethod], p.f[mSASLUsername]
		}
		if pfound && len(r.f[mSender]) == 0 {
			r.f[mSender] = p.f[mSender]
		}
	}
	r.link = kind
	r.f[mParent] = str(e.QueueID)
	r.seen = now
	c.putMessage(c.ckey, &r, found)
}

// getMessage looks up the message of key (host and qid) into r, whose
// fields then alias memory nothing writes to (see memo).
func (c *Correlator) getMessage(key []byte, now int64, r *msgRec) bool {
	if m, ok := c.mmemo.get(key, c.used); ok {
		*r = *m
	} else {
		// A nil buffer: see getSession.
		v, ok := c.cache.HasGet(nil, key)
		if !ok {
			return false
		}
		if !r.decode(v) {
			c.delMessage(key)
			c.msgDel.Add(1)
			return false
		}
		memoGot(c, &c.mmemo, key, r)
	}
	if now-r.seen > c.messageTTL {
		c.delMessage(key)
		c.msgDel.Add(1)
		c.expirations.Add(1)
		return false
	}
	return true
}

func (c *Correlator) putMessage(key []byte, r *msgRec, existed bool) {
	c.enc = r.encode(c.enc[:0])
	until, ok := c.set(key)
	memoSet(c, &c.mmemo, key, r, until, ok)
	if !existed {
		c.msgIns.Add(1)
	}
}

func (c *Correlator) fillFromMessage(e *event.Event, r *msgRec) Note {
	var parent string
	fill(&e.Sender, r.f[mSender])
	fill(&e.ClientHost, r.f[mClientHost])
	fill(&e.ClientIP, r.f[mClientIP])
	fill(&e.SASLMethod, r.f[mSASLMethod])
	fill(&e.SASLUsername, r.f[mSASLUsername])
	fill(&e.MessageID, r.f[mMessageID])
	fill(&parent, r.f[mParent])
	if e.Size == 0 {
		e.Size = r.size
	}
	if e.Nrcpt == 0 {
		e.Nrcpt = r.nrcpt
	}
	if e.Origin == "" {
		e.Origin = originNames[r.origin]
	}
	return Note{Parent: parent}
}

// Stats reports the state's size and evictions so far.
//
// fastcache does not report evictions, so they are derived: entries
// created − entries deleted (ended, expired) − entries in fastcache's
// index. Two things make that exact in the long run but late in the short:
// fastcache drops the index entries of overwritten values only when their
// bucket's ring wraps, so an eviction shows from then on (or at once if
// the key is looked up, re-created or deleted first, since every miss that
// re-creates and every delete is accounted for); and state abandoned
// without an end (a session whose disconnect was never logged, a message
// whose removal was not read) counts as evicted when the ring overwrites
// it, unless a lookup found it expired first. fastcache cannot say which
// entries it overwrote either; sessions live seconds and messages minutes
// to days, so the oldest entries, the overwritten ones, are counted as
// messages first.
func (c *Correlator) Stats() Stats {
	var fs fastcache.Stats
	c.cache.UpdateStats(&fs)
	sIns, sDel := c.sessIns.Load(), c.sessDel.Load()
	mIns, mDel := c.msgIns.Load(), c.msgDel.Load()
	open := int64(sIns-sDel) + int64(mIns-mDel)
	derived := open - int64(fs.EntriesCount)
	c.statsMu.Lock()
	if derived > 0 && uint64(derived) > c.evictions {
		c.evictions = uint64(derived)
	}
	ev := c.evictions
	c.statsMu.Unlock()
	sessions := int64(sIns - sDel)
	messages := int64(mIns-mDel) - int64(ev)
	if messages < 0 {
		sessions += messages
		messages = 0
	}
	return Stats{
		Sessions:    int(max(sessions, 0)),
		Messages:    int(messages),
		Bytes:       int(fs.BytesSize) + int(fs.EntriesCount)*indexBytesPerEntry,
		Evictions:   ev,
		Expirations: c.expirations.Load(),
	}
}

// indexBytesPerEntry estimates fastcache's index cost: a Go map entry of
// two uint64 at the load factor of Go's swiss tables, with control bytes.
const indexBytesPerEntry = 20

// Message is what the correlator holds about a queue id.
type Message struct {
	QueueID                                     string
	Sender, ClientHost, ClientIP                string
	SASLMethod, SASLUsername, MessageID, Origin string
	Size                                        int64
	Nrcpt                                       int
	// Queued is whether qmgr has logged it (it was received in full).
	Queued bool
	// Parent is the queue id it came from (see Note.Parent); Bounce says
	// it is the bounce daemon's notification about Parent rather than a
	// hand-over.
	Parent string
	Bounce bool
	// LastSeen is the log time of the last line that changed it.
	LastSeen time.Time
}

// Message looks up a queue id on a syslog host. It is safe for concurrent
// use with Observe.
func (c *Correlator) Message(host, queueID string) (Message, bool) {
	var r msgRec
	v, ok := c.cache.HasGet(nil, messageKey(nil, host, queueID))
	if !ok || !r.decode(v) || c.now.Load()-r.seen > c.messageTTL {
		return Message{}, false
	}
	return Message{
		QueueID:      queueID,
		Sender:       string(r.f[mSender]),
		ClientHost:   string(r.f[mClientHost]),
		ClientIP:     string(r.f[mClientIP]),
		SASLMethod:   string(r.f[mSASLMethod]),
		SASLUsername: string(r.f[mSASLUsername]),
		MessageID:    string(r.f[mMessageID]),
		Origin:       originNames[r.origin],
		Size:         r.size,
		Nrcpt:        r.nrcpt,
		Queued:       r.flags&flagQueued != 0,
		Parent:       string(r.f[mParent]),
		Bounce:       r.link == linkBounce,
		LastSeen:     time.Unix(r.seen, 0).UTC(),
	}, true
}

// Parent returns the queue id a message came from (see Note.Parent). The
// other direction is in the journal: the parent's bounce_notice and
// delivery events carry the child in next_queue_id.
func (c *Correlator) Parent(host, queueID string) (string, bool) {
	m, ok := c.Message(host, queueID)
	if !ok || m.Parent == "" {
		return "", false
	}
	return m.Parent, true
}

// Session is what the correlator holds about an smtpd process.
type Session struct {
	ClientHost, ClientIP             string
	SASLMethod, SASLUsername         string
	TLSProtocol, TLSCipher, TLSTrust string
	LastSeen                         time.Time
}

// Session looks up the open smtpd session of a process. It is safe for
// concurrent use with Observe.
func (c *Correlator) Session(host, service string, pid int) (Session, bool) {
	var r sessRec
	v, ok := c.cache.HasGet(nil, sessionKey(nil, host, service, pid))
	if !ok || !r.decode(v) || c.now.Load()-r.seen > c.sessionTTL {
		return Session{}, false
	}
	return Session{
		ClientHost:   string(r.f[sClientHost]),
		ClientIP:     string(r.f[sClientIP]),
		SASLMethod:   string(r.f[sSASLMethod]),
		SASLUsername: string(r.f[sSASLUsername]),
		TLSProtocol:  string(r.f[sTLSProtocol]),
		TLSCipher:    string(r.f[sTLSCipher]),
		TLSTrust:     string(r.f[sTLSTrust]),
		LastSeen:     time.Unix(r.seen, 0).UTC(),
	}, true
}

// RebuildEvents is how many of the newest journaled events a restart
// replays into the correlator: enough for the messages in flight on a busy
// server (a million events is hours of mail), few enough to start in
// seconds.
const RebuildEvents = 1_000_000
