// Package evidence writes and checks evidence bundles: a report together
// with the journaled events it was built from, an RFC 6962 inclusion proof
// of each against one signed checkpoint, that checkpoint, the public key
// and a manifest of hashes, in one zip file. A verifier needs nothing of
// the exporter's host: it checks the signature, every proof and every
// event's leaf, then builds the report again from the events with the
// same code (pkg/report) and holds its rows to the bundle's. The format is
// specified in docs/evidence.md.
package evidence

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// Request is the report a bundle proves.
type Request struct {
	Kind    string
	Options report.Options
	// Params are the report's header lines (the journal, the range).
	Params    []report.Param
	Generated time.Time
	Version   string
}

// Written is what Write put in the bundle.
type Written struct {
	// Doc is the report as the bundle holds it (built as of Checkpoint).
	Doc        *report.Doc
	Checkpoint integrity.Checkpoint
	// Events counts the report's events; Erased those of them kept by
	// their leaf only, Removed the retention stubs among them and
	// Authorities the erasure records carried to authorise them.
	Events, Erased, Removed, Authorities int
}

// ErrNoCheckpoint is returned for a journal with nothing to prove against.
var ErrNoCheckpoint = errors.New("the journal has no signed checkpoint to prove events against (serve and replay sign one every 10,000 events or 5 minutes and when they stop)")

type observed struct {
	s       journal.Stored
	timeCol int64
}

// Write builds the report req asks for from the journal at path, as of
// the journal's newest signed checkpoint (later events cannot be proved
// yet and are left out), and writes the bundle to w.
func Write(ctx context.Context, path string, req Request, w io.Writer) (*Written, error) {
	// Countries and threat-list marks come from databases a verifier does
	// not have: a bundle's report is built without them.
	req.Options.Enricher = nil
	j, err := journal.Open(ctx, path, journal.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	notes, err := j.Checkpoints(ctx)
	if err == nil && len(notes) == 0 {
		err = ErrNoCheckpoint
	}
	var vkey string
	if err == nil {
		vkey, err = j.SignerKey(ctx)
	}
	j.Close()
	if err != nil {
		return nil, err
	}
	if vkey == "" {
		return nil, errors.New("the journal stores no verifier key: its checkpoints cannot be checked")
	}
	v, err := integrity.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("the journal's verifier key: %w", err)
	}
	note := notes[len(notes)-1]
	cp, err := integrity.ParseCheckpoint(note, integrity.NewVerifiers(v))
	if err != nil {
		return nil, fmt.Errorf("the journal's newest checkpoint (run exporter verify): %w", err)
	}
	if cp.Size == 0 {
		return nil, ErrNoCheckpoint
	}

	// The report is built over a view of the journal as the checkpoint
	// signed it, recording every event a read passed on.
	var mu sync.Mutex
	seen := map[int64]*observed{}
	record := seen
	view, err := journal.Open(ctx, path, journal.Options{ReadOnly: true, UpTo: int64(cp.Size), Observe: func(s *journal.Stored, timeCol int64) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := record[s.Seq]; !ok {
			record[s.Seq] = &observed{s: *s, timeCol: timeCol}
		}
	}})
	if err != nil {
		return nil, err
	}
	defer view.Close()
	root := hex.EncodeToString(cp.Root[:])
	params := append(append([]report.Param(nil), req.Params...),
		report.Param{Name: "Checkpoint", Value: fmt.Sprintf("%s, %d events, root %s", cp.Origin, cp.Size, root)})
	doc, err := report.Build(ctx, view, req.Kind, req.Options, params)
	if err != nil {
		return nil, err
	}
	doc.Generated, doc.Version = req.Generated, req.Version
	doc.Checkpoint = &report.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: root, Proved: true}

	snap, err := view.Snapshot(ctx, int64(cp.Size))
	if err != nil {
		return nil, err
	}
	tree, err := integrity.NewProofTree(uint64(snap.Removed), snap.Base, snap.Leaves)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if tree.Root() != cp.Root {
		return nil, fmt.Errorf("journal %s: its events do not give the root its newest checkpoint signs (run exporter verify)", path)
	}

	// The erasure records, to authorise the leaves kept in place of
	// rewritten or removed events.
	authorities := map[int64]*observed{}
	mu.Lock()
	record = authorities
	mu.Unlock()
	erasures, err := view.Events(ctx, journal.Filter{Kinds: []event.Kind{event.KindErasure}})
	if err != nil {
		return nil, err
	}
	authorise := func(seq int64) (int64, error) {
		for i := range erasures {
			if erasures[i].Seq <= seq {
				continue
			}
			if ok, _ := journal.ErasureNames(&erasures[i].Event, seq); ok {
				return erasures[i].Seq, nil
			}
		}
		return 0, fmt.Errorf("journal %s: event %d does not hash to its leaf and no erasure names it (run exporter verify)", path, seq)
	}

	res := &Written{Doc: doc, Checkpoint: cp, Events: len(seen)}
	var entries []apiv1.EvidenceEvent
	needed := map[int64]bool{}
	leafOf := func(seq int64) (integrity.Hash, error) {
		h, ok := tree.Leaf(uint64(seq - 1))
		if !ok {
			return h, fmt.Errorf("journal %s: event %d was folded away by retention", path, seq)
		}
		return h, nil
	}
	entry := func(o *observed) (apiv1.EvidenceEvent, error) {
		ev := o.s.Event
		e := apiv1.EvidenceEvent{Seq: o.s.Seq, Source: o.s.Source, Event: &ev}
		if ev.Time.IsZero() {
			e.LeafTime = o.timeCol
		}
		leaf, err := leafOf(o.s.Seq)
		if err != nil {
			return e, err
		}
		e.Leaf = leaf.String()
		if integrity.LeafHash(journal.LeafData(o.s.Seq, o.timeCol, o.s.Source, &ev)) != leaf {
			if e.ErasedBy, err = authorise(o.s.Seq); err != nil {
				return e, err
			}
			needed[e.ErasedBy] = true
			res.Erased++
		}
		return e, nil
	}
	var lo, hi int64
	for _, o := range seen {
		e, err := entry(o)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
		if lo == 0 || o.s.Seq < lo {
			lo = o.s.Seq
		}
		hi = max(hi, o.s.Seq)
	}
	// Events retention removed between the report's first and last event
	// are listed by their leaves: a reader sees that they were there.
	for _, seq := range snap.Stubs {
		if seq < lo || seq > hi {
			continue
		}
		leaf, err := leafOf(seq)
		if err != nil {
			return nil, err
		}
		by, err := authorise(seq)
		if err != nil {
			return nil, err
		}
		needed[by] = true
		entries = append(entries, apiv1.EvidenceEvent{Seq: seq, Leaf: leaf.String(), ErasedBy: by, Removed: true})
		res.Removed++
	}
	for seq := range needed {
		if _, ok := seen[seq]; ok {
			continue
		}
		o := authorities[seq]
		if o == nil {
			return nil, fmt.Errorf("journal %s: erasure record %d could not be read", path, seq)
		}
		e, err := entry(o)
		if err != nil {
			return nil, err
		}
		if e.ErasedBy != 0 {
			return nil, fmt.Errorf("journal %s: erasure record %d does not hash to its leaf", path, seq)
		}
		e.Authority = true
		entries = append(entries, e)
		res.Authorities++
	}
	slices.SortFunc(entries, func(a, b apiv1.EvidenceEvent) int { return cmp.Compare(a.Seq, b.Seq) })

	var events, proofs bytes.Buffer
	for _, e := range entries {
		if err := writeLine(&events, e); err != nil {
			return nil, err
		}
		p, err := tree.InclusionProof(uint64(e.Seq - 1))
		if err != nil {
			return nil, fmt.Errorf("journal %s: event %d: %w", path, e.Seq, err)
		}
		hs := make([]string, len(p))
		for i, h := range p {
			hs[i] = h.String()
		}
		if err := writeLine(&proofs, apiv1.EvidenceProof{Seq: e.Seq, Proof: hs}); err != nil {
			return nil, err
		}
	}

	q := apiv1.EvidenceQuery{
		Report: req.Kind, Since: req.Options.Since, Until: req.Options.Until, User: req.Options.User, Domain: req.Options.Domain,
		QueueID: req.Options.QueueID, MessageID: req.Options.MessageID, Top: req.Options.Top,
		Generated: req.Generated, Version: req.Version,
		Checkpoint: apiv1.EvidenceCheckpoint{Origin: cp.Origin, Size: cp.Size, Root: root},
	}
	for _, p := range params {
		q.Params = append(q.Params, apiv1.EvidenceParam{Name: p.Name, Value: p.Value})
	}
	qb, err := json.MarshalIndent(q, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []bundleFile{{apiv1.EvidenceQueryFile, append(qb, '\n')}}
	for _, f := range apiv1.EvidenceReportFormats {
		var b bytes.Buffer
		if err := report.Write(&b, doc, f); err != nil {
			return nil, fmt.Errorf("render the report as %s: %w", f, err)
		}
		files = append(files, bundleFile{apiv1.EvidenceReportPrefix + f, b.Bytes()})
	}
	files = append(files,
		bundleFile{apiv1.EvidenceEventsFile, events.Bytes()},
		bundleFile{apiv1.EvidenceProofsFile, proofs.Bytes()},
		bundleFile{apiv1.EvidenceNote, note},
		bundleFile{apiv1.EvidenceKey, []byte(vkey + "\n")},
	)
	if err := writeZip(w, files, req.Generated); err != nil {
		return nil, err
	}
	return res, nil
}

type bundleFile struct {
	name string
	data []byte
}

func writeLine(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeZip writes the manifest, then files, each stamped with when the
// report was made.
func writeZip(w io.Writer, files []bundleFile, at time.Time) error {
	m := apiv1.Manifest{Format: apiv1.EvidenceFormat}
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, apiv1.ManifestFile{Name: f.name, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	files = append([]bundleFile{{apiv1.EvidenceManifest, append(mb, '\n')}}, files...)
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: at.UTC()})
		if err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write the bundle: %w", err)
	}
	return nil
}
