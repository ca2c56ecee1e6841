package journal

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Packed postings (migration 0006). A block's posting terms are grouped by
// their top bits into at most postingBuckets rows of packed_postings, each
// holding the bucket's terms sorted, 8 bytes apiece: a block of 2048
// simulated events has ~830 distinct terms, which cost ~830 b-tree inserts
// as rows of postings (the SQLite statement machinery, not the bytes, made
// them a sixth of ingest's CPU) and cost 64 as packed rows. A lookup still
// seeks once per generation, to (gen, bucket): the rows of that bucket for
// the generation's blocks, a few hundred bytes, then a binary search in
// each.
//
// Journals written before 0006 keep their rows in postings, which lookups,
// the verifier, the filters and deleteBlock read too: nothing is
// converted, and new blocks are sealed into packed_postings only.

// postingBucketBits is how many top bits of a term pick its bucket.
const postingBucketBits = 6

// postingBuckets is how many packed rows a block has at most.
const postingBuckets = 1 << postingBucketBits

func postingBucket(term int64) int64 { return int64(uint64(term) >> (64 - postingBucketBits)) }

// packedChunk is how many packed rows one prepared INSERT carries: all the
// buckets of a block as big as the default one.
const packedChunk = postingBuckets

// packedSQL inserts rows packed rows of one block: generation and block are
// bound once (?1, ?2), then bucket and terms of each row.
func packedSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO packed_postings (gen, bucket, block, terms) VALUES ")
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?1,?")
		sb.WriteString(strconv.Itoa(3 + 2*i))
		sb.WriteString(",?2,?")
		sb.WriteString(strconv.Itoa(4 + 2*i))
		sb.WriteByte(')')
	}
	return sb.String()
}

// packedRow is one bucket's terms of a block.
type packedRow struct {
	bucket int64
	terms  []byte
}

// packTerms groups sorted distinct terms into packed rows, in bucket
// order; the rows' bytes point into buf, which is returned for reuse.
func packTerms(terms []int64, buf []byte, rows []packedRow) ([]byte, []packedRow) {
	// terms sort as signed numbers: the buckets of negative terms (top bit
	// set) come first. Walking the buckets in order keeps each row's
	// terms sorted as the lookups' binary search expects them, signed.
	buf = buf[:0]
	rows = rows[:0]
	neg, _ := slices.BinarySearch(terms, 0) // terms[:neg] are negative
	for _, part := range [2][]int64{terms[neg:], terms[:neg]} {
		for i := 0; i < len(part); {
			b := postingBucket(part[i])
			start := len(buf)
			for ; i < len(part) && postingBucket(part[i]) == b; i++ {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(part[i]))
			}
			rows = append(rows, packedRow{bucket: b, terms: buf[start:len(buf):len(buf)]})
		}
	}
	return buf, rows
}

// packedHolds reports whether a packed row's terms hold term.
func packedHolds(terms []byte, term int64) bool {
	n := len(terms) / 8
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		v := int64(binary.LittleEndian.Uint64(terms[8*m:]))
		switch {
		case v == term:
			return true
		case v < term:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// writePacked stores a block's sorted distinct terms as packed rows.
func (j *Journal) writePacked(ctx context.Context, tx *sql.Tx, gen, first int64, terms []int64) error {
	j.packBuf, j.packRows = packTerms(terms, j.packBuf, j.packRows)
	rows := j.packRows
	args := j.packArgs[:0]
	many := tx.StmtContext(ctx, j.packMany)
	for start := 0; start < len(rows); start += packedChunk {
		chunk := rows[start:min(start+packedChunk, len(rows))]
		args = append(args[:0], gen, first)
		for _, r := range chunk {
			args = append(args, r.bucket, r.terms)
			j.written += len(r.terms) + 16
		}
		var err error
		if len(chunk) == packedChunk {
			_, err = many.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, packedSQL(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("postings of block %d: %w", first, err)
		}
	}
	j.packArgs = args[:0]
	return nil
}

// hasPacked reports whether the database has packed_postings (a reader may
// open a journal that no writer has migrated yet), and rowPostings whether
// postings holds rows written before it.
func hasPacked(ctx context.Context, db queryer) (packed, rowPostings bool, err error) {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'packed_postings'").Scan(&n); err != nil {
		return false, false, fmt.Errorf("read schema: %w", err)
	}
	var any int
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM postings)").Scan(&any); err != nil {
		return false, false, fmt.Errorf("read postings: %w", err)
	}
	return n > 0, any != 0, nil
}

// postingBlocks returns the blocks of generations gens (decimal, for an IN
// list) whose postings hold term.
func (j *Journal) postingBlocks(ctx context.Context, db queryer, gens []string, term int64, fn func(block int64)) error {
	in := strings.Join(gens, ",")
	if j.rowPostings {
		rows, err := db.QueryContext(ctx, "SELECT block FROM postings WHERE gen IN ("+in+") AND term = ?", term)
		if err != nil {
			return fmt.Errorf("read postings: %w", err)
		}
		for rows.Next() {
			var b int64
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return fmt.Errorf("read postings: %w", err)
			}
			fn(b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read postings: %w", err)
		}
	}
	if !j.packed {
		return nil
	}
	rows, err := db.QueryContext(ctx, "SELECT block, terms FROM packed_postings WHERE gen IN ("+in+") AND bucket = ?", postingBucket(term))
	if err != nil {
		return fmt.Errorf("read postings: %w", err)
	}
	defer rows.Close()
	var terms sql.RawBytes
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b, &terms); err != nil {
			return fmt.Errorf("read postings: %w", err)
		}
		if packedHolds(terms, term) {
			fn(b)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read postings: %w", err)
	}
	return nil
}

// eachPosting calls fn with every posting of generation gen (every
// generation when gen < 0), row postings and packed ones, checking that a
// packed row is well formed: its terms sorted, distinct and of its bucket.
// bad reports a malformed row of a block.
func (j *Journal) eachPosting(ctx context.Context, db queryer, gen int64, fn func(gen, term, block int64), bad func(block int64, what string)) error {
	where, args := "", []any(nil)
	if gen >= 0 {
		where, args = " WHERE gen = ?", []any{gen}
	}
	rows, err := db.QueryContext(ctx, "SELECT gen, term, block FROM postings"+where, args...)
	if err != nil {
		return fmt.Errorf("read postings: %w", err)
	}
	for rows.Next() {
		var g, t, b int64
		if err := rows.Scan(&g, &t, &b); err != nil {
			rows.Close()
			return fmt.Errorf("read postings: %w", err)
		}
		fn(g, t, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read postings: %w", err)
	}
	if !j.packed {
		return nil
	}
	rows, err = db.QueryContext(ctx, "SELECT gen, bucket, block, terms FROM packed_postings"+where, args...)
	if err != nil {
		return fmt.Errorf("read postings: %w", err)
	}
	defer rows.Close()
	var terms sql.RawBytes
	for rows.Next() {
		var g, bucket, b int64
		if err := rows.Scan(&g, &bucket, &b, &terms); err != nil {
			return fmt.Errorf("read postings: %w", err)
		}
		if len(terms) == 0 || len(terms)%8 != 0 {
			bad(b, fmt.Sprintf("a packed lookup row (bucket %d) of %d bytes", bucket, len(terms)))
			continue
		}
		prev := int64(0)
		for i := 0; i < len(terms); i += 8 {
			t := int64(binary.LittleEndian.Uint64(terms[i:]))
			if postingBucket(t) != bucket || (i > 0 && t <= prev) {
				bad(b, fmt.Sprintf("a packed lookup row (bucket %d) out of order: lookups would miss its terms", bucket))
				break
			}
			prev = t
			fn(g, t, b)
		}
	}
	return rows.Err()
}
