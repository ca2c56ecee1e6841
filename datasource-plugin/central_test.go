package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	"github.com/mailtrail/mailtrail/pkg/datasource/estatetest"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// metricValue reads one sample of an exporter's /metrics (0 when absent).
func metricValue(t *testing.T, base, sample string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}

// waitShipped waits until the exporter journaled at least lines events
// and its shipper caught up with the journal (read from /metrics, which,
// unlike the API, journals no access record).
func (p *exporterProc) waitShipped(t *testing.T, lines int) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		journaled := metricValue(t, p.url, "mailtrail_journal_events_total")
		cursor := metricValue(t, p.url, `mailtrail_ship_cursor{sink="victorialogs"}`)
		if journaled >= float64(lines) && cursor >= journaled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: journaled %v of %d lines, shipped up to %v within 90s:\n%s", p.name, journaled, lines, cursor, p.out.String())
		}
	}
}

// frameJSON is frames as Grafana receives them, for comparing answers.
func frameJSON(t *testing.T, frames data.Frames) string {
	t.Helper()
	var parts []string
	for _, f := range frames {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

// TestCentralAnswersEqualFanOut ships three exporters' journals (the
// travelling message's three hosts, two of them with simulated traffic
// too) into a real VictoriaLogs with serve's shipper, then asks
// the plugin binary the same questions in fan-out mode (the exporters) and
// in central mode (the store): the frames must be the same.
func TestCentralAnswersEqualFanOut(t *testing.T) {
	pluginBin, exporterBin := binaries(t)
	vl := vltest.Start(t, "-retentionPeriod=100y")
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	logs := estatetest.Logs(t0)
	for i, name := range []string{"mx1", "mx2"} {
		sim, err := exec.Command(exporterBin, "simulate", "--lines=3000", "--seed="+strconv.Itoa(i+7),
			"--start="+t0.Add(-40*time.Minute).Format(time.RFC3339), "--format=rfc3339").Output()
		if err != nil {
			t.Fatalf("simulate: %v", err)
		}
		logs[name] = string(sim) + logs[name]
	}
	procs := map[string]*exporterProc{}
	var exs []string
	for _, name := range []string{"mx1", "mx2", "mx3"} {
		procs[name] = startExporter(t, exporterBin, name, logs[name], "--ship.victorialogs.url="+vl.URL, "--ship.victorialogs.max-age=0")
		exs = append(exs, fmt.Sprintf(`{"name":%q,"url":%q}`, name, procs[name].url))
	}
	for name, p := range procs {
		p.waitShipped(t, strings.Count(logs[name], "\n"))
	}
	vltest.Flush(vl.URL)

	fan := startPlugin(t, pluginBin, `{"exporters":[`+strings.Join(exs, ",")+`],"timeout":"10s"}`)
	central := startPlugin(t, pluginBin, `{"victoriaLogsUrl":"`+vl.URL+`","timeout":"10s"}`)
	if h := central.health(t); h.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(h.Message, vl.URL) {
		t.Fatalf("central health: %v %q", h.Status, h.Message)
	}
	from, to := t0.Add(-time.Hour), time.Now().Add(time.Minute)

	// A bounce of the simulated traffic: its trace follows the NDR link.
	frames, errText := fan.query(t, `{"queryType":"events","kind":"bounce_notice","instance":"mx1","limit":5}`, from, to)
	if errText != "" || len(frames) != 1 || frames[0].Rows() == 0 {
		t.Fatalf("no bounce notice in the simulated log: %q", errText)
	}
	qf, _ := frames[0].FieldByName("queue_id")
	ndrParent := qf.At(0).(string)

	queries := []string{
		`{"queryType":"trace","instance":"mx1","queueId":"` + estatetest.QueueMX1 + `"}`,
		`{"queryType":"trace","queueId":"` + estatetest.QueueMX2 + `"}`,
		`{"queryType":"trace","messageId":"` + estatetest.MessageID + `"}`,
		`{"queryType":"trace","instance":"mx1","queueId":"` + ndrParent + `"}`,
		`{"queryType":"events"}`,
		`{"queryType":"events","limit":1000}`,
		`{"queryType":"events","kind":"delivery,bounce_notice","instance":"mx2","limit":300}`,
		`{"queryType":"events","sender":"ALICE@example.org"}`,
		`{"queryType":"events","text":"STATUS=SENT","limit":50}`,
		`{"queryType":"events","queueId":"` + estatetest.QueueMX3 + `"}`,
		`{"queryType":"logins","limit":1000}`,
		`{"queryType":"logins","outcome":"failure","instance":"mx1"}`,
		`{"queryType":"stats"}`,
		`{"queryType":"stats","kind":"delivery","status":"sent"}`,
		`{"queryType":"stats","kind":"auth_failure","instance":"mx2"}`,
	}
	for _, q := range queries {
		ff, fe := fan.query(t, q, from, to)
		cf, ce := central.query(t, q, from, to)
		if fe != "" || ce != "" {
			t.Errorf("%s: errors: fan-out %q, central %q", q, fe, ce)
			continue
		}
		rows := 0
		for _, f := range ff {
			rows += f.Rows()
		}
		if rows == 0 {
			t.Errorf("%s: fan-out found nothing, so the comparison proves nothing", q)
		}
		if a, b := frameJSON(t, ff), frameJSON(t, cf); a != b {
			t.Errorf("%s: central differs from fan-out:\nfan-out: %.600s\ncentral: %.600s\nfirst difference: %s", q, a, b, firstDifference(a, b))
		}
	}
}

func firstDifference(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(i-200, 0)
			return fmt.Sprintf("at %d: %q vs %q", i, a[lo:min(i+200, len(a))], b[lo:min(i+200, len(b))])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}
