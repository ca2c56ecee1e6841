package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/journal"
)

// Sink is a fleet store the journal is shipped to.
type Sink interface {
	// Name is the sink's metric label and cursor name: victorialogs or
	// otlp.
	Name() string
	// Send delivers one batch, every row naming instance; nil means the
	// store accepted all of it. A failure is an *Error.
	Send(ctx context.Context, instance string, items []journal.Shipped) error
}

// Error is a send that failed: why (Reason, one of the closed set), the
// HTTP status when the store answered, and what it said.
type Error struct {
	Sink   string
	URL    string // without password
	Reason string
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Status != 0:
		return fmt.Sprintf("ship to %s (%s): the store answered %d %s: %s", e.Sink, e.URL, e.Status, http.StatusText(e.Status), e.Msg)
	case e.Err != nil:
		return fmt.Sprintf("ship to %s (%s): %s: %v", e.Sink, e.URL, e.Reason, e.Err)
	}
	return fmt.Sprintf("ship to %s (%s): %s: %s", e.Sink, e.URL, e.Reason, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// rowsRefused says the store refused what was sent, not the request: a
// 400 (a row it cannot take), 413 (too large) or 422. Sending the same rows
// again cannot succeed, so the batch is split until the row is found, which
// is counted and passed over. Other 4xx answers (401, 403, 404) are the
// configuration's fault: retried, so that nothing is lost while it is
// fixed.
func (e *Error) rowsRefused() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// CheckURL says what is wrong with a store's URL, if anything.
func CheckURL(raw string) error {
	_, err := parseURL("", raw)
	return err
}

// parseURL checks a sink's URL: absolute http or https with a host.
func parseURL(sink, raw string) (*url.URL, error) {
	what := fmt.Sprintf("%s url %q", sink, raw)
	if sink == "" {
		what = fmt.Sprintf("%q", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, unwrapURL(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: want http:// or https://", what)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: no host", what)
	}
	return u, nil
}

// poster sends request bodies to one URL and sorts failures into reasons.
type poster struct {
	sink   string
	url    string // with credentials, if any: net/http sends them as basic auth
	shown  string // without
	client *http.Client
}

func newPoster(sink string, u *url.URL, timeout time.Duration) *poster {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &poster{sink: sink, url: u.String(), shown: u.Redacted(), client: &http.Client{Timeout: timeout}}
}

// post sends body; any answer but 2xx is an *Error.
func (p *poster) post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Sink: p.sink, URL: p.shown, Reason: ReasonEncode, Err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return p.do(req)
}

// get is post's GET.
func (p *poster) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &Error{Sink: p.sink, URL: p.shown, Reason: ReasonEncode, Err: err}
	}
	return p.do(req)
}

func (p *poster) do(req *http.Request) ([]byte, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &Error{Sink: p.sink, URL: p.shown, Reason: netReason(err), Err: unwrapURL(err)}
	}
	defer resp.Body.Close()
	// The answer is small (empty, a task id, or an error text); a store
	// that sends more is cut off rather than read forever.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, &Error{Sink: p.sink, URL: p.shown, Reason: netReason(err), Err: err}
	}
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	reason := Reason5xx
	if resp.StatusCode < 500 {
		reason = Reason4xx
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return nil, &Error{Sink: p.sink, URL: p.shown, Reason: reason, Status: resp.StatusCode, Msg: msg}
}

// netReason tells a timeout from a store that could not be reached.
func netReason(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ReasonTimeout
	}
	return ReasonConnect
}

// unwrapURL drops net/http's "Post URL:" prefix: Error names the URL
// itself, without its password.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
