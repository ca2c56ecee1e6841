package journal

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// BenchmarkCommit measures journaling simulated events in batches of 8192,
// as replay does; op is one event. bytes/event is the database size (with
// its WAL) divided by the events written.
func BenchmarkCommit(b *testing.B) {
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: 1}).WriteLines(&buf, 100_000); err != nil {
		b.Fatal(err)
	}
	p := &parser.Parser{Instance: "bench", Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	var recs []Record
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		recs = append(recs, Record{Source: "/var/log/mail.log", Event: p.Parse(string(l), ref)})
	}
	path := filepath.Join(b.TempDir(), "bench.db")
	j, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()

	b.ResetTimer()
	const batch = 8192
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		start := done % len(recs)
		chunk := recs[start:min(start+n, len(recs))]
		if err := j.Commit(ctx, chunk, nil); err != nil {
			b.Fatal(err)
		}
		done += len(chunk)
	}
	b.StopTimer()
	st, _ := os.Stat(path)
	wal, _ := os.Stat(path + "-wal")
	size := st.Size()
	if wal != nil {
		size += wal.Size()
	}
	b.ReportMetric(float64(size)/float64(b.N), "bytes/event")
}
