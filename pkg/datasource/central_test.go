package datasource

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// centralDatasource configures central mode on store, with a short
// timeout.
func centralDatasource(t *testing.T, store string) *Datasource {
	t.Helper()
	s, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"victoriaLogsUrl":"` + store + `","timeout":"300ms"}`)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, "uid", "mailtrail")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Dispose)
	return d
}

// refusedAddr is a loopback address that refuses connections for the whole
// test. A closed listener's port does not: the kernel hands it to the next
// listener on port 0 (this test's own servers, another package's), and the
// "down" store then answered as the 5xx one. A socket bound but never
// listening holds the port and answers every connection with a reset.
func refusedAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// TestCentralStoreFailuresAreErrorFrames: a store that is down, refuses
// the query, fails, is slow or answers garbage gives each query an error
// naming the store (and the health check an error), never a panic or an
// empty answer.
func TestCentralStoreFailuresAreErrorFrames(t *testing.T) {
	down := "http://" + refusedAddr(t)
	serve := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	cases := []struct {
		name, url, want string
		status          backend.Status
	}{
		{"down", down, "connection refused", backend.StatusBadGateway},
		{"4xx", serve(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "cannot parse query", http.StatusBadRequest)
		}), "answered 400 Bad Request: cannot parse query", backend.StatusBadRequest},
		{"5xx", serve(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "storage nodes unavailable", http.StatusServiceUnavailable)
		}), "answered 503 Service Unavailable: storage nodes unavailable", backend.StatusBadGateway},
		{"slow", serve(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}), "no answer in time", backend.StatusTimeout},
		{"garbage", serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("<html>a login page</html>\n"))
		}), "not a JSON object", backend.StatusBadGateway},
	}
	tr := backend.TimeRange{From: time.Now().Add(-time.Hour), To: time.Now()}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := centralDatasource(t, c.url)
			for _, q := range []string{`{"queryType":"trace","queueId":"ABC"}`, `{"queryType":"events"}`, `{"queryType":"logins"}`, `{"queryType":"stats"}`} {
				r := runQuery(t, d, tr, q)
				if r.Error == nil || !strings.Contains(r.Error.Error(), "fleet store "+c.url) || !strings.Contains(r.Error.Error(), c.want) || r.Status != c.status {
					t.Errorf("%s: status %v, error %v; want %v naming the store and %q", q, r.Status, r.Error, c.status, c.want)
				}
			}
			h, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil || h.Status != backend.HealthStatusError || !strings.Contains(h.Message, c.url) {
				t.Errorf("health: %v %v %q", err, h.Status, h.Message)
			}
		})
	}
}

func TestCentralSettings(t *testing.T) {
	for js, want := range map[string]string{
		`{"victoriaLogsUrl":"ftp://vl:9428"}`:      "victoriaLogsUrl",
		`{"victoriaLogsUrl":"http://vl:9428?x=1"}`: "victoriaLogsUrl",
		`{}`: "victoriaLogsUrl",
	} {
		_, err := ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(js)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", js, err, want)
		}
	}
	// Central mode alone needs no exporter; offenders then say so.
	d := centralDatasource(t, "http://127.0.0.1:1")
	r := runQuery(t, d, backend.TimeRange{From: time.Now().Add(-time.Hour), To: time.Now()}, `{"queryType":"offenders"}`)
	if r.Error == nil || !strings.Contains(r.Error.Error(), "no exporters") {
		t.Errorf("offenders without exporters: %v", r.Error)
	}
}
