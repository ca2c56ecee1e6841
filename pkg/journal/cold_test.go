package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/coldstore"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/s3test"
)

func coldStore(t *testing.T, endpoint string, lock string, now func() time.Time) *coldstore.Store {
	t.Helper()
	days := 0
	if lock != "" {
		days = 30
	}
	// One try a request: the retry that matters is the next run's.
	s, err := coldstore.New(coldstore.Config{URL: "s3://arch/mx1", Endpoint: endpoint, PathStyle: true, LockMode: lock, LockDays: days, Now: now, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stagedFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestColdArchiveRoundTrip: retention archives to S3 (s3rver on
// loopback); the first upload is cut off midway by killing the server, so
// the run fails with the archives staged and the bucket holds no object;
// the next run uploads them (with the Object Lock headers) and empties the
// staging; restore from the bucket brings every removed event back and
// the journal verifies. A corrupted object is then refused by name.
func TestColdArchiveRoundTrip(t *testing.T) {
	ctx := context.Background()
	j, path, now, recs, v := retentionJournal(t)
	before := allSeqs(t, j)
	srv := s3test.Start(t, "arch")
	proxy := s3test.NewProxy(t, func() string { return srv.Addr })
	store := coldStore(t, proxy.URL, "governance", func() time.Time { return *now })
	cut := false
	proxy.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && !cut {
			// Half the body reaches the server, which then dies.
			cut = true
			r.Body = &cutBody{r: r.Body, left: r.ContentLength / 2, cut: srv.Kill}
		}
		return false
	})
	*now = recs[0].Event.Time.Add(10*24*time.Hour + time.Hour)
	staging := filepath.Join(t.TempDir(), "staging")
	r := Retention{Default: 3 * 24 * time.Hour, ArchiveDir: staging, Cold: store}
	res, err := j.Expire(ctx, r)
	if err == nil || !strings.Contains(err.Error(), "stays staged and is uploaded again at the next retention run") {
		t.Fatalf("expire with the server killed: %+v, %v", res, err)
	}
	t.Logf("first run: %v", err)
	if !cut || res.Deleted == 0 || len(res.Uploaded) != 0 {
		t.Fatalf("expire: %+v (cut %v)", res, cut)
	}
	staged := stagedFiles(t, staging)
	if len(staged) == 0 {
		t.Fatal("nothing staged")
	}

	srv.Restart()
	direct := coldStore(t, srv.URL(), "", nil)
	if names, err := direct.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("after the cut upload the bucket holds %q (%v), want nothing", names, err)
	}
	res, err = j.Expire(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 0 || len(res.Uploaded) != len(staged) {
		t.Fatalf("second run: %+v, want the %d staged archives uploaded", res, len(staged))
	}
	if left := stagedFiles(t, staging); len(left) != 0 {
		t.Fatalf("still staged: %q", left)
	}
	names, err := direct.List(ctx)
	if err != nil || len(names) != len(staged) {
		t.Fatalf("bucket: %q, %v", names, err)
	}
	for _, rq := range proxy.Requests() {
		if rq.Method != http.MethodPut {
			continue
		}
		if rq.Header.Get("X-Amz-Object-Lock-Mode") != "GOVERNANCE" || rq.Header.Get("X-Amz-Object-Lock-Retain-Until-Date") != now.AddDate(0, 0, 30).Truncate(time.Second).Format(time.RFC3339) {
			t.Errorf("PUT %s without the Object Lock headers: %v", rq.Path, rq.Header)
		}
	}

	// Restore from the bucket; verify.
	as, err := ReadColdArchives(ctx, direct, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := j.RestoreArchives(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	if back.Restored == 0 {
		t.Fatalf("restore: %+v", back)
	}
	var got []int64
	for _, s := range allSeqs(t, j) {
		if s <= int64(len(recs)) {
			got = append(got, s)
		}
	}
	if !slices.Equal(got, before) {
		t.Fatalf("after restore %d events, want the %d there were", len(got), len(before))
	}
	if err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(ctx, path, v, nil); err != nil || rep.Problem != nil {
		t.Fatalf("verify after restore: %+v, %v", rep, err)
	}

	// A damaged object (one byte flipped at rest) is refused by name.
	b, _, err := direct.Get(ctx, names[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 0x20
	if err := direct.Put(ctx, names[0], b, ""); err != nil {
		t.Fatal(err)
	}
	as, err = ReadColdArchives(ctx, direct, []string{names[0]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = j.RestoreArchives(ctx, as)
	want := "s3://arch/mx1/" + names[0] + ": not a valid archive: the checksum does not match"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("restore of a damaged object: %v, want %q", err, want)
	}
}

// TestColdForget: forget rewrites the archived objects that name the
// subject (new objects, counted in the erasure), they restore erased and
// the journal verifies. Under Object Lock the previous version cannot be
// removed (here the proxy answers as a compliance-locked bucket does):
// the erasure is committed and the error names the object and version.
func TestColdForget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, path, exp, v := carolArchived(t, dir)
	srv := s3test.Start(t, "arch")
	proxy := s3test.NewProxy(t, func() string { return srv.Addr })
	store := coldStore(t, proxy.URL, "", nil)
	up, err := j.UploadArchives(ctx, dir, store)
	if err != nil || len(up) != len(exp.Archives) {
		t.Fatalf("upload: %q, %v", up, err)
	}
	j.opts.Cold, j.opts.ArchiveDir = store, dir
	dry, _, err := j.EraseDryRun(ctx, []string{carol})
	if err != nil || dry.Archived == 0 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	res, err := j.Erase(ctx, []string{carol}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 32 || res.Archived != dry.Archived || res.ArchiveFiles != dry.ArchiveFiles {
		t.Fatalf("erase: %+v; the dry run said %+v", res, dry)
	}
	as, err := ReadColdArchives(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if bytes.Contains(bytes.ToLower(decodedArchive(t, a)), []byte(carol)) {
			t.Errorf("%s still names the subject", a.Name)
		}
	}
	back, err := j.RestoreArchives(ctx, as)
	if err != nil || back.Restored != exp.Deleted {
		t.Fatalf("restore: %+v, %v; expired %d", back, err, exp.Deleted)
	}
	checkCarolErased(t, j, path, v)

	// A WORM bucket: objects have versions, the old one cannot go.
	dave := "dave@example.net"
	proxy.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Query().Get("versionId") == "" && strings.HasSuffix(r.URL.Path, ".mtar"):
			w.Header().Set("X-Amz-Version-Id", "v-locked")
		case r.Method == http.MethodDelete && r.URL.Query().Get("versionId") == "v-locked":
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Object is WORM protected and cannot be overwritten</Message></Error>`))
			return true
		}
		return false
	})
	res, err = j.Erase(ctx, []string{dave}, "test")
	var oe *coldstore.OldVersionError
	if err == nil || !errors.As(err, &oe) || res.Seq == 0 || !strings.Contains(err.Error(), "previous version v-locked could not be removed") || !strings.Contains(err.Error(), "s3://arch/mx1/events-") {
		t.Fatalf("erase under a compliance lock: %+v, %v", res, err)
	}
	proxy.SetHook(nil)
	as, err = ReadColdArchives(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if bytes.Contains(bytes.ToLower(decodedArchive(t, a)), []byte(dave)) {
			t.Errorf("the new version of %s still names the subject", a.Name)
		}
	}
	if left := stagedFiles(t, dir); len(left) != 0 {
		t.Fatalf("rewrites stored, yet staged: %q", left)
	}

	// The bucket refuses the rewrites: they stay staged, already erased,
	// and the next upload stores them.
	proxy.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
		return true
	})
	const user = "u1"
	named := 0
	for _, a := range as {
		if bytes.Contains(decodedArchive(t, a), []byte(`"sasl_username":"u1"`)) {
			named++
		}
	}
	if named == 0 {
		t.Fatalf("fixture: no archive names %s", user)
	}
	res, err = j.Erase(ctx, []string{user}, "test")
	if err == nil || res.Seq == 0 || res.Archived == 0 || !strings.Contains(err.Error(), "uploaded at the next retention run") {
		t.Fatalf("erase with the bucket refusing writes: %+v, %v", res, err)
	}
	proxy.SetHook(nil)
	staged := stagedFiles(t, dir)
	if len(staged) != res.ArchiveFiles {
		t.Fatalf("staged %q, want the %d rewritten archives", staged, res.ArchiveFiles)
	}
	for _, f := range staged {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(decodedArchive(t, ArchiveData{Name: f, Data: b}), []byte(`"sasl_username":"u1"`)) {
			t.Errorf("staged %s still names %s", f, user)
		}
	}
	if up, err := j.UploadArchives(ctx, dir, store); err != nil || len(up) != len(staged) {
		t.Fatalf("upload of the staged rewrites: %q, %v", up, err)
	}
	as, err = ReadColdArchives(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if bytes.Contains(decodedArchive(t, a), []byte(`"sasl_username":"u1"`)) {
			t.Errorf("%s still names %s", a.Name, user)
		}
	}
}

// cutBody passes left bytes of a request body on, then calls cut and
// fails.
type cutBody struct {
	r    io.ReadCloser
	left int64
	cut  func()
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.cut()
		return 0, errors.New("upload cut off")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.r.Close() }

// decodedArchive is an archive's document and events as text.
func decodedArchive(t *testing.T, ad ArchiveData) []byte {
	t.Helper()
	a, err := parseArchive(ad.Name, ad.Data)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(a.doc)
	for i := range a.entries {
		if a.entries[i].tomb {
			continue
		}
		var ev event.Event
		if _, err := decodeEvent(a.entries[i].data, &ev); err != nil {
			t.Fatal(err)
		}
		e, _ := json.Marshal(ev)
		body = append(body, e...)
	}
	return body
}
