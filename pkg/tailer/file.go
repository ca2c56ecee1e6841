package tailer

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/mailtrail/mailtrail/pkg/event"

	"github.com/fsnotify/fsnotify"
)

// readSize is how much one read of a file asks for: the lines of a read go
// out as one batch, and each read also re-checks the file's fingerprint.
// 256 KiB cost a tenth less CPU per line, but the batches waiting in
// serve's channel (64 of them when this was measured; 16 now) then pinned
// four times the memory: peak RSS 165-174 instead of 123-125 MiB.
const readSize = 64 << 10

// fingerprintBytes bounds the content a fingerprint covers: the first line,
// or this many bytes of a file whose first line is longer.
const fingerprintBytes = 4096

// DefaultRotatedGlobs find the generations logrotate leaves beside a file:
// mail.log.1, mail.log.2.gz (numbered) and mail.log-20240101[.gz] (dateext).
// The tailer's defaults, also the configuration's (pkg/config).
const (
	DefaultMaxLineBytes = 64 << 10
	DefaultPollInterval = 250 * time.Millisecond
	DefaultRotateWait   = time.Second
)

var DefaultRotatedGlobs = []string{"{path}.*", "{path}-*"}

// FileConfig configures the following of one log file.
type FileConfig struct {
	// Path is the file to follow; it may not exist yet.
	Path string
	// RotatedGlobs find the file's rotated generations; "{path}" stands for
	// Path. Nil means DefaultRotatedGlobs.
	RotatedGlobs []string
	// Start is the saved position; zero starts at the beginning of Path.
	Start event.Position
	// MaxLineBytes cuts longer lines (the rest up to the newline is
	// skipped); 0 means 64 KiB.
	MaxLineBytes int
	// PollInterval bounds how long a change goes unnoticed when no file
	// system notification arrives; 0 means 250ms.
	PollInterval time.Duration
	// RotateWait is how long a file that was rotated away must stay quiet
	// before the tailer moves on to its successor: writers keep appending
	// to the old file until they reopen the path. 0 means 1s.
	RotateWait time.Duration
	Observer   Observer
}

func (c *FileConfig) defaults() {
	if c.RotatedGlobs == nil {
		c.RotatedGlobs = DefaultRotatedGlobs
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.RotateWait <= 0 {
		c.RotateWait = DefaultRotateWait
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
}

// FollowFile sends every line of cfg.Path, and of the rotated generations it
// has not finished, on out, following the file across rotation (rename and
// create, copytruncate, delete and recreate) until ctx ends. It returns
// ctx's error, or an error that makes following impossible.
func FollowFile(ctx context.Context, cfg FileConfig, out chan<- []Line) error {
	cfg.defaults()
	f := &follower{cfg: cfg, out: out, wake: make(chan struct{}, 1)}
	if w, err := fsnotify.NewWatcher(); err == nil {
		// Watch the directory: the file itself is replaced on rotation.
		if err := w.Add(filepath.Dir(cfg.Path)); err == nil {
			defer w.Close()
			go f.forward(ctx, w)
		} else {
			w.Close()
		}
	}
	pos := cfg.Start
	drained, truncated, replan := false, false, false
	for {
		// After a truncation the rest of what pos names may survive in a
		// copy (copytruncate), which plan finds like any rotated file.
		segs, rotations, err := f.plan(ctx, pos, drained || truncated)
		if err != nil {
			return err
		}
		if truncated && len(segs) == 1 {
			rotations = 0 // truncated in place, nothing rotated
		}
		if replan && rotations > 0 {
			rotations-- // segs[0] is the file finished before, counted then
		}
		for i := 0; i < rotations; i++ {
			f.cfg.Observer.Rotated(f.cfg.Path)
		}
		last := len(segs) - 1
		replan = false
		for _, s := range segs[:last] {
			p, err := f.readSegment(ctx, s)
			if errors.Is(err, errVanished) {
				// Renamed or compressed (logrotate's gzip step) between
				// listing and reading: look for it again.
				replan = true
				break
			}
			if err != nil {
				return err
			}
			pos = p
		}
		if replan {
			drained = true
			if err := f.wait(ctx, f.cfg.PollInterval); err != nil {
				return err
			}
			continue
		}
		if pos, truncated, err = f.followCurrent(ctx, segs[last]); err != nil {
			return err
		}
		drained = !truncated
	}
}

// errVanished says a rotated generation was gone (or not yet whole) when it
// was read.
var errVanished = errors.New("rotated file vanished while being read")

type follower struct {
	cfg  FileConfig
	out  chan<- []Line
	wake chan struct{}
	// once reads files to their end without waiting for writers (replay).
	once bool
}

// forward turns file system events into wake-ups.
func (f *follower) forward(ctx context.Context, w *fsnotify.Watcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.Events:
			if !ok {
				return
			}
			select {
			case f.wake <- struct{}{}:
			default:
			}
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
		}
	}
}

// wait returns after a file system event, after d, or when ctx ends.
func (f *follower) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-f.wake:
	case <-t.C:
	}
	return nil
}

// segment is a file to read from an offset.
type segment struct {
	path   string
	id     fileID
	offset int64
}

// fileID identifies a file's content and inode.
type fileID struct {
	fp    string
	inode uint64
	mtime time.Time
	gz    bool
}

// plan lists what to read to go on from pos: the file pos names (found among
// the rotated generations if it is no longer at Path) from its offset, every
// newer generation whole, and last the current file. It also says how many
// rotations that passes over. drained says pos is known to be the end of
// its file, so not finding that file loses nothing.
func (f *follower) plan(ctx context.Context, pos event.Position, drained bool) ([]segment, int, error) {
	var cur fileID
	for {
		id, err := identify(f.cfg.Path)
		if err == nil {
			cur = id
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("tail %s: %w", f.cfg.Path, err)
		}
		// A missing file may be mid-rotation or not created yet; the
		// rotated generation pos names can be read meanwhile.
		if !pos.IsZero() {
			if segs := f.rotatedFrom(pos); len(segs) > 0 {
				return append(segs, segment{path: f.cfg.Path}), len(segs), nil
			}
		}
		if err := f.wait(ctx, f.cfg.PollInterval); err != nil {
			return nil, 0, err
		}
	}
	current := segment{path: f.cfg.Path, id: cur}
	if pos.IsZero() || sameFile(pos, cur) {
		current.offset = pos.Offset
		return []segment{current}, 0, nil
	}
	segs := f.rotatedFrom(pos)
	if len(segs) > 0 {
		// segs[0] is pos's own file: each later one is a rotation.
		return append(segs, current), len(segs), nil
	}
	if !drained && pos.Offset > 0 {
		f.cfg.Observer.Lost(f.cfg.Path, fmt.Sprintf("file with fingerprint %s (inode %d) was not found among its rotated generations", pos.Fingerprint, pos.Inode))
	}
	return []segment{current}, 1, nil
}

func sameFile(pos event.Position, id fileID) bool {
	if pos.Fingerprint != "" {
		return pos.Fingerprint == id.fp
	}
	return pos.Inode != 0 && pos.Inode == id.inode
}

// rotatedFrom finds pos's file among the rotated generations and returns it
// (from pos's offset) followed by every newer generation.
func (f *follower) rotatedFrom(pos event.Position) []segment {
	gens := f.generations()
	at := -1
	for i := len(gens) - 1; i >= 0; i-- {
		if sameFile(pos, gens[i].id) {
			at = i
			break
		}
	}
	if at < 0 {
		return nil
	}
	gens[at].offset = pos.Offset
	return gens[at:]
}

// generations lists the rotated files of Path, oldest first.
func (f *follower) generations() []segment {
	seen := map[string]bool{}
	var gens []segment
	for _, g := range f.cfg.RotatedGlobs {
		matches, err := filepath.Glob(strings.ReplaceAll(g, "{path}", f.cfg.Path))
		if err != nil {
			continue
		}
		for _, m := range matches {
			if seen[m] || m == f.cfg.Path {
				continue
			}
			seen[m] = true
			id, err := identify(m)
			if err != nil {
				continue
			}
			gens = append(gens, segment{path: m, id: id})
		}
	}
	sort.SliceStable(gens, func(i, j int) bool {
		a, b := gens[i], gens[j]
		// Numbered generations: a higher number is older. Modification
		// times cannot tell, since compressing a generation gives it a
		// new one.
		na, nb := generationNumber(a.path), generationNumber(b.path)
		if na > 0 && nb > 0 {
			return na > nb
		}
		// Date suffixes (dateext) sort as text, oldest first.
		if na == 0 && nb == 0 && strings.HasPrefix(a.path, f.cfg.Path+"-") && strings.HasPrefix(b.path, f.cfg.Path+"-") {
			return a.path < b.path
		}
		return a.id.mtime.Before(b.id.mtime)
	})
	return gens
}

// generationNumber reads the N of "mail.log.N" or "mail.log.N.gz".
func generationNumber(path string) int {
	base := strings.TrimSuffix(filepath.Base(path), ".gz")
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		if n, err := strconv.Atoi(base[i+1:]); err == nil {
			return n
		}
	}
	return 0
}

// identify fingerprints a file: a hash of its first line (decompressed for
// .gz files), its inode and modification time.
func identify(path string) (fileID, error) {
	file, err := os.Open(path)
	if err != nil {
		return fileID{}, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fileID{}, err
	}
	if !st.Mode().IsRegular() {
		return fileID{}, fmt.Errorf("%s is not a regular file", path)
	}
	id := fileID{inode: inodeOf(st), mtime: st.ModTime(), gz: strings.HasSuffix(path, ".gz")}
	var r io.Reader = file
	if id.gz {
		gz, err := gzip.NewReader(file)
		if err != nil {
			return fileID{}, fmt.Errorf("open %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	id.fp, err = fingerprint(r)
	if err != nil {
		return fileID{}, fmt.Errorf("fingerprint %s: %w", path, err)
	}
	return id, nil
}

// fingerprint hashes the first line of r, or its first fingerprintBytes if
// the line is longer. A file without a complete first line has none yet.
func fingerprint(r io.Reader) (string, error) {
	buf := make([]byte, fingerprintBytes)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	b, ok := head(buf[:n])
	if !ok {
		return "", nil
	}
	return hashHead(b), nil
}

// head is what a fingerprint covers of buf, a file's first
// fingerprintBytes or fewer: its first line, or all of buf if the line is
// longer; ok is false while the file has no complete first line.
func head(buf []byte) (b []byte, ok bool) {
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return buf[:i+1], true
	}
	return buf, len(buf) == fingerprintBytes
}

func hashHead(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// headCache computes the fingerprint of an open file as fingerprint does,
// for the follower, which checks it after every read: it keeps the bytes it
// last hashed, and while the file begins with the same bytes their
// fingerprint is the one it has, with no hashing and no allocation.
type headCache struct {
	buf   [fingerprintBytes]byte
	bytes []byte // what was hashed last
	fp    string // their fingerprint
}

func (h *headCache) of(file *os.File) (string, error) {
	n, err := file.ReadAt(h.buf[:], 0)
	if err != nil && err != io.EOF {
		return "", err
	}
	b, ok := head(h.buf[:n])
	if !ok {
		return "", nil
	}
	if h.bytes == nil || !bytes.Equal(b, h.bytes) {
		h.bytes, h.fp = append(h.bytes[:0], b...), hashHead(b)
	}
	return h.fp, nil
}

func inodeOf(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}

// readSegment reads a rotated generation from its offset to the end; its
// last line counts even without a newline, since nothing will be appended.
func (f *follower) readSegment(ctx context.Context, s segment) (event.Position, error) {
	pos := event.Position{Fingerprint: s.id.fp, Inode: s.id.inode, Offset: s.offset}
	file, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return pos, errVanished
	}
	if err != nil {
		return pos, fmt.Errorf("read rotated %s: %w", s.path, err)
	}
	defer file.Close()
	var r io.Reader = file
	if s.id.gz {
		gz, err := gzip.NewReader(file)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return pos, errVanished // gzip has not written it yet
		}
		if err != nil {
			return pos, fmt.Errorf("read rotated %s: %w", s.path, err)
		}
		defer gz.Close()
		r = gz
		if _, err := io.CopyN(io.Discard, gz, s.offset); errors.Is(err, io.ErrUnexpectedEOF) {
			return pos, errVanished
		} else if err != nil {
			return pos, nil // shorter than the offset: nothing left to read
		}
	} else if _, err := file.Seek(s.offset, io.SeekStart); err != nil {
		return pos, fmt.Errorf("seek %s: %w", s.path, err)
	}
	sp := f.newSplitter(s.id.fp, s.id.inode, s.offset)
	for {
		buf := sp.buffer()
		n, err := r.Read(buf)
		if n > 0 {
			if err := sp.feed(ctx, buf[:n]); err != nil {
				return sp.pos(), err
			}
		}
		if s.id.gz && errors.Is(err, io.ErrUnexpectedEOF) {
			// gzip is still writing it; the lines sent so far carry
			// their positions, so it can be read on from there.
			return sp.lineEnd(), errVanished
		}
		if err != nil && err != io.EOF {
			return sp.pos(), fmt.Errorf("read rotated %s: %w", s.path, err)
		}
		if err == nil {
			continue
		}
		// At the end. A generation written to within RotateWait may still
		// have a writer that has not reopened the path yet: wait for it to
		// go quiet, as for the file rotated away under us.
		st, serr := file.Stat()
		if f.once || s.id.gz || serr != nil || time.Since(st.ModTime()) >= f.cfg.RotateWait {
			break
		}
		if err := f.wait(ctx, f.cfg.RotateWait/4); err != nil {
			return sp.pos(), err
		}
	}
	if err := sp.flush(ctx); err != nil {
		return sp.pos(), err
	}
	return sp.pos(), nil
}

// followCurrent reads the file at Path from s.offset and keeps reading what
// is appended, until the file is rotated away and has been drained, or is
// truncated under us (then it says so, and returns the position after the
// last line it sent: what follows may have to be read from a copy).
func (f *follower) followCurrent(ctx context.Context, s segment) (event.Position, bool, error) {
	file, err := os.Open(f.cfg.Path)
	if err != nil {
		// Rotated again between plan and open: plan once more.
		return event.Position{Fingerprint: s.id.fp, Inode: s.id.inode, Offset: s.offset}, false, nil
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return event.Position{}, false, fmt.Errorf("stat %s: %w", f.cfg.Path, err)
	}
	inode := inodeOf(st)
	fp := s.id.fp
	if inode != s.id.inode {
		if s.id.inode != 0 {
			// The file plan chose was rotated away since (while older
			// generations were read, say): plan again, which finds it
			// among the generations.
			return event.Position{Fingerprint: s.id.fp, Inode: s.id.inode, Offset: s.offset}, false, nil
		}
		// Path did not exist when planned: identify what we opened.
		fp, s.offset = "", 0
	}
	offset := s.offset
	if st.Size() < offset {
		f.cfg.Observer.Truncated(f.cfg.Path)
		offset = 0
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		return event.Position{}, false, fmt.Errorf("seek %s: %w", f.cfg.Path, err)
	}
	sp := f.newSplitter(fp, inode, offset)
	readAll := func() (int, error) {
		total := 0
		for {
			buf := sp.buffer()
			n, err := file.Read(buf)
			if n > 0 {
				total += n
				if sp.fp == "" {
					sp.fp, _ = sp.head.of(file)
				} else if fp, err := sp.head.of(file); err == nil && fp != sp.fp {
					// Truncated and written again past our offset since
					// we last looked: what we read belongs to the middle
					// of other lines.
					return total, errRewritten
				}
				if err := sp.feed(ctx, buf[:n]); err != nil {
					return total, err
				}
			}
			if err == io.EOF || n == 0 {
				return total, nil
			}
			if err != nil {
				return total, fmt.Errorf("read %s: %w", f.cfg.Path, err)
			}
		}
	}
	for {
		if _, err := readAll(); errors.Is(err, errRewritten) {
			f.cfg.Observer.Truncated(f.cfg.Path)
			return sp.lineEnd(), true, nil
		} else if err != nil {
			return sp.pos(), false, err
		}
		now, statErr := os.Stat(f.cfg.Path)
		if statErr != nil || inodeOf(now) != inode {
			// Renamed or deleted: writers may still append to the old
			// file until they reopen the path, so read it until it has
			// been quiet for RotateWait.
			quiet := time.Now()
			for time.Since(quiet) < f.cfg.RotateWait {
				n, err := readAll()
				if errors.Is(err, errRewritten) {
					break // nothing more of it is left to read
				}
				if err != nil {
					return sp.pos(), false, err
				}
				if n > 0 {
					quiet = time.Now()
				}
				if err := f.wait(ctx, f.cfg.RotateWait/4); err != nil {
					return sp.pos(), false, err
				}
			}
			if err := sp.flush(ctx); err != nil {
				return sp.pos(), false, err
			}
			return sp.pos(), false, nil
		}
		if f.truncated(file, now.Size(), sp) {
			// What we had not read yet (we may lag far behind when the
			// journal is slow) is gone from this file, but copytruncate
			// left it in a copy: resume from the last whole line sent.
			f.cfg.Observer.Truncated(f.cfg.Path)
			return sp.lineEnd(), true, nil
		}
		if err := f.wait(ctx, f.cfg.PollInterval); err != nil {
			return sp.pos(), false, err
		}
	}
}

// errRewritten says the file being read was truncated and written again.
var errRewritten = errors.New("truncated and rewritten")

// truncated tells whether the file was cut short under us (copytruncate):
// it is shorter than what we read, or its first line is no longer the one
// we fingerprinted (truncated and rewritten past our offset between looks).
func (f *follower) truncated(file *os.File, size int64, sp *splitter) bool {
	if size < sp.off {
		return true
	}
	if sp.fp == "" || sp.off == 0 {
		return false
	}
	fp, err := fingerprint(io.NewSectionReader(file, 0, fingerprintBytes))
	return err == nil && fp != "" && fp != sp.fp
}

func (f *follower) newSplitter(fp string, inode uint64, off int64) *splitter {
	return &splitter{f: f, fp: fp, inode: inode, off: off, start: off, max: f.cfg.MaxLineBytes}
}

// splitter cuts a byte stream into lines and sends them with the position
// after each. A line is sent only when its newline arrives (or its file is
// known to be complete), so a position never points into a line. The lines
// of one read go out together, as one batch.
type splitter struct {
	f       *follower
	fp      string
	inode   uint64
	off     int64 // offset of the next unread byte
	max     int
	pending []byte // the unfinished line, at most max bytes
	cut     bool   // the unfinished line exceeded max
	start   int64  // offset of the unfinished line
	batch   []Line // lines cut but not yet sent
	head    headCache
	// buf is what the file is read into. The whole lines of a read are
	// pieces of it (a string over the same memory, not a copy), so once
	// a line was cut from it, it is never written again: the next read
	// gets a new one.
	buf  []byte
	kept bool // lines point into buf
}

// text is chunk as a string. A read that filled a good part of buf gives
// buf's memory itself: nothing writes to it again (buffer() makes a new
// one). A short read, as when following a quiet log, is copied instead,
// so that a few lines do not pin and use up a whole buffer each.
func (s *splitter) text(chunk []byte) string {
	if len(chunk) < readSize/4 {
		return string(chunk)
	}
	s.kept = true
	return unsafe.String(unsafe.SliceData(chunk), len(chunk))
}

// buffer is where the next read goes.
func (s *splitter) buffer() []byte {
	if s.buf == nil || s.kept {
		s.buf, s.kept = make([]byte, readSize), false
	}
	return s.buf
}

func (s *splitter) pos() event.Position {
	return event.Position{Fingerprint: s.fp, Inode: s.inode, Offset: s.off}
}

// lineEnd is the position after the last whole line.
func (s *splitter) lineEnd() event.Position {
	return event.Position{Fingerprint: s.fp, Inode: s.inode, Offset: s.start}
}

// feed cuts chunk, which the last buffer() holds, into lines and sends
// them. The whole lines of a chunk share one string, the buffer's memory:
// no copy and no allocation per line.
func (s *splitter) feed(ctx context.Context, chunk []byte) error {
	// Room for every line the chunk ends, counted first (a vector
	// search): growing the batch line by line copied it again and again,
	// and sizing it by the read before over- or undershot.
	if n := bytes.Count(chunk, newline); cap(s.batch)-len(s.batch) < n {
		s.batch = append(takeLines(len(s.batch)+n), s.batch...)
	}
	text := ""
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		part := chunk
		if i >= 0 {
			part = chunk[:i]
		}
		if i >= 0 && len(s.pending) == 0 && !s.cut && len(part) <= s.max {
			// The common case: a whole line inside the chunk.
			if text == "" {
				text = s.text(chunk)
			}
			from := len(text) - len(chunk)
			s.off += int64(i + 1)
			s.emit(text[from:from+i], false)
			chunk = chunk[i+1:]
			continue
		}
		if room := s.max - len(s.pending); len(part) > room {
			s.pending = append(s.pending, part[:room]...)
			s.cut = true
		} else {
			s.pending = append(s.pending, part...)
		}
		if i < 0 {
			s.off += int64(len(chunk))
			break
		}
		s.off += int64(i + 1)
		s.emit(string(s.pending), s.cut)
		s.pending, s.cut = s.pending[:0], false
		chunk = chunk[i+1:]
	}
	return s.send(ctx)
}

// flush sends an unfinished last line of a file that will not grow.
func (s *splitter) flush(ctx context.Context) error {
	if len(s.pending) > 0 || s.cut {
		s.emit(string(s.pending), s.cut)
		s.pending, s.cut = s.pending[:0], false
	}
	return s.send(ctx)
}

func (s *splitter) emit(text string, cut bool) {
	s.start = s.off
	if cut {
		s.f.cfg.Observer.LineCut(s.f.cfg.Path)
	}
	n := len(s.batch)
	if n == cap(s.batch) {
		s.batch = append(s.batch, Line{})
	} else {
		s.batch = s.batch[:n+1]
	}
	// Field by field into the zeroed slot: a composite literal is built
	// aside and then copied whole, Ack's zero included.
	l := &s.batch[n]
	l.Source, l.Text, l.Cut = s.f.cfg.Path, text, cut
	l.Pos.Fingerprint, l.Pos.Inode, l.Pos.Offset = s.fp, s.inode, s.off
}

// send hands the batch over; the receiver owns it from then on.
func (s *splitter) send(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	err := send(ctx, s.f.out, s.batch)
	s.batch = nil // feed makes the next one as long as it needs
	return err
}

var newline = []byte{'\n'}

// ReadFile reads path (plain or .gz) once, to its end, from start if start
// names this file's content, else from its beginning; it returns the
// position after the last line. A replay that is run twice thus reads
// nothing the second time.
func ReadFile(ctx context.Context, path string, start event.Position, maxLineBytes int, obs Observer, out chan<- []Line) (event.Position, error) {
	cfg := FileConfig{Path: path, MaxLineBytes: maxLineBytes, Observer: obs}
	cfg.defaults()
	id, err := identify(path)
	if err != nil {
		return start, fmt.Errorf("read %s: %w", path, err)
	}
	s := segment{path: path, id: id}
	if sameFile(start, id) {
		s.offset = start.Offset
	}
	f := &follower{cfg: cfg, out: out, once: true}
	return f.readSegment(ctx, s)
}
