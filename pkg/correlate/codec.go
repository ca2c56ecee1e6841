package correlate

import (
	"encoding/binary"
	"strconv"
	"unsafe"
)

// The values in the cache are a hand-written encoding rather than JSON or
// gob: Observe decodes one on nearly every event, and this one decodes into
// slices of the buffer fastcache copied the value into, with no allocation.
//
//	message: 'm' flags origin link uvarint(seen) uvarint(size) uvarint(nrcpt) 7×(uvarint(len) bytes)
//	session: 's' flags uvarint(seen) 7×(uvarint(len) bytes)
//
// seen is the log time of the last update in Unix seconds. A value that does
// not decode (a hash collision fastcache did not catch, a format from a
// future version) counts as absent.

const (
	tagMessage = 'm'
	tagSession = 's'
)

// Message flags.
const (
	flagQueued uint8 = 1 << iota // qmgr logged from= at least once
	flagEnded                    // qmgr logged status=expired
)

// Origins, in the order of originNames; 0 is unknown.
const (
	originUnknown uint8 = iota
	originSMTPD
	originSubmission
	originPickup
	originBounce
	numOrigins
)

var originNames = [numOrigins]string{"", "smtpd", "submission", "pickup", "bounce"}

func originCode(s string) uint8 {
	for i, n := range originNames {
		if i > 0 && n == s {
			return uint8(i)
		}
	}
	return originUnknown
}

// Links from a message to its parent.
const (
	linkNone   uint8 = iota
	linkBounce       // the message is the bounce daemon's notification about the parent
	linkHop          // the parent's delivery handed it over ("queued as")
)

// Message string fields, in encoding order.
const (
	mSender = iota
	mClientHost
	mClientIP
	mSASLMethod
	mSASLUsername
	mMessageID
	mParent
	numMsgFields
)

// Session string fields, in encoding order.
const (
	sClientHost = iota
	sClientIP
	sSASLMethod
	sSASLUsername
	sTLSProtocol
	sTLSCipher
	sTLSTrust
	numSessFields
)

// msgRec is a decoded message. Its fields alias the buffer it was decoded
// from, or the strings of the event it was built from.
type msgRec struct {
	flags, origin, link uint8
	seen                int64
	size                int64
	nrcpt               int
	f                   [numMsgFields][]byte
}

type sessRec struct {
	flags uint8
	seen  int64
	f     [numSessFields][]byte
}

func (r *msgRec) encode(b []byte) []byte {
	b = append(b, tagMessage, r.flags, r.origin, r.link)
	b = binary.AppendUvarint(b, uint64(r.seen))
	b = binary.AppendUvarint(b, uint64(r.size))
	b = binary.AppendUvarint(b, uint64(r.nrcpt))
	for _, f := range r.f {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func (r *msgRec) decode(b []byte) bool {
	if len(b) < 4 || b[0] != tagMessage {
		return false
	}
	r.flags, r.origin, r.link = b[1], b[2], b[3]
	if r.origin >= numOrigins {
		return false
	}
	b = b[4:]
	var v [3]uint64
	for i := range v {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return false
		}
		v[i], b = x, b[n:]
	}
	r.seen, r.size, r.nrcpt = int64(v[0]), int64(v[1]), int(v[2])
	return decodeFields(r.f[:], b)
}

func (r *sessRec) encode(b []byte) []byte {
	b = append(b, tagSession, r.flags)
	b = binary.AppendUvarint(b, uint64(r.seen))
	for _, f := range r.f {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func (r *sessRec) decode(b []byte) bool {
	if len(b) < 2 || b[0] != tagSession {
		return false
	}
	r.flags = b[1]
	x, n := binary.Uvarint(b[2:])
	if n <= 0 {
		return false
	}
	r.seen = int64(x)
	return decodeFields(r.f[:], b[2+n:])
}

func decodeFields(fs [][]byte, b []byte) bool {
	for i := range fs {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return false
		}
		fs[i] = b[n : n+int(l) : n+int(l)]
		b = b[n+int(l):]
	}
	return len(b) == 0
}

// Keys: the kind, the syslog host (one exporter may hear several hosts
// over syslog, and their queue ids and pids are unrelated), then the
// queue id, or the service and pid of the smtpd process.
func messageKey(b []byte, host, qid string) []byte {
	b = append(b[:0], tagMessage)
	b = append(b, host...)
	b = append(b, 0)
	return append(b, qid...)
}

func sessionKey(b []byte, host, service string, pid int) []byte {
	b = append(b[:0], tagSession)
	b = append(b, host...)
	b = append(b, 0)
	b = append(b, service...)
	b = append(b, 0)
	return strconv.AppendInt(b, int64(pid), 10)
}

// str views an event string as bytes without copying it, so that building
// a record from an event allocates nothing. The bytes are only read
// (appended to an encode buffer or compared), never written.
func str(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
