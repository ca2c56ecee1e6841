package packaging

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// exporterBinary builds the exporter from this tree once per test run.
func exporterBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailtrail-packaging-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "exporter")
		if out, err := exec.Command("go", "build", "-o", binPath, "../exporter").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestMain removes the binary exporterBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	line      int
}

type stage struct {
	image, name string
	body        []instruction
}

func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before FROM", path, in.line, in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if len(stages) == 0 {
		t.Fatalf("%s: no FROM", path)
	}
	return stages
}

// last returns the last instruction cmd of the stage, or nil.
func (s stage) last(cmd string) *instruction {
	var found *instruction
	for i := range s.body {
		if s.body[i].cmd == cmd {
			found = &s.body[i]
		}
	}
	return found
}

// execForm parses the JSON array form of ENTRYPOINT and CMD: the shell form
// would run through /bin/sh, which a scratch image does not have.
func execForm(t *testing.T, in *instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil || len(args) == 0 {
		t.Fatalf("Dockerfile:%d: %s %s is not in exec form (a JSON array): %v", in.line, in.cmd, in.args, err)
	}
	return args
}

// pinnedTag is a release tag: a version with two or three numbers
// (Debian 12.11, Go 1.26.8), optionally with a variant (-bookworm, -slim).
var pinnedTag = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-[a-z0-9.]+)?$`)
var pinnedDigest = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// goVersion is go.mod's go directive as three numbers.
func goVersion(t *testing.T) [3]int {
	t.Helper()
	raw, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?$`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v
}

// TestDockerfile checks what can be checked of the image without a Docker
// engine: base images pinned, a non-root user, the entrypoint being the
// binary the build stage writes, and the default command accepted by that
// binary (serve --config.check).
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "../Dockerfile")
	names := map[string]bool{}
	for _, s := range stages {
		switch {
		case s.image == "scratch" || names[s.image]:
		case pinnedDigest.MatchString(s.image):
		default:
			_, tag, ok := strings.Cut(s.image, ":")
			m := pinnedTag.FindStringSubmatch(tag)
			if !ok || m == nil {
				t.Errorf("FROM %s: not pinned to an exact version or digest", s.image)
				continue
			}
			// The Go toolchain image builds with at least go.mod's Go, named
			// to the patch release.
			if strings.HasPrefix(s.image, "golang:") {
				if m[3] == "" {
					t.Errorf("FROM %s: Go pinned to a minor version, not a release", s.image)
					continue
				}
				want := goVersion(t)
				var have [3]int
				for i := range have {
					have[i], _ = strconv.Atoi(m[i+1])
				}
				if slices.Compare(have[:], want[:]) < 0 {
					t.Errorf("FROM %s: older than go.mod's go %d.%d.%d", s.image, want[0], want[1], want[2])
				}
			}
		}
		if s.name != "" {
			names[s.name] = true
		}
	}

	final := stages[len(stages)-1]
	user := final.last("USER")
	if user == nil {
		t.Fatal("the image's stage sets no USER: it would run as root")
	}
	uid, _, _ := strings.Cut(user.args, ":")
	if uid == "root" || uid == "0" {
		t.Errorf("Dockerfile:%d: USER %s is root", user.line, user.args)
	}
	if n, err := strconv.Atoi(uid); err == nil {
		// A numeric user needs a passwd entry, or os/user lookups (doctor)
		// and tools in the container cannot name it.
		var entry bool
		for _, s := range stages[:len(stages)-1] {
			for _, in := range s.body {
				if in.cmd == "RUN" && regexp.MustCompile(`:x:`+strconv.Itoa(n)+`:`).MatchString(in.args) && strings.Contains(in.args, "/etc/passwd") {
					entry = true
				}
			}
		}
		if !entry {
			t.Errorf("USER %d has no /etc/passwd entry written by a build stage", n)
		}
	}

	ep := final.last("ENTRYPOINT")
	if ep == nil {
		t.Fatal("the image sets no ENTRYPOINT")
	}
	entry := execForm(t, ep)
	if entry[0] != "/usr/bin/mailtrail" {
		t.Errorf("ENTRYPOINT %v: want the binary at /usr/bin/mailtrail, where the packages install it", entry)
	}
	// The binary comes from the build script, written where the image's
	// root is copied from.
	var built bool
	for _, s := range stages[:len(stages)-1] {
		for _, in := range s.body {
			if in.cmd == "RUN" && strings.Contains(in.args, "scripts/build-exporter.sh") && strings.Contains(in.args, "/out"+entry[0]) {
				built = true
			}
		}
	}
	if !built {
		t.Errorf("no build stage writes %s with scripts/build-exporter.sh", "/out"+entry[0])
	}
	var copiesRoot bool
	for _, in := range final.body {
		if in.cmd == "COPY" && strings.HasSuffix(in.args, " /out/ /") {
			copiesRoot = true
		}
	}
	if !copiesRoot {
		t.Error("the image does not copy the build stage's /out/ tree to /")
	}

	cmd := final.last("CMD")
	if cmd == nil {
		t.Fatal("the image sets no CMD: `docker run` without arguments would only print usage")
	}
	args := append(entry[1:], execForm(t, cmd)...)
	checkArgs(t, "Dockerfile CMD", args)
}

// checkArgs runs the exporter with a container's arguments: serve's with
// --config.check (flags and values), any other command's with --help
// (flag names), without doing the work.
func checkArgs(t *testing.T, what string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no command", what)
		return
	}
	check := append([]string{}, args...)
	want := ""
	if args[0] == "serve" {
		check, want = append(check, "--config.check"), "configuration ok\n"
	} else {
		check = append(check, "--help")
	}
	out, err := exec.Command(exporterBinary(t), check...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: exporter %s: %v\n%s", what, strings.Join(check, " "), err, out)
		return
	}
	if want != "" && string(out) != want {
		t.Errorf("%s: exporter %s: %q, want %q", what, strings.Join(check, " "), out, want)
	}
}

type composeFile struct {
	Services map[string]struct {
		Build   any      `yaml:"build"`
		Command []string `yaml:"command"`
		Volumes []string `yaml:"volumes"`
		Ports   []string `yaml:"ports"`
	} `yaml:"services"`
}

// TestComposeUsesImage: the exporter's services in docker-compose.yml run
// the image built from the Dockerfile (not a binary built on the host and
// mounted), with commands the binary accepts, and publish the port serve
// listens on.
func TestComposeUsesImage(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	stages := parseDockerfile(t, "../Dockerfile")
	entry := execForm(t, stages[len(stages)-1].last("ENTRYPOINT"))
	listen := regexp.MustCompile(`^--web\.listen-address=(.*)$`)
	serving := 0
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			if strings.HasPrefix(v, "./bin/") {
				t.Errorf("service %s mounts %s: a host-built binary, not the image's", name, v)
			}
		}
		if s.Build == nil {
			continue
		}
		var ctx, file string
		switch b := s.Build.(type) {
		case string:
			ctx = b
		case map[string]any:
			ctx, _ = b["context"].(string)
			file, _ = b["dockerfile"].(string)
		}
		if filepath.Clean(ctx) != "." || (file != "" && file != "Dockerfile") {
			t.Errorf("service %s builds context %q, dockerfile %q: want the repository's Dockerfile", name, ctx, file)
			continue
		}
		if len(s.Command) == 0 {
			continue // the Dockerfile's CMD, checked by TestDockerfile
		}
		checkArgs(t, "service "+name, append(entry[1:], s.Command...))
		if s.Command[0] != "serve" {
			continue
		}
		serving++
		port := "9744"
		for _, a := range s.Command {
			if m := listen.FindStringSubmatch(a); m != nil {
				if _, port, err = net.SplitHostPort(m[1]); err != nil {
					t.Errorf("service %s: %s: %v", name, a, err)
				}
			}
		}
		var published bool
		for _, p := range s.Ports {
			published = published || strings.HasSuffix(p, ":"+port)
		}
		if !published {
			t.Errorf("service %s: serve listens on %s, which its ports %v do not publish", name, port, s.Ports)
		}
	}
	if serving < 2 {
		t.Errorf("%d services serve from the image, want both exporters", serving)
	}
}
