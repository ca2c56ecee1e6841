package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/privacy"
)

// An event whose stored bytes no longer hash to its Merkle leaf (an
// erasure rewrote it, or retention reduced it to a tombstone) keeps the
// original leaf beside it, so the tree can still be recomputed. Such a
// stored leaf is only accepted when an erasure event, itself a leaf of the
// tree, names the event: otherwise anyone able to write the file could
// delete an event by replacing it with its own leaf hash.

// ErasureSource is the source name of the journal's own erasure records.
const ErasureSource = "mailtrail"

// seqsMarker introduces the list of events an erasure event covers, at the
// end of its detail text: "seqs=1-5,9".
const seqsMarker = " seqs="

// subjectsMarker introduces the hashes of an erasure's subjects: the
// journal keeps no copy of an erased address, only what recognises it when
// an archive made before the erasure is restored.
const subjectsMarker = " subjects="

// standInFor is what erasure seq puts where its subject was.
func standInFor(seq int64) string { return "[erased:" + strconv.FormatInt(seq, 10) + "]" }

// subjectHash is how an erasure record names a subject.
func subjectHash(s string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(s)))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func subjectHashes(subs []string) string {
	hs := make([]string, len(subs))
	for i, s := range subs {
		hs[i] = subjectHash(s)
	}
	return strings.Join(hs, ",")
}

// erasedSubjects maps the subject hashes of every forget in the journal
// to the stand-in that erasure used.
func (j *Journal) erasedSubjects(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := j.Scan(ctx, Filter{Kinds: []event.Kind{event.KindErasure}}, func(s *Stored) error {
		e := &s.Event
		if e.Service != "mailtrail" || e.Program != "forget" {
			return nil
		}
		_, rest, ok := strings.Cut(e.Detail, subjectsMarker)
		if !ok {
			return nil
		}
		list, _, _ := strings.Cut(rest, ";")
		for _, h := range strings.Split(list, ",") {
			out[h] = standInFor(s.Seq)
		}
		return nil
	})
	return out, err
}

// suppressErased rewrites an event coming back from an archive when it
// names a subject erased since: every address-like word of it is hashed
// and compared with the erased subjects'. It reports whether it rewrote.
func suppressErased(ev *event.Event, erased map[string]string) bool {
	if len(erased) == 0 {
		return false
	}
	changed := false
	for _, text := range []string{ev.Raw, ev.Sender, ev.Recipient, ev.OrigRecipient, ev.SASLUsername, ev.Response, ev.Detail} {
		for _, w := range strings.FieldsFunc(text, notWordByte) {
			if len(w) < 3 {
				continue
			}
			if standIn, ok := erased[subjectHash(w)]; ok && privacy.Erase(ev, w, standIn) {
				changed = true
			}
		}
	}
	return changed
}

// notWordByte splits text into address-like words (pseudonyms included).
func notWordByte(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r >= 0x80:
		return false
	}
	return !strings.ContainsRune("._%+-@:", r)
}

// EraseResult is what an erasure did.
type EraseResult struct {
	// Events is how many events were rewritten.
	Events int64
	// Seq is the erasure event's own sequence number (0 when nothing
	// matched and nothing was journaled).
	Seq int64
	// StandIn is what replaced the subject.
	StandIn string
	// Archived is how many of the rewritten events were in archive files
	// (Options.ArchiveDir) or objects (Options.Cold), and ArchiveFiles how
	// many files and objects those were.
	Archived     int64
	ArchiveFiles int
	// WALTruncated says the write-ahead log, which still held the old
	// pages, was emptied; false when readers kept it busy.
	WALTruncated bool
}

// Erase replaces every appearance of the subjects (an address, and what
// the journal holds for it, e.g. its pseudonym) in every event, raw lines
// and reply texts included, with a stand-in naming this erasure, in one
// transaction. The rewritten events keep their original leaf hashes, an
// erasure event naming them and actor is journaled, and a checkpoint is
// signed at once, so verify still passes and shows who erased what. The
// freed pages are zeroed and the write-ahead log truncated so that the
// file no longer holds the subject. The archive files retention wrote to
// Options.ArchiveDir are rewritten the same way, and replaced once the
// erasure is committed.
func (j *Journal) Erase(ctx context.Context, subjects []string, actor string) (EraseResult, error) {
	return j.EraseNoted(ctx, subjects, actor, "")
}

// EraseNoted is Erase with note, what was done beyond the journal (the
// fleet stores asked to delete their copies and their answers), written
// into the erasure record. The subjects are erased from the note too.
func (j *Journal) EraseNoted(ctx context.Context, subjects []string, actor, note string) (EraseResult, error) {
	var res EraseResult
	var subs []string
	for _, s := range subjects {
		if s = strings.TrimSpace(s); s != "" {
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 {
		return res, errors.New("erase: no subject given")
	}
	j.archiveMu.Lock()
	defer j.archiveMu.Unlock()
	// Reading the bucket can take long: it is done before ingest has to
	// wait, and no upload can add an object meanwhile (archiveMu).
	coldHits, err := j.coldMentioning(ctx, subs)
	if err != nil {
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	restore := j.saveState()
	undo := func() {
		tx.Rollback()
		restore()
	}
	// Zero what is deleted instead of leaving it in free pages.
	if _, err := tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		undo()
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	res.Seq = int64(j.tree.Size()) + 1
	res.StandIn = standInFor(res.Seq)
	seqs, err := j.eraseBlocks(ctx, tx, subs, res.StandIn)
	if err != nil {
		undo()
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	archived, files, err := j.eraseArchives(subs, res.StandIn)
	if err != nil {
		undo()
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	discard := func() {
		for _, f := range files {
			os.Remove(f.tmp)
		}
	}
	inCold, objects, err := j.eraseCold(coldHits, subs, res.StandIn)
	if err != nil {
		undo()
		discard()
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	archived = append(archived, inCold...)
	if len(seqs)+len(archived) == 0 {
		undo()
		return EraseResult{}, nil
	}
	res.Archived, res.ArchiveFiles = int64(len(archived)), len(files)+len(objects)
	inArchives := ""
	if len(archived) > 0 {
		inArchives = fmt.Sprintf(" (%d of them in %d archive files)", len(archived), len(files))
		seqs = append(seqs, archived...)
		slices.Sort(seqs)
		seqs = slices.Compact(seqs)
	}
	res.Events = int64(len(seqs))
	if note != "" {
		// The record's markers and separators stay the record's own.
		ne := event.Event{Detail: strings.NewReplacer(";", ",", subjectsMarker, " subjects:", seqsMarker, " seqs:").Replace(note)}
		for _, s := range subs {
			privacy.Erase(&ne, s, res.StandIn)
		}
		inArchives += "; " + ne.Detail
	}
	rec := Record{Source: ErasureSource, Event: event.Event{
		Time: j.now(), Kind: event.KindErasure, Service: "mailtrail", Program: "forget", Action: "forget",
		Detail: fmt.Sprintf("erasure by %s: the subject was replaced by %s in %d events%s;%s%s;%s%s",
			actor, res.StandIn, len(seqs), inArchives, subjectsMarker, subjectHashes(subs), seqsMarker, formatSeqs(seqs)),
	}}
	if err := j.commitSigned(ctx, tx, []Record{rec}); err != nil {
		undo()
		discard()
		return res, fmt.Errorf("journal %s: erase: %w", j.path, err)
	}
	if err := tx.Commit(); err != nil {
		undo()
		discard()
		return res, fmt.Errorf("journal %s: erase: commit: %w", j.path, err)
	}
	for _, f := range files {
		if err := os.Rename(f.tmp, f.name); err != nil {
			discard()
			return res, fmt.Errorf("journal %s: erasure %d committed, but archive %s still holds the subject (forget again to retry): %w", j.path, res.Seq, f.name, err)
		}
	}
	if len(files) > 0 {
		syncDir(j.opts.ArchiveDir)
	}
	if err := j.putCold(ctx, objects); err != nil {
		return res, fmt.Errorf("journal %s: erasure %d committed, but %w", j.path, res.Seq, err)
	}
	// The log still holds the pages as they were before; emptying it is
	// what makes the subject leave the files. A reader holding an old
	// snapshot keeps it busy; the next erasure or checkpoint retries.
	if j.merger != nil { // a writer's: always
		res.WALTruncated, _ = j.merger.truncate(ctx)
	}
	return res, nil
}

// commitSigned journals the journal's own records inside tx and signs a
// checkpoint covering them at once: an erasure is only accepted by verify
// once a signature covers it.
func (j *Journal) commitSigned(ctx context.Context, tx *sql.Tx, recs []Record) error {
	if err := j.commit(ctx, tx, recs, nil); err != nil {
		return err
	}
	if j.signer != nil && int64(j.tree.Size()) != j.lastCheckpoint {
		return j.checkpoint(ctx, tx, j.now())
	}
	return nil
}

// eraseBlocks seals the hot events into a block (so that every event lives
// in one kind of place), then rewrites every block holding a subject. It
// returns the rewritten events' sequence numbers, ascending.
func (j *Journal) eraseBlocks(ctx context.Context, tx *sql.Tx, subjects []string, standIn string) ([]int64, error) {
	if len(j.hot) > 0 {
		if err := j.writeBlock(ctx, tx, j.hot); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq <= ?", j.hot[len(j.hot)-1].seq); err != nil {
			return nil, fmt.Errorf("seal hot events: %w", err)
		}
		j.hot = nil
	}
	sources, err := readSources(ctx, tx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT first_seq FROM blocks WHERE events > 0 ORDER BY first_seq")
	if err != nil {
		return nil, fmt.Errorf("list blocks: %w", err)
	}
	var firsts []int64
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list blocks: %w", err)
		}
		firsts = append(firsts, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list blocks: %w", err)
	}
	var seqs []int64
	for _, first := range firsts {
		es, err := readBlock(ctx, tx, first)
		if err != nil {
			return nil, err
		}
		changed := false
		for i := range es {
			hit, err := j.eraseEntry(&es[i], sources[es[i].src], subjects, standIn)
			if err != nil {
				return nil, err
			}
			if hit {
				seqs = append(seqs, es[i].seq)
				changed = true
			}
		}
		if changed {
			if err := j.replaceBlock(ctx, tx, first, es); err != nil {
				return nil, err
			}
		}
	}
	return seqs, nil
}

// eraseEntry rewrites an event that names a subject; source is its
// source's name. It reports whether the event named a subject.
func (j *Journal) eraseEntry(e *entry, source string, subjects []string, standIn string) (bool, error) {
	return j.rewriteEntry(e, source, func(ev *event.Event) bool {
		hit := false
		for _, s := range subjects {
			if privacy.Erase(ev, s, standIn) {
				hit = true
			}
		}
		return hit
	})
}

// rewriteEntry lets edit change the event of e and, when it did, stores
// the new event with the leaf the tree was built with (kept from the first
// rewrite when the event was rewritten before); source is its source's
// name. It reports whether edit changed the event.
func (j *Journal) rewriteEntry(e *entry, source string, edit func(*event.Event) bool) (bool, error) {
	if e.tomb {
		return false, nil
	}
	var ev event.Event
	hasTime, err := decodeEvent(e.data, &ev)
	if err != nil {
		return false, fmt.Errorf("event %d: %w", e.seq, err)
	}
	if hasTime {
		ev.Time = colToTime(e.t)
	}
	if !edit(&ev) {
		return false, nil
	}
	if !e.redacted {
		e.leaf, j.leafBuf = e.leafHash(j.leafBuf, source)
		e.redacted = true
	}
	ev.Kind, ev.QueueID = e.kind, string(e.qid)
	e.data = appendEvent(nil, &ev)
	return true, nil
}

// archiveRewrite is an archive file rewritten by an erasure, waiting in
// tmp to replace name.
type archiveRewrite struct{ tmp, name string }

// eraseArchives rewrites every archive file in Options.ArchiveDir that
// holds a subject into a temporary file beside it, and returns the
// rewritten events' sequence numbers and the files to put in place once
// the erasure is committed. An archive that cannot be read is an error: it
// may hold the subject.
func (j *Journal) eraseArchives(subjects []string, standIn string) (seqs []int64, files []archiveRewrite, err error) {
	if j.opts.ArchiveDir == "" {
		return nil, nil, nil
	}
	names, err := filepath.Glob(filepath.Join(j.opts.ArchiveDir, "events-*.mtar"))
	if err != nil {
		return nil, nil, fmt.Errorf("archives in %s: %w", j.opts.ArchiveDir, err)
	}
	defer func() {
		if err != nil {
			for _, f := range files {
				os.Remove(f.tmp)
			}
		}
	}()
	for _, name := range names {
		a, err := readArchive(name)
		if err != nil {
			return nil, files, fmt.Errorf("%w (it may name the subject: repair or remove it, then forget again)", err)
		}
		hits, err := j.eraseInArchive(name, a, subjects, standIn)
		if err != nil {
			return nil, files, err
		}
		if len(hits) == 0 {
			continue
		}
		seqs = append(seqs, hits...)
		tmp, err := writeArchiveTemp(name, a)
		if err != nil {
			return nil, files, fmt.Errorf("rewrite archive %s: %w", name, err)
		}
		files = append(files, archiveRewrite{tmp: tmp, name: name})
	}
	return seqs, files, nil
}

// eraseInArchive rewrites the events of a (the archive name) that name a
// subject and returns their sequence numbers.
func (j *Journal) eraseInArchive(name string, a *archived, subjects []string, standIn string) (seqs []int64, err error) {
	for i := range a.entries {
		e := &a.entries[i]
		source, ok := a.doc.Sources[e.src]
		if !e.tomb && !ok {
			return nil, fmt.Errorf("archive %s: event %d: source %d not in the archive", name, e.seq, e.src)
		}
		hit, err := j.eraseEntry(e, source, subjects, standIn)
		if err != nil {
			return nil, fmt.Errorf("archive %s: %w", name, err)
		}
		if hit {
			seqs = append(seqs, e.seq)
		}
	}
	return seqs, nil
}

// EraseDryRun counts what Erase would rewrite — the journal's events and
// the archived ones (Options.ArchiveDir) that name a subject — changing
// nothing; total is how many events the journal holds. The CLI's and the
// API's dry runs are this.
func (j *Journal) EraseDryRun(ctx context.Context, subjects []string) (res EraseResult, total int64, err error) {
	if total, err = j.Count(ctx); err != nil {
		return res, 0, err
	}
	err = j.Scan(ctx, Filter{}, func(s *Stored) error {
		if privacy.Mentions(&s.Event, subjects...) {
			res.Events++
		}
		return nil
	})
	if err != nil {
		return res, total, err
	}
	if dir := j.opts.ArchiveDir; dir != "" {
		if res.Archived, res.ArchiveFiles, err = ArchivedMentions(dir, subjects); err != nil {
			return res, total, err
		}
	}
	if j.opts.Cold != nil {
		events, objects, err := coldMentions(ctx, j.opts.Cold, subjects)
		if err != nil {
			return res, total, err
		}
		res.Archived += events
		res.ArchiveFiles += objects
	}
	res.Events += res.Archived
	return res, total, nil
}

// ArchivedMentions counts the events of the archive files in dir that
// name a subject, and the files holding them: what forget would rewrite.
func ArchivedMentions(dir string, subjects []string) (events int64, files int, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "events-*.mtar"))
	if err != nil {
		return 0, 0, fmt.Errorf("archives in %s: %w", dir, err)
	}
	for _, name := range names {
		a, err := readArchive(name)
		if err != nil {
			return events, files, err
		}
		hits, err := archiveMentions(name, a, subjects)
		if err != nil {
			return events, files, err
		}
		if hits > 0 {
			events += hits
			files++
		}
	}
	return events, files, nil
}

// archiveMentions counts the events of a (the archive name) that name a
// subject.
func archiveMentions(name string, a *archived, subjects []string) (int64, error) {
	hits := int64(0)
	for i := range a.entries {
		e := &a.entries[i]
		if e.tomb {
			continue
		}
		var ev event.Event
		if _, err := decodeEvent(e.data, &ev); err != nil {
			return hits, fmt.Errorf("archive %s: event %d: %w", name, e.seq, err)
		}
		if privacy.Mentions(&ev, subjects...) {
			hits++
		}
	}
	return hits, nil
}

// formatSeqs writes ascending sequence numbers as ranges: "1-5,9".
func formatSeqs(seqs []int64) string {
	var sb strings.Builder
	for i := 0; i < len(seqs); {
		k := i
		for k+1 < len(seqs) && seqs[k+1] == seqs[k]+1 {
			k++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(seqs[i], 10))
		if k > i {
			sb.WriteByte('-')
			sb.WriteString(strconv.FormatInt(seqs[k], 10))
		}
		i = k + 1
	}
	return sb.String()
}

// seqRange is an inclusive range of sequence numbers.
type seqRange struct{ lo, hi int64 }

// parseSeqs reads what formatSeqs wrote; ranges must ascend.
func parseSeqs(s string) ([]seqRange, error) {
	var out []seqRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil || a <= 0 {
			return nil, fmt.Errorf("bad event number %q", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("bad event range %q", part)
			}
		}
		if len(out) > 0 && a <= out[len(out)-1].hi {
			return nil, fmt.Errorf("event ranges out of order at %q", part)
		}
		out = append(out, seqRange{a, b})
	}
	return out, nil
}

// erasureSeqs returns the events an erasure event names, or nil when e is
// not one of the journal's erasure events.
func erasureSeqs(e *event.Event) ([]seqRange, error) {
	if e.Kind != event.KindErasure || e.Service != "mailtrail" {
		return nil, nil
	}
	i := strings.LastIndex(e.Detail, seqsMarker)
	if i < 0 {
		return nil, errors.New("erasure event without its list of events")
	}
	return parseSeqs(e.Detail[i+len(seqsMarker):])
}

// storedLeaves checks, during verification, that every event kept only by
// its leaf hash (a tombstone or a rewritten event) is named by a later
// erasure event that a signed checkpoint covers.
type storedLeaves struct {
	// kept are the events with stored leaves, as ascending ranges.
	kept []seqRange
	// allowed are the ranges erasure events name, with the erasure's seq.
	allowed []allowedRange
	problem *Problem
	ev      event.Event
}

type allowedRange struct {
	seqRange
	by int64
}

// visit looks at one entry of the walk, in sequence order.
func (sl *storedLeaves) visit(e *entry) {
	if sl.problem != nil {
		return
	}
	if e.tomb || e.redacted {
		if n := len(sl.kept); n > 0 && sl.kept[n-1].hi == e.seq-1 {
			sl.kept[n-1].hi = e.seq
		} else {
			sl.kept = append(sl.kept, seqRange{e.seq, e.seq})
		}
	}
	if e.tomb || e.kind != event.KindErasure {
		return
	}
	sl.ev = event.Event{Kind: e.kind}
	if _, err := decodeEvent(e.data, &sl.ev); err != nil {
		return // the leaf check reports the damage
	}
	rs, err := erasureSeqs(&sl.ev)
	if err != nil {
		sl.problem = &Problem{Seq: e.seq, What: "erasure event: " + err.Error()}
		return
	}
	for _, r := range rs {
		if r.hi >= e.seq {
			sl.problem = &Problem{Seq: e.seq, What: fmt.Sprintf("erasure event names event %d, which is not older than itself", r.hi)}
			return
		}
		sl.allowed = append(sl.allowed, allowedRange{r, e.seq})
	}
}

// check returns the first kept leaf no erasure allows, or an erasure a
// signature does not cover yet (signed is the newest checkpoint's size, -1
// without checkpoints).
func (sl *storedLeaves) check(signed int64) *Problem {
	if sl.problem != nil {
		return sl.problem
	}
	if signed >= 0 {
		for _, a := range sl.allowed {
			if a.by > signed {
				return &Problem{Seq: a.by, What: "erasure event not covered by a signed checkpoint (an erasure is signed when it is made)"}
			}
		}
	}
	sort.Slice(sl.allowed, func(a, b int) bool { return sl.allowed[a].lo < sl.allowed[b].lo })
	// Merge what is allowed into disjoint ranges, then hold each kept
	// range to them.
	var merged []seqRange
	for _, a := range sl.allowed {
		if n := len(merged); n > 0 && a.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, a.hi)
			continue
		}
		merged = append(merged, a.seqRange)
	}
	for _, k := range sl.kept {
		i := sort.Search(len(merged), func(i int) bool { return merged[i].hi >= k.lo })
		for seq := k.lo; seq <= k.hi; {
			if i >= len(merged) || merged[i].lo > seq {
				return &Problem{Seq: seq, What: "only its leaf hash is kept, and no erasure names it (an event was removed)"}
			}
			seq = merged[i].hi + 1
			i++
		}
	}
	return nil
}
