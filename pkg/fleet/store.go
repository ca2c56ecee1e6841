// Package fleet answers the API's questions — trace, events, logins and
// stats — from the fleet store, a VictoriaLogs the exporters ship their
// journals to (pkg/ship, docs/fleet.md), in one LogsQL query per request.
// Rows are deduplicated by (instance, seq), as the shipper delivers at
// least once, and the answers are built by the same code that builds them
// from a journal (pkg/assemble), so that an answer reads the same whether
// it came from the store or from every exporter at once. It needs no cgo:
// the Grafana plugin links it.
package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
)

// MaxRows bounds the rows one query may bring back, so that a question
// matching the whole estate cannot exhaust the caller; an answer cut there
// says so (Cut).
const MaxRows = 200000

// maxLine bounds one row of the store's answer (a raw line is at most the
// exporter's --log.max-line-bytes, 64 KiB by default, plus its fields).
const maxLine = 1 << 20

// Store is a VictoriaLogs to query: its base URL (a select node in a
// cluster) and the HTTP client, which carries the deadline and TLS.
type Store struct {
	base   *url.URL
	shown  string // base without credentials, for messages
	client *http.Client
	header http.Header
}

// Auth are optional credentials for the store.
type Auth struct {
	User, Password string // basic auth
	Bearer         string // a bearer token; wins over basic auth
}

// New makes a Store for the base URL raw (http or https, no query).
func New(raw string, client *http.Client, auth Auth) (*Store, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("victoriaLogsUrl %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("victoriaLogsUrl %q: want the store's base URL, like http://victorialogs:9428", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	s := &Store{base: u, client: client, header: http.Header{}}
	if client == nil {
		s.client = http.DefaultClient
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		if auth.User == "" {
			auth.User, auth.Password = u.User.Username(), pw
		}
		u.User = nil
	}
	s.shown = u.String()
	switch {
	case auth.Bearer != "":
		s.header.Set("Authorization", "Bearer "+auth.Bearer)
	case auth.User != "":
		r := http.Request{Header: http.Header{}}
		r.SetBasicAuth(auth.User, auth.Password)
		s.header.Set("Authorization", r.Header.Get("Authorization"))
	}
	return s, nil
}

// URL is the store's base URL without credentials.
func (s *Store) URL() string { return s.shown }

// Error is a failed call to the store; its text names the store.
type Error struct {
	URL    string
	Status int // 0 when no answer came
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("fleet store %s answered %d %s: %s", e.URL, e.Status, http.StatusText(e.Status), e.Detail)
	}
	return fmt.Sprintf("fleet store %s: %s", e.URL, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// transportError describes a failed request by what an operator acts on.
func (s *Store) transportError(ctx context.Context, err error) *Error {
	detail := err.Error()
	var ue *url.Error
	var ne *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		detail = "no answer in time"
	case errors.As(err, &ne):
		detail = fmt.Sprintf("%s: %v", ne.Op, ne.Err)
	case errors.As(err, &ue):
		detail = ue.Err.Error()
	}
	return &Error{URL: s.shown, Detail: detail, Err: err}
}

// Health checks that the store answers a query (not only that it is up:
// a select node without storage nodes is up but cannot answer).
func (s *Store) Health(ctx context.Context) error {
	return s.query(ctx, "* | limit 1", func(map[string]string) error { return nil })
}

// query runs one LogsQL query and calls fn with each row's fields.
func (s *Store) query(ctx context.Context, logsql string, fn func(map[string]string) error) error {
	u := *s.base
	u.Path += "/select/logsql/query"
	form := url.Values{"query": {logsql}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return &Error{URL: s.shown, Detail: err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range s.header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &Error{URL: s.shown, Status: resp.StatusCode, Detail: strings.TrimSpace(string(b))}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(line, &m); err != nil {
			return &Error{URL: s.shown, Detail: fmt.Sprintf("an answer row is not a JSON object of strings: %v", err), Err: err}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return s.transportError(ctx, fmt.Errorf("reading the answer: %w", err))
	}
	return nil
}

// Row is one event from the store: its instance, its sequence number in
// that instance's journal, and its fields.
type Row struct {
	Instance string
	apiv1.Event
}

// numeric are the FleetRow's fields (by their JSON name, dotted for nested
// ones) that are numbers: the store answers every value as a string.
var numeric = func() map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type, prefix)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			switch f.Type.Kind() {
			case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Float64:
				out[prefix+name] = true
			case reflect.Struct:
				if f.Type.PkgPath() == reflect.TypeFor[event.Delays]().PkgPath() && f.Type.Name() == "Delays" {
					walk(f.Type, prefix+name+".")
				}
			}
		}
	}
	walk(reflect.TypeFor[apiv1.FleetRow](), "")
	return out
}()

// decodeRow turns the store's flat fields back into the row the shipper
// sent: numbers are numbers again, and dotted names (delays.in_qmgr) nest.
func decodeRow(m map[string]string) (Row, error) {
	obj := map[string]any{}
	for k, v := range m {
		var val any = v
		if numeric[k] {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return Row{}, fmt.Errorf("field %s: %q is not a number", k, v)
			}
			val = json.RawMessage(v)
		}
		if parent, child, ok := strings.Cut(k, "."); ok && numeric[k] {
			sub, _ := obj[parent].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				obj[parent] = sub
			}
			sub[child] = val
			continue
		}
		obj[k] = val
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return Row{}, err
	}
	var fr apiv1.FleetRow
	if err := json.Unmarshal(b, &fr); err != nil {
		return Row{}, fmt.Errorf("not a mailtrail row: %w", err)
	}
	if fr.Instance == "" || fr.Seq <= 0 {
		return Row{}, fmt.Errorf("not a mailtrail row: no instance or seq")
	}
	if fr.Event.Time.IsZero() {
		fr.Event.Time = fr.StoreTime
	}
	return Row{Instance: fr.Instance, Event: apiv1.Event{Seq: fr.Seq, Event: fr.Event}}, nil
}

// unread drops the stored fields an answer does not read, so that the
// store neither reads nor sends them: _msg repeats raw, leaf is for
// checking the copy against the journal, the stream fields repeat
// instance and service. It saves about a tenth of a trace's query time
// (docs/fleet.md, Sizing).
const unread = "delete _msg, _stream, _stream_id, leaf"

// rowKey is the deduplication key.
type rowKey struct {
	inst string
	seq  int64
}

// fetch runs logsql and returns its rows, each (instance, seq) once, in
// the store's order; cut says MaxRows stopped it.
func (s *Store) fetch(ctx context.Context, logsql string) (rows []Row, cut bool, err error) {
	seen := map[rowKey]bool{}
	err = s.query(ctx, logsql+" | "+unread, func(m map[string]string) error {
		r, err := decodeRow(m)
		if err != nil {
			// Rows other programs keep in the same store are not ours.
			return nil
		}
		k := rowKey{r.Instance, r.Seq}
		if seen[k] {
			return nil
		}
		seen[k] = true
		if len(rows) >= MaxRows {
			cut = true
			return errStop
		}
		rows = append(rows, r)
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return rows, cut, err
}

var errStop = errors.New("stop")
