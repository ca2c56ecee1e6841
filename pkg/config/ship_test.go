package config

import (
	"strings"
	"testing"
	"time"
)

// The ship block: defaults, a file that sets it, and what Validate refuses.
func TestShipConfig(t *testing.T) {
	d := DefaultConfig()
	if d.Ship.VictoriaLogs.URL != "" || d.Ship.OTLP.URL != "" || d.Ship.VictoriaLogs.MaxAge != "7d" || d.Ship.VictoriaLogs.BatchSize <= 0 {
		t.Fatalf("defaults: %+v", d.Ship)
	}
	c, err := Parse([]byte(`ship:
  victorialogs:
    url: http://user:pw@vl:9428/
    select_url: http://vlselect:9471
    batch_size: 500
    timeout: 3s
    max_age: 365d
    recheck_after: 0s
  otlp:
    url: https://collector:4318/v1/logs
`))
	if err != nil {
		t.Fatal(err)
	}
	vl := c.Ship.VictoriaLogs
	if age, _ := vl.MaxAgeDuration(); vl.URL != "http://user:pw@vl:9428/" || vl.SelectURL != "http://vlselect:9471" || vl.BatchSize != 500 ||
		time.Duration(vl.Timeout) != 3*time.Second || age != 365*24*time.Hour || vl.RecheckAfter != 0 || c.Ship.OTLP.URL != "https://collector:4318/v1/logs" {
		t.Fatalf("parsed: %+v", c.Ship)
	}
	for _, tt := range []struct{ name, yaml, want string }{
		{"url scheme", "ship:\n  victorialogs:\n    url: vl:9428\n", `ship.victorialogs.url: "vl:9428": want http:// or https://`},
		{"url without host", "ship:\n  otlp:\n    url: http:///v1/logs\n", `ship.otlp.url: "http:///v1/logs": no host`},
		{"bad select url", "ship:\n  victorialogs:\n    select_url: \"http://[::1\"\n", `ship.victorialogs.select_url: "http://[::1"`},
		{"zero batch", "ship:\n  victorialogs:\n    batch_size: 0\n", "ship.victorialogs.batch_size: must be positive"},
		{"negative timeout", "ship:\n  otlp:\n    timeout: -1s\n", "ship.otlp.timeout: must not be negative"},
		{"bad max age", "ship:\n  victorialogs:\n    max_age: a week\n", `ship.victorialogs.max_age: "a week" is not a duration`},
		{"negative recheck", "ship:\n  victorialogs:\n    recheck_after: -1s\n", "ship.victorialogs.recheck_after: must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
