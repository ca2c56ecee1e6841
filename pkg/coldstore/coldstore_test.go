package coldstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/s3test"
)

// TestPutGetListLocked: an object is stored with one PUT carrying its
// MD5 and the Object Lock headers, read back whole, and listed under the
// prefix only.
func TestPutGetListLocked(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "arch")
	proxy := s3test.NewProxy(t, func() string { return srv.Addr })
	now := time.Date(2026, 3, 1, 12, 30, 15, 0, time.UTC)
	s, err := New(Config{URL: "s3://arch/mx1/", Endpoint: proxy.URL, PathStyle: true, LockMode: "compliance", LockDays: 400, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("archive bytes "), 5000)
	if err := s.Put(ctx, "events-1-32-x.mtar", data, ""); err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{URL: "s3://arch/mx2", Endpoint: srv.URL(), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put(ctx, "events-1-32-y.mtar", []byte("other host"), ""); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Get(ctx, "events-1-32-x.mtar")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	names, err := s.List(ctx)
	if err != nil || !slices.Equal(names, []string{"events-1-32-x.mtar"}) {
		t.Fatalf("list: %q, %v", names, err)
	}
	if u := s.URL("events-1-32-x.mtar"); u != "s3://arch/mx1/events-1-32-x.mtar" {
		t.Errorf("URL %q", u)
	}
	var puts []s3test.Request
	for _, r := range proxy.Requests() {
		if r.Method == http.MethodPut {
			puts = append(puts, r)
		}
	}
	if len(puts) != 1 {
		t.Fatalf("%d PUTs, want one (no multipart): %+v", len(puts), puts)
	}
	put := puts[0]
	if put.Path != "/arch/mx1/events-1-32-x.mtar" || put.RawQuery != "" {
		t.Errorf("PUT %s?%s", put.Path, put.RawQuery)
	}
	sum := md5.Sum(data)
	sha := sha256.Sum256(data)
	for h, want := range map[string]string{
		"X-Amz-Checksum-Sha256":               base64.StdEncoding.EncodeToString(sha[:]),
		"X-Amz-Object-Lock-Mode":              "COMPLIANCE",
		"X-Amz-Object-Lock-Retain-Until-Date": "2027-04-05T12:30:15Z",
		"Content-Md5":                         base64.StdEncoding.EncodeToString(sum[:]),
	} {
		if got := put.Header.Get(h); got != want {
			t.Errorf("PUT header %s: %q, want %q", h, got, want)
		}
	}
}

// TestPutRefusesDamage: a server that stores something else than what
// was sent (here a proxy that flips a byte of the PUT body after the
// checksums were computed) is caught: MD5 by the server, and if the
// server does not check it, SHA-256 on reading back; nothing stays.
func TestPutRefusesDamage(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "arch")
	proxy := s3test.NewProxy(t, func() string { return srv.Addr })
	s, err := New(Config{URL: "s3://arch", Endpoint: proxy.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	proxy.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			var b bytes.Buffer
			b.ReadFrom(r.Body)
			body := b.Bytes()
			body[len(body)/2] ^= 1
			r.Body = nopCloser{bytes.NewReader(body)}
		}
		return false
	})
	err = s.Put(ctx, "events-1-2-x.mtar", []byte("some archive bytes to damage"), "")
	if err == nil {
		t.Fatal("a damaged upload was accepted")
	}
	if !strings.Contains(err.Error(), "s3://arch/events-1-2-x.mtar") {
		t.Errorf("error does not name the object: %v", err)
	}
	proxy.SetHook(nil)
	if names, err := s.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("left behind: %q, %v", names, err)
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// TestBadConfig: each bad setting is refused naming it.
func TestBadConfig(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "http://bucket/x"}, `archive URL "http://bucket/x": want s3://bucket/prefix`},
		{Config{URL: "s3:///x"}, `archive URL "s3:///x": no bucket`},
		{Config{URL: "s3://b", LockMode: "forever"}, `object lock mode "forever" (want governance or compliance)`},
		{Config{URL: "s3://b", LockMode: "governance"}, `object lock retain days 0 (want more than 0 with a lock mode)`},
		{Config{URL: "s3://b", Endpoint: "ftp://host"}, `archive endpoint "ftp://host": want host:port`},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	// Missing credentials fail the check and every request, not New.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "s3://b/p"}, "archive credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a credentials file"},
		{Config{URL: "s3://b/p", CredentialsFile: "/nonexistent/creds"}, "archive credentials file: stat /nonexistent/creds"},
	} {
		if err := c.cfg.CheckCredentials(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: check %v, want %q", c.cfg, err, c.want)
		}
		s, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.List(context.Background()); err == nil || !strings.Contains(err.Error(), "list s3://b/p/: "+c.want) {
			t.Errorf("%+v: list %v, want %q", c.cfg, err, c.want)
		}
		if err := s.Put(context.Background(), "x.mtar", nil, ""); err == nil || !strings.Contains(err.Error(), "upload s3://b/p/x.mtar: "+c.want) {
			t.Errorf("%+v: put %v, want %q", c.cfg, err, c.want)
		}
	}
}
