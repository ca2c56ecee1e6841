package datasource

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/mailtrail/mailtrail/pkg/datasource/estatetest"
)

// BenchmarkTraceFanOut10 is a trace query over ten exporters on loopback:
// the travelling message's three hosts and seven hosts with mail of their
// own. It reports the p99 latency of one trace (goal: at most 50 ms).
func BenchmarkTraceFanOut10(b *testing.B) {
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	logs := estatetest.Logs(t0)
	e := &estate{t0: t0, exps: map[string]*estatetest.Exporter{}, servers: map[string]*httptest.Server{}}
	var exs []string
	for i := 1; i <= 10; i++ {
		name := fmt.Sprintf("mx%d", i)
		log, ok := logs[name]
		if !ok {
			// Another host's own message, sharing nothing with the trace.
			log = strings.NewReplacer(estatetest.QueueMX1, fmt.Sprintf("9%09X", i), estatetest.MessageID,
				fmt.Sprintf("other-%d@example.org", i), " mx1 ", " "+name+" ", "queued as "+estatetest.QueueMX2,
				"queued as 8ABCDEF000").Replace(logs["mx1"])
		}
		x := estatetest.NewExporter(name, log)
		e.servers[name] = x.Start(b)
		exs = append(exs, fmt.Sprintf(`{"name":%q,"url":%q}`, name, e.servers[name].URL))
	}
	s, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"exporters":[` + strings.Join(exs, ",") + `]}`)})
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(s, "bench", "mailtrail")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Dispose)
	q := `{"queryType":"trace","queueId":"` + estatetest.QueueMX1 + `"}`
	if r := runQuery(b, d, e.timeRange(), q); r.Error != nil || r.Frames[0].Rows() != 12 {
		b.Fatalf("trace: %v, want 12 spans", r.Error)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		runQuery(b, d, e.timeRange(), q)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
