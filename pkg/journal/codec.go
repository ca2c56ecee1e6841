package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
)

// The event codec stores an Event's fields, except those kept in their own
// columns (time, kind, queue id), as a sequence of tagged values: a tag
// byte, then a uvarint length and bytes (strings), a zig-zag varint
// (integers) or eight bytes (floats). Only set fields are written, in tag
// order, so the encoding is canonical: the same event always gives the same
// bytes. Tags are part of the file format: never renumber or reuse one.

type stringField struct {
	tag byte
	get func(*parser.Event) *string
}

type intField struct {
	tag byte
	get func(*parser.Event) *int
}

var stringFields = []stringField{
	{1, func(e *parser.Event) *string { return &e.Instance }},
	{2, func(e *parser.Event) *string { return &e.Host }},
	{3, func(e *parser.Event) *string { return &e.Service }},
	{4, func(e *parser.Event) *string { return &e.Program }},
	{5, func(e *parser.Event) *string { return &e.ClientHost }},
	{6, func(e *parser.Event) *string { return &e.ClientIP }},
	{7, func(e *parser.Event) *string { return &e.ServerIP }},
	{8, func(e *parser.Event) *string { return &e.SASLMethod }},
	{9, func(e *parser.Event) *string { return &e.SASLUsername }},
	{10, func(e *parser.Event) *string { return &e.Sender }},
	{11, func(e *parser.Event) *string { return &e.Recipient }},
	{12, func(e *parser.Event) *string { return &e.OrigRecipient }},
	{13, func(e *parser.Event) *string { return &e.RelayHost }},
	{14, func(e *parser.Event) *string { return &e.RelayIP }},
	{15, func(e *parser.Event) *string { return &e.DSN }},
	{16, func(e *parser.Event) *string { return &e.Status }},
	{17, func(e *parser.Event) *string { return &e.Response }},
	{18, func(e *parser.Event) *string { return &e.MessageID }},
	{19, func(e *parser.Event) *string { return &e.TLSProtocol }},
	{20, func(e *parser.Event) *string { return &e.TLSCipher }},
	{21, func(e *parser.Event) *string { return &e.TLSTrust }},
	{22, func(e *parser.Event) *string { return &e.TLSLevel }},
	{23, func(e *parser.Event) *string { return &e.NextQueueID }},
	{24, func(e *parser.Event) *string { return &e.RejectStage }},
	{25, func(e *parser.Event) *string { return &e.Protocol }},
	{26, func(e *parser.Event) *string { return &e.Helo }},
	{27, func(e *parser.Event) *string { return &e.Action }},
	{28, func(e *parser.Event) *string { return &e.After }},
	{29, func(e *parser.Event) *string { return &e.Commands }},
	{30, func(e *parser.Event) *string { return &e.Verdict }},
	{31, func(e *parser.Event) *string { return &e.DNSBLDomain }},
	{32, func(e *parser.Event) *string { return &e.Check }},
	{33, func(e *parser.Event) *string { return &e.Result }},
	{34, func(e *parser.Event) *string { return &e.Domain }},
	{35, func(e *parser.Event) *string { return &e.Level }},
	{36, func(e *parser.Event) *string { return &e.Detail }},
	{37, func(e *parser.Event) *string { return &e.Raw }},
	{38, func(e *parser.Event) *string { return &e.Origin }},
}

var intFields = []intField{
	{64, func(e *parser.Event) *int { return &e.PID }},
	{65, func(e *parser.Event) *int { return &e.ClientPort }},
	{66, func(e *parser.Event) *int { return &e.ServerPort }},
	{67, func(e *parser.Event) *int { return &e.RelayPort }},
	{68, func(e *parser.Event) *int { return &e.Nrcpt }},
	{69, func(e *parser.Event) *int { return &e.Attempts }},
	{70, func(e *parser.Event) *int { return &e.DNSBLRank }},
}

const (
	tagSize   = 96
	tagDelay  = 112
	tagDelays = 113
	tagNoTime = 127
)

// appendEvent appends the canonical encoding of e's non-column fields. A
// tag with no payload marks an event without a time of its own (its time
// column then holds the ingest time).
func appendEvent(dst []byte, e *parser.Event) []byte {
	if e.Time.IsZero() {
		dst = append(dst, tagNoTime)
	}
	for _, f := range stringFields {
		if s := *f.get(e); s != "" {
			dst = append(dst, f.tag)
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
	}
	for _, f := range intFields {
		if v := *f.get(e); v != 0 {
			dst = append(dst, f.tag)
			dst = binary.AppendVarint(dst, int64(v))
		}
	}
	if e.Size != 0 {
		dst = append(dst, tagSize)
		dst = binary.AppendVarint(dst, e.Size)
	}
	if e.Delay != 0 {
		dst = append(dst, tagDelay)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.Delay))
	}
	if e.Delays != (parser.Delays{}) {
		dst = append(dst, tagDelays)
		for _, v := range [4]float64{e.Delays.BeforeQmgr, e.Delays.InQmgr, e.Delays.ConnSetup, e.Delays.Transmission} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return dst
}

var errCorrupt = errors.New("corrupt event encoding")

// decodeEvent fills e's non-column fields from b and tells whether the event
// had a time of its own. Strings are copied out of b, which the database
// driver may reuse.
func decodeEvent(b []byte, e *parser.Event) (hasTime bool, err error) {
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
			e.Delays = parser.Delays{BeforeQmgr: v[0], InQmgr: v[1], ConnSetup: v[2], Transmission: v[3]}
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
