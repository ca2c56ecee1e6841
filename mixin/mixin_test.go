package mixin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestGeneratedFilesMatchMixin fails when rules/ or provisioning/dashboards/
// differ from what the jsonnet renders: someone edited a generated file, or
// changed the mixin without `make mixin`.
func TestGeneratedFilesMatchMixin(t *testing.T) {
	root := repoRoot(t)
	mixin := filepath.Join(root, "mixin")
	for _, c := range []struct{ src, out string }{
		{"alerts.jsonnet", "rules/mailtrail-alerts.yaml"},
		{"rules.jsonnet", "rules/mailtrail-rules.yaml"},
	} {
		want := jsonnet(t, "-S", filepath.Join(mixin, c.src))
		got, err := os.ReadFile(filepath.Join(root, c.out))
		if err != nil {
			t.Fatalf("%s: %v (run make mixin)", c.out, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s drifted from mixin/%s: run make mixin and commit the result", c.out, c.src)
		}
	}

	dir := t.TempDir()
	jsonnet(t, "-m", dir, filepath.Join(mixin, "dashboards.jsonnet"))
	rendered, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	committed, _ := filepath.Glob(filepath.Join(root, "provisioning", "dashboards", "*.json"))
	if len(rendered) == 0 {
		t.Fatal("the mixin renders no dashboards")
	}
	names := func(paths []string) []string {
		var n []string
		for _, p := range paths {
			n = append(n, filepath.Base(p))
		}
		return n
	}
	if !slices.Equal(names(rendered), names(committed)) {
		t.Errorf("dashboards rendered %v, committed %v: run make mixin", names(rendered), names(committed))
	}
	for _, p := range rendered {
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(root, "provisioning", "dashboards", filepath.Base(p)))
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("provisioning/dashboards/%s drifted from the mixin: run make mixin", filepath.Base(p))
		}
	}
}

// TestConfigOverrides checks that every threshold and window of _config
// reaches the rules: overriding one changes the rendered rules, so no
// number is hard-coded in an expression.
func TestConfigOverrides(t *testing.T) {
	var cfg map[string]any
	if err := json.Unmarshal(jsonnet(t, "-e", "(import 'mixin.libsonnet')._config"), &cfg); err != nil {
		t.Fatal(err)
	}
	// Keys that only touch dashboards are checked by TestDashboards.
	dashboardOnly := map[string]bool{"dashboardTags": true, "dashboardPrefix": true, "dashboardRefresh": true, "dashboardTimezone": true, "dashboardUIDPrefix": true, "pluginID": true}
	// One jsonnet run renders the rules once per override.
	var code strings.Builder
	code.WriteString("local m = import 'mixin.libsonnet';\n")
	// Plain values, not manifested strings: the jsonnet binary prints JSON
	// natively, while its std.manifest* take seconds per variant.
	code.WriteString("local r(x) = [x.prometheusAlerts, x.prometheusRules];\n")
	code.WriteString("{ '': r(m),\n")
	keys := 0
	for key, v := range cfg {
		if dashboardOnly[key] {
			continue
		}
		var override string
		switch v := v.(type) {
		case float64:
			override = fmt.Sprintf("%v", v*2+1)
		case string:
			if regexp.MustCompile(`^\d+[smhdw]$`).MatchString(v) {
				override = fmt.Sprintf("%q", "7"+v)
			} else {
				override = fmt.Sprintf("%q", v+"x")
			}
		case []any:
			override = `["example.net"]`
		case map[string]any:
			override = `{security: "page", delivery: "ticket", monitor: "log"}`
		case nil:
			override = `"2m"`
		default:
			t.Fatalf("_config.%s: unexpected type %T", key, v)
		}
		fmt.Fprintf(&code, "  %q: r(m { _config+:: { %s: %s } }),\n", key, key, override)
		keys++
	}
	code.WriteString("}")
	var rendered map[string]json.RawMessage
	if err := json.Unmarshal(jsonnet(t, "-e", code.String()), &rendered); err != nil {
		t.Fatal(err)
	}
	if len(rendered) != keys+1 || keys < 30 {
		t.Fatalf("rendered %d variants of %d keys", len(rendered), keys)
	}
	for key, out := range rendered {
		if key != "" && bytes.Equal(out, rendered[""]) {
			t.Errorf("overriding _config.%s changes nothing in the rendered rules", key)
		}
	}
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
		} `json:"datasource"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			Expr       string `json:"expr"`
			QueryType  string `json:"queryType"`
			Datasource struct {
				Type string `json:"type"`
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestDashboards checks the committed dashboards: the four variables, unique
// uids, panels inside the grid and not overlapping, plugin queries of the
// contract's types, and every PromQL expression accepted by promtool.
func TestDashboards(t *testing.T) {
	root := repoRoot(t)
	paths, _ := filepath.Glob(filepath.Join(root, "provisioning", "dashboards", "*.json"))
	if len(paths) < 5 {
		t.Fatalf("want the 5 dashboards, found %d", len(paths))
	}
	queryTypes := []string{"trace", "events", "logins", "offenders", "instances", "stats"}
	uids := map[string]bool{}
	var rules strings.Builder
	rules.WriteString("groups:\n- name: dashboards\n  rules:\n")
	n := 0
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := filepath.Base(p)
		if uids[d.UID] || d.UID == "" {
			t.Errorf("%s: uid %q empty or used twice", name, d.UID)
		}
		uids[d.UID] = true
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name)
		}
		for _, want := range []string{"datasource", "mailtrail", "instance", "service", "domain"} {
			if !slices.Contains(vars, want) {
				t.Errorf("%s: no $%s variable (have %v)", name, want, vars)
			}
		}
		type cell struct{ x, y int }
		taken := map[cell]string{}
		for _, pn := range d.Panels {
			gp := pn.GridPos
			if gp.W <= 0 || gp.H <= 0 || gp.X < 0 || gp.X+gp.W > 24 {
				t.Errorf("%s: panel %q has gridPos %+v outside the 24 columns", name, pn.Title, gp)
			}
			for x := gp.X; x < gp.X+gp.W; x++ {
				for y := gp.Y; y < gp.Y+gp.H; y++ {
					if other, ok := taken[cell{x, y}]; ok {
						t.Fatalf("%s: panels %q and %q overlap", name, other, pn.Title)
					}
					taken[cell{x, y}] = pn.Title
				}
			}
			for _, tg := range pn.Targets {
				switch tg.Datasource.Type {
				case "prometheus":
					n++
					// Grafana's variables are not PromQL; give them values.
					expr := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".+", "$service", ".+", "$domain", ".+").Replace(tg.Expr)
					fmt.Fprintf(&rules, "  - record: dashboard:expr_%d\n    expr: %q\n", n, expr)
				case "mailtrail-postfix-datasource":
					if !slices.Contains(queryTypes, tg.QueryType) {
						t.Errorf("%s: panel %q queries the plugin with queryType %q", name, pn.Title, tg.QueryType)
					}
				default:
					t.Errorf("%s: panel %q has a target of datasource type %q", name, pn.Title, tg.Datasource.Type)
				}
			}
		}
	}
	file := filepath.Join(t.TempDir(), "dashboards.yaml")
	writeFile(t, file, rules.String())
	out, err := exec.Command(need(t, "promtool"), "check", "rules", file).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool rejects a dashboard expression: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d rules found", n)) {
		t.Errorf("promtool checked other than the %d expressions:\n%s", n, out)
	}
}
