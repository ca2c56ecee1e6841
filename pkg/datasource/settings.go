package datasource

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Settings are the datasource's configuration (contract B): jsonData plus
// the decrypted secureJsonData.
type Settings struct {
	Exporters      []ExporterSetting  `json:"exporters"`
	Discovery      *DiscoverySettings `json:"discovery"`
	Timeout        string             `json:"timeout"`
	MaxConcurrency int                `json:"maxConcurrency"`
	// VictoriaLogsURL, when set, is the fleet store (central mode): trace,
	// events, logins and stats are answered from it (docs/fleet.md);
	// VictoriaLogsUser goes with the secure victoriaLogsPassword.
	VictoriaLogsURL  string `json:"victoriaLogsUrl"`
	VictoriaLogsUser string `json:"victoriaLogsUser"`

	// Parsed and secure values; not part of jsonData.
	timeout       time.Duration
	refresh       time.Duration
	selector      Selector
	exporters     []Exporter
	prometheusURL *url.URL
	Token         string `json:"-"`
	TLSClientCert string `json:"-"`
	TLSClientKey  string `json:"-"`
	TLSCACert     string `json:"-"`
	// The fleet store's secrets: a password (basic auth with
	// VictoriaLogsUser) or a bearer token.
	VictoriaLogsPassword string `json:"-"`
	VictoriaLogsToken    string `json:"-"`
}

// ExporterSetting is one statically configured exporter.
type ExporterSetting struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// DiscoverySettings ask Prometheus which exporters it scrapes.
type DiscoverySettings struct {
	PrometheusURL   string `json:"prometheusUrl"`
	Selector        string `json:"selector"`
	RefreshInterval string `json:"refreshInterval"`
}

// Defaults and bounds of the settings.
const (
	defaultTimeout        = 5 * time.Second
	maxTimeout            = 5 * time.Minute
	defaultMaxConcurrency = 10
	maxMaxConcurrency     = 1000
	defaultRefresh        = time.Minute
	minRefresh            = 5 * time.Second
)

// ParseSettings reads and checks the datasource's settings. Every error
// names the setting, since Grafana shows it to whoever filled the form in.
func ParseSettings(ds backend.DataSourceInstanceSettings) (*Settings, error) {
	s := &Settings{}
	if len(ds.JSONData) > 0 {
		if err := json.Unmarshal(ds.JSONData, s); err != nil {
			return nil, fmt.Errorf("settings: jsonData is not valid: %w", err)
		}
	}
	s.Token = strings.TrimSpace(ds.DecryptedSecureJSONData["token"])
	s.TLSClientCert = ds.DecryptedSecureJSONData["tlsClientCert"]
	s.TLSClientKey = ds.DecryptedSecureJSONData["tlsClientKey"]
	s.TLSCACert = ds.DecryptedSecureJSONData["tlsCACert"]
	s.VictoriaLogsPassword = ds.DecryptedSecureJSONData["victoriaLogsPassword"]
	s.VictoriaLogsToken = strings.TrimSpace(ds.DecryptedSecureJSONData["victoriaLogsToken"])
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return s, nil
}

func (s *Settings) validate() error {
	if len(s.Exporters) == 0 && (s.Discovery == nil || s.Discovery.PrometheusURL == "") && s.VictoriaLogsURL == "" {
		return errors.New("no exporters: list them under exporters, set discovery.prometheusUrl, or name a fleet store in victoriaLogsUrl")
	}
	if s.VictoriaLogsURL != "" {
		if _, err := parseBaseURL(s.VictoriaLogsURL); err != nil {
			return fmt.Errorf("victoriaLogsUrl: %w", err)
		}
	}
	seen := map[string]bool{}
	for i, e := range s.Exporters {
		name := strings.TrimSpace(e.Name)
		if name == "" {
			return fmt.Errorf("exporters[%d]: name is empty", i)
		}
		if seen[name] {
			return fmt.Errorf("exporters[%d]: name %q is used twice", i, name)
		}
		seen[name] = true
		u, err := parseBaseURL(e.URL)
		if err != nil {
			return fmt.Errorf("exporters[%d] (%s): url: %w", i, name, err)
		}
		s.exporters = append(s.exporters, Exporter{Name: name, URL: u})
	}
	s.timeout = defaultTimeout
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil || d <= 0 || d > maxTimeout {
			return fmt.Errorf("timeout %q: want a duration between 1ms and %s, like 5s", s.Timeout, maxTimeout)
		}
		s.timeout = d
	}
	switch {
	case s.MaxConcurrency == 0:
		s.MaxConcurrency = defaultMaxConcurrency
	case s.MaxConcurrency < 0 || s.MaxConcurrency > maxMaxConcurrency:
		return fmt.Errorf("maxConcurrency %d: want 1 to %d", s.MaxConcurrency, maxMaxConcurrency)
	}
	if d := s.Discovery; d != nil && d.PrometheusURL != "" {
		u, err := parseBaseURL(d.PrometheusURL)
		if err != nil {
			return fmt.Errorf("discovery.prometheusUrl: %w", err)
		}
		s.prometheusURL = u
		if s.selector, err = ParseSelector(d.Selector); err != nil {
			return fmt.Errorf("discovery.selector: %w", err)
		}
		s.refresh = defaultRefresh
		if d.RefreshInterval != "" {
			r, err := time.ParseDuration(d.RefreshInterval)
			if err != nil || r < minRefresh {
				return fmt.Errorf("discovery.refreshInterval %q: want a duration of at least %s", d.RefreshInterval, minRefresh)
			}
			s.refresh = r
		}
	}
	if (s.TLSClientCert == "") != (s.TLSClientKey == "") {
		return errors.New("tlsClientCert and tlsClientKey go together: set both or neither")
	}
	return nil
}

// parseBaseURL accepts an absolute http(s) URL without query or fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: no query or fragment, only the base URL", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}
