package journal

import (
	"bytes"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// blockEntries is a block with every kind of entry: events with and
// without a raw line (and without a time), a tombstone, a redacted event.
func blockEntries(t *testing.T) []entry {
	full := fullEvent(t)
	noTime := full
	noTime.Time = event.Event{}.Time
	noRaw := full
	noRaw.Raw = ""
	rawOnly := event.Event{Raw: "Jun  1 10:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]"}
	var es []entry
	for i, e := range []*event.Event{&full, &noTime, &noRaw, &rawOnly, {}} {
		es = append(es, entry{seq: int64(10 + 3*i), t: int64(1000 * i), kind: event.KindConnect, src: int64(i % 2), qid: []byte("4BfD3x1x2z"), data: appendEvent(nil, e)})
	}
	es = append(es, entry{seq: 30, tomb: true, leaf: integrity.LeafHash([]byte("gone"))})
	es = append(es, entry{seq: 31, t: 5, kind: event.KindDelivery, redacted: true, leaf: integrity.LeafHash([]byte("was")), data: appendEvent(nil, &rawOnly)})
	return es
}

func sameEntries(t *testing.T, got, want []entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.seq != w.seq || g.tomb != w.tomb || g.redacted != w.redacted || g.leaf != w.leaf || g.t != w.t ||
			g.kind != w.kind || g.src != w.src || !bytes.Equal(g.qid, w.qid) || !bytes.Equal(g.data, w.data) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestBlockRoundTrip: a block of either codec gives back every entry's
// bytes, into a fresh buffer or a reused one.
func TestBlockRoundTrip(t *testing.T) {
	want := blockEntries(t)
	for _, enc := range []*blockEncoder{{}, {zstd: true}} {
		_, blob, err := enc.encode(want)
		if err != nil {
			t.Fatal(err)
		}
		got, buf, err := decodeBlock(blob, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameEntries(t, got, want)
		got, _, err = decodeBlock(blob, buf, got[:0])
		if err != nil {
			t.Fatal(err)
		}
		sameEntries(t, got, want)
	}
}

// TestBlockPayloadCorrupt: every cut and every flipped byte of a payload
// is an error or a block of entries, never a panic.
func TestBlockPayloadCorrupt(t *testing.T) {
	p := appendBlockPayload(nil, blockEntries(t))
	for n := range len(p) {
		if _, err := decodeBlockPayload(p[:n], nil); err == nil {
			t.Errorf("payload cut to %d of %d bytes decoded", n, len(p))
		}
	}
	for i := range p {
		c := bytes.Clone(p)
		c[i] ^= 0xff
		decodeBlockPayload(c, nil)
	}
}
