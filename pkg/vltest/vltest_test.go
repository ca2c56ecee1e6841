package vltest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A node started answers an ingest and a query, and answers again after a
// stop and restart.
func TestStartIngestQuery(t *testing.T) {
	n := Start(t, "-retentionPeriod=100y")
	resp, err := http.Post(n.URL+"/insert/jsonline?_stream_fields=instance", "application/stream+json",
		strings.NewReader(`{"_time":"2026-01-02T03:04:05Z","_msg":"hello","instance":"a"}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("insert: %s", resp.Status)
	}
	if _, err := http.Get(n.URL + "/internal/force_flush"); err != nil {
		t.Fatal(err)
	}
	query := func() string {
		resp, err := http.Get(n.URL + "/select/logsql/query?query=instance:a")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := query(); !strings.Contains(got, `"hello"`) {
		t.Fatalf("query after insert: %q", got)
	}
	n.Stop()
	n.Restart()
	if got := query(); !strings.Contains(got, `"hello"`) {
		t.Fatalf("query after stop and restart: %q\n%s", got, n.Output())
	}
}
