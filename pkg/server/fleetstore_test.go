package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/pkg/config"
)

// TestFleetStoreSettings: no URL is no store; a URL that is not a store's
// base URL and an unreadable credential file are errors naming the
// setting; credentials from files are accepted.
func TestFleetStoreSettings(t *testing.T) {
	if st, err := FleetStore(config.FleetStore{}); st != nil || err != nil {
		t.Fatalf("no url: %v %v", st, err)
	}
	for _, bad := range []config.FleetStore{
		{URL: "ftp://vl:9428"},
		{URL: "http://vl:9428/?x=1"},
		{URL: "http://vl:9428", PasswordFile: filepath.Join(t.TempDir(), "missing")},
		{URL: "http://vl:9428", BearerTokenFile: filepath.Join(t.TempDir(), "missing")},
	} {
		if _, err := FleetStore(bad); err == nil || !strings.Contains(err.Error(), "api.fleet_store.") {
			t.Errorf("%+v: %v, want an error naming the setting", bad, err)
		}
	}
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("secret\n"), 0o600)
	st, err := FleetStore(config.FleetStore{URL: "http://vl:9428/", User: "u", PasswordFile: tok, BearerTokenFile: tok})
	if err != nil || st.URL() != "http://vl:9428" {
		t.Fatalf("%v %v", st, err)
	}
}
