package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// TestSettings maps (configuration file, flags) to the effective
// configuration: defaults, then the file, then exactly the flags given.
func TestSettings(t *testing.T) {
	dir := t.TempDir()
	defaults := func() *config.Config {
		c := config.DefaultConfig()
		c.Instance = "mx1"
		c.Journal.SigningKey = c.Journal.Path + ".key"
		return c
	}
	for _, tt := range []struct {
		name  string
		file  string // "" means no --config.file
		flags []string
		want  func(c *config.Config)
	}{
		{"defaults", "", nil, func(c *config.Config) {}},
		{"file over defaults", "journal:\n  batch_size: 100\nauth:\n  threshold: 3\n", nil, func(c *config.Config) {
			c.Journal.BatchSize = 100
			c.Auth.Threshold = 3
		}},
		{"flag over file", "journal:\n  batch_size: 100\n", []string{"--journal.batch-size=7"}, func(c *config.Config) {
			c.Journal.BatchSize = 7
		}},
		{"a flag left at its default does not override the file", "logs:\n  poll_interval: 2s\n", nil, func(c *config.Config) {
			c.Logs.PollInterval = config.Duration(2 * time.Second)
		}},
		// The defect: an empty postqueue in the file meant "not set", so
		// the queue metrics could not be turned off from the file.
		{"postqueue emptied in the file", "postfix:\n  postqueue: \"\"\n", nil, func(c *config.Config) {
			c.Postfix.Postqueue = ""
		}},
		{"postqueue emptied by the flag", "", []string{"--postfix.postqueue="}, func(c *config.Config) {
			c.Postfix.Postqueue = ""
		}},
		// The defect: --no-journald could not override the file.
		{"--no-journald over the file", "journald:\n  enabled: true\n", []string{"--no-journald"}, func(c *config.Config) {
			c.Journald.Enabled = false
		}},
		{"journald from the file", "journald:\n  enabled: true\n", nil, func(c *config.Config) {
			c.Journald.Enabled = true
		}},
		{"lists replace", "logs:\n  paths: [/a]\ntenant:\n  domains: [a.example]\n", []string{"--log.path=/b", "--log.path=/c"}, func(c *config.Config) {
			c.Logs.Paths = []string{"/b", "/c"}
			c.Tenant.Domains = []string{"a.example"}
		}},
		{"signing key follows the journal", "", []string{"--journal.path=/var/lib/m/j.db"}, func(c *config.Config) {
			c.Journal.Path = "/var/lib/m/j.db"
			c.Journal.SigningKey = "/var/lib/m/j.db.key"
		}},
		{"anonymous API off by the flag", "api:\n  allow_anonymous: true\n", []string{"--no-api.allow-anonymous"}, func(c *config.Config) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("test", "")
			cmd := app.Command("serve", "")
			sf := addSourceFlags(cmd)
			addServeSettings(cmd, sf)
			args := []string{"serve", "--instance=mx1"}
			if tt.file != "" {
				path := filepath.Join(dir, "c.yml")
				if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config.file="+path)
			}
			if _, err := app.Parse(append(args, tt.flags...)); err != nil {
				t.Fatal(err)
			}
			got, err := sf.settings()
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("effective configuration\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
