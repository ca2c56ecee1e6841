// Package doctor checks a configuration and the host around it the way
// serve would meet them, and says for each problem what to do about it.
// Each check is a function returning findings; none changes anything.
package doctor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/pkg/config"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/tailer"
)

// Status is a finding's verdict. Only Fail makes doctor exit non-zero: a
// warning is something that may be intended (no rotated files yet).
type Status int

const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "FAIL"
}

// Finding is what one check found and, unless it is OK, what to do.
type Finding struct {
	Check  string
	Status Status
	Found  string
	Fix    string
}

// User is whose access is checked: the exporter's service user, which is
// not necessarily the user running doctor (root checking for mailtrail).
type User struct {
	Name string
	UID  int
	GIDs []int
}

// Current is the user running this process.
func Current() User {
	u := User{UID: os.Getuid(), GIDs: []int{os.Getgid()}}
	if gs, err := os.Getgroups(); err == nil {
		u.GIDs = append(u.GIDs, gs...)
	}
	u.Name = strconv.Itoa(u.UID)
	if pu, err := user.LookupId(u.Name); err == nil {
		u.Name = pu.Username
	}
	return u
}

// Lookup is the named user (or numeric id) with its groups.
func Lookup(name string) (User, error) {
	pu, err := user.Lookup(name)
	if err != nil {
		if pu, err = user.LookupId(name); err != nil {
			return User{}, fmt.Errorf("user %q: %w", name, err)
		}
	}
	u := User{Name: pu.Username}
	u.UID, _ = strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(pu.Gid)
	u.GIDs = []int{gid}
	if ids, err := pu.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil {
				u.GIDs = append(u.GIDs, g)
			}
		}
	}
	return u, nil
}

// Access bits for Permits, as in access(2).
const (
	Read  = 4
	Write = 2
	Exec  = 1
)

// Permits says whether u may access the file as want (Read, Write, Exec
// or'ed) by its permission bits, the way the kernel decides without ACLs
// or capabilities beyond root's. It lets doctor answer for a user other
// than the one running it.
func Permits(fi fs.FileInfo, u User, want uint32) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if u.UID == 0 {
		// Root reads and writes anything; it executes what anyone may.
		return want&Exec == 0 || fi.Mode().Perm()&0o111 != 0 || fi.IsDir()
	}
	perm := uint32(fi.Mode().Perm())
	var bits uint32
	switch {
	case int(st.Uid) == u.UID:
		bits = perm >> 6
	case u.inGroup(int(st.Gid)):
		bits = perm >> 3
	default:
		bits = perm
	}
	return bits&want == want
}

func (u User) inGroup(gid int) bool {
	for _, g := range u.GIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// Options are what the checks need beside the configuration.
type Options struct {
	User User
	// Listen are the web listen addresses (host:port).
	Listen []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MinFree is the free space below which the journal's filesystem
	// fails; twice it warns. Zero means 256 MiB.
	MinFree uint64
	// Skew is how far the newest log line may be in the past before a
	// warning; zero means an hour.
	Skew time.Duration
}

// Run runs every check.
func Run(ctx context.Context, c *config.Config, o Options) []Finding {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinFree == 0 {
		o.MinFree = 256 << 20
	}
	if o.Skew == 0 {
		o.Skew = time.Hour
	}
	var out []Finding
	files, found := LogFiles(c, o.User)
	out = append(out, found...)
	out = append(out, Rotated(c, files)...)
	out = append(out, JournalDir(c, o.User, o.MinFree)...)
	out = append(out, Postqueue(ctx, c, o.User)...)
	out = append(out, Journald(c)...)
	out = append(out, Listen(c, o.Listen)...)
	out = append(out, SigningKey(c)...)
	out = append(out, Clock(c, files, o.User, o.Now(), o.Skew)...)
	return out
}

// Failed says whether any finding failed.
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if f.Status == Fail {
			return true
		}
	}
	return false
}

// LogFiles checks every configured log path (globs expanded) exists and is
// readable by u, naming the group that would make an unreadable one so. It
// returns the readable files for the checks that read them.
func LogFiles(c *config.Config, u User) ([]string, []Finding) {
	var files []string
	var out []Finding
	for _, p := range c.Logs.Paths {
		if p == "-" {
			continue
		}
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil || len(m) == 0 {
				out = append(out, Finding{"logs", Fail, fmt.Sprintf("%s matches no file", p),
					"check the log path (logs.paths / --log.path); the mail log is usually /var/log/mail.log (Debian) or /var/log/maillog (RHEL)"})
				continue
			}
			matches = m
		}
		for _, f := range matches {
			fi, err := os.Stat(f)
			if err != nil {
				out = append(out, Finding{"logs", Fail, fmt.Sprintf("%s: %v", f, err),
					"check the log path (logs.paths / --log.path) and that syslog (or Postfix's maillog_file) writes there"})
				continue
			}
			if d, dfi := blockingDir(f, u); d != "" {
				out = append(out, Finding{"logs", Fail, fmt.Sprintf("%s: directory %s (mode %04o, group %s) does not let user %s through", f, d, dfi.Mode().Perm(), groupOf(dfi), u.Name),
					fmt.Sprintf("chmod o+x %s, or add the user to its group (usermod -aG %s %s)", d, groupOf(dfi), u.Name)})
				continue
			}
			if !Permits(fi, u, Read) {
				g := groupOf(fi)
				out = append(out, Finding{"logs", Fail, fmt.Sprintf("%s (mode %04o, group %s) is not readable by user %s", f, fi.Mode().Perm(), g, u.Name),
					fmt.Sprintf("add the user to the file's group: usermod -aG %s %s (or SupplementaryGroups=%s in the systemd unit), and keep logrotate's create mode group-readable (0640)", g, u.Name, g)})
				continue
			}
			files = append(files, f)
			out = append(out, Finding{"logs", OK, fmt.Sprintf("%s is readable by user %s", f, u.Name), ""})
		}
	}
	return files, out
}

// blockingDir is the first directory above path that u may not pass
// through (search permission), if any.
func blockingDir(path string, u User) (string, fs.FileInfo) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil
	}
	var dirs []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		fi, err := os.Stat(dirs[i])
		if err == nil && !Permits(fi, u, Exec) {
			return dirs[i], fi
		}
	}
	return "", nil
}

func groupOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	id := strconv.Itoa(int(st.Gid))
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// Rotated checks the rotated-file globs find the generations logrotate
// wrote next to each file; without them a restart after a rotation loses
// the end of the old file.
func Rotated(c *config.Config, files []string) []Finding {
	globs := c.Logs.RotatedGlobs
	if len(globs) == 0 {
		globs = tailer.DefaultRotatedGlobs
	}
	var out []Finding
	for _, f := range files {
		n := 0
		for _, g := range globs {
			m, _ := filepath.Glob(strings.ReplaceAll(g, "{path}", f))
			n += len(m)
		}
		if n == 0 {
			out = append(out, Finding{"rotated", Warn, fmt.Sprintf("no rotated generations of %s match %s", f, strings.Join(globs, ", ")),
				"fine on a fresh host; otherwise set logs.rotated_globs (--log.rotated-glob) to where logrotate puts them (olddir, dateext)"})
			continue
		}
		out = append(out, Finding{"rotated", OK, fmt.Sprintf("%d rotated generations of %s", n, f), ""})
	}
	return out
}

// JournalDir checks the journal's directory exists, is writable by u
// (SQLite writes its -wal and -shm files beside the journal) and its
// filesystem has room.
func JournalDir(c *config.Config, u User, minFree uint64) []Finding {
	dir := filepath.Dir(c.Journal.Path)
	fi, err := os.Stat(dir)
	if err != nil {
		return []Finding{{"journal", Fail, fmt.Sprintf("journal directory %s: %v", dir, err),
			fmt.Sprintf("create it for the user: install -d -o %s -m 0750 %s (or set journal.path / --journal.path)", u.Name, dir)}}
	}
	if !fi.IsDir() {
		return []Finding{{"journal", Fail, fmt.Sprintf("%s is not a directory", dir), "set journal.path (--journal.path) to a file in a directory"}}
	}
	if !Permits(fi, u, Write|Exec) {
		return []Finding{{"journal", Fail, fmt.Sprintf("journal directory %s (mode %04o) is not writable by user %s", dir, fi.Mode().Perm(), u.Name),
			fmt.Sprintf("chown %s %s (with systemd's ProtectSystem=strict, also ReadWritePaths=%s)", u.Name, dir, dir)}}
	}
	out := []Finding{{"journal", OK, fmt.Sprintf("journal directory %s is writable by user %s", dir, u.Name), ""}}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return append(out, Finding{"disk", Warn, fmt.Sprintf("statfs %s: %v", dir, err), "check the filesystem is mounted"})
	}
	free := st.Bavail * uint64(st.Bsize)
	found := fmt.Sprintf("%s free on the journal's filesystem (%s)", mib(free), dir)
	switch {
	case free < minFree:
		out = append(out, Finding{"disk", Fail, found, "free space there or move the journal (journal.path); set journal.retention to bound its size"})
	case free < 2*minFree:
		out = append(out, Finding{"disk", Warn, found, "free space there soon; set journal.retention to bound the journal's size"})
	default:
		out = append(out, Finding{"disk", OK, found, ""})
	}
	return out
}

func mib(b uint64) string { return fmt.Sprintf("%d MiB", b>>20) }

// Postqueue runs postqueue -j as serve's queue metrics do, as user u when
// doctor runs as root for another user, so a missing postdrop membership
// shows.
func Postqueue(ctx context.Context, c *config.Config, u User) []Finding {
	if c.Postfix.Postqueue == "" {
		return []Finding{{"postqueue", OK, "queue metrics are off (postfix.postqueue is empty)", ""}}
	}
	args := []string{"-j"}
	if c.Postfix.ConfigDir != "" {
		args = append([]string{"-c", c.Postfix.ConfigDir}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Postfix.Postqueue, args...)
	if os.Getuid() == 0 && u.UID != 0 && len(u.GIDs) > 0 {
		cred := &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GIDs[0]), Groups: []uint32{}}
		for _, g := range u.GIDs[1:] {
			cred.Groups = append(cred.Groups, uint32(g))
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
	}
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	line := c.Postfix.Postqueue + " " + strings.Join(args, " ")
	if err := cmd.Run(); err != nil {
		why := strings.TrimSpace(stderr.String())
		if why == "" {
			why = err.Error()
		}
		name := u.Name
		if name == "" {
			name = "USER"
		}
		// The group comes from the group database, not the unit: the
		// package's unit names no group a host without Postfix lacks.
		fix := fmt.Sprintf("check Postfix runs and the user may run postqueue (on most hosts it must be in group postdrop: usermod -aG postdrop %s, then restart the service), or set postfix.postqueue to \"\" to turn the queue metrics off", name)
		switch {
		case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
			fix = "install Postfix or set postfix.postqueue (--postfix.postqueue) to its path, or to \"\" to turn the queue metrics off"
		case strings.Contains(why, "main.cf: No such file"):
			fix = "set postfix.config_dir (--postfix.config-dir) to this instance's configuration directory (postconf config_directory), or postfix.postqueue to \"\" to turn the queue metrics off"
		}
		return []Finding{{"postqueue", Fail, fmt.Sprintf("%s: %s", line, why), fix}}
	}
	return []Finding{{"postqueue", OK, line + " runs", ""}}
}

// Journald checks journalctl can be found when the journal is read.
func Journald(c *config.Config) []Finding {
	if !c.Journald.Enabled {
		return nil
	}
	bin := c.Journald.Command
	if bin == "" {
		bin = "journalctl"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return []Finding{{"journald", Fail, fmt.Sprintf("%s: %v", bin, err),
			"install systemd's journalctl or set journald.command, or turn journald off (--no-journald) and read the log files"}}
	}
	return []Finding{{"journald", OK, "journalctl is " + p, ""}}
}

// Listen checks each address serve would listen on is free now.
func Listen(c *config.Config, web []string) []Finding {
	var out []Finding
	try := func(name, network, addr string) {
		var err error
		if network == "udp" {
			var pc net.PacketConn
			if pc, err = net.ListenPacket(network, addr); err == nil {
				pc.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen(network, addr); err == nil {
				l.Close()
			}
		}
		if err != nil {
			_, port, _ := net.SplitHostPort(addr)
			out = append(out, Finding{"listen", Fail, fmt.Sprintf("%s %s/%s: %v", name, network, addr, err),
				fmt.Sprintf("stop what holds it (find it with: ss -lnp 'sport = :%s'), or choose another address; ports below 1024 need CAP_NET_BIND_SERVICE", port)})
			return
		}
		out = append(out, Finding{"listen", OK, fmt.Sprintf("%s %s/%s is free", name, network, addr), ""})
	}
	for _, a := range web {
		if strings.HasPrefix(a, "vsock://") {
			continue
		}
		try("web", "tcp", a)
	}
	if c.Syslog.ListenUDP != "" {
		try("syslog", "udp", c.Syslog.ListenUDP)
	}
	if c.Syslog.ListenTCP != "" {
		try("syslog", "tcp", c.Syslog.ListenTCP)
	}
	if c.Syslog.ListenRELP != "" {
		try("relp", "tcp", c.Syslog.ListenRELP)
	}
	if c.Policy.Listen != "" && !strings.HasPrefix(c.Policy.Listen, "unix:") {
		try("postfix policy", "tcp", c.Policy.Listen)
	}
	if c.Policy.DovecotListen != "" {
		try("dovecot policy", "tcp", c.Policy.DovecotListen)
	}
	return out
}

// SigningKey checks the checkpoint signing key, when it exists, is
// readable by its owner only: whoever reads it can sign a forged journal.
func SigningKey(c *config.Config) []Finding {
	k := c.Journal.SigningKey
	if k == "" {
		return nil
	}
	fi, err := os.Stat(k)
	if errors.Is(err, fs.ErrNotExist) {
		return []Finding{{"signing-key", OK, k + " does not exist yet; serve creates it with mode 0600", ""}}
	}
	if err != nil {
		return []Finding{{"signing-key", Fail, fmt.Sprintf("%s: %v", k, err), "check the path (journal.signing_key) and its directory's permissions"}}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return []Finding{{"signing-key", Fail, fmt.Sprintf("%s has mode %04o: others may read it and sign forged checkpoints", k, fi.Mode().Perm()),
			fmt.Sprintf("chmod 600 %s; if others did read it, make a new key (and keep the old .pub to verify old checkpoints)", k)}}
	}
	return []Finding{{"signing-key", OK, fmt.Sprintf("%s is private (mode %04o)", k, fi.Mode().Perm()), ""}}
}

// Clock compares the clock with the newest line's timestamp in each log
// file, read in the configured time zone. A line from the future means
// the zone is wrong (or the clock); one hours old means the log is quiet,
// stale, or the zone is wrong the other way.
func Clock(c *config.Config, files []string, u User, now time.Time, skew time.Duration) []Finding {
	loc := time.Local
	name, _ := now.In(loc).Zone()
	zone := "the machine's zone (" + name + ")"
	if c.Timezone != "" {
		l, err := time.LoadLocation(c.Timezone)
		if err != nil {
			return []Finding{{"clock", Fail, fmt.Sprintf("time zone %q: %v", c.Timezone, err), "set timezone (--log.timezone) to an IANA zone such as Europe/Berlin"}}
		}
		loc, zone = l, "timezone "+c.Timezone
	}
	p := &parser.Parser{Instance: c.Instance, Location: loc}
	var out []Finding
	for _, f := range files {
		line, err := lastLine(f)
		if err != nil {
			out = append(out, Finding{"clock", Warn, fmt.Sprintf("%s: %v", f, err), "check the file can be read"})
			continue
		}
		if line == "" {
			out = append(out, Finding{"clock", OK, f + " is empty: nothing to compare the clock with", ""})
			continue
		}
		e := p.Parse(line, now)
		if e.Time.IsZero() {
			out = append(out, Finding{"clock", Warn, fmt.Sprintf("%s: the newest line has no timestamp mailtrail reads: %.80q", f, line),
				"run exporter parse --summary on the file to see what mailtrail makes of it"})
			continue
		}
		d := now.Sub(e.Time).Round(time.Minute)
		at := e.Time.In(loc).Format(time.RFC3339)
		switch {
		case d < -5*time.Minute:
			out = append(out, Finding{"clock", Fail, fmt.Sprintf("%s: the newest line (%s, read in %s) is %v in the future", f, at, zone, -d),
				"set timezone (--log.timezone) to the zone syslog writes in, or correct the clock (timedatectl; chrony or systemd-timesyncd)"})
		case d > skew:
			out = append(out, Finding{"clock", Warn, fmt.Sprintf("%s: the newest line (%s, read in %s) is %v old", f, at, zone, d),
				"if mail flowed since, the log is not written there (check syslog or maillog_file) or the time zone is off by the difference: set timezone (--log.timezone)"})
		default:
			out = append(out, Finding{"clock", OK, fmt.Sprintf("%s: the newest line is %v old in %s", f, d, zone), ""})
		}
	}
	return out
}

// lastLine is the file's last non-empty line, read from its end.
func lastLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	const tail = 64 << 10
	off := fi.Size() - tail
	if off < 0 {
		off = 0
	}
	sc := bufio.NewScanner(io.NewSectionReader(f, off, fi.Size()-off))
	sc.Buffer(make([]byte, 0, tail), tail+1)
	last := ""
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			last = sc.Text()
		}
	}
	return last, sc.Err()
}
