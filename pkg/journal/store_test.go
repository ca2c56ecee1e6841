package journal

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// mixedRecords are n events with every lookup field varying at its own
// period, so that each filter picks a different subset.
func mixedRecords(n int) []Record {
	t0 := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	kinds := []event.Kind{event.KindConnect, event.KindClient, event.KindQueued, event.KindDelivery, event.KindAuthFailure}
	recs := make([]Record, n)
	for i := range recs {
		e := event.Event{
			Time:         t0.Add(time.Duration(i) * time.Second),
			Kind:         kinds[i%len(kinds)],
			QueueID:      fmt.Sprintf("Q%d", i/7),
			MessageID:    fmt.Sprintf("<m%d@example.org>", i/11),
			SASLUsername: fmt.Sprintf("user%d", i%13),
			ClientIP:     fmt.Sprintf("192.0.2.%d", i%17),
			Sender:       fmt.Sprintf("Sender%d@Example.org", i%5),
			Recipient:    fmt.Sprintf("rcpt%d@example.net", i%19),
			NextQueueID:  fmt.Sprintf("N%d", i%23),
			Status:       []string{"sent", "deferred", "bounced"}[i%3],
			Raw:          fmt.Sprintf("line %d text%d", i, i%29),
		}
		if i%31 == 30 {
			e.Time = time.Time{} // journaled with the ingest time
		}
		recs[i] = Record{Source: fmt.Sprintf("/var/log/mail%d.log", i%2), Event: e}
	}
	return recs
}

// bruteForce is what Scan must return: the records filtered one by one.
func bruteForce(recs []Record, ingest time.Time, f Filter) []int64 {
	var out []int64
	text := strings.ToLower(f.Text)
	for i := range recs {
		seq := int64(i + 1)
		e := recs[i].Event
		t := e.Time
		if t.IsZero() {
			t = ingest
		}
		s := Stored{Seq: seq, Source: recs[i].Source, Event: e}
		switch {
		case f.AfterSeq > 0 && seq <= f.AfterSeq, f.BeforeSeq > 0 && seq >= f.BeforeSeq,
			!f.Since.IsZero() && t.Before(f.Since), !f.Until.IsZero() && !t.Before(f.Until),
			f.QueueID != "" && e.QueueID != f.QueueID:
			continue
		}
		if len(f.Kinds) > 0 && !containsKind(f.Kinds, e.Kind) {
			continue
		}
		if !f.matches(&s, text) {
			continue
		}
		out = append(out, seq)
	}
	if f.Desc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

func containsKind(ks []event.Kind, k event.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// TestScanMatchesBruteForce: over sealed blocks and the hot table, every
// filter returns exactly the events a one-by-one check picks, in order,
// with their fields intact.
func TestScanMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "j.db")
	recs := mixedRecords(500)
	j, err := Open(ctx, path, Options{Now: func() time.Time { return now }, BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	// Uneven batches, a reopen in the middle: the hot table is reloaded.
	for done, batch := 0, 1; done < len(recs); done, batch = done+batch, batch*3 {
		if done > 200 && done-batch <= 200 {
			j.Close()
			if j, err = Open(ctx, path, Options{Now: func() time.Time { return now }, BlockEvents: 64}); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Commit(ctx, recs[done:min(done+batch, len(recs))], nil); err != nil {
			t.Fatal(err)
		}
	}
	defer j.Close()
	var blocks, hot int
	j.DB().QueryRow("SELECT count(*) FROM blocks").Scan(&blocks)
	j.DB().QueryRow("SELECT count(*) FROM events").Scan(&hot)
	if blocks != 7 || hot != 500-7*64 {
		t.Fatalf("%d blocks and %d hot events, want 7 and %d", blocks, hot, 500-7*64)
	}
	if n, err := j.Count(ctx); err != nil || n != 500 {
		t.Fatalf("count %d, %v", n, err)
	}
	t0 := recs[0].Event.Time
	filters := []Filter{
		{},
		{Desc: true},
		{Limit: 10, Desc: true, BeforeSeq: 470},
		{AfterSeq: 100, Limit: 50},
		{QueueID: "Q40"},
		{QueueID: "Q71", Desc: true},
		{MessageID: "<m3@example.org>"},
		{SASLUsername: "user5", Kinds: []event.Kind{event.KindAuthFailure}},
		{ClientIP: "192.0.2.3", Since: t0.Add(100 * time.Second), Until: t0.Add(400 * time.Second)},
		{Sender: "SENDER2@example.ORG", Limit: 7},
		{Recipient: "rcpt4@EXAMPLE.net", Desc: true},
		{NextQueueID: "N5"},
		{Status: "bounced", Text: "TEXT7"},
		{Kinds: []event.Kind{event.KindQueued, event.KindDelivery}, Since: t0.Add(450 * time.Second)},
		{Since: now, Until: now.Add(time.Second)},
		{SASLUsername: "user5", ClientIP: "192.0.2.5"},
		{SASLUsername: "nobody"},
		{QueueID: "Q40", Sender: "sender0@example.org"},
	}
	for _, f := range filters {
		want := bruteForce(recs, now, f)
		var got []int64
		err := j.Scan(ctx, f, func(s *Stored) error {
			got = append(got, s.Seq)
			r := recs[s.Seq-1]
			if s.Source != r.Source || s.Event.Raw != r.Event.Raw || s.Event.QueueID != r.Event.QueueID || s.Event.Kind != r.Event.Kind || !s.Event.Time.Equal(r.Event.Time) {
				t.Errorf("event %d read back as %+v, want %+v", s.Seq, s, r)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("filter %+v:\n got %v\nwant %v", f, got, want)
		}
	}
	// Recent replays the newest events oldest first, across the seam.
	var recent []string
	if err := j.Recent(ctx, 100, func(e *event.Event) error { recent = append(recent, e.Raw); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recent) != 100 || recent[0] != recs[400].Event.Raw || recent[99] != recs[499].Event.Raw {
		t.Errorf("recent: %d events, first %q, last %q", len(recent), recent[0], recent[len(recent)-1])
	}
}

// TestMigrateRowJournal: a journal of the one-row-per-event schema is
// sealed into blocks on open, reads the same and verifies.
func TestMigrateRowJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_events.sql", "migrations/0002_integrity.sql"} {
		body, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatal(err)
		}
	}
	recs := mixedRecords(300)
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	if _, err := db.Exec("PRAGMA user_version = 2; INSERT INTO sources (id, name) VALUES (1, '/var/log/mail0.log'), (2, '/var/log/mail1.log')"); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		e := &recs[i].Event
		tm := e.Time
		if tm.IsZero() {
			tm = now
		}
		if _, err := db.Exec("INSERT INTO events (seq, time, kind, queue_id, source, data) VALUES (?, ?, ?, ?, ?, ?)",
			i+1, tm.UnixNano(), int64(e.Kind), e.QueueID, 1+i%2, appendEvent(nil, e)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	j, err := Open(ctx, path, Options{BlockEvents: 64})
	if err != nil {
		t.Fatal(err)
	}
	var blocks, hot int
	j.DB().QueryRow("SELECT count(*) FROM blocks").Scan(&blocks)
	j.DB().QueryRow("SELECT count(*) FROM events").Scan(&hot)
	if blocks != 4 || hot != 300-4*64 {
		t.Errorf("after migration: %d blocks, %d hot events", blocks, hot)
	}
	evs, err := j.Events(ctx, Filter{QueueID: "Q40"})
	if err != nil || fmt.Sprint(seqs(evs)) != fmt.Sprint(bruteForce(recs, now, Filter{QueueID: "Q40"})) {
		t.Errorf("Q40 after migration: %v, %v", seqs(evs), err)
	}
	j.Close()
	r, err := Verify(ctx, path, nil, nil)
	if err != nil || r.Problem != nil || r.Events != 300 {
		t.Fatalf("verify after migration: %+v, %v", r, err)
	}
}

func seqs(evs []Stored) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// TestCompressZstd: a journal sealing zstd blocks (as every journal did
// before S2) reads, verifies and answers lookups as an S2 one does, in
// fewer bytes.
func TestCompressZstd(t *testing.T) {
	ctx := context.Background()
	recs := mixedRecords(3 * DefaultBlockEvents)
	var answers []string
	var sizes []int
	for _, codec := range []string{CompressS2, CompressZstd} {
		path := filepath.Join(t.TempDir(), "j.db")
		j, err := Open(ctx, path, Options{Compression: codec})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Commit(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
		got, err := j.Events(ctx, Filter{SASLUsername: "user3"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatalf("%s: no events of user3", codec)
		}
		answers = append(answers, fmt.Sprint(got))
		var total int
		rows, err := j.DB().Query("SELECT data FROM block_data")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var blob []byte
			if err := rows.Scan(&blob); err != nil {
				t.Fatal(err)
			}
			if isS2 := strings.HasPrefix(string(blob), string(s2Prefix)); isS2 != (codec == CompressS2) {
				t.Errorf("%s journal holds a block that is S2: %v", codec, isS2)
			}
			total += len(blob)
		}
		rows.Close()
		sizes = append(sizes, total)
		j.Close()
		if r, err := Verify(ctx, path, nil, nil); err != nil || r.Problem != nil || r.Events != int64(len(recs)) {
			t.Fatalf("verify of %s blocks: %+v, %v", codec, r, err)
		}
	}
	if answers[0] != answers[1] {
		t.Errorf("lookups over S2 and zstd blocks differ")
	}
	if sizes[1] >= sizes[0] {
		t.Errorf("zstd blocks take %d bytes, S2 ones %d", sizes[1], sizes[0])
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"), Options{Compression: "lz4"}); err == nil || !strings.Contains(err.Error(), `compression "lz4"`) {
		t.Errorf("an unknown codec: %v", err)
	}
}

// TestCommitSizeEndsOnBlocks: batches of CommitSize leave the hot table
// empty whenever they are as large as the room left in the block, and
// the hot rows a short commit left are sealed by the next one.
func TestCommitSizeEndsOnBlocks(t *testing.T) {
	ctx := context.Background()
	j := openTempWith(t, Options{BlockEvents: 64})
	recs := mixedRecords(1000)
	hot := func() (n int) {
		j.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
		return n
	}
	done := 0
	commit := func(n int) {
		t.Helper()
		if err := j.Commit(ctx, recs[done:done+n], nil); err != nil {
			t.Fatal(err)
		}
		done += n
	}
	for _, c := range []struct{ want, size, hot int }{
		{want: 100, size: 64, hot: 0},
		{want: 10, size: 10, hot: 10}, // less than the room: as asked
		{want: 100, size: 54, hot: 0}, // the rest of the block
		{want: 200, size: 192, hot: 0},
		{want: 64, size: 64, hot: 0},
		{want: 0, size: 1, hot: 1},
		{want: 63, size: 63, hot: 0},
	} {
		size := j.CommitSize(c.want)
		if size != c.size {
			t.Fatalf("after %d events, CommitSize(%d) = %d, want %d", done, c.want, size, c.size)
		}
		commit(size)
		if h := hot(); h != c.hot {
			t.Fatalf("after %d events, %d hot, want %d", done, h, c.hot)
		}
	}
}
