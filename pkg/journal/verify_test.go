package journal

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// testBlockEvents is the block size of test journals: small, so that they
// have sealed blocks and a hot table (250 events: blocks from 1, 33, ...,
// 193; events 225 on are hot).
const testBlockEvents = 32

// signedJournal writes n events in batches of batch into a journal that
// checkpoints every `every` events, and returns its path and verifiers.
// The journal is closed, its write-ahead log merged into the file. It takes
// a testing.TB because fuzz targets build one too.
func signedJournal(t testing.TB, n, batch, every int) (string, integrity.Verifiers) {
	t.Helper()
	skey, vkey, err := integrity.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := writeFile(p, text); err != nil {
			t.Fatal(err)
		}
		return p
	}
	signer, err := integrity.LoadSigner(write("key", skey))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := integrity.LoadVerifier(write("key.pub", vkey))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "j.db")
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	j, err := Open(ctx, path, Options{Now: func() time.Time { return now }, Signer: signer, VerifierKey: vkey, Origin: "test", CheckpointEvery: every, BlockEvents: testBlockEvents})
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < n; done += batch {
		var recs []Record
		for i := done; i < min(done+batch, n); i++ {
			recs = append(recs, Record{Source: "/var/log/mail.log", Event: event.Event{
				Time: now.Add(time.Duration(i) * time.Second), Kind: event.KindDelivery, QueueID: "Q" + strings.Repeat("A", i%7),
				Recipient: "r@example.com", Raw: "line",
			}})
		}
		if err := j.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Fatalf("%s-wal left with %d bytes", path, fi.Size())
	}
	return path, integrity.NewVerifiers(verifier)
}

func TestVerifyIntact(t *testing.T) {
	path, v := signedJournal(t, 250, 10, 50)
	r, err := Verify(context.Background(), path, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Problem != nil || r.Events != 250 || r.Checkpoints != 5 || r.Uncovered != 0 {
		t.Fatalf("report %+v, problem %v", r, r.Problem)
	}
}

func TestVerifyFindsEdits(t *testing.T) {
	// The hot table is edited with plain SQL; a block is rewritten the way
	// a tamperer who can decompress it would: entries changed, the data
	// recompressed, its checksum and index row fixed up.
	swapTimes := func(es []entry, a, b int64) {
		ea, eb := findEntry(es, a), findEntry(es, b)
		ea.t, eb.t = eb.t, ea.t
		ea.qid, eb.qid = eb.qid, ea.qid
	}
	for _, tt := range []struct {
		name  string
		sql   string
		block int64
		edit  func([]entry) []entry
		want  string
	}{
		{name: "edited field in a block", block: 65, edit: func(es []entry) []entry {
			e := findEntry(es, 77)
			e.data = bytes.Replace(e.data, []byte("r@example.com"), []byte("x@example.com"), 1)
			return es
		}, want: "checkpoint at 100 events: events 51 to 100"},
		{name: "edited field in the hot table", sql: "UPDATE events SET data = CAST(replace(CAST(data AS TEXT), 'r@example.com', 'x@example.com') AS BLOB) WHERE seq = 240", want: "checkpoint at 250 events: events 201 to 250"},
		{name: "edited time in a block", block: 97, edit: func(es []entry) []entry {
			findEntry(es, 120).t++
			return es
		}, want: "checkpoint at 150 events: events 101 to 150"},
		{name: "edited time in the hot table", sql: "UPDATE events SET time = time + 1 WHERE seq = 230", want: "checkpoint at 250 events: events 201 to 250"},
		{name: "edited block index row", sql: "UPDATE blocks SET max_time = max_time - 1 WHERE first_seq = 33", want: "event 33: the block of events 33 to 64: its index row"},
		{name: "deleted lookup entry", sql: "DELETE FROM packed_postings WHERE block = 65 AND bucket = (SELECT min(bucket) FROM packed_postings WHERE block = 65)", want: "event 65: the block starting here lacks lookup entries"},
		{name: "deleted event in a block", block: 33, edit: func(es []entry) []entry {
			return slices.DeleteFunc(es, func(e entry) bool { return e.seq == 40 })
		}, want: "event 40: missing"},
		{name: "deleted block", sql: "DELETE FROM blocks WHERE first_seq = 33; DELETE FROM block_data WHERE first_seq = 33; DELETE FROM packed_postings WHERE block = 33", want: "event 33: missing: the next event is 65"},
		{name: "deleted row", sql: "DELETE FROM events WHERE seq = 233", want: "event 233: missing"},
		{name: "inserted row", sql: "INSERT INTO events (seq, time, kind, queue_id, source, data) SELECT 251, time, kind, queue_id, source, data FROM events WHERE seq = 250", want: "event 251: not journaled by the exporter"},
		{name: "inserted event in a block", block: 129, edit: func(es []entry) []entry {
			// Sequence numbers only grow inside a block: the insertion
			// takes the number of the next block's first event.
			e := *findEntry(es, 160)
			e.seq = 161
			return append(es, e)
		}, want: "event 161: out of order: it follows event 161"},
		{name: "reordered rows", sql: `UPDATE events SET
			time = CASE seq WHEN 231 THEN (SELECT time FROM events WHERE seq = 232) ELSE (SELECT time FROM events WHERE seq = 231) END,
			queue_id = CASE seq WHEN 231 THEN (SELECT queue_id FROM events WHERE seq = 232) ELSE (SELECT queue_id FROM events WHERE seq = 231) END
			WHERE seq IN (231, 232)`, want: "checkpoint at 250 events: events 201 to 250"},
		{name: "reordered events in a block", block: 1, edit: func(es []entry) []entry {
			swapTimes(es, 11, 12)
			return es
		}, want: "checkpoint at 50 events: events 1 to 50"},
		{name: "truncated tail", sql: "DELETE FROM events; DELETE FROM blocks WHERE first_seq > 160; DELETE FROM block_data WHERE first_seq > 160; DELETE FROM packed_postings WHERE block > 160", want: "checkpoint at 200 events: the journal holds 160 events"},
		{name: "moved checkpoint time", sql: "UPDATE checkpoints SET time = time + 3600000000000 WHERE size = 50", want: "checkpoint at 50 events: the signed note is dated"},
		{name: "forged checkpoint root", sql: "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 100", want: "checkpoint at 100 events: the signed note says"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, v := signedJournal(t, 250, 10, 50)
			if tt.edit != nil {
				if err := rewriteBlock(path, tt.block, tt.edit); err != nil {
					t.Fatal(err)
				}
			} else if err := execSQL(path, tt.sql); err != nil {
				t.Fatal(err)
			}
			r, err := Verify(context.Background(), path, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Problem == nil || !strings.HasPrefix(r.Problem.String(), tt.want) {
				t.Errorf("problem %v, want one starting %q", r.Problem, tt.want)
			}
		})
	}
}

func findEntry(es []entry, seq int64) *entry {
	for i := range es {
		if es[i].seq == seq {
			return &es[i]
		}
	}
	panic(fmt.Sprintf("no event %d in the block", seq))
}

// rewriteBlock decodes the block starting at first, lets edit change its
// entries and writes it back with a matching checksum, index row and
// postings, using plain SQL for the writing.
func rewriteBlock(path string, first int64, edit func([]entry) []entry) error {
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	var blob []byte
	if err := db.QueryRow("SELECT data FROM block_data WHERE first_seq = ?", first).Scan(&blob); err != nil {
		return err
	}
	es, _, err := decodeBlock(blob, nil, nil)
	if err != nil {
		return err
	}
	es = edit(es)
	m, blob, err := new(blockEncoder).encode(es)
	if err != nil {
		return err
	}
	if _, err := db.Exec("UPDATE block_data SET data = ? WHERE first_seq = ?", blob, first); err != nil {
		return err
	}
	if _, err := db.Exec("UPDATE blocks SET last_seq = ?, min_time = ?, max_time = ?, kinds = ?, events = ?, sum = ? WHERE first_seq = ?",
		m.last, m.minT, m.maxT, int64(m.kinds), m.events, int64(m.sum), first); err != nil {
		return err
	}
	if _, err := db.Exec("DELETE FROM packed_postings WHERE block = ?", first); err != nil {
		return err
	}
	_, rows := packTerms(new(termSet).block(es), nil, nil)
	for _, r := range rows {
		if _, err := db.Exec("INSERT INTO packed_postings (gen, bucket, block, terms) VALUES (?, ?, ?, ?)", first>>genShift, r.bucket, first, r.terms); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }

// execSQL edits a journal the way a tamperer with the sqlite3 shell would.
func execSQL(path, q string) error {
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(q)
	return err
}
