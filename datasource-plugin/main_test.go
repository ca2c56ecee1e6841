package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/mailtrail/mailtrail/pkg/datasource/estatetest"
	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// These tests run the plugin as Grafana does: the built binary, started by
// hashicorp/go-plugin with Grafana's handshake and spoken to over gRPC,
// against real exporters serving real journals.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds the plugin (static, CGO off, as shipped) and the
// exporter once per test run.
func binaries(t *testing.T) (plugin, exporter string) {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "mailtrail-plugin-bin-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "gpx_mailtrail"), ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build plugin: %w\n%s", err, out)
			return
		}
		if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "exporter"), "../exporter").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build exporter: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "gpx_mailtrail"), filepath.Join(binDir, "exporter")
}

const token = "grafana-secret-0123456789"

// syncBuffer collects a process's output while it runs.
type syncBuffer = proctest.Output

type exporterProc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	url  string
}

var metricsRE = regexp.MustCompile(`metrics: (http://\S+)/metrics`)

// startExporter serves one host's log with the API on for token; extra
// are more serve flags.
func startExporter(t *testing.T, bin, name, log string, extra ...string) *exporterProc {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	cfg := filepath.Join(dir, "mailtrail.yml")
	if err := os.WriteFile(logPath, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("instance: %s\napi:\n  tokens:\n    - {name: grafana, token: %s, role: auditor}\n", name, token)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &exporterProc{name: name, out: &syncBuffer{}}
	p.cmd = exec.Command(bin, "serve", "--config.file="+cfg, "--log.path="+logPath,
		"--journal.path="+filepath.Join(dir, "journal.db"), "--web.listen-address=127.0.0.1:0",
		"--log.timezone=UTC", "--journal.flush-interval=50ms", "--postfix.postqueue=")
	p.cmd.Args = append(p.cmd.Args, extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); p.url == ""; time.Sleep(20 * time.Millisecond) {
		if m := metricsRE.FindStringSubmatch(p.out.String()); m != nil {
			p.url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("%s named no address within 60s:\n%s", name, p.out.String())
		}
	}
	return p
}

// waitFinished waits until the exporter's journal holds qid's removal.
func (p *exporterProc) waitFinished(t *testing.T, qid string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/trace?queue_id="+qid, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(body, []byte(`"finished"`)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has not journaled %s within 60s (%v):\n%s", p.name, qid, err, p.out.String())
		}
	}
}

// pluginClient is Grafana's side of the plugin protocol.
type pluginClient struct {
	client      *goplugin.Client
	data        pluginv2.DataClient
	diagnostics pluginv2.DiagnosticsClient
	resource    pluginv2.ResourceClient
	settings    *pluginv2.DataSourceInstanceSettings
}

func startPlugin(t *testing.T, bin string, jsonData string) *pluginClient {
	t.Helper()
	c := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion, // 2
			MagicCookieKey:   "grafana_plugin_type",
			MagicCookieValue: "datasource",
		},
		VersionedPlugins: map[int]goplugin.PluginSet{2: {
			"data":        &grpcplugin.DataGRPCPlugin{},
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
		}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard}),
	})
	t.Cleanup(c.Kill)
	rpc, err := c.Client()
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	pc := &pluginClient{client: c, settings: &pluginv2.DataSourceInstanceSettings{
		Uid: "mailtrail-ds", Name: "mailtrail", JsonData: []byte(jsonData),
		DecryptedSecureJsonData: map[string]string{"token": token}, LastUpdatedMS: time.Now().UnixMilli(),
	}}
	for name, dst := range map[string]any{"data": &pc.data, "diagnostics": &pc.diagnostics, "resource": &pc.resource} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		switch d := dst.(type) {
		case *pluginv2.DataClient:
			*d = raw.(pluginv2.DataClient)
		case *pluginv2.DiagnosticsClient:
			*d = raw.(pluginv2.DiagnosticsClient)
		case *pluginv2.ResourceClient:
			*d = raw.(pluginv2.ResourceClient)
		}
	}
	return pc
}

func (pc *pluginClient) context() *pluginv2.PluginContext {
	return &pluginv2.PluginContext{OrgId: 1, PluginId: "mailtrail-postfix-datasource", DataSourceInstanceSettings: pc.settings}
}

// query runs one query and returns its frames and error text.
func (pc *pluginClient) query(t *testing.T, q string, from, to time.Time) (data.Frames, string) {
	t.Helper()
	var m struct {
		QueryType string `json:"queryType"`
	}
	json.Unmarshal([]byte(q), &m)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := pc.data.QueryData(ctx, &pluginv2.QueryDataRequest{PluginContext: pc.context(), Queries: []*pluginv2.DataQuery{{
		RefId: "A", QueryType: m.QueryType, Json: []byte(q), MaxDataPoints: 500, IntervalMS: 60000,
		TimeRange: &pluginv2.TimeRange{FromEpochMS: from.UnixMilli(), ToEpochMS: to.UnixMilli()},
	}}})
	if err != nil {
		t.Fatalf("QueryData %s: %v", q, err)
	}
	r := resp.Responses["A"]
	frames, err := data.UnmarshalArrowFrames(r.Frames)
	if err != nil {
		t.Fatalf("frames of %s: %v", q, err)
	}
	return frames, r.Error
}

func (pc *pluginClient) health(t *testing.T) *pluginv2.CheckHealthResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := pc.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pc.context()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (pc *pluginClient) resourceGet(t *testing.T, path string) (int32, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := pc.resource.CallResource(ctx, &pluginv2.CallResourceRequest{PluginContext: pc.context(), Path: path, Method: "GET", Url: path})
	if err != nil {
		t.Fatal(err)
	}
	r, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return r.Code, string(r.Body)
}

// spans reads a trace frame: span id -> parent id, operation, service.
func spans(t *testing.T, f *data.Frame) map[string][3]string {
	t.Helper()
	out := map[string][3]string{}
	get := func(name string) *data.Field {
		fl, i := f.FieldByName(name)
		if i < 0 {
			t.Fatalf("trace frame has no %s field", name)
		}
		return fl
	}
	sid, pid, op, svc := get("spanID"), get("parentSpanID"), get("operationName"), get("serviceName")
	for i := 0; i < f.Rows(); i++ {
		out[sid.At(i).(string)] = [3]string{pid.At(i).(string), op.At(i).(string), svc.At(i).(string)}
	}
	return out
}

// messageChain walks from span id to the root, listing message spans as
// service:operation.
func messageChain(sp map[string][3]string, id string) []string {
	var out []string
	for i := 0; id != "" && i < 50; i++ {
		s, ok := sp[id]
		if !ok {
			return append(out, "missing span "+id)
		}
		if strings.HasPrefix(s[1], "message ") {
			out = append(out, s[2]+":"+strings.TrimPrefix(s[1], "message "))
		}
		id = s[0]
	}
	return out
}

func TestPluginOverGRPCAgainstThreeExporters(t *testing.T) {
	pluginBin, exporterBin := binaries(t)
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	logs := estatetest.Logs(t0)
	procs := map[string]*exporterProc{}
	var exs []string
	for _, name := range []string{"mx1", "mx2", "mx3"} {
		procs[name] = startExporter(t, exporterBin, name, logs[name])
		exs = append(exs, fmt.Sprintf(`{"name":%q,"url":%q}`, name, procs[name].url))
	}
	procs["mx1"].waitFinished(t, estatetest.QueueMX1)
	procs["mx2"].waitFinished(t, estatetest.QueueMX2)
	procs["mx3"].waitFinished(t, estatetest.QueueMX3)

	pc := startPlugin(t, pluginBin, `{"exporters":[`+strings.Join(exs, ",")+`],"timeout":"3s"}`)
	from, to := t0.Add(-time.Hour), time.Now().Add(time.Minute)

	if h := pc.health(t); h.Status != pluginv2.CheckHealthResponse_OK || h.Message != "3/3 exporters reachable" {
		t.Fatalf("health: %v %q", h.Status, h.Message)
	}

	trace := `{"queryType":"trace","instance":"mx1","queueId":"` + estatetest.QueueMX1 + `"}`
	frames, errText := pc.query(t, trace, from, to)
	if errText != "" || len(frames) != 1 {
		t.Fatalf("trace: error %q, %d frames", errText, len(frames))
	}
	if frames[0].Meta == nil || frames[0].Meta.PreferredVisualization != data.VisTypeTrace {
		t.Fatalf("trace frame meta %+v", frames[0].Meta)
	}
	sp := spans(t, frames[0])
	want := []string{"mx3:" + estatetest.QueueMX3, "mx2:" + estatetest.QueueMX2, "mx1:" + estatetest.QueueMX1}
	if got := messageChain(sp, "mx3/"+estatetest.QueueMX3); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("chain from mx3's message = %v, want %v\nspans: %v", got, want, sp)
	}
	for _, hop := range []string{"mx2/" + estatetest.QueueMX2, "mx3/" + estatetest.QueueMX3} {
		if parent := sp[sp[hop][0]]; !strings.HasPrefix(parent[1], "delivery bob@example.com") {
			t.Errorf("%s hangs under %q, want the delivery that handed it over", hop, parent[1])
		}
	}
	services := map[string]bool{}
	for _, s := range sp {
		services[s[2]] = true
	}
	if len(services) != 3 {
		t.Errorf("spans from %v, want all three instances", services)
	}

	frames, errText = pc.query(t, `{"queryType":"events","limit":1000}`, from, to)
	if errText != "" {
		t.Fatal(errText)
	}
	inst, _ := frames[0].FieldByName("instance")
	seen := map[string]int{}
	for i := 0; i < inst.Len(); i++ {
		seen[inst.At(i).(string)]++
	}
	for name, log := range logs {
		// Every logged line, plus the API's own access records if the
		// exporter shows them (never fewer than the lines).
		if n := strings.Count(log, "\n"); seen[name] < n {
			t.Errorf("events from %s: %d, want at least its %d lines", name, seen[name], n)
		}
	}

	if code, body := pc.resourceGet(t, "instances"); code != 200 || body != `["mx1","mx2","mx3"]` {
		t.Errorf("resource instances: %d %s", code, body)
	}

	// One exporter dies: the query still answers, with a notice naming it.
	procs["mx3"].cmd.Process.Kill()
	procs["mx3"].cmd.Wait()
	frames, errText = pc.query(t, trace, from, to)
	if errText != "" || len(frames) != 1 {
		t.Fatalf("trace with mx3 down: error %q", errText)
	}
	sp = spans(t, frames[0])
	if got := messageChain(sp, "mx2/"+estatetest.QueueMX2); len(got) != 2 {
		t.Errorf("chain from mx2 with mx3 down = %v", got)
	}
	var notices []string
	if frames[0].Meta != nil {
		for _, n := range frames[0].Meta.Notices {
			notices = append(notices, n.Text)
		}
	}
	if !strings.Contains(strings.Join(notices, "\n"), "mx3 (") {
		t.Errorf("notices %q do not name mx3", notices)
	}
	// Queries still answer from mx1 and mx2: the datasource is OK, and says
	// which exporter does not answer.
	if h := pc.health(t); h.Status != pluginv2.CheckHealthResponse_OK || !strings.HasPrefix(h.Message, "2/3 exporters reachable; not reachable: mx3 (") {
		t.Errorf("health with mx3 down: %v %q", h.Status, h.Message)
	}
}
