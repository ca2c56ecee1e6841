package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/coldstore"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/s3test"
)

// TestColdArchive: serve's retention writes its archives to S3 (s3rver on
// loopback, behind a recording proxy) with Object Lock headers and keeps
// nothing staged; forget rewrites the objects; `restore --archive=s3://`
// brings the events back and `verify` passes; a damaged object is refused
// by name, and bad archive settings by flag.
func TestColdArchive(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "journal.db")
	cliMust(t, "", "simulate", "--lines", "6000", "--seed", "4", "--output", logPath)
	cliMust(t, "", "replay", "--journal.path="+db, "--instance=mx1", "--progress=never", logPath)
	subject := mostPresentUser(t, logPath)
	before := mailEvents(t, db)

	srv := s3test.Start(t, "arch")
	proxy := s3test.NewProxy(t, func() string { return srv.Addr })
	s3flags := []string{"--journal.archive-endpoint=" + proxy.URL, "--journal.archive-path-style"}
	empty := filepath.Join(dir, "empty.log")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The simulated log is months old: a 30-day retention takes every
	// sealed block at serve's first retention run.
	p := startExporter(t, nil, append([]string{"--log.path=" + empty, "--journal.path=" + db, "--web.listen-address=127.0.0.1:0",
		"--instance=mx1", "--postfix.postqueue=", "--journal.retention=30d", "--journal.archive-url=s3://arch/mx1",
		"--journal.archive-lock-mode=compliance", "--journal.archive-lock-days=3650"}, s3flags...)...)
	direct, err := coldstore.New(coldstore.Config{URL: "s3://arch/mx1", Endpoint: srv.URL(), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if names, err = direct.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		staged, _ := filepath.Glob(filepath.Join(db+".archive", "*"))
		if len(names) > 0 && len(staged) == 0 {
			break
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("no archive objects within 60s (bucket %q, staged %q)\n%s", names, staged, p.output())
		}
	}
	p.term()
	if n := mailEvents(t, db); n >= before {
		t.Fatalf("retention removed nothing: %d events of %d", n, before)
	}
	puts := 0
	for _, r := range proxy.Requests() {
		if r.Method != http.MethodPut {
			continue
		}
		puts++
		if r.Header.Get("X-Amz-Object-Lock-Mode") != "COMPLIANCE" || r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date") == "" || r.Header.Get("Content-Md5") == "" {
			t.Errorf("PUT %s: %v", r.Path, r.Header)
		}
	}
	if puts != len(names) {
		t.Errorf("%d PUTs for %d objects", puts, len(names))
	}

	archive := append([]string{"--journal.archive-url=s3://arch/mx1"}, s3flags...)
	r := cliRun(t, "", append([]string{"forget", "--journal.path=" + db, "--subject=" + subject, "--dry-run"}, archive...)...)
	if r.code != 0 || !strings.Contains(r.stdout, " s3://arch/mx1/ name it") || strings.Contains(r.stdout, "\n0 archived events") {
		t.Fatalf("dry run: %s", r)
	}
	r = cliRun(t, "", append([]string{"forget", "--journal.path=" + db, "--subject=" + subject}, archive...)...)
	if r.code != 0 || !strings.Contains(r.stdout, " archive files (now [erased:") {
		t.Fatalf("forget: %s", r)
	}
	r = cliRun(t, "", append([]string{"forget", "--journal.path=" + db, "--subject=" + subject, "--dry-run"}, archive...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "\n0 archived events in 0 files") {
		t.Fatalf("dry run after forget: %s", r)
	}

	r = cliRun(t, "", append([]string{"restore", "--journal.path=" + db, "--archive=s3://arch/mx1"}, s3flags...)...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "restored ") || strings.Contains(r.stdout, "came back erased") {
		t.Fatalf("restore: %s", r)
	}
	if n := mailEvents(t, db); n != before {
		t.Errorf("after restore %d mail events, want the %d there were", n, before)
	}
	if r := cliRun(t, "", "verify", "--journal.path="+db, "--pubkey="+db+".key.pub"); r.code != exitVerified {
		t.Fatalf("verify after restore from S3: %s", r)
	}

	// One flipped byte at rest.
	b, _, err := direct.Get(context.Background(), names[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := direct.Put(context.Background(), names[0], b, ""); err != nil {
		t.Fatal(err)
	}
	r = cliRun(t, "", append([]string{"restore", "--journal.path=" + db, "--archive=s3://arch/mx1/" + names[0]}, s3flags...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "s3://arch/mx1/"+names[0]+": not a valid archive: the checksum does not match") {
		t.Fatalf("restore of a damaged object: %s", r)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "--journal.path=" + db, "--archive=s3:///mx1"}, `--archive=s3:///mx1: archive URL "s3:///mx1": no bucket`},
		{[]string{"restore", "--journal.path=" + db, "--archive=" + filepath.Join(dir, "missing.mtar")}, "--archive=" + filepath.Join(dir, "missing.mtar") + ": stat"},
		{[]string{"serve", "--config.check", "--log.path=" + empty, "--journal.archive-url=s3://arch", "--journal.archive-lock-mode=forever"}, `--journal.archive-lock-mode: object lock mode "forever" (want governance or compliance)`},
		{[]string{"serve", "--config.check", "--log.path=" + empty, "--journal.archive-url=arch/mx1"}, `--journal.archive-url: archive URL "arch/mx1": want s3://bucket/prefix`},
	} {
		r := cliRun(t, "", c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: %s; want exit 2 and %q", c.args, r, c.want)
		}
	}

	// Without credentials serve refuses to start; replay, which never
	// touches the bucket, does not need them.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	r = cliRun(t, "", "serve", "--config.check", "--log.path="+empty, "--journal.archive-url=s3://arch/mx1")
	if r.code != 2 || !strings.Contains(r.stderr, "journal.archive_url s3://arch/mx1: archive credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a credentials file") {
		t.Errorf("config check without credentials: %s", r)
	}
	cfg := filepath.Join(dir, "mailtrail.yml")
	if err := os.WriteFile(cfg, []byte("instance: mx1\njournal:\n  path: "+db+"\n  archive_url: s3://arch/mx1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cliMust(t, "", "replay", "--config.file="+cfg, "--progress=never", empty)
}

// mailEvents counts the journal's events other than its own erasure and
// retention records.
func mailEvents(t *testing.T, db string) int {
	t.Helper()
	j, err := journal.Open(context.Background(), db, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	n := 0
	err = j.Scan(context.Background(), journal.Filter{}, func(s *journal.Stored) error {
		if s.Event.Kind != event.KindErasure {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
