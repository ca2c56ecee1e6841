package fleet_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/mailtrail/mailtrail/pkg/datasource"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/proctest"
	"github.com/mailtrail/mailtrail/pkg/ship"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// BenchmarkCentralTraceVsFanOut is the fleet figure (scripts/bench-fleet.sh
// prepares its data and runs it): N journals of simulated traffic
// (FLEET_BENCH_DIR/mx1.db ...) are shipped by the real shipper into a real
// VictoriaLogs, served by N real exporters, and the same traces (queue ids
// from FLEET_BENCH_DIR/qids.txt, "instance qid" per line) are asked of the
// plugin's logic in central mode and in fan-out mode, one at a time. It
// reports each mode's p50 and p99, checks both modes gave the same frames,
// and the shipping rate.
func BenchmarkCentralTraceVsFanOut(b *testing.B) {
	dir := os.Getenv("FLEET_BENCH_DIR")
	bin := os.Getenv("EXPORTER")
	if dir == "" || bin == "" {
		b.Skip("FLEET_BENCH_DIR and EXPORTER are set by scripts/bench-fleet.sh")
	}
	dbs, _ := filepath.Glob(filepath.Join(dir, "mx*.db"))
	slices.Sort(dbs)
	if len(dbs) == 0 {
		b.Fatalf("no journals mx*.db in %s", dir)
	}
	// FLEET_BENCH_VL names a VictoriaLogs that already holds the shipped
	// journals (from an earlier run), to measure queries again without
	// shipping again; otherwise one is started and filled.
	storeURL := os.Getenv("FLEET_BENCH_VL")
	if storeURL == "" {
		storeURL = vltest.Start(b, "-retentionPeriod=100y").URL
	}
	ctx := context.Background()
	var shipped int64
	t0 := time.Now()
	for _, db := range dbs {
		if os.Getenv("FLEET_BENCH_VL") != "" && os.Getenv("FLEET_BENCH_SHIP") == "" {
			break
		}
		name := strings.TrimSuffix(filepath.Base(db), ".db")
		j, err := journal.Open(ctx, db, journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		sink, err := ship.NewVictoriaLogs(storeURL, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		st, err := ship.Drain(ctx, j, sink, ship.Options{Instance: name, BatchSize: 5000})
		j.Close()
		if err != nil {
			b.Fatalf("ship %s: %v", name, err)
		}
		shipped += st.Events
	}
	shipTime := time.Since(t0)
	vltest.Flush(storeURL)

	token := "bench-token-0123456789abcdef"
	cfg := filepath.Join(b.TempDir(), "mailtrail.yml")
	if err := os.WriteFile(cfg, []byte("api:\n  tokens:\n    - {name: bench, token: "+token+", role: auditor}\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	empty := filepath.Join(b.TempDir(), "empty.log")
	os.WriteFile(empty, nil, 0o644)
	var exs []string
	metricsRE := regexp.MustCompile(`metrics: (http://\S+)/metrics`)
	for _, db := range dbs {
		name := strings.TrimSuffix(filepath.Base(db), ".db")
		out := &proctest.Output{}
		cmd := exec.Command(bin, "serve", "--config.file="+cfg, "--instance="+name, "--journal.path="+db, "--log.path="+empty,
			"--web.listen-address=127.0.0.1:0", "--postfix.postqueue=", "--journal.verify-interval=0")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		var url string
		for deadline := time.Now().Add(2 * time.Minute); url == ""; time.Sleep(50 * time.Millisecond) {
			if m := metricsRE.FindStringSubmatch(out.String()); m != nil {
				url = m[1]
			} else if time.Now().After(deadline) {
				b.Fatalf("%s did not start:\n%s", name, out.String())
			}
		}
		exs = append(exs, fmt.Sprintf(`{"name":%q,"url":%q}`, name, url))
	}
	mk := func(js string, secure map[string]string) *datasource.Datasource {
		s, err := datasource.ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(js), DecryptedSecureJSONData: secure})
		if err != nil {
			b.Fatal(err)
		}
		d, err := datasource.New(s, "bench", "mailtrail")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(d.Dispose)
		return d
	}
	fan := mk(`{"exporters":[`+strings.Join(exs, ",")+`],"timeout":"30s"}`, map[string]string{"token": token})
	central := mk(`{"victoriaLogsUrl":"`+storeURL+`","timeout":"30s"}`, nil)

	f, err := os.Open(filepath.Join(dir, "qids.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var queries []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		inst, qid, ok := strings.Cut(sc.Text(), " ")
		if ok {
			queries = append(queries, fmt.Sprintf(`{"queryType":"trace","instance":%q,"queueId":%q}`, inst, qid))
		}
	}
	f.Close()
	run := func(d *datasource.Datasource, q string) (string, time.Duration) {
		start := time.Now()
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{
			RefID: "A", QueryType: "trace", JSON: []byte(q), TimeRange: backend.TimeRange{From: time.Unix(0, 0), To: time.Now()},
		}}})
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		r := resp.Responses["A"]
		if r.Error != nil {
			b.Fatalf("%s: %v", q, r.Error)
		}
		js, _ := json.Marshal(r.Frames)
		return string(js), took
	}
	var latC, latF []time.Duration
	differ := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range queries {
			c, tc := run(central, q)
			fo, tf := run(fan, q)
			latC, latF = append(latC, tc), append(latF, tf)
			if c != fo {
				if differ == 0 {
					// The first difference, for a look: the two answers.
					os.WriteFile(filepath.Join(dir, "differ-central.json"), []byte(q+"\n"+c), 0o644)
					os.WriteFile(filepath.Join(dir, "differ-fanout.json"), []byte(q+"\n"+fo), 0o644)
				}
				differ++
			}
		}
	}
	b.StopTimer()
	pct := func(l []time.Duration, p int) float64 {
		slices.Sort(l)
		return float64(l[(len(l)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(pct(latC, 50), "central-p50-ms")
	b.ReportMetric(pct(latC, 99), "central-p99-ms")
	b.ReportMetric(pct(latF, 50), "fanout-p50-ms")
	b.ReportMetric(pct(latF, 99), "fanout-p99-ms")
	b.ReportMetric(float64(differ), "traces-differing")
	fmt.Printf("bench-fleet: %d instances, %d events shipped in %s (%.0f events/s wall, shipper and store on the same machine); %d traces: central p50 %.1f ms p99 %.1f ms, fan-out p50 %.1f ms p99 %.1f ms; %d traces differed\n",
		len(dbs), shipped, shipTime.Round(time.Second), float64(shipped)/shipTime.Seconds(), len(latC),
		pct(latC, 50), pct(latC, 99), pct(latF, 50), pct(latF, 99), differ)
}
