package journal

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPackTerms: every term of a block is found in the row of its bucket,
// and no other; the rows come in bucket order, each sorted, so that the
// binary search holds for negative terms too.
func TestPackTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var terms []int64
	for range 3000 {
		terms = append(terms, int64(r.Uint64()))
	}
	terms = append(terms, 0, -1, 1, -1<<63, 1<<63-1)
	slices.Sort(terms)
	terms = slices.Compact(terms)
	_, rows := packTerms(terms, nil, nil)
	if len(rows) != postingBuckets {
		t.Fatalf("%d rows for %d terms, want %d", len(rows), len(terms), postingBuckets)
	}
	n := 0
	for i, row := range rows {
		if i > 0 && row.bucket <= rows[i-1].bucket {
			t.Fatalf("row %d: bucket %d after %d", i, row.bucket, rows[i-1].bucket)
		}
		n += len(row.terms) / 8
	}
	if n != len(terms) {
		t.Fatalf("%d terms packed, want %d", n, len(terms))
	}
	byBucket := map[int64][]byte{}
	for _, row := range rows {
		byBucket[row.bucket] = row.terms
	}
	for _, term := range terms {
		if !packedHolds(byBucket[postingBucket(term)], term) {
			t.Fatalf("term %#x not found in its bucket %d", uint64(term), postingBucket(term))
		}
		if packedHolds(byBucket[postingBucket(term)], term+1) && !slices.Contains(terms, term+1) {
			t.Fatalf("term %#x found but never added", uint64(term+1))
		}
	}
	if _, rows := packTerms(nil, nil, nil); len(rows) != 0 {
		t.Errorf("no terms gave %d rows", len(rows))
	}
}

// toRowPostings turns the journal at path into one written before packed
// postings: its packed rows become rows of postings and its schema version
// the one before 0006 (5: the journal keeps whatever 0004 and 0005 made,
// so a writer opening it applies 0006 alone).
func toRowPostings(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT gen, block, terms FROM packed_postings")
	if err != nil {
		t.Fatal(err)
	}
	var posts [][3]int64
	for rows.Next() {
		var gen, block int64
		var terms []byte
		if err := rows.Scan(&gen, &block, &terms); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(terms); i += 8 {
			posts = append(posts, [3]int64{gen, int64(binary.LittleEndian.Uint64(terms[i:])), block})
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(posts) == 0 {
		t.Fatal("no packed postings to convert")
	}
	for _, p := range posts {
		if _, err := db.Exec("INSERT INTO postings (gen, term, block) VALUES (?, ?, ?)", p[0], p[1], p[2]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("DROP TABLE packed_postings; PRAGMA user_version = 5"); err != nil {
		t.Fatal(err)
	}
}

// TestRowPostingsJournal: a journal whose blocks were sealed with one
// postings row per term (before migration 0006) answers lookups and
// verifies as it is, read-only; once a writer opens it, its new blocks are
// packed, and lookups and the verifier read both kinds side by side.
func TestRowPostingsJournal(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	opts := Options{Now: func() time.Time { return now }, BlockEvents: 64}
	path := filepath.Join(t.TempDir(), "j.db")
	recs := mixedRecords(500)
	j, err := Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, recs[:250], nil); err != nil {
		t.Fatal(err)
	}
	j.Close()
	toRowPostings(t, path)

	filters := []Filter{
		{QueueID: "Q40"},
		{QueueID: "Q71", Desc: true},
		{MessageID: "<m3@example.org>"},
		{SASLUsername: "user5"},
		{ClientIP: "192.0.2.3"},
		{Sender: "SENDER2@example.ORG"},
		{Recipient: "rcpt4@EXAMPLE.net"},
		{NextQueueID: "N5"},
		{SASLUsername: "nobody"},
	}
	check := func(j *Journal, recs []Record, when string) {
		t.Helper()
		for _, f := range filters {
			evs, err := j.Events(ctx, f)
			if err != nil {
				t.Fatalf("%s: %+v: %v", when, f, err)
			}
			if got, want := fmt.Sprint(seqs(evs)), fmt.Sprint(bruteForce(recs, now, f)); got != want {
				t.Errorf("%s: filter %+v:\n got %v\nwant %v", when, f, got, want)
			}
		}
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ro.packed || !ro.rowPostings {
		t.Fatalf("old journal read as packed %v, row postings %v", ro.packed, ro.rowPostings)
	}
	check(ro, recs[:250], "old journal, read-only")
	ro.Close()
	if r, err := Verify(ctx, path, nil, nil); err != nil || r.Problem != nil || r.Events != 250 {
		t.Fatalf("verify old journal: %+v, %v", r, err)
	}

	j, err = Open(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, recs[250:], nil); err != nil {
		t.Fatal(err)
	}
	var rowPosts, packedRows int
	j.DB().QueryRow("SELECT count(*) FROM postings").Scan(&rowPosts)
	j.DB().QueryRow("SELECT count(*) FROM packed_postings").Scan(&packedRows)
	if rowPosts == 0 || packedRows == 0 {
		t.Fatalf("%d postings rows and %d packed rows, want both", rowPosts, packedRows)
	}
	check(j, recs, "migrated journal")
	j.Close()
	if r, err := Verify(ctx, path, nil, nil); err != nil || r.Problem != nil || r.Events != 500 {
		t.Fatalf("verify migrated journal: %+v, %v", r, err)
	}

	// The verifier still holds the old rows to their blocks.
	if err := execSQL(path, "DELETE FROM postings WHERE block = 65 AND term = (SELECT min(term) FROM postings WHERE block = 65)"); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(ctx, path, nil, nil)
	if err != nil || r.Problem == nil || !strings.HasPrefix(r.Problem.String(), "event 65: the block starting here lacks lookup entries") {
		t.Errorf("verify after deleting an old posting: %v, %v", r.Problem, err)
	}
}

// TestPackedRowOutOfOrder: a packed row whose terms are out of order (a
// lookup's binary search would miss some) fails verification.
func TestPackedRowOutOfOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, Options{BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, mixedRecords(200), nil); err != nil {
		t.Fatal(err)
	}
	var bucket int64
	var terms []byte
	if err := j.DB().QueryRow("SELECT bucket, terms FROM packed_postings WHERE block = 65 AND length(terms) >= 16 LIMIT 1").Scan(&bucket, &terms); err != nil {
		t.Fatal(err)
	}
	j.Close()
	swapped := append(append([]byte(nil), terms[8:16]...), terms[:8]...)
	swapped = append(swapped, terms[16:]...)
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE packed_postings SET terms = ? WHERE block = 65 AND bucket = ?", swapped, bucket); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := Verify(ctx, path, nil, nil)
	if err != nil || r.Problem == nil || !strings.Contains(r.Problem.String(), "out of order") {
		t.Errorf("verify after reordering a packed row: %v, %v", r.Problem, err)
	}
}
