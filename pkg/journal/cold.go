package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ColdStore keeps archive files off the host, one object per file under
// the file's name (pkg/coldstore: S3-compatible storage).
type ColdStore interface {
	// Put stores data as name whole or not at all and checks what was
	// stored; a non-empty old is the version of name it replaces, removed
	// once the new one is stored. When only that removal fails, the
	// error has a method NewVersionStored() bool that returns true.
	Put(ctx context.Context, name string, data []byte, old string) error
	// Get returns the object name and its version.
	Get(ctx context.Context, name string) (data []byte, version string, err error)
	// List names the objects.
	List(ctx context.Context) ([]string, error)
	// URL names an object in messages.
	URL(name string) string
}

// ColdStore is Options.Cold.
func (j *Journal) ColdStore() ColdStore { return j.opts.Cold }

// isArchiveName tells the names retention gives archives (archiveName).
func isArchiveName(name string) bool {
	return strings.HasPrefix(name, "events-") && strings.HasSuffix(name, ".mtar")
}

// UploadArchives stores the archive files staged in dir into cold, oldest
// first, and removes each file once its object is stored and checked. A
// file is checked before it leaves (a damaged one is an error naming it);
// whatever was not stored stays in dir for the next call. It returns the
// names uploaded. It waits for an erasure in progress.
func (j *Journal) UploadArchives(ctx context.Context, dir string, cold ColdStore) ([]string, error) {
	j.archiveMu.Lock()
	defer j.archiveMu.Unlock()
	if dir == "" {
		return nil, errors.New("upload archives: no staging directory")
	}
	names, err := filepath.Glob(filepath.Join(dir, "events-*.mtar"))
	if err != nil {
		return nil, fmt.Errorf("archives in %s: %w", dir, err)
	}
	// By first sequence number, not as text: events-10-... after events-9-....
	type staged struct {
		path  string
		first int64
	}
	var files []staged
	for _, n := range names {
		var first int64
		fmt.Sscanf(filepath.Base(n), "events-%d-", &first)
		files = append(files, staged{n, first})
	}
	slices.SortStableFunc(files, func(a, b staged) int { return cmp.Compare(a.first, b.first) })
	var done []string
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return done, fmt.Errorf("upload archive: %w", err)
		}
		if _, err := parseArchive(f.path, b); err != nil {
			return done, fmt.Errorf("upload archive: %w", err)
		}
		name := filepath.Base(f.path)
		if err := cold.Put(ctx, name, b, ""); err != nil {
			return done, fmt.Errorf("%w (%s stays staged and is uploaded again at the next retention run)", err, f.path)
		}
		if err := os.Remove(f.path); err != nil {
			return done, fmt.Errorf("archive %s is stored as %s but stays staged: %w", f.path, cold.URL(name), err)
		}
		done = append(done, name)
	}
	if len(done) > 0 {
		syncDir(dir)
	}
	return done, nil
}

// coldRewrite is an object rewritten by an erasure, stored once the
// erasure is committed.
type coldRewrite struct {
	name, old string
	data      []byte
}

// coldHit is an archive object that names a subject.
type coldHit struct {
	name, version string
	a             *archived
}

// coldMentioning reads every object of Options.Cold and returns those
// naming a subject. An object that cannot be read is an error: it may
// hold the subject.
func (j *Journal) coldMentioning(ctx context.Context, subjects []string) ([]coldHit, error) {
	cold := j.opts.Cold
	if cold == nil {
		return nil, nil
	}
	var hits []coldHit
	err := eachColdArchive(ctx, cold, func(name, version string, a *archived) error {
		n, err := archiveMentions(cold.URL(name), a, subjects)
		if n > 0 {
			hits = append(hits, coldHit{name: name, version: version, a: a})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w (it may name the subject: repair or remove it, then forget again)", err)
	}
	return hits, nil
}

// eraseCold is eraseArchives for the objects coldMentioning found: it
// returns the rewritten events and the objects to store once the erasure
// is committed.
func (j *Journal) eraseCold(hits []coldHit, subjects []string, standIn string) (seqs []int64, objects []coldRewrite, err error) {
	for _, h := range hits {
		url := j.opts.Cold.URL(h.name)
		s, err := j.eraseInArchive(url, h.a, subjects, standIn)
		if err != nil {
			return nil, nil, err
		}
		b, err := encodeArchive(h.a)
		if err != nil {
			return nil, nil, fmt.Errorf("rewrite archive %s: %w", url, err)
		}
		seqs = append(seqs, s...)
		objects = append(objects, coldRewrite{name: h.name, old: h.version, data: b})
	}
	return seqs, objects, nil
}

// putCold stores the rewritten objects, each as a new version replacing
// the one read; it tries every object and tells every failure. Each is
// first staged in Options.ArchiveDir, as retention stages a new archive:
// the rewritten archive exists nowhere else, and a failed Put (which may
// have removed what it could not check) must not lose it. A staged copy
// goes once its object is stored; otherwise the next retention run
// uploads it.
func (j *Journal) putCold(ctx context.Context, objects []coldRewrite) error {
	var errs []error
	dir := j.opts.ArchiveDir
	for _, o := range objects {
		staged := ""
		if dir != "" {
			var err error
			if staged, err = stageFile(dir, o.name, o.data); err != nil {
				errs = append(errs, fmt.Errorf("stage %s: %w", j.opts.Cold.URL(o.name), err))
				continue
			}
		}
		err := j.opts.Cold.Put(ctx, o.name, o.data, o.old)
		var kept interface{ NewVersionStored() bool }
		stored := err == nil || (errors.As(err, &kept) && kept.NewVersionStored())
		if stored && staged != "" {
			os.Remove(staged)
		}
		if err != nil {
			if !stored && staged != "" {
				err = fmt.Errorf("%w (staged as %s, uploaded at the next retention run)", err, staged)
			}
			errs = append(errs, err)
		}
	}
	if dir != "" {
		syncDir(dir)
	}
	if len(errs) > 0 {
		return fmt.Errorf("archived objects may still hold the subject (forget again to retry; see docs/archive.md for Object Lock): %w", errors.Join(errs...))
	}
	return nil
}

// stageFile writes b as dir/name, synced, through a temporary file.
func stageFile(dir, name string, b []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	tmp, err := writeTemp(path, b)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return path, nil
}

// coldMentions is ArchivedMentions for the objects of cold.
func coldMentions(ctx context.Context, cold ColdStore, subjects []string) (events int64, objects int, err error) {
	err = eachColdArchive(ctx, cold, func(name, _ string, a *archived) error {
		hits, err := archiveMentions(cold.URL(name), a, subjects)
		if hits > 0 {
			events += hits
			objects++
		}
		return err
	})
	return events, objects, err
}

// eachColdArchive reads and checks every archive object of cold.
func eachColdArchive(ctx context.Context, cold ColdStore, fn func(name, version string, a *archived) error) error {
	names, err := cold.List(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !isArchiveName(name) {
			continue
		}
		b, version, err := cold.Get(ctx, name)
		if err != nil {
			return err
		}
		a, err := parseArchive(cold.URL(name), b)
		if err != nil {
			return err
		}
		if err := fn(name, version, a); err != nil {
			return err
		}
	}
	return nil
}

// ReadColdArchives reads the archive objects named (all of them when
// names is empty) for RestoreArchives; each is checked there.
func ReadColdArchives(ctx context.Context, cold ColdStore, names []string) ([]ArchiveData, error) {
	if len(names) == 0 {
		all, err := cold.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range all {
			if isArchiveName(n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no archive objects (events-*.mtar) there", cold.URL(""))
		}
	}
	out := make([]ArchiveData, 0, len(names))
	for _, n := range names {
		b, _, err := cold.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ArchiveData{Name: cold.URL(n), Data: b})
	}
	return out, nil
}
