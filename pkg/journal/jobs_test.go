package journal

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestBackgroundVerifier: the metrics say what `verify` would. (Event 995
// is in the hot table: the test journal seals blocks of 32.)
func TestBackgroundVerifier(t *testing.T) {
	db, _ := signedJournal(t, 1000, 100, 200)
	vkey, err := os.ReadFile(filepath.Join(filepath.Dir(db), "key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	v := NewBackgroundVerifier(reg, db, string(vkey), slog.New(slog.DiscardHandler))
	v.Once(context.Background())
	if got := testutil.ToFloat64(v.verified); got != 1000 {
		t.Errorf("verified events = %v, want 1000", got)
	}
	sqldb, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqldb.Exec("DELETE FROM events WHERE seq = 995"); err != nil {
		t.Fatal(err)
	}
	sqldb.Close()
	v.Once(context.Background())
	if got := testutil.ToFloat64(v.failures); got != 1 {
		t.Errorf("verify failures = %v after a deleted row, want 1", got)
	}
}
