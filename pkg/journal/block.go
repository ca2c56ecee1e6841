package journal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// DefaultBlockEvents is how many events a sealed block holds: big enough
// for the compressor to find the repetition between log lines (S2 gives
// 54 bytes an event at 2048 on the simulated mix, 56 at 1024, 53 at 4096),
// small enough that a lookup decodes little.
const DefaultBlockEvents = 2048

// genShift groups blocks into postings generations of 32768 events.
const genShift = 15

// entry is one event of a block or of the hot table, its byte slices
// pointing into the buffer it was decoded from. A tombstone keeps only its
// sequence number and leaf hash: the event is gone, the proof is not.
type entry struct {
	seq  int64
	tomb bool
	// redacted marks an event rewritten by an erasure: its data no longer
	// hashes to its leaf, which is kept in leaf.
	redacted bool
	leaf     integrity.Hash
	t        int64
	kind     event.Kind
	src      int64
	qid      []byte
	data     []byte
}

// leafHash is the Merkle leaf of e; source is its source's name.
func (e *entry) leafHash(buf []byte, source string) (integrity.Hash, []byte) {
	if e.tomb || e.redacted {
		return e.leaf, buf
	}
	buf = appendLeaf(append(buf[:0], integrity.LeafPrefix), e.seq, e.t, e.kind, string(e.qid), source, e.data)
	return integrity.LeafHashPrefixed(buf), buf
}

// Block payload, before compression: uvarint count, then per entry a flag
// byte (0 event, 1 tombstone), the uvarint gap to the previous sequence
// number (from 0 for the first), then for an event the zig-zag time delta,
// the kind byte, the uvarint source id, and the length-prefixed queue id and
// codec bytes; for a tombstone the 32-byte leaf hash. A redacted event (2)
// is an event followed by its original leaf hash. Self-contained, so an
// archive carries blocks as they are.
const (
	entryEvent    = 0
	entryTomb     = 1
	entryRedacted = 2
)

func appendBlockPayload(dst []byte, es []entry) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(es)))
	var prevSeq, prevT int64
	for i := range es {
		e := &es[i]
		if e.tomb {
			dst = append(dst, entryTomb)
			dst = binary.AppendUvarint(dst, uint64(e.seq-prevSeq))
			dst = append(dst, e.leaf[:]...)
			prevSeq = e.seq
			continue
		}
		if e.redacted {
			dst = append(dst, entryRedacted)
		} else {
			dst = append(dst, entryEvent)
		}
		dst = binary.AppendUvarint(dst, uint64(e.seq-prevSeq))
		dst = binary.AppendVarint(dst, e.t-prevT)
		dst = append(dst, byte(e.kind))
		dst = binary.AppendUvarint(dst, uint64(e.src))
		dst = binary.AppendUvarint(dst, uint64(len(e.qid)))
		dst = append(dst, e.qid...)
		dst = binary.AppendUvarint(dst, uint64(len(e.data)))
		dst = append(dst, e.data...)
		if e.redacted {
			dst = append(dst, e.leaf[:]...)
		}
		prevSeq, prevT = e.seq, e.t
	}
	return dst
}

var errCorruptBlock = errors.New("corrupt block")

// decodeBlockPayload appends b's entries to es. Sequence numbers must
// strictly increase.
func decodeBlockPayload(b []byte, es []entry) ([]entry, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return es, fmt.Errorf("%w: count", errCorruptBlock)
	}
	b = b[k:]
	var prevSeq, prevT int64
	bytesField := func(what string) ([]byte, error) {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: %s", errCorruptBlock, what)
		}
		v := b[k : k+int(l) : k+int(l)]
		b = b[k+int(l):]
		return v, nil
	}
	for i := uint64(0); i < n; i++ {
		if len(b) < 2 {
			return es, fmt.Errorf("%w: entry %d of %d cut off", errCorruptBlock, i+1, n)
		}
		flag := b[0]
		gap, k := binary.Uvarint(b[1:])
		if k <= 0 || gap == 0 || gap > 1<<62 {
			return es, fmt.Errorf("%w: sequence gap", errCorruptBlock)
		}
		b = b[1+k:]
		e := entry{seq: prevSeq + int64(gap)}
		if e.seq <= prevSeq {
			return es, fmt.Errorf("%w: sequence overflow", errCorruptBlock)
		}
		prevSeq = e.seq
		switch flag {
		case entryTomb:
			if len(b) < integrity.HashSize {
				return es, fmt.Errorf("%w: tombstone cut off", errCorruptBlock)
			}
			e.tomb = true
			copy(e.leaf[:], b)
			b = b[integrity.HashSize:]
		case entryEvent, entryRedacted:
			dt, k := binary.Varint(b)
			if k <= 0 || len(b) < k+1 {
				return es, fmt.Errorf("%w: time", errCorruptBlock)
			}
			e.t = prevT + dt
			prevT = e.t
			e.kind = event.Kind(b[k])
			b = b[k+1:]
			src, k := binary.Uvarint(b)
			if k <= 0 || src > 1<<62 {
				return es, fmt.Errorf("%w: source", errCorruptBlock)
			}
			e.src = int64(src)
			b = b[k:]
			var err error
			if e.qid, err = bytesField("queue id"); err != nil {
				return es, err
			}
			if e.data, err = bytesField("event"); err != nil {
				return es, err
			}
			if flag == entryRedacted {
				if len(b) < integrity.HashSize {
					return es, fmt.Errorf("%w: original leaf cut off", errCorruptBlock)
				}
				e.redacted = true
				copy(e.leaf[:], b)
				b = b[integrity.HashSize:]
			}
		default:
			return es, fmt.Errorf("%w: entry flag %d", errCorruptBlock, flag)
		}
		es = append(es, e)
	}
	if len(b) != 0 {
		return es, fmt.Errorf("%w: %d bytes after the last entry", errCorruptBlock, len(b))
	}
	return es, nil
}

// blockMeta is a block's row in blocks: what query planning needs.
type blockMeta struct {
	first, last  int64
	minT, maxT   int64
	kinds        uint64
	events       int64
	sum          uint32
	hasLiveEvent bool
}

// metaOf computes the metadata of a block's entries (sum aside).
func metaOf(es []entry) blockMeta {
	m := blockMeta{first: es[0].seq, last: es[len(es)-1].seq}
	for i := range es {
		e := &es[i]
		if e.tomb {
			continue
		}
		if !m.hasLiveEvent || e.t < m.minT {
			m.minT = e.t
		}
		if !m.hasLiveEvent || e.t > m.maxT {
			m.maxT = e.t
		}
		m.hasLiveEvent = true
		m.kinds |= kindBit(e.kind)
		m.events++
	}
	return m
}

func kindBit(k event.Kind) uint64 {
	if k >= 64 {
		return 1 << 63
	}
	return 1 << k
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// codecs returns the shared zstd encoder and decoder, for archives and for
// blocks written before S2; their EncodeAll and DecodeAll may be called
// concurrently. The fastest level: the default one saves 2 bytes an event
// for 50% more time.
func codecs() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if zstdErr != nil {
			return
		}
		// A corrupt frame must not make the reader allocate gigabytes.
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(256<<20))
	})
	return zstdEnc, zstdDec, zstdErr
}

// A block's data is its payload compressed with S2 behind s2Prefix, or a
// zstd frame (which starts with its own magic number): blocks written
// before S2, and by journals opened with CompressZstd. S2 takes 40% of the
// CPU zstd's fastest level does, for 1.4 times its bytes (54 an event
// instead of 38 on the simulated mix).
var s2Prefix = []byte("s2\x00\x01")

// maxPayload bounds what a block may claim to decompress to, so that a
// corrupt length does not make a reader allocate gigabytes.
const maxPayload = 256 << 20

// Block codecs, Options.Compression.
const (
	// CompressS2 is the default: ingest is CPU-bound.
	CompressS2 = "s2"
	// CompressZstd takes a fifth less disk for 10-15% less ingest speed
	// (zstd's fastest level).
	CompressZstd = "zstd"
)

// blockEncoder compresses entries into a block's data and metadata. Its
// buffers are reused from block to block (zeroing a fresh one cost as much
// as a sixth of the compression).
type blockEncoder struct {
	zstd          bool
	payload, blob []byte
}

// encode returns es's block metadata and data; the data is valid until the
// next call.
func (b *blockEncoder) encode(es []entry) (blockMeta, []byte, error) {
	if cap(b.payload) == 0 {
		// Room at once for a block like this one: grown by append from
		// nothing, each encoder's buffer was copied a dozen times over.
		n := 0
		for i := range es {
			n += len(es[i].data) + len(es[i].qid) + 48
		}
		b.payload = make([]byte, 0, n+n/8)
	}
	b.payload = appendBlockPayload(b.payload[:0], es)
	var blob []byte
	if b.zstd {
		enc, _, err := codecs()
		if err != nil {
			return blockMeta{}, nil, err
		}
		blob = enc.EncodeAll(b.payload, b.blob[:0])
	} else {
		if n := len(s2Prefix) + s2.MaxEncodedLen(len(b.payload)); cap(b.blob) < n {
			b.blob = make([]byte, n)
		}
		blob = append(b.blob[:0], s2Prefix...)
		blob = blob[:len(s2Prefix)+len(s2.Encode(blob[len(s2Prefix):cap(blob)], b.payload))]
	}
	b.blob = blob
	m := metaOf(es)
	m.sum = crc32.Checksum(blob, crcTable)
	return m, blob, nil
}

// decodeBlock decompresses a block's data into buf and appends its entries
// (pointing into the returned buffer) to es.
func decodeBlock(blob, buf []byte, es []entry) ([]entry, []byte, error) {
	if body, ok := bytes.CutPrefix(blob, s2Prefix); ok {
		n, err := s2.DecodedLen(body)
		if err != nil || n > maxPayload {
			return es, buf, fmt.Errorf("%w: payload length", errCorruptBlock)
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		if buf, err = s2.Decode(buf[:n], body); err != nil {
			return es, buf, fmt.Errorf("%w: %v", errCorruptBlock, err)
		}
		es, err = decodeBlockPayload(buf, es)
		return es, buf, err
	}
	_, dec, err := codecs()
	if err != nil {
		return es, buf, err
	}
	if buf, err = dec.DecodeAll(blob, buf[:0]); err != nil {
		return es, buf, fmt.Errorf("%w: %v", errCorruptBlock, err)
	}
	es, err = decodeBlockPayload(buf, es)
	return es, buf, err
}

// Lookup fields, the first byte of a posting term.
const (
	termQueueID byte = iota + 1
	termMessageID
	termSASLUsername
	termClientIP
	termSender
	termRecipient
	termNextQueueID
)

// termFields maps codec string tags (below 64) to lookup fields; 0 is not
// one.
var termFields = [64]byte{
	6:  termClientIP,
	9:  termSASLUsername,
	10: termSender,
	11: termRecipient,
	18: termMessageID,
	23: termNextQueueID,
}

// term hashes a field and value into a posting term (FNV-1a, 64 bits).
// Addresses are compared case-insensitively, so they are hashed in lower
// case: ASCII ones folded as they are hashed (one pass, where a check
// first and the hash after cost two), others through strings.ToLower.
func term(field byte, v []byte) int64 {
	const offset = 14695981039346656037
	start := (uint64(offset) ^ uint64(field)) * fnvPrime
	if field != termSender && field != termRecipient {
		return int64(fnv1a(start, v))
	}
	h := start
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return int64(fnv1a(start, []byte(strings.ToLower(string(v)))))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * fnvPrime
	}
	return int64(h)
}

const fnvPrime = 1099511628211

func fnv1a(h uint64, v []byte) uint64 {
	for _, c := range v {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// appendTerms appends the posting terms of an event.
func appendTerms(dst []int64, e *entry) []int64 {
	if e.tomb {
		return dst
	}
	if len(e.qid) > 0 {
		dst = append(dst, term(termQueueID, e.qid))
	}
	b := e.data
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch {
		case tag == tagNoTime:
		case tag >= 1 && int(tag) <= len(stringFields):
			n, k := binary.Uvarint(b)
			if k <= 0 || n > uint64(len(b)-k) {
				return dst
			}
			if f := termFields[tag]; f != 0 {
				dst = append(dst, term(f, b[k:k+int(n)]))
			}
			b = b[k+int(n):]
		default:
			// Strings come first in the codec: nothing after them is a
			// lookup field.
			return dst
		}
	}
	return dst
}

// termSet gathers the distinct posting terms of a block. Most terms repeat
// within one (a queue id is on every line of its message): dropping the
// repeats in a hash table before sorting leaves the sort a sixth of the
// work. Its buffers are reused from block to block.
type termSet struct {
	all, distinct []int64
	table         []int64 // open addressing; 0 marks a free slot
}

// block returns the sorted, distinct posting terms of es, valid until the
// next call.
func (s *termSet) block(es []entry) []int64 {
	s.all = s.all[:0]
	for i := range es {
		s.all = appendTerms(s.all, &es[i])
	}
	size := 16
	for size < 2*len(s.all) {
		size *= 2
	}
	if len(s.table) != size {
		s.table = make([]int64, size)
	} else {
		clear(s.table)
	}
	s.distinct = s.distinct[:0]
	zero := false
	mask := uint64(size - 1)
	for _, t := range s.all {
		if t == 0 {
			if !zero {
				zero = true
				s.distinct = append(s.distinct, 0)
			}
			continue
		}
		// Terms are FNV-1a hashes, whose high bits mix best.
		for i := (uint64(t) * 0x9E3779B97F4A7C15 >> 32) & mask; ; i = (i + 1) & mask {
			if s.table[i] == t {
				break
			}
			if s.table[i] == 0 {
				s.table[i] = t
				s.distinct = append(s.distinct, t)
				break
			}
		}
	}
	slices.Sort(s.distinct)
	return s.distinct
}

const (
	insertBlockSQL     = "INSERT INTO blocks (first_seq, last_seq, min_time, max_time, kinds, events, sum) VALUES (?, ?, ?, ?, ?, ?, ?)"
	insertBlockDataSQL = "INSERT INTO block_data (first_seq, data) VALUES (?, ?)"
)

// sealer holds what sealing a block computes before its rows are written
// (the compressed data and the posting terms) and the buffers it reuses.
// A journal keeps one per block a commit seals at once, so that they are
// compressed side by side.
type sealer struct {
	enc   blockEncoder
	terms termSet
	meta  blockMeta
	blob  []byte
	dist  []int64
	err   error
}

// prepare compresses es and works out its terms; blob and dist are valid
// until the next call.
func (s *sealer) prepare(es []entry) {
	s.meta, s.blob, s.err = s.enc.encode(es)
	if s.err == nil {
		s.dist = s.terms.block(es)
	}
}

// sealer returns the i-th sealer.
func (j *Journal) sealer(i int) *sealer {
	for len(j.sealers) <= i {
		j.sealers = append(j.sealers, &sealer{enc: blockEncoder{zstd: j.opts.Compression == CompressZstd}})
	}
	return j.sealers[i]
}

// writeBlock stores es as a sealed block with its postings.
func (j *Journal) writeBlock(ctx context.Context, tx *sql.Tx, es []entry) error {
	s := j.sealer(0)
	s.prepare(es)
	return j.writeSealed(ctx, tx, s)
}

// writeBlocks stores es, whole blocks of be events, as sealed blocks with
// their postings. Their compression and terms, a third of a commit's CPU,
// are worked out side by side (the rows are written in order after), so
// that a batch arriving faster than one core seals keeps the second busy:
// ingest's committer, which waits for this, is what the parsing waits for.
func (j *Journal) writeBlocks(ctx context.Context, tx *sql.Tx, es []entry, be int) error {
	n := len(es) / be
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		s := j.sealer(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.prepare(es[i*be : (i+1)*be])
		}()
	}
	if n > 0 {
		j.sealer(0).prepare(es[:be])
	}
	wg.Wait()
	j.callSealed()
	for i := 0; i < n; i++ {
		if err := j.writeSealed(ctx, tx, j.sealers[i]); err != nil {
			return err
		}
	}
	return nil
}

// callSealed tells the committer, once, that the commit's CPU work is done.
func (j *Journal) callSealed() {
	if j.sealed != nil {
		j.sealed()
		j.sealed = nil
	}
}

// writeSealed writes a prepared block's rows.
func (j *Journal) writeSealed(ctx context.Context, tx *sql.Tx, s *sealer) error {
	if s.err != nil {
		return s.err
	}
	m := s.meta
	if _, err := tx.StmtContext(ctx, j.insertBlock).ExecContext(ctx,
		m.first, m.last, m.minT, m.maxT, int64(m.kinds), m.events, int64(m.sum)); err != nil {
		return fmt.Errorf("seal block at %d: %w", m.first, err)
	}
	if _, err := tx.StmtContext(ctx, j.insertBlockData).ExecContext(ctx, m.first, s.blob); err != nil {
		return fmt.Errorf("seal block at %d: %w", m.first, err)
	}
	j.written += len(s.blob)
	gen := m.first >> genShift
	if j.filters != nil {
		j.filters.add(gen, s.dist)
	}
	return j.writePacked(ctx, tx, gen, m.first, s.dist)
}

// deleteBlock removes a block, its data and its postings.
func deleteBlock(ctx context.Context, tx *sql.Tx, first int64) error {
	for _, q := range []string{
		"DELETE FROM blocks WHERE first_seq = ?",
		"DELETE FROM block_data WHERE first_seq = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, first); err != nil {
			return fmt.Errorf("delete block %d: %w", first, err)
		}
	}
	for _, table := range []string{"postings", "packed_postings"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE gen = ? AND block = ?", first>>genShift, first); err != nil {
			return fmt.Errorf("delete postings of block %d: %w", first, err)
		}
	}
	return nil
}
