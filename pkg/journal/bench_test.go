package journal

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/cputime"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

// BenchmarkCommit measures journaling simulated events in batches of 8192,
// as replay does; op is one event (wall time, which this machine's disk
// dominates; cpu-ns/event is what ingest pays). bytes/event is the
// database size, its WAL checkpointed, divided by the events written.
func BenchmarkCommit(b *testing.B) {
	recs := simulatedRecords(b)
	path := filepath.Join(b.TempDir(), "bench.db")
	j, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()

	b.ResetTimer()
	cpu0 := cputime.Process()
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
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/event")
	if _, err := j.DB().Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(j.Size())/float64(b.N), "bytes/event")
}

// BenchmarkVerify measures Verify over a journal of 200k simulated events
// (sealed blocks, postings checked); op is one whole verification.
func BenchmarkVerify(b *testing.B) {
	recs := simulatedRecords(b)
	path := filepath.Join(b.TempDir(), "bench.db")
	ctx := context.Background()
	j, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 200_000
	fill(b, j, recs, n)
	j.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Verify(ctx, path, nil, nil)
		if err != nil || r.Problem != nil || r.Events != n {
			b.Fatalf("verify: %+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTraceQueueID measures a lookup by queue id in a journal of
// 200k simulated events: postings, then one or two blocks decoded.
func BenchmarkTraceQueueID(b *testing.B) {
	recs := simulatedRecords(b)
	path := filepath.Join(b.TempDir(), "bench.db")
	ctx := context.Background()
	j, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	fill(b, j, recs, 200_000)
	var qids []string
	for i := 0; i < len(recs) && len(qids) < 1000; i += 97 {
		if q := recs[i].Event.QueueID; q != "" {
			qids = append(qids, q)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs, err := j.Events(ctx, Filter{QueueID: qids[i%len(qids)]})
		if err != nil || len(evs) == 0 {
			b.Fatalf("trace %s: %d events, %v", qids[i%len(qids)], len(evs), err)
		}
	}
}

// fill journals n events, cycling through recs, in batches of 8192.
func fill(b *testing.B, j *Journal, recs []Record, n int) {
	for done := 0; done < n; {
		start := done % len(recs)
		chunk := recs[start:min(start+8192, len(recs), start+n-done)]
		if err := j.Commit(context.Background(), chunk, nil); err != nil {
			b.Fatal(err)
		}
		done += len(chunk)
	}
}

// simulatedRecords parses 100k lines of the simulator's mix.
func simulatedRecords(b *testing.B) []Record {
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
	return recs
}
