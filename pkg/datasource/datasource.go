package datasource

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	sdkds "github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/mailtrail/mailtrail/pkg/fleet"
)

// PluginID is the plugin's id in plugin.json.
const PluginID = "mailtrail-postfix-datasource"

// infoTTL is how long an exporter's self-description (its instance name
// and syslog hosts, which map relay host names to exporters) is trusted.
const infoTTL = 5 * time.Minute

// Datasource is one configured mailtrail datasource. Grafana's instance
// manager makes a new one when the settings change and disposes the old.
type Datasource struct {
	settings *Settings
	uid      string
	name     string
	client   *http.Client
	disc     *discovery
	mux      *sdkds.QueryTypeMux
	// store is the fleet store in central mode, nil in fan-out mode.
	store *fleet.Store

	mu   sync.Mutex
	info map[string]cachedInfo // by exporter name
}

type cachedInfo struct {
	info InstanceInfo
	at   time.Time
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewInstance is the datasource.InstanceFactoryFunc of the plugin.
func NewInstance(_ context.Context, ds backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	s, err := ParseSettings(ds)
	if err != nil {
		return nil, err
	}
	return New(s, ds.UID, ds.Name)
}

// New makes a datasource from parsed settings.
func New(s *Settings, uid, name string) (*Datasource, error) {
	opts := httpclient.Options{
		Timeouts: &httpclient.TimeoutOptions{
			// No client-wide timeout: each exporter call has its own
			// deadline in its context (fanOut), which names the exporter.
			DialTimeout:         s.timeout,
			KeepAlive:           30 * time.Second,
			TLSHandshakeTimeout: s.timeout,
			// Every query opens one connection per exporter; keep them
			// for the next panel refresh.
			MaxIdleConns:        4 * s.MaxConcurrency,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	if s.TLSCACert != "" || s.TLSClientCert != "" {
		opts.TLS = &httpclient.TLSOptions{
			CACertificate:     s.TLSCACert,
			ClientCertificate: s.TLSClientCert,
			ClientKey:         s.TLSClientKey,
		}
	}
	if s.Token != "" {
		opts.Header = http.Header{"Authorization": {"Bearer " + s.Token}}
	}
	client, err := httpclient.New(opts)
	if err != nil {
		return nil, fmt.Errorf("http client for the exporters: %w", err)
	}
	d := &Datasource{settings: s, uid: uid, name: name, client: client, info: map[string]cachedInfo{}}
	if s.prometheusURL != nil {
		// Prometheus gets no exporter token: it is a different service.
		pc, err := httpclient.New(httpclient.Options{Timeouts: &httpclient.TimeoutOptions{Timeout: s.timeout, DialTimeout: s.timeout}})
		if err != nil {
			return nil, fmt.Errorf("http client for prometheus: %w", err)
		}
		d.disc = newDiscovery(pc, s)
		go d.disc.run()
	}
	if s.VictoriaLogsURL != "" {
		if d.store, err = newStore(s); err != nil {
			return nil, err
		}
	}
	d.mux = sdkds.NewQueryTypeMux()
	d.mux.HandleFunc("", d.perQuery(d.queryEvents)) // the default type
	d.mux.HandleFunc(QueryEvents, d.perQuery(d.queryEvents))
	d.mux.HandleFunc(QueryTrace, d.perQuery(d.queryTrace))
	d.mux.HandleFunc(QueryLogins, d.perQuery(d.queryLogins))
	d.mux.HandleFunc(QueryOffenders, d.perQuery(d.queryOffenders))
	d.mux.HandleFunc(QueryInstances, d.perQuery(d.queryInstances))
	d.mux.HandleFunc(QueryStats, d.perQuery(d.queryStats))
	return d, nil
}

// Dispose stops discovery and closes idle connections of the old settings.
func (d *Datasource) Dispose() {
	if d.disc != nil {
		d.disc.close()
	}
	d.client.CloseIdleConnections()
}

// exporters returns the static and the discovered exporters (a static
// name wins over a discovered one), and Prometheus's error if discovery
// failed.
func (d *Datasource) exporters(ctx context.Context) ([]Exporter, error) {
	exs := append([]Exporter(nil), d.settings.exporters...)
	if d.disc == nil {
		return exs, nil
	}
	found, err := d.disc.exporters(ctx)
	have := map[string]bool{}
	for _, e := range exs {
		have[e.Name] = true
	}
	for _, e := range found {
		if !have[e.Name] {
			exs = append(exs, e)
		}
	}
	return exs, err
}

// selectExporters narrows the estate to the named instance, matched by
// exporter name or by the instance name the exporter reports.
func (d *Datasource) selectExporters(ctx context.Context, instance string) ([]Exporter, []string, error) {
	exs, derr := d.exporters(ctx)
	var notes []string
	if derr != nil {
		notes = append(notes, fmt.Sprintf("exporter discovery failed, using the last known list: %v", derr))
	}
	if len(exs) == 0 {
		if derr != nil {
			return nil, nil, fmt.Errorf("no exporters: %w", derr)
		}
		return nil, nil, fmt.Errorf("no exporters configured or discovered")
	}
	if instance == "" {
		return exs, notes, nil
	}
	for _, e := range exs {
		if e.Name == instance {
			return []Exporter{e}, notes, nil
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range exs {
		if ci, ok := d.info[e.Name]; ok && ci.info.Instance == instance {
			return []Exporter{e}, notes, nil
		}
	}
	names := make([]string, len(exs))
	for i, e := range exs {
		names[i] = e.Name
	}
	return nil, nil, fmt.Errorf("unknown instance %q; known: %s", instance, strings.Join(names, ", "))
}

// instanceInfo asks ex to describe itself, and remembers the answer.
func (d *Datasource) instanceInfo(ctx context.Context, ex Exporter) (InstanceInfo, error) {
	ip, err := ex.api(d.client).Instance(ctx)
	if err != nil {
		return InstanceInfo{}, err
	}
	info := *ip
	d.mu.Lock()
	d.info[ex.Name] = cachedInfo{info: info, at: time.Now()}
	d.mu.Unlock()
	return info, nil
}

// knownInfo returns the remembered descriptions, first asking the
// exporters whose description is missing or stale.
func (d *Datasource) knownInfo(ctx context.Context, exs []Exporter) map[string]InstanceInfo {
	var stale []Exporter
	d.mu.Lock()
	for _, e := range exs {
		if ci, ok := d.info[e.Name]; !ok || time.Since(ci.at) > infoTTL {
			stale = append(stale, e)
		}
	}
	d.mu.Unlock()
	if len(stale) > 0 {
		fanOut(ctx, stale, d.settings.timeout, d.settings.MaxConcurrency, d.instanceInfo)
	}
	out := map[string]InstanceInfo{}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range exs {
		if ci, ok := d.info[e.Name]; ok {
			out[e.Name] = ci.info
		}
	}
	return out
}

// QueryData routes each query to its type's handler.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	return d.mux.QueryData(ctx, req)
}

// perQuery adapts a one-query handler: each query gets its own response
// or error, so one bad query never fails the panel's others.
func (d *Datasource) perQuery(fn func(context.Context, Query, backend.DataQuery) backend.DataResponse) backend.QueryDataHandlerFunc {
	return func(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
		resp := backend.NewQueryDataResponse()
		for _, dq := range req.Queries {
			q, err := ParseQuery(dq)
			if err != nil {
				resp.Responses[dq.RefID] = backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
				continue
			}
			resp.Responses[dq.RefID] = fn(ctx, q, dq)
		}
		return resp, nil
	}
}

// CheckHealth asks every exporter to describe itself and says how many
// answered, naming the others. It is OK while any exporter answers (the
// queries answer from those), ERROR only when none does.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.store != nil {
		return d.centralHealth(ctx), nil
	}
	return d.exportersHealth(ctx), nil
}

// exportersHealth asks every exporter to describe itself.
func (d *Datasource) exportersHealth(ctx context.Context) *backend.CheckHealthResult {
	exs, derr := d.exporters(ctx)
	if len(exs) == 0 {
		msg := "no exporters configured or discovered"
		if derr != nil {
			msg += ": " + derr.Error()
		}
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}
	}
	answers := fanOut(ctx, exs, d.settings.timeout, d.settings.MaxConcurrency, d.instanceInfo)
	var fails []failure
	for _, a := range answers {
		if a.err != nil {
			fails = append(fails, failure{a.ex.Name, a.err})
		}
	}
	res := &backend.CheckHealthResult{Status: backend.HealthStatusOk}
	res.Message = fmt.Sprintf("%d/%d exporters reachable", len(exs)-len(fails), len(exs))
	if len(fails) > 0 {
		// Queries still answer from the others, but an operator testing
		// the datasource wants to see the estate is not whole.
		res.Message += "; not reachable: " + failureText(fails)
	}
	if derr != nil {
		// The last known list is used meanwhile.
		res.Message += "; discovery: " + derr.Error()
	}
	if len(fails) == len(exs) {
		res.Status = backend.HealthStatusError
	}
	return res
}

// sortedNames lists exporter names in order.
func sortedNames(exs []Exporter) []string {
	names := make([]string, len(exs))
	for i, e := range exs {
		names[i] = e.Name
	}
	sort.Strings(names)
	return names
}
