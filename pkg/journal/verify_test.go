package journal

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

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
	j, err := Open(ctx, path, Options{Now: func() time.Time { return now }, Signer: signer, VerifierKey: vkey, Origin: "test", CheckpointEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < n; done += batch {
		var recs []Record
		for i := done; i < min(done+batch, n); i++ {
			recs = append(recs, Record{Source: "/var/log/mail.log", Event: parser.Event{
				Time: now.Add(time.Duration(i) * time.Second), Kind: parser.KindDelivery, QueueID: "Q" + strings.Repeat("A", i%7),
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
	for _, tt := range []struct {
		name, sql, want string
	}{
		{"edited field", "UPDATE events SET data = CAST(replace(CAST(data AS TEXT), 'r@example.com', 'x@example.com') AS BLOB) WHERE seq = 77", "checkpoint at 100 events: events 51 to 100"},
		{"edited time", "UPDATE events SET time = time + 1 WHERE seq = 120", "checkpoint at 150 events: events 101 to 150"},
		{"deleted row", "DELETE FROM events WHERE seq = 33", "event 33: missing"},
		{"inserted row", "INSERT INTO events (seq, time, kind, queue_id, source, data) SELECT 251, time, kind, queue_id, source, data FROM events WHERE seq = 250", "event 251: not journaled by the exporter"},
		{"reordered rows", `UPDATE events SET
			time = CASE seq WHEN 11 THEN (SELECT time FROM events WHERE seq = 12) ELSE (SELECT time FROM events WHERE seq = 11) END,
			queue_id = CASE seq WHEN 11 THEN (SELECT queue_id FROM events WHERE seq = 12) ELSE (SELECT queue_id FROM events WHERE seq = 11) END
			WHERE seq IN (11, 12)`, "checkpoint at 50 events: events 1 to 50"},
		{"truncated tail", "DELETE FROM events WHERE seq > 180", "checkpoint at 200 events: the journal holds 180 events"},
		{"moved checkpoint time", "UPDATE checkpoints SET time = time + 3600000000000 WHERE size = 50", "checkpoint at 50 events: the signed note is dated"},
		{"forged checkpoint root", "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 100", "checkpoint at 100 events: the signed note says"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, v := signedJournal(t, 250, 10, 50)
			if err := execSQL(path, tt.sql); err != nil {
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
