// Package s3test runs a real S3-compatible server (npm's s3rver, which
// scripts/deps.sh installs) on loopback for tests, and a recording reverse
// proxy in front of it: s3rver keeps objects but does not enforce Object
// Lock, so tests read the headers the client sent from the proxy.
package s3test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/proctest"
)

// Version is the s3rver release scripts/deps.sh installs.
const Version = "3.7.1"

// Key is the access key and secret s3rver accepts by default.
const Key = "S3RVER"

// Binary finds s3rver on PATH. Where it is missing the test is skipped,
// except in CI, where that is a failure.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("s3rver"); err == nil {
		return p
	}
	// npm's global bin directory may be off PATH (a /usr/local prefix
	// under a service's minimal PATH).
	if out, err := exec.Command("npm", "prefix", "-g").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "s3rver")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	why := "s3rver not found (scripts/deps.sh installs it: npm install -g s3rver@" + Version + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
	return ""
}

// Server is a running s3rver.
type Server struct {
	// Addr is its host:port; it changes across Restart.
	Addr string
	// Dir holds its buckets and objects (kept across Restart).
	Dir    string
	bucket string
	bin    string
	cmd    *exec.Cmd
	done   chan struct{}
	out    *proctest.Output
	t      testing.TB
}

// Start runs s3rver on a loopback port with an empty bucket, sets the
// credentials it accepts in the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY) for the test, and kills it when the test ends.
func Start(t testing.TB, bucket string) *Server {
	t.Helper()
	s := &Server{bin: Binary(t), Dir: t.TempDir(), bucket: bucket, t: t}
	t.Setenv("AWS_ACCESS_KEY_ID", Key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", Key)
	s.start()
	t.Cleanup(s.Kill)
	return s
}

var listening = regexp.MustCompile(`listening on (\S+:\d+)`)

func (s *Server) start() {
	s.t.Helper()
	s.out = &proctest.Output{}
	// Port 0: s3rver says which port it got.
	s.cmd = exec.Command(s.bin, "-d", s.Dir, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", s.bucket)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start s3rver: %v", err)
	}
	s.done = make(chan struct{})
	addr := make(chan string, 1)
	go func(r io.Reader, done chan struct{}, cmd *exec.Cmd) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.out.Write(append(sc.Bytes(), '\n'))
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(done)
	}(stdout, s.done, s.cmd)
	select {
	case s.Addr = <-addr:
	case <-s.done:
		s.t.Fatalf("s3rver exited before listening:\n%s", s.out)
	case <-time.After(30 * time.Second):
		s.Kill()
		s.t.Fatalf("s3rver did not listen within 30s:\n%s", s.out)
	}
}

// URL is http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr }

// Kill stops s3rver with SIGKILL and waits for it; a stopped server is
// left alone.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Restart starts s3rver again over the same directory (on a new port).
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Request is what the proxy saw of one request.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
}

// Proxy is a recording reverse proxy to a Server.
type Proxy struct {
	// URL is the proxy's http://host:port.
	URL  string
	mu   sync.Mutex
	reqs []Request
	hook func(w http.ResponseWriter, r *http.Request) bool
}

// NewProxy starts a proxy on loopback to whatever address target returns
// at the time of each request (so it follows the server across Restart),
// closed when the test ends.
func NewProxy(t testing.TB, target func() string) *Proxy {
	p := &Proxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: target()})
			// The client signed the Host it sent: keep it.
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, fmt.Sprintf("proxy: %v", err), http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.reqs = append(p.reqs, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()})
		hook := p.hook
		p.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetHook makes h see each request first (nil: none); h returning true
// means it answered the request, which goes no further.
func (p *Proxy) SetHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = h
}

// Requests returns what the proxy saw so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.reqs...)
}
