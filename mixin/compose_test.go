package mixin_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type compose struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Command     any            `yaml:"command"`
		Volumes     []string       `yaml:"volumes"`
		Ports       []string       `yaml:"ports"`
		DependsOn   []string       `yaml:"depends_on"`
		Environment map[string]any `yaml:"environment"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// buildOutputs are mounted but not committed: what builds them.
var buildOutputs = map[string]string{
	"bin/exporter": "make build",
	"dist":         "the plugin's frontend and backend build",
}

// TestDockerCompose keeps docker-compose.yml correct by construction, since
// no Docker engine runs here: the services the stack needs, images pinned to
// a version, every mounted file present, named volumes declared, and the
// Prometheus and Alertmanager configurations it mounts accepted by promtool
// and amtool with the rules found where the mounts put them.
func TestDockerCompose(t *testing.T) {
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range []string{"simulator-mx1", "simulator-relay", "exporter-mx1", "exporter-relay", "prometheus", "alertmanager", "webhook", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("no service %s", s)
		}
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:v?\d+(\.\d+)*(-[a-z0-9.]+)?$|@sha256:[0-9a-f]{64}$`)
	// Host path of each container path, to check the configurations below.
	mounts := map[string]string{}
	for name, s := range c.Services {
		// An image built here from the Dockerfile is pinned through its base
		// images, which packaging/container_test.go checks.
		if s.Build == nil && !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("service %s: volume %q has no container path", name, v)
				continue
			}
			src := parts[0]
			if !strings.HasPrefix(src, "./") {
				if _, ok := c.Volumes[src]; !ok {
					t.Errorf("service %s: named volume %q is not declared", name, src)
				}
				continue
			}
			rel := strings.TrimPrefix(src, "./")
			mounts[parts[1]] = filepath.Join(root, rel)
			if by, ok := buildOutputs[rel]; ok {
				t.Logf("%s mounts %s, built by %s", name, rel, by)
				continue
			}
			if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
				t.Errorf("service %s mounts %s, which does not exist", name, src)
			}
		}
	}
	makefile, _ := os.ReadFile(filepath.Join(root, "Makefile"))
	if !strings.Contains(string(makefile), "-o bin/exporter") {
		t.Error("the Makefile no longer builds bin/exporter, which the stack mounts")
	}

	// Prometheus's configuration, with the container paths of its rule
	// files mapped back to the repository through the mounts.
	promCfg, err := os.ReadFile(mounts["/etc/prometheus/prometheus.yml"])
	if err != nil {
		t.Fatalf("the prometheus service mounts no readable /etc/prometheus/prometheus.yml: %v", err)
	}
	rulesDir := mounts["/etc/prometheus/rules"]
	if rulesDir == "" {
		t.Fatal("the prometheus service does not mount the rules at /etc/prometheus/rules")
	}
	local := strings.ReplaceAll(string(promCfg), "/etc/prometheus/rules", rulesDir)
	for _, target := range []string{"exporter-mx1:9744", "exporter-relay:9744", "alertmanager:9093"} {
		if !strings.Contains(local, target) {
			t.Errorf("prometheus.yml does not name %s", target)
		}
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	writeFile(t, file, local)
	if out, err := exec.Command(need(t, "promtool"), "check", "config", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "SUCCESS: 2 rule files found") || strings.Count(string(out), "rules found") != 2 {
		t.Errorf("promtool did not check the rule files:\n%s", out)
	}
	amCfg := mounts["/etc/alertmanager/alertmanager.yml"]
	if out, err := exec.Command(need(t, "amtool"), "check-config", amCfg).CombinedOutput(); err != nil {
		t.Errorf("amtool check-config %s: %v\n%s", amCfg, err, out)
	}

	// Grafana gets the plugin where it looks for it and every provisioning
	// directory this repository holds.
	if mounts["/var/lib/grafana/plugins/mailtrail-postfix-datasource"] == "" {
		t.Error("grafana does not mount the plugin build")
	}
	for _, d := range []string{"datasources", "dashboards", "alerting"} {
		if mounts["/etc/grafana/provisioning/"+d] != filepath.Join(root, "provisioning", d) {
			t.Errorf("grafana does not mount provisioning/%s", d)
		}
	}
	ds, err := os.ReadFile(filepath.Join(root, "provisioning", "datasources", "mailtrail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"exporter-mx1", "exporter-relay", "prometheus", "alertmanager"} {
		if !strings.Contains(string(ds), "http://"+s+":") {
			t.Errorf("the datasources do not point at the %s service", s)
		}
	}
	var dsDoc struct {
		Datasources []struct {
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(ds, &dsDoc); err != nil {
		t.Fatalf("provisioning/datasources/mailtrail.yaml: %v", err)
	}
	var types []string
	for _, d := range dsDoc.Datasources {
		types = append(types, d.Type)
	}
	for _, want := range []string{"prometheus", "alertmanager", "mailtrail-postfix-datasource"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s datasource (have %v)", want, types)
		}
	}
}
