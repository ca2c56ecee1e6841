package ship

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/cputime"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// benchEvents is how many events each shipping benchmark op ships.
const benchEvents = 200_000

// simulatedJournal is a journal of benchEvents events parsed from the
// simulator's mix.
func simulatedJournal(b *testing.B) *journal.Journal {
	b.Helper()
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: 1}).WriteLines(&buf, 100_000); err != nil {
		b.Fatal(err)
	}
	p := &parser.Parser{Instance: "bench", Location: time.UTC}
	ref := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	var recs []journal.Record
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		recs = append(recs, journal.Record{Source: "/var/log/mail.log", Event: p.Parse(string(l), ref)})
	}
	j := openJournal(b)
	for done := 0; done < benchEvents; {
		start := done % len(recs)
		chunk := recs[start:min(start+8192, len(recs), start+benchEvents-done)]
		if err := j.Commit(context.Background(), chunk, nil); err != nil {
			b.Fatal(err)
		}
		done += len(chunk)
	}
	return j
}

// benchShip ships the whole journal to sink once per op, from cursor 0,
// and reports events per CPU-second of this process (the exporter's side:
// journal reads, leaf hashes, encoding, HTTP; the store is another
// process) and events per wall-clock second.
func benchShip(b *testing.B, sink Sink) {
	j := simulatedJournal(b)
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if err := j.SetShipCursor(ctx, sink.Name(), 0); err != nil {
			b.Fatal(err)
		}
		st, err := Drain(ctx, j, sink, Options{Instance: "bench"})
		if err != nil || st.Events != benchEvents {
			b.Fatalf("drain: %+v %v", st, err)
		}
	}
	b.StopTimer()
	n := float64(benchEvents) * float64(b.N)
	b.ReportMetric(n/(cputime.Process()-cpu0).Seconds(), "events/CPU-s")
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkShipVictoriaLogs ships 200k simulated events per op to a real
// VictoriaLogs on loopback as JSON lines.
func BenchmarkShipVictoriaLogs(b *testing.B) {
	vl := vltest.Start(b, "-retentionPeriod=100y")
	sink, err := NewVictoriaLogs(vl.URL, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	benchShip(b, sink)
}

// BenchmarkShipOTLP ships 200k simulated events per op to VictoriaLogs'
// OTLP endpoint as protobuf.
func BenchmarkShipOTLP(b *testing.B) {
	vl := vltest.Start(b, "-retentionPeriod=100y")
	sink, err := NewOTLP(vl.URL+"/insert/opentelemetry/v1/logs", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	benchShip(b, sink)
}
