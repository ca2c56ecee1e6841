package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The event codec stores an Event's fields, except those kept in their own
// columns (time, kind, queue id), as a sequence of tagged values: a tag
// byte, then a uvarint length and bytes (strings), a zig-zag varint
// (integers) or eight bytes (floats). Only set fields are written, in tag
// order, so the encoding is canonical: the same event always gives the same
// bytes. Tags are part of the file format: never renumber or reuse one.

type stringField struct {
	tag byte
	get func(*event.Event) *string
}

type intField struct {
	tag byte
	get func(*event.Event) *int
}

var stringFields = []stringField{
	{1, func(e *event.Event) *string { return &e.Instance }},
	{2, func(e *event.Event) *string { return &e.Host }},
	{3, func(e *event.Event) *string { return &e.Service }},
	{4, func(e *event.Event) *string { return &e.Program }},
	{5, func(e *event.Event) *string { return &e.ClientHost }},
	{6, func(e *event.Event) *string { return &e.ClientIP }},
	{7, func(e *event.Event) *string { return &e.ServerIP }},
	{8, func(e *event.Event) *string { return &e.SASLMethod }},
	{9, func(e *event.Event) *string { return &e.SASLUsername }},
	{10, func(e *event.Event) *string { return &e.Sender }},
	{11, func(e *event.Event) *string { return &e.Recipient }},
	{12, func(e *event.Event) *string { return &e.OrigRecipient }},
	{13, func(e *event.Event) *string { return &e.RelayHost }},
	{14, func(e *event.Event) *string { return &e.RelayIP }},
	{15, func(e *event.Event) *string { return &e.DSN }},
	{16, func(e *event.Event) *string { return &e.Status }},
	{17, func(e *event.Event) *string { return &e.Response }},
	{18, func(e *event.Event) *string { return &e.MessageID }},
	{19, func(e *event.Event) *string { return &e.TLSProtocol }},
	{20, func(e *event.Event) *string { return &e.TLSCipher }},
	{21, func(e *event.Event) *string { return &e.TLSTrust }},
	{22, func(e *event.Event) *string { return &e.TLSLevel }},
	{23, func(e *event.Event) *string { return &e.NextQueueID }},
	{24, func(e *event.Event) *string { return &e.RejectStage }},
	{25, func(e *event.Event) *string { return &e.Protocol }},
	{26, func(e *event.Event) *string { return &e.Helo }},
	{27, func(e *event.Event) *string { return &e.Action }},
	{28, func(e *event.Event) *string { return &e.After }},
	{29, func(e *event.Event) *string { return &e.Commands }},
	{30, func(e *event.Event) *string { return &e.Verdict }},
	{31, func(e *event.Event) *string { return &e.DNSBLDomain }},
	{32, func(e *event.Event) *string { return &e.Check }},
	{33, func(e *event.Event) *string { return &e.Result }},
	{34, func(e *event.Event) *string { return &e.Domain }},
	{35, func(e *event.Event) *string { return &e.Level }},
	{36, func(e *event.Event) *string { return &e.Detail }},
	{37, func(e *event.Event) *string { return &e.Raw }},
	{38, func(e *event.Event) *string { return &e.Origin }},
}

var intFields = []intField{
	{64, func(e *event.Event) *int { return &e.PID }},
	{65, func(e *event.Event) *int { return &e.ClientPort }},
	{66, func(e *event.Event) *int { return &e.ServerPort }},
	{67, func(e *event.Event) *int { return &e.RelayPort }},
	{68, func(e *event.Event) *int { return &e.Nrcpt }},
	{69, func(e *event.Event) *int { return &e.Attempts }},
	{70, func(e *event.Event) *int { return &e.DNSBLRank }},
	{71, func(e *event.Event) *int { return &e.Repeat }},
}

const (
	tagSize   = 96
	tagDelay  = 112
	tagDelays = 113
	tagNoTime = 127
)

// appendEvent appends the canonical encoding of e's non-column fields. A
// tag with no payload marks an event without a time of its own (its time
// column then holds the ingest time). The fields are written out rather
// than looped over from the tables above: ingest encodes every event, and
// the loop's indirect calls cost a twentieth of its CPU. TestCodecTables
// holds the two to the same bytes.
func appendEvent(dst []byte, e *event.Event) []byte {
	if e.Time.IsZero() {
		dst = append(dst, tagNoTime)
	}
	dst = appendStringField(dst, 1, e.Instance)
	dst = appendStringField(dst, 2, e.Host)
	dst = appendStringField(dst, 3, e.Service)
	dst = appendStringField(dst, 4, e.Program)
	dst = appendStringField(dst, 5, e.ClientHost)
	dst = appendStringField(dst, 6, e.ClientIP)
	dst = appendStringField(dst, 7, e.ServerIP)
	dst = appendStringField(dst, 8, e.SASLMethod)
	dst = appendStringField(dst, 9, e.SASLUsername)
	dst = appendStringField(dst, 10, e.Sender)
	dst = appendStringField(dst, 11, e.Recipient)
	dst = appendStringField(dst, 12, e.OrigRecipient)
	dst = appendStringField(dst, 13, e.RelayHost)
	dst = appendStringField(dst, 14, e.RelayIP)
	dst = appendStringField(dst, 15, e.DSN)
	dst = appendStringField(dst, 16, e.Status)
	dst = appendStringField(dst, 17, e.Response)
	dst = appendStringField(dst, 18, e.MessageID)
	dst = appendStringField(dst, 19, e.TLSProtocol)
	dst = appendStringField(dst, 20, e.TLSCipher)
	dst = appendStringField(dst, 21, e.TLSTrust)
	dst = appendStringField(dst, 22, e.TLSLevel)
	dst = appendStringField(dst, 23, e.NextQueueID)
	dst = appendStringField(dst, 24, e.RejectStage)
	dst = appendStringField(dst, 25, e.Protocol)
	dst = appendStringField(dst, 26, e.Helo)
	dst = appendStringField(dst, 27, e.Action)
	dst = appendStringField(dst, 28, e.After)
	dst = appendStringField(dst, 29, e.Commands)
	dst = appendStringField(dst, 30, e.Verdict)
	dst = appendStringField(dst, 31, e.DNSBLDomain)
	dst = appendStringField(dst, 32, e.Check)
	dst = appendStringField(dst, 33, e.Result)
	dst = appendStringField(dst, 34, e.Domain)
	dst = appendStringField(dst, 35, e.Level)
	dst = appendStringField(dst, 36, e.Detail)
	dst = appendStringField(dst, 37, e.Raw)
	dst = appendStringField(dst, 38, e.Origin)
	dst = appendIntField(dst, 64, e.PID)
	dst = appendIntField(dst, 65, e.ClientPort)
	dst = appendIntField(dst, 66, e.ServerPort)
	dst = appendIntField(dst, 67, e.RelayPort)
	dst = appendIntField(dst, 68, e.Nrcpt)
	dst = appendIntField(dst, 69, e.Attempts)
	dst = appendIntField(dst, 70, e.DNSBLRank)
	dst = appendIntField(dst, 71, e.Repeat)
	if e.Size != 0 {
		dst = append(dst, tagSize)
		dst = binary.AppendVarint(dst, e.Size)
	}
	if e.Delay != 0 {
		dst = append(dst, tagDelay)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.Delay))
	}
	if e.Delays != (event.Delays{}) {
		dst = append(dst, tagDelays)
		for _, v := range [4]float64{e.Delays.BeforeQmgr, e.Delays.InQmgr, e.Delays.ConnSetup, e.Delays.Transmission} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return dst
}

func appendStringField(dst []byte, tag byte, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendIntField(dst []byte, tag byte, v int) []byte {
	if v == 0 {
		return dst
	}
	dst = append(dst, tag)
	return binary.AppendVarint(dst, int64(v))
}

var errCorrupt = errors.New("corrupt event encoding")

// decodeEvent fills e's non-column fields from b and tells whether the event
// had a time of its own. Strings are copied out of b, which the database
// driver may reuse.
func decodeEvent(b []byte, e *event.Event) (hasTime bool, err error) {
	hasTime = true
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch {
		case tag == tagNoTime:
			hasTime = false
		case tag >= 1 && int(tag) <= len(stringFields):
			n, k := binary.Uvarint(b)
			if k <= 0 || n > uint64(len(b)-k) {
				return hasTime, fmt.Errorf("%w: string field %d", errCorrupt, tag)
			}
			*stringFields[tag-1].get(e) = string(b[k : k+int(n)])
			b = b[k+int(n):]
		case tag >= 64 && int(tag) < 64+len(intFields):
			v, k := binary.Varint(b)
			if k <= 0 {
				return hasTime, fmt.Errorf("%w: int field %d", errCorrupt, tag)
			}
			*intFields[tag-64].get(e) = int(v)
			b = b[k:]
		case tag == tagSize:
			v, k := binary.Varint(b)
			if k <= 0 {
				return hasTime, fmt.Errorf("%w: size", errCorrupt)
			}
			e.Size = v
			b = b[k:]
		case tag == tagDelay:
			if len(b) < 8 {
				return hasTime, fmt.Errorf("%w: delay", errCorrupt)
			}
			e.Delay = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		case tag == tagDelays:
			if len(b) < 32 {
				return hasTime, fmt.Errorf("%w: delays", errCorrupt)
			}
			var v [4]float64
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
			e.Delays = event.Delays{BeforeQmgr: v[0], InQmgr: v[1], ConnSetup: v[2], Transmission: v[3]}
			b = b[32:]
		default:
			return hasTime, fmt.Errorf("%w: unknown tag %d", errCorrupt, tag)
		}
	}
	return hasTime, nil
}

// timeToCol and colToTime store times as Unix nanoseconds: integer columns
// sort and compare cheaply, and nanoseconds keep every fraction a log has.
func timeToCol(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func colToTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}
