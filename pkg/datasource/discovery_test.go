package datasource

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/mailtrail/mailtrail/pkg/datasource/estatetest"
	"github.com/mailtrail/mailtrail/pkg/proctest"
)

func TestSelector(t *testing.T) {
	labels := map[string]string{"job": "mailtrail", "env": "prod", "instance": "mx1"}
	for sel, want := range map[string]bool{
		``:                                  true,
		`job="mailtrail"`:                   true,
		`{job="mailtrail", env=~"prod|dr"}`: true,
		`{job="mailtrail",env!="prod"}`:     false,
		`instance!~"mx[23]"`:                true,
		`team=""`:                           true,  // missing is empty, as in PromQL
		`env=~"pro"`:                        false, // anchored
	} {
		s, err := ParseSelector(sel)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if got := s.Matches(labels); got != want {
			t.Errorf("%s matches = %v, want %v", sel, got, want)
		}
	}
	for _, bad := range []string{`job=mailtrail`, `{job="x"`, `job=~"("`, `job=="x"`} {
		if _, err := ParseSelector(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSettingsErrorsNameTheSetting(t *testing.T) {
	for js, want := range map[string]string{
		`{}`: "no exporters",
		`{"exporters":[{"name":"","url":"http://a"}]}`:                                "exporters[0]: name is empty",
		`{"exporters":[{"name":"a","url":"ftp://a"}]}`:                                "exporters[0] (a): url",
		`{"exporters":[{"name":"a","url":"http://a"},{"name":"a","url":"http://b"}]}`: "used twice",
		`{"exporters":[{"name":"a","url":"http://a"}],"timeout":"soon"}`:              "timeout",
		`{"exporters":[{"name":"a","url":"http://a"}],"maxConcurrency":-1}`:           "maxConcurrency",
		`{"discovery":{"prometheusUrl":"http://p:9090","selector":"job="}}`:           "discovery.selector",
		`{"discovery":{"prometheusUrl":"http://p:9090","refreshInterval":"1s"}}`:      "refreshInterval",
		`{"exporters":[`: "not valid",
	} {
		_, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(js)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", js, err, want)
		}
	}
	_, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"exporters":[{"name":"a","url":"http://a"}]}`),
		DecryptedSecureJSONData: map[string]string{"tlsClientCert": "x"}})
	if err == nil || !strings.Contains(err.Error(), "tlsClientKey") {
		t.Errorf("cert without key: %v", err)
	}
}

// TestDiscoveryFromPrometheus runs the real Prometheus (Debian package
// prometheus; scripts/deps.sh installs it) with the exporters as scrape
// targets and a relabelling that names them, and queries through the
// exporters the plugin discovers.
func TestDiscoveryFromPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is needed (Debian package prometheus; scripts/deps.sh installs it): %v", err)
	}
	e := newEstate(t, time.Now().Add(-time.Hour).Truncate(time.Second))
	var targets []string
	var relabel strings.Builder
	for _, name := range []string{"mx1", "mx2", "mx3"} {
		u, _ := url.Parse(e.servers[name].URL)
		targets = append(targets, fmt.Sprintf("%q", u.Host))
		fmt.Fprintf(&relabel, "      - {source_labels: [__address__], regex: %q, target_label: instance, replacement: %s}\n", u.Host, name)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`scrape_configs:
  - job_name: mailtrail
    scrape_interval: 1h
    static_configs: [{targets: [%s]}]
    relabel_configs:
%s  - job_name: other
    static_configs: [{targets: ["127.0.0.1:1"]}]
`, strings.Join(targets, ","), relabel.String())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := proctest.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	s, err := ParseSettings(backend.DataSourceInstanceSettings{
		JSONData:                []byte(`{"discovery":{"prometheusUrl":"http://` + addr + `","selector":"job=\"mailtrail\""}}`),
		DecryptedSecureJSONData: map[string]string{"token": "s3cret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, "uid", "mailtrail")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Dispose()
	var exs []Exporter
	for deadline := time.Now().Add(60 * time.Second); len(exs) < 3; time.Sleep(200 * time.Millisecond) {
		d.disc.update(context.Background())
		exs, err = d.disc.exporters(context.Background())
		if time.Now().After(deadline) {
			t.Fatalf("discovered %v (%v) within 60s\n%s", exs, err, out.String())
		}
	}
	if got := strings.Join(sortedNames(exs), ","); got != "mx1,mx2,mx3" {
		t.Fatalf("discovered %s, want mx1,mx2,mx3 (not the other job)", got)
	}
	r := runQuery(t, d, e.timeRange(), `{"queryType":"trace","queueId":"`+estatetest.QueueMX1+`"}`)
	if r.Error != nil || r.Frames[0].Rows() != 12 {
		t.Fatalf("trace through discovered exporters: %v, %d spans", r.Error, r.Frames[0].Rows())
	}
}
