package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

// An archive file holds one block as it was before retention removed
// events from it: the text line "mailtrail-archive 1", the line "sha256 "
// and the hex SHA-256 of the rest, then the rest: a zstd frame of the JSON
// of archiveDoc. Its block payload carries the events and the tombstones
// of events removed before; restoring checks every event against the
// tombstone (leaf hash) the journal kept for it.
const archiveMagic = "mailtrail-archive 1\n"

type archiveDoc struct {
	Origin   string           `json:"origin"`
	FirstSeq int64            `json:"first_seq"`
	LastSeq  int64            `json:"last_seq"`
	Created  time.Time        `json:"created"`
	Sources  map[int64]string `json:"sources"`
	// Checkpoints are the signed notes of the first checkpoint covering
	// the block and the newest one at archiving time, for whoever checks
	// the archive away from the journal (which keeps every checkpoint).
	Checkpoints []string `json:"checkpoints"`
	Payload     []byte   `json:"payload"`
}

// writeArchive writes es (a whole block) into dir and returns the file's
// path. The file is synced before the events are removed.
func (j *Journal) writeArchive(ctx context.Context, tx *sql.Tx, dir string, es []entry, sources map[int64]string, now time.Time) (string, error) {
	doc := archiveDoc{Origin: j.opts.Origin, FirstSeq: es[0].seq, LastSeq: es[len(es)-1].seq, Created: now.UTC(), Sources: map[int64]string{}}
	for i := range es {
		if !es[i].tomb {
			doc.Sources[es[i].src] = sources[es[i].src]
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT note FROM checkpoints WHERE size = (SELECT min(size) FROM checkpoints WHERE size >= ?)
		OR size = (SELECT max(size) FROM checkpoints) ORDER BY size`, doc.LastSeq)
	if err != nil {
		return "", fmt.Errorf("archive: read checkpoints: %w", err)
	}
	for rows.Next() {
		var n []byte
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return "", fmt.Errorf("archive: read checkpoints: %w", err)
		}
		doc.Checkpoints = append(doc.Checkpoints, string(n))
	}
	rows.Close()
	return j.writeArchiveFile(dir, &archived{doc: doc, entries: es})
}

// writeArchiveFile writes a's document with its entries as payload.
func (j *Journal) writeArchiveFile(dir string, a *archived) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	name := filepath.Join(dir, archiveName(&a.doc))
	tmp, err := writeArchiveTemp(name, a)
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("archive: %w", err)
	}
	syncDir(dir)
	return name, nil
}

// archiveName is the file name retention gives an archive.
func archiveName(doc *archiveDoc) string {
	return fmt.Sprintf("events-%d-%d-%s.mtar", doc.FirstSeq, doc.LastSeq, doc.Created.Format("20060102T150405.000000000"))
}

// writeArchiveTemp writes a's document, with its entries as payload, to
// the synced temporary file name + ".tmp", and returns that path.
func writeArchiveTemp(name string, a *archived) (string, error) {
	b, err := encodeArchive(a)
	if err != nil {
		return "", err
	}
	return writeTemp(name, b)
}

// writeTemp writes b to the synced temporary file name + ".tmp" and
// returns that path.
func writeTemp(name string, b []byte) (string, error) {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// encodeArchive is the archive file of a's document with its entries as
// payload.
func encodeArchive(a *archived) ([]byte, error) {
	doc := a.doc
	doc.Payload = appendBlockPayload(nil, a.entries)
	body, err := json.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	enc, _, err := codecs()
	if err != nil {
		return nil, err
	}
	rest := enc.EncodeAll(body, nil)
	sum := sha256.Sum256(rest)
	return append([]byte(archiveMagic+"sha256 "+hex.EncodeToString(sum[:])+"\n"), rest...), nil
}

// syncDir makes the renames in dir durable. It is best effort: a file
// system that cannot sync a directory has nothing to be made durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func removeFiles(names []string) {
	for _, n := range names {
		os.Remove(n)
	}
}

// archived is a decoded archive file.
type archived struct {
	doc     archiveDoc
	entries []entry
}

var errArchive = errors.New("not a valid archive")

// readArchive reads and checks an archive file.
func readArchive(path string) (*archived, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseArchive(path, b)
}

// parseArchive checks and decodes the archive b; path names it in errors.
func parseArchive(path string, b []byte) (*archived, error) {
	if !bytes.HasPrefix(b, []byte(archiveMagic)) {
		return nil, fmt.Errorf("%s: %w (no header)", path, errArchive)
	}
	b = b[len(archiveMagic):]
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	hexSum, found := bytes.CutPrefix(line, []byte("sha256 "))
	if !ok || !found {
		return nil, fmt.Errorf("%s: %w (no checksum line)", path, errArchive)
	}
	sum := sha256.Sum256(rest)
	if hex.EncodeToString(sum[:]) != string(hexSum) {
		return nil, fmt.Errorf("%s: %w: the checksum does not match (damaged file)", path, errArchive)
	}
	_, dec, err := codecs()
	if err != nil {
		return nil, err
	}
	body, err := dec.DecodeAll(rest, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, errArchive, err)
	}
	a := &archived{}
	if err := json.Unmarshal(body, &a.doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, errArchive, err)
	}
	if a.entries, err = decodeBlockPayload(a.doc.Payload, nil); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, errArchive, err)
	}
	if len(a.entries) == 0 || a.entries[0].seq != a.doc.FirstSeq || a.entries[len(a.entries)-1].seq != a.doc.LastSeq {
		return nil, fmt.Errorf("%s: %w: its events are not those of its header", path, errArchive)
	}
	return a, nil
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Restored int64
	Blocks   int
	// Erased counts restored events that named a subject forgotten since
	// the archive was written: they came back erased.
	Erased int64
}

// Restore puts the events of archive files back into the journal. Every
// restored event must hash to the tombstone the journal kept for it, so an
// archive can bring back only what retention removed, unchanged. Blocks
// that were folded into the base come back newest first: give the archives
// of every block from the oldest wanted to the newest folded.
func (j *Journal) Restore(ctx context.Context, files []string) (RestoreResult, error) {
	as := make([]ArchiveData, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return RestoreResult{}, err
		}
		as[i] = ArchiveData{Name: f, Data: b}
	}
	return j.RestoreArchives(ctx, as)
}

// ArchiveData is an archive file's bytes, read from wherever it was kept;
// Name says where, in errors.
type ArchiveData struct {
	Name string
	Data []byte
}

// RestoreArchives is Restore of archives already read (from a ColdStore).
func (j *Journal) RestoreArchives(ctx context.Context, archives []ArchiveData) (RestoreResult, error) {
	var res RestoreResult
	groups := map[int64][]*archived{}
	for _, ad := range archives {
		a, err := parseArchive(ad.Name, ad.Data)
		if err != nil {
			return res, err
		}
		groups[a.doc.FirstSeq] = append(groups[a.doc.FirstSeq], a)
	}
	firsts := make([]int64, 0, len(groups))
	for f := range groups {
		firsts = append(firsts, f)
	}
	slices.Sort(firsts)
	slices.Reverse(firsts)

	// An archive written before a forget still holds the subject: what it
	// brings back is erased again on the way in.
	erased, err := j.erasedSubjects(ctx)
	if err != nil {
		return res, fmt.Errorf("journal %s: restore: %w", j.path, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("journal %s: restore: %w", j.path, err)
	}
	defer tx.Rollback()
	sources, err := readSources(ctx, tx)
	if err != nil {
		return res, fmt.Errorf("journal %s: restore: %w", j.path, err)
	}
	for _, first := range firsts {
		n, err := j.restoreBlock(ctx, tx, first, groups[first], sources, erased, &res)
		if err != nil {
			return res, fmt.Errorf("journal %s: restore events %d on: %w", j.path, first, err)
		}
		res.Restored += n
		res.Blocks++
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("journal %s: restore: %w", j.path, err)
	}
	// Sources may have been added; the writer's cache must not miss them.
	j.sources = map[string]int64{}
	return res, nil
}

// restoreBlock merges the archives of one block into the journal.
func (j *Journal) restoreBlock(ctx context.Context, tx *sql.Tx, first int64, as []*archived, sources map[int64]string, erased map[string]string, res *RestoreResult) (int64, error) {
	byName := map[string]int64{}
	for id, name := range sources {
		byName[name] = id
	}
	// The archived events, by sequence number, with the journal's source
	// ids and their leaves.
	events := map[int64]entry{}
	leaves := map[int64]integrity.Hash{}
	for _, a := range as {
		for _, e := range a.entries {
			if e.tomb {
				leaves[e.seq] = e.leaf
				continue
			}
			name, ok := a.doc.Sources[e.src]
			if !ok {
				return 0, fmt.Errorf("event %d: source %d not in the archive", e.seq, e.src)
			}
			id, ok := byName[name]
			if !ok {
				res, err := tx.ExecContext(ctx, "INSERT INTO sources (name) VALUES (?)", name)
				if err != nil {
					return 0, fmt.Errorf("add source %s: %w", name, err)
				}
				if id, err = res.LastInsertId(); err != nil {
					return 0, err
				}
				byName[name], sources[id] = id, name
			}
			var leaf integrity.Hash
			leaf, j.leafBuf = e.leafHash(j.leafBuf, name)
			if l, ok := leaves[e.seq]; ok && l != leaf {
				return 0, fmt.Errorf("event %d: the archives disagree about it", e.seq)
			}
			e.src = id
			events[e.seq], leaves[e.seq] = e, leaf
		}
	}
	var frontier []byte
	var last int64
	es, err := readBlock(ctx, tx, first)
	switch {
	case err == nil:
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.QueryRowContext(ctx, "SELECT last_seq, frontier FROM folded WHERE first_seq = ?", first).Scan(&last, &frontier); errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("the journal has no block of events starting at %d", first)
		} else if err != nil {
			return 0, err
		}
		for seq := first; seq <= last; seq++ {
			if _, ok := leaves[seq]; !ok {
				return 0, fmt.Errorf("event %d: in no archive given (a block folded into the base comes back whole)", seq)
			}
			es = append(es, entry{seq: seq, tomb: true, leaf: leaves[seq]})
		}
	default:
		return 0, err
	}
	var n int64
	for i := range es {
		e, ok := events[es[i].seq]
		if !ok || !es[i].tomb {
			continue
		}
		if leaves[e.seq] != es[i].leaf {
			return 0, fmt.Errorf("event %d: the archived event does not match the journal's tombstone", e.seq)
		}
		if len(erased) > 0 {
			// e hashes to the tombstone's leaf (checked above), which the
			// rewrite keeps.
			hit, err := j.rewriteEntry(&e, sources[e.src], func(ev *event.Event) bool { return suppressErased(ev, erased) })
			if err != nil {
				return 0, err
			}
			if hit {
				res.Erased++
			}
		}
		es[i] = e
		n++
	}
	if frontier != nil {
		if err := j.unfold(ctx, tx, first, last, frontier, es); err != nil {
			return 0, err
		}
		return n, j.writeBlock(ctx, tx, es)
	}
	return n, j.replaceBlock(ctx, tx, first, es)
}

// unfold takes a folded block back out of the base: the base must end
// with it, and its leaves on the frontier before it must give the base.
func (j *Journal) unfold(ctx context.Context, tx *sql.Tx, first, last int64, frontier []byte, es []entry) error {
	base, err := j.readBase(ctx, tx)
	if err != nil {
		return err
	}
	if int64(base.Size()) != last {
		return fmt.Errorf("the base ends at event %d, not %d: restore the newer folded blocks first", base.Size(), last)
	}
	hs, err := splitHashes(frontier)
	if err != nil {
		return fmt.Errorf("folded block %d: %w", first, err)
	}
	before, err := integrity.RestoreTree(uint64(first-1), hs)
	if err != nil {
		return fmt.Errorf("folded block %d: %w", first, err)
	}
	t, _ := integrity.RestoreTree(before.Size(), before.Frontier())
	sources, err := readSources(ctx, tx)
	if err != nil {
		return err
	}
	for i := range es {
		var leaf integrity.Hash
		leaf, j.leafBuf = es[i].leafHash(j.leafBuf, sources[es[i].src])
		t.Append(leaf)
	}
	if t.Root() != base.Root() {
		return fmt.Errorf("events %d to %d do not give the journal's base tree", first, last)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM folded WHERE first_seq = ?", first); err != nil {
		return err
	}
	if before.Size() == 0 {
		_, err = tx.ExecContext(ctx, "DELETE FROM base")
		return err
	}
	return saveBase(ctx, tx, before)
}
