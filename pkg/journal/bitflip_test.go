package journal

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// dumpTables are the tables whose every row is compared before and after a
// flip: what SQLite returns for them is the journal's content.
var dumpTables = []string{"events", "blocks", "block_data", "postings", "packed_postings", "base", "folded", "checkpoints", "merkle", "sources"}

// withoutRowid are the dumped tables without a rowid, dumped in key order.
var withoutRowid = map[string]string{"postings": "gen, term, block", "packed_postings": "gen, bucket, block"}

// notCovered are the columns the Merkle tree and the signed checkpoints do
// not cover, by design: a flip confined to them changes what SQLite returns
// and still verifies. sources.position and sources.updated are where ingest
// resumes and when a source was last committed: state, rewritten by every
// commit.
var notCovered = map[string]bool{
	"sources.position": true,
	"sources.updated":  true,
}

// cell is one value as SQLite returned it.
type cell struct {
	typ string // Go type the driver returned (int64, float64, string, []byte, nil)
	val string // its bytes, hex, or its decimal form
}

// tableDump maps "table.N" (the Nth column, by position: a flip may rename
// a column) to the values of every row, in rowid order; "table.0" holds the
// rowids. The "#names" key holds each key's "table.column" of the dumped
// file, in the cells' val.
type tableDump map[string][]cell

// name is the "table.column" of key in the dump.
func (d tableDump) name(key string) string {
	for _, c := range d["#names"] {
		if k, n, _ := strings.Cut(c.val, "="); k == key {
			return n
		}
	}
	return key
}

// dumpJournal reads every row of dumpTables from the database at path
// without the journal package, the way any SQLite client would.
func dumpJournal(path string) (tableDump, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d := tableDump{}
	for _, table := range dumpTables {
		q := "SELECT rowid, * FROM " + table + " ORDER BY rowid"
		if key, ok := withoutRowid[table]; ok {
			q = "SELECT 0, * FROM " + table + " ORDER BY " + key
		}
		rows, err := db.Query(q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		for i, c := range cols {
			d["#names"] = append(d["#names"], cell{val: fmt.Sprintf("%s.%d=%s.%s", table, i, table, c)})
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", table, err)
			}
			for i, v := range vals {
				key := fmt.Sprintf("%s.%d", table, i)
				c := cell{typ: fmt.Sprintf("%T", v)}
				switch v := v.(type) {
				case []byte:
					c.val = fmt.Sprintf("%x", v)
				case string:
					c.val = fmt.Sprintf("%x", v)
				default:
					c.val = fmt.Sprint(v)
				}
				d[key] = append(d[key], c)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
	}
	return d, nil
}

// diff returns the keys whose values differ and whether any differ in
// their bytes or number of rows rather than only in the type SQLite
// stored (a BLOB read back as TEXT of the same bytes). The columns' names
// are compared too: a flip in the schema's text that renames a column
// changes what SQLite returns (with 16 KiB pages the flips land there).
func (d tableDump) diff(o tableDump) (keys []string, values bool) {
	seen := map[string]bool{}
	for k := range d {
		seen[k] = true
	}
	for k := range o {
		seen[k] = true
	}
	for k := range seen {
		a, b := d[k], o[k]
		if len(a) != len(b) {
			keys, values = append(keys, k), true
			continue
		}
		changed := false
		for i := range a {
			if a[i].val != b[i].val {
				changed, values = true, true
			} else if a[i].typ != b[i].typ {
				changed = true
			}
		}
		if changed {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, values
}

// TestBitFlips flips one bit in every so many bytes of a signed journal's
// file and checks that no flip that changes what SQLite returns verifies:
// either SQLite rejects the file (Verify errs or reports a problem), or the
// content differs (Verify must not pass), or it is the same (Verify must
// pass: a flip in an index, free space or the header is not tampering).
func TestBitFlips(t *testing.T) {
	if testing.Short() {
		t.Skip("flips a thousand copies of a journal")
	}
	start := time.Now()
	ctx := context.Background()
	path, v := signedJournal(t, 300, 10, 50)
	// Closing the last connection checkpoints the WAL into the file: a
	// copy of the file alone is the whole journal.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Fatalf("%s-wal left with %d bytes: the WAL was not merged", path, fi.Size())
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The header's page size (big-endian at 16; 1 means 64 KiB).
	pageBytes := int(orig[16])<<8 | int(orig[17])
	if pageBytes == 1 {
		pageBytes = 1 << 16
	}
	want, err := dumpJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	// 300 events: 9 sealed blocks of 32, 12 in the hot table.
	if n, b := len(want["events.0"]), len(want["blocks.0"]); n != 300-9*testBlockEvents || b != 9 {
		t.Fatalf("dump has %d hot events and %d blocks, want 12 and 9", n, b)
	}
	if r, err := Verify(ctx, path, v, nil); err != nil || r.Problem != nil {
		t.Fatalf("intact journal: report %+v, error %v", r, err)
	}

	// About a thousand flips, each in a different bit of its byte.
	step := max(1, len(orig)/1000)
	dir := t.TempDir()
	var rejected, changed, typeOnly, uncovered, same int
	var rejectedBy struct{ err, problem int }
	uncoveredKeys := map[string]int{}
	for n, off := 0, 0; off < len(orig); n, off = n+1, off+step {
		bit := byte(1) << (n % 8)
		buf := bytes.Clone(orig)
		buf[off] ^= bit
		// One copy for the dump and one for Verify, so neither sees what
		// the other's connection left (a -shm, a recovered WAL).
		sub := filepath.Join(dir, fmt.Sprint(n))
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		dumpPath, verifyPath := filepath.Join(sub, "d.db"), filepath.Join(sub, "v.db")
		for _, p := range []string{dumpPath, verifyPath} {
			if err := os.WriteFile(p, buf, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, dumpErr := dumpJournal(dumpPath)
		r, err := Verify(ctx, verifyPath, v, nil)
		verified := err == nil && r.Problem == nil
		what := fmt.Sprintf("byte %d (page %d) ^ %#02x", off, off/pageBytes+1, bit)
		switch {
		case dumpErr != nil:
			rejected++
			if verified {
				t.Errorf("%s: SQLite rejects the file (%v) but it verifies: %+v", what, dumpErr, r)
			} else if err != nil {
				rejectedBy.err++
			} else {
				rejectedBy.problem++
			}
		default:
			keys, values := want.diff(got)
			switch {
			case len(keys) == 0:
				same++
				if !verified {
					t.Errorf("%s: content unchanged but verification fails: error %v, problem %v", what, err, problemOf(r))
				}
			case allNotCovered(want, keys):
				uncovered++
				for _, k := range keys {
					uncoveredKeys[want.name(k)]++
				}
			case !values:
				// Only a stored type changed (BLOB <-> TEXT of the same
				// bytes); Verify reads both as bytes, so either outcome is
				// defensible, but nothing readable was altered.
				typeOnly++
				t.Logf("%s: only the type of %v changed; verified %v", what, keys, verified)
			default:
				changed++
				if verified {
					t.Errorf("%s: %v changed but the journal verifies: %+v", what, names(want, keys), r)
				}
			}
		}
		os.RemoveAll(sub)
	}
	t.Logf("%d bytes, a flip every %d bytes: %d rejected by SQLite (%d Verify errors, %d problems), %d changed content (all caught), %d changed only uncovered columns %v, %d changed only a type, %d changed nothing (all verified); %v",
		len(orig), step, rejected, rejectedBy.err, rejectedBy.problem, changed, uncovered, uncoveredKeys, typeOnly, same, time.Since(start).Round(time.Millisecond))
}

func allNotCovered(d tableDump, keys []string) bool {
	for _, k := range keys {
		if !notCovered[d.name(k)] {
			return false
		}
	}
	return true
}

func names(d tableDump, keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, d.name(k))
	}
	return out
}

func problemOf(r *Report) any {
	if r == nil {
		return nil
	}
	return r.Problem
}

// FuzzVerifyCorrupt feeds Verify arbitrary database files, seeded with a
// small signed journal and truncations of it: it must never panic, and
// must return an error or a report.
func FuzzVerifyCorrupt(f *testing.F) {
	path, v := signedJournal(f, 60, 10, 20)
	orig, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	for _, n := range []int{0, 100, 512, 4096, len(orig) / 2, len(orig) - 4096, len(orig) - 1} {
		if n >= 0 && n <= len(orig) {
			f.Add(bytes.Clone(orig[:n]))
		}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "j.db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var r *Report
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			r, err = Verify(ctx, p, v, nil)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			os.WriteFile(filepath.Join(os.TempDir(), fmt.Sprintf("verify-hang-%d.db", time.Now().UnixNano())), data, 0o600)
			t.Fatalf("Verify of a %d-byte file has not returned in 20s", len(data))
		}
		if err == nil && r == nil {
			t.Fatal("Verify returned neither a report nor an error")
		}
		if err != nil && r != nil {
			t.Fatalf("Verify returned both a report %+v and an error %v", r, err)
		}
		if r != nil && r.Problem != nil && strings.TrimSpace(r.Problem.String()) == "" {
			t.Fatal("a problem that says nothing")
		}
	})
}
