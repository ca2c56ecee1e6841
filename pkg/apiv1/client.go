package apiv1

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MaxAnswerBytes bounds what one answer may hold (1000 events with raw
// lines fit easily), so a broken exporter cannot exhaust its caller.
const MaxAnswerBytes = 64 << 20

// Client calls one exporter's API. The HTTP client carries the
// credentials (a bearer token header, client certificates) and the
// transport; each call's deadline is its context's.
type Client struct {
	HTTP *http.Client
	// Base is the exporter's base URL; the API lives under Base + Prefix.
	Base *url.URL
	// Source, when set (SourceFleet), is asked of trace, events, logins
	// and stats as their source parameter, unless params name one.
	Source string
}

// withSource adds c.Source to params that name no source.
func (c *Client) withSource(params url.Values) url.Values {
	if c.Source == "" || params.Has(ParamSource) {
		return params
	}
	out := url.Values{}
	for k, v := range params {
		out[k] = v
	}
	out.Set(ParamSource, c.Source)
	return out
}

// Trace asks for messages; params are the trace endpoint's.
func (c *Client) Trace(ctx context.Context, params url.Values) (*TraceResult, error) {
	return call[TraceResult](ctx, c, PathTrace, c.withSource(params))
}

// Events asks for one page of events.
func (c *Client) Events(ctx context.Context, params url.Values) (*EventsPage, error) {
	return call[EventsPage](ctx, c, PathEvents, c.withSource(params))
}

// Logins asks for the login audit.
func (c *Client) Logins(ctx context.Context, params url.Values) ([]Login, error) {
	r, err := call[Logins](ctx, c, PathLogins, c.withSource(params))
	if err != nil {
		return nil, err
	}
	return r.Logins, nil
}

// Offenders asks for the offenders.
func (c *Client) Offenders(ctx context.Context) ([]Offender, error) {
	r, err := call[Offenders](ctx, c, PathOffenders, nil)
	if err != nil {
		return nil, err
	}
	return r.Offenders, nil
}

// Instance asks the exporter to describe itself.
func (c *Client) Instance(ctx context.Context) (*InstanceInfo, error) {
	return call[InstanceInfo](ctx, c, PathInstance, nil)
}

// Stats asks for event counts per step.
func (c *Client) Stats(ctx context.Context, params url.Values) (*Stats, error) {
	return call[Stats](ctx, c, PathStats, c.withSource(params))
}

// Values asks for the distinct values of a field.
func (c *Client) Values(ctx context.Context, params url.Values) ([]string, error) {
	r, err := call[Values](ctx, c, PathValues, params)
	if err != nil {
		return nil, err
	}
	return r.Values, nil
}

// AccessLog asks for a page of the access log (admin tokens).
func (c *Client) AccessLog(ctx context.Context, params url.Values) (*AccessLogPage, error) {
	return call[AccessLogPage](ctx, c, PathAccessLog, params)
}

// Forget erases subject from the exporter's journal (admin tokens).
func (c *Client) Forget(ctx context.Context, subject string) (*ForgetResult, error) {
	out := new(ForgetResult)
	return out, c.Do(ctx, http.MethodPost, Prefix+PathForget, url.Values{"subject": {subject}}, out)
}

func call[T any](ctx context.Context, c *Client, name string, params url.Values) (*T, error) {
	out := new(T)
	if err := c.Get(ctx, Prefix+name, params, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Get calls GET path (below Base) and decodes the JSON answer into out.
// An answer other than 200 is an *Error, with the exporter's code and
// detail when it sent them.
func (c *Client) Get(ctx context.Context, path string, params url.Values, out any) error {
	return c.Do(ctx, http.MethodGet, path, params, out)
}

// Do calls method path (below Base) with params in the query string and
// decodes the JSON answer into out.
func (c *Client) Do(ctx context.Context, method, path string, params url.Values, out any) error {
	u := *c.Base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes))
	if err != nil {
		return fmt.Errorf("read %s answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &Error{}
		if json.Unmarshal(body, ae) != nil || ae.Code == "" {
			ae.Code = http.StatusText(resp.StatusCode)
			ae.Detail = strings.TrimSpace(string(body[:min(len(body), 200)]))
		}
		ae.Status = resp.StatusCode
		return ae
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}
