package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/proctest"
	"github.com/mailtrail/mailtrail/pkg/ship"
	"github.com/mailtrail/mailtrail/pkg/vltest"
)

// shipBatch is the batch size of the shipping tests: duplicates after a
// crash are bounded by it.
const shipBatch = 100

// shippingExporter is one exporter of a shipping test: its log, writer,
// journal and process.
type shippingExporter struct {
	instance, log, db string
	args              []string
	w                 *logWriter
	p                 *proc
	crashes           int
}

func startShipping(t *testing.T, dir, instance, storeURL string, extra ...string) *shippingExporter {
	t.Helper()
	e := &shippingExporter{instance: instance, log: filepath.Join(dir, instance+".log"), db: filepath.Join(dir, instance+".db")}
	e.args = append([]string{
		"--log.path=" + e.log, "--journal.path=" + e.db, "--web.listen-address=127.0.0.1:0", "--instance=" + instance,
		"--journal.flush-interval=20ms", "--log.poll-interval=20ms",
		"--ship.victorialogs.url=" + storeURL, "--ship.victorialogs.max-age=0", "--ship.victorialogs.recheck-after=2s",
		fmt.Sprintf("--ship.victorialogs.batch-size=%d", shipBatch),
	}, extra...)
	e.w = startLogWriter(t, e.log, time.Millisecond)
	e.p = startExporter(t, nil, e.args...)
	e.p.metricsURL()
	return e
}

// shipState reads the journal's newest seq, event count and ship cursor
// beside the running exporter.
func shipState(db string) (last, count, cursor int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, db, journal.Options{ReadOnly: true})
	if err != nil {
		return 0, 0, 0, err
	}
	defer j.Close()
	if last, err = j.LastSeq(ctx); err != nil {
		return
	}
	if count, err = j.Count(ctx); err != nil {
		return
	}
	cursor, err = j.ShipCursor(ctx, ship.SinkVictoriaLogs)
	return
}

// storeSeqs counts the store's rows of instance per seq, asking selectURL.
func storeSeqs(t *testing.T, selectURL, instance string) (map[int64]int, error) {
	t.Helper()
	rows, err := vltest.Query(selectURL, "instance:="+strconv.Quote(instance)+" | fields seq")
	if err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, row := range rows {
		n, err := strconv.ParseInt(row["seq"], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("row without seq: %v", row)
		}
		out[n]++
	}
	return out, nil
}

// waitShipped waits until e's writer's lines are journaled, shipped, and
// the store holds every one of its events (rechecks included), then
// checks: the distinct (instance, seq) in the store are the journal's
// events, and duplicates are at most one batch per crash.
func (e *shippingExporter) waitShipped(t *testing.T, selectURL string, lines int) {
	t.Helper()
	waitJournaled(t, e.p, e.db, lines, 2*time.Minute)
	deadline := time.Now().Add(2 * time.Minute)
	var last, count, cursor int64
	var seqs map[int64]int
	var err error
	for {
		last, count, cursor, err = shipState(e.db)
		if err == nil && cursor == last {
			if seqs, err = storeSeqs(t, selectURL, e.instance); err == nil && int64(len(seqs)) == count {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: journal %d events (last seq %d), cursor %d, store %d distinct seqs (err %v)\n%s", e.instance, count, last, cursor, len(seqs), err, e.p.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if count != last {
		t.Fatalf("%s: journal holds %d events up to seq %d: the test expects no gaps", e.instance, count, last)
	}
	dups := 0
	for seq, n := range seqs {
		if seq < 1 || seq > last {
			t.Errorf("%s: the store holds seq %d, not in the journal", e.instance, seq)
		}
		dups += n - 1
	}
	if e.crashes >= 0 && dups > shipBatch*e.crashes {
		t.Errorf("%s: %d duplicate rows after %d crashes, want at most %d (one batch a crash)\n%s", e.instance, dups, e.crashes, shipBatch*e.crashes, e.p.output())
	}
	t.Logf("%s: %d events journaled and in the store, %d duplicate rows after %d crashes", e.instance, count, dups, e.crashes)
	for _, l := range strings.Split(e.p.stderr.String(), "\n") {
		if strings.Contains(l, "sent again") || strings.Contains(l, "shipping failed") {
			t.Logf("%s: %s", e.instance, l)
		}
	}
}

// Two exporters ship while the store is killed -9 and restarted, and while
// one exporter is killed -9 and restarted: afterwards, per instance, the
// distinct (instance, seq) in the store are the journal's events, and
// duplicates are at most one batch per crash.
func TestShipKill9(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y")
	dir := t.TempDir()
	a := startShipping(t, dir, "a", vl.URL)
	b := startShipping(t, dir, "b", vl.URL)
	progress := func(what string, es ...*shippingExporter) {
		t.Helper()
		for _, e := range es {
			_, _, c0, _ := shipState(e.db)
			deadline := time.Now().Add(time.Minute)
			for {
				if _, _, c, err := shipState(e.db); err == nil && c > c0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s shipped nothing within a minute\n%s", what, e.instance, e.p.output())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	progress("start", a, b)
	vl.Kill()
	a.crashes++
	b.crashes++
	time.Sleep(time.Second) // the exporters go on journaling, and fail to ship
	vl.Restart()
	progress("after the store's restart", a, b)
	a.p.kill9()
	a.crashes++
	a.p = startExporter(t, nil, a.args...)
	a.p.metricsURL()
	progress("after the exporter's restart", a, b)
	for _, e := range []*shippingExporter{a, b} {
		n := e.w.stop(t)
		e.waitShipped(t, vl.URL, n)
	}
	a.p.term()
	b.p.term()
}

// A VictoriaLogs cluster on loopback (two storage nodes, an insert node
// and a select node) takes two exporters' rows; a storage node stopped
// while they ship and started again loses nothing.
func TestShipCluster(t *testing.T) {
	s1 := vltest.Start(t, "-retentionPeriod=100y")
	s2 := vltest.Start(t, "-retentionPeriod=100y")
	nodes := "-storageNode=" + s1.Addr + "," + s2.Addr
	insert := vltest.Start(t, nodes)
	sel := vltest.Start(t, nodes)
	dir := t.TempDir()
	a := startShipping(t, dir, "a", insert.URL, "--ship.victorialogs.select-url="+sel.URL)
	b := startShipping(t, dir, "b", insert.URL, "--ship.victorialogs.select-url="+sel.URL)
	time.Sleep(500 * time.Millisecond)
	s2.Stop()
	time.Sleep(time.Second) // shipping goes on while a storage node is away
	s2.Restart()
	time.Sleep(500 * time.Millisecond)
	for _, e := range []*shippingExporter{a, b} {
		// The insert node may store a block twice when a storage node
		// goes away under it (it re-routes what it had sent there);
		// readers deduplicate by (instance, seq). What counts here is
		// that nothing is lost.
		e.crashes = -1
		n := e.w.stop(t)
		e.waitShipped(t, sel.URL, n)
	}
	a.p.term()
	b.p.term()
}

// storeNaming counts the store's rows of instance that name subject in any
// field.
func storeNaming(t *testing.T, base, instance, subject string) int {
	t.Helper()
	rows := vltest.Rows(t, base, "instance:="+strconv.Quote(instance)+" *:i("+strconv.Quote(subject)+") | stats count() n")
	if len(rows) != 1 {
		t.Fatalf("count of rows naming %s: %v", subject, rows)
	}
	n, _ := strconv.Atoi(rows[0]["n"])
	return n
}

// Erasure reaches the store: the API's forget (serve shipping) and the
// CLI's delete the subject's rows in VictoriaLogs and say so; with the
// store down, the CLI's says the copies remain and fails, and a second
// forget once the store is back deletes them.
func TestShipForget(t *testing.T) {
	vl := vltest.Start(t, "-retentionPeriod=100y", "-delete.enable")
	r := startAPIRig(t, 3000, true, "", "--ship.victorialogs.url="+vl.URL, "--ship.victorialogs.max-age=0")
	subject := mostPresentUser(t, filepath.Join(r.dir, "sim.log"))
	deadline := time.Now().Add(time.Minute)
	for {
		last, _, cursor, err := shipState(r.db)
		if err == nil && cursor == last && storeNaming(t, vl.URL, "mx1", subject) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not shipped within a minute: cursor %d of %d (%v)\n%s", cursor, last, err, r.p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, err := http.NewRequest(http.MethodPost, r.base+"/api/v1/forget?subject="+url.QueryEscape(subject), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiTokensForTest["admin"])
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Events int64
		Stores []struct {
			Sink, URL, Detail string
			Deleted           bool
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.Events == 0 || len(res.Stores) != 1 || !res.Stores[0].Deleted || res.Stores[0].URL != vl.URL {
		t.Fatalf("API forget: %d %+v %v", resp.StatusCode, res, err)
	}
	if n := storeNaming(t, vl.URL, "mx1", subject); n != 0 {
		t.Fatalf("after the API's forget, %d rows in the store name %s", n, subject)
	}
	r.p.term()

	// The CLI, the store down: the journal is erased, the command fails
	// and says the store still holds copies.
	other := "user" // a local part every simulated address has
	rows := vltest.Rows(t, vl.URL, `instance:=mx1 recipient:~"@" | fields recipient`)
	for _, row := range rows {
		if rc := row["recipient"]; !strings.Contains(rc, "erased") && rc != "" {
			other = rc
			break
		}
	}
	if other == "user" {
		t.Fatal("fixture: no recipient in the store")
	}
	vl.Stop() // a clean stop: the rows shipped last are saved
	cli := cliRun(t, "", "forget", "--journal.path="+r.db, "--instance=mx1", "--ship.victorialogs.url="+vl.URL, "--subject="+other)
	if cli.code != 1 || !strings.Contains(cli.stdout, "erased "+other) || !strings.Contains(cli.stderr, "still holds copies naming "+other) {
		t.Fatalf("forget with the store down: %s", cli)
	}
	vl.Restart()
	if n := storeNaming(t, vl.URL, "mx1", other); n == 0 {
		t.Fatalf("fixture: no row names %s before the second forget", other)
	}
	cli = cliRun(t, "", "forget", "--journal.path="+r.db, "--instance=mx1", "--ship.victorialogs.url="+vl.URL, "--subject="+other)
	if cli.code != 0 || !strings.Contains(cli.stdout, "fleet store victorialogs "+vl.URL+": rows deleted (instance mx1, task") || !strings.Contains(cli.stdout, "nothing changed in the journal") {
		t.Fatalf("second forget: %s", cli)
	}
	if n := storeNaming(t, vl.URL, "mx1", other); n != 0 {
		t.Fatalf("after the second forget, %d rows name %s: %v\n%s", n, other, vltest.Rows(t, vl.URL, `instance:=mx1 *:i("`+other+`")`), cli)
	}
}

// A store that cannot be reached is a log line and a metric; serve goes on
// journaling, and a URL that is not one is refused at start, naming the
// flag.
func TestShipBadURL(t *testing.T) {
	dead := "http://" + proctest.FreeAddr(t)
	dir := t.TempDir()
	e := startShipping(t, dir, "a", dead)
	metrics := e.p.metricsURL()
	waitJournaled(t, e.p, e.db, 500, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for {
		v, err := e.p.metric(metrics, `mailtrail_ship_errors_total{reason="connect",sink="victorialogs"}`)
		lag, _ := e.p.metric(metrics, `mailtrail_ship_lag_events{sink="victorialogs"}`)
		if err == nil && v >= 2 && lag >= 500 && strings.Contains(e.p.stderr.String(), "shipping failed") && strings.Contains(e.p.stderr.String(), dead) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connect errors or lag counted within a minute (%v, lag %v, %v)\n%s", v, lag, err, e.p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := e.w.stop(t)
	waitJournaled(t, e.p, e.db, n, time.Minute)
	e.p.term()

	r := cliRun(t, "", "serve", "--journal.path="+filepath.Join(dir, "b.db"), "--ship.victorialogs.url=vl:9428", "--config.check")
	if r.code != 2 || !strings.Contains(r.stderr, `--ship.victorialogs.url: "vl:9428": want http:// or https://`) {
		t.Fatalf("a URL that is not one: %s", r)
	}
}
