package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/query"
	"github.com/mailtrail/mailtrail/pkg/report"
)

// Verified is what Verify found.
type Verified struct {
	Report     string
	Checkpoint integrity.Checkpoint
	// Events counts the report's events, Erased and Removed those kept
	// by their leaf only.
	Events, Erased, Removed int
	// KeyFromBundle says the signature was checked with the key the bundle
	// carries, which proves nothing unless that key is known good.
	KeyFromBundle bool
	// PDFUnchecked says report.pdf was not compared: another version of
	// mailtrail made it, whose layout may differ (CSV and JSON were).
	PDFUnchecked bool
	// MadeBy is the version of mailtrail that wrote the bundle.
	MadeBy string
	// Problem is the first thing that does not hold; "" means verified.
	Problem string
}

// Verify checks the bundle in r (size bytes). With no verifiers the
// checkpoint's signature is checked with the bundle's own key.pub. version
// is this build's: a PDF made by another is not compared byte for byte. An
// error means the bundle cannot be read as a zip at all; anything inside
// it that does not hold is the Problem of a Verified.
func Verify(ctx context.Context, r io.ReaderAt, size int64, verifiers integrity.Verifiers, version string) (*Verified, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	res := &Verified{}
	if p := verify(ctx, zr, verifiers, version, res); p != "" {
		res.Problem = p
	}
	return res, nil
}

// verify returns the first problem.
func verify(ctx context.Context, zr *zip.Reader, verifiers integrity.Verifiers, version string, res *Verified) string {
	files := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return fmt.Sprintf("%s appears twice in the zip", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Sprintf("%s: %v", f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<31))
		rc.Close()
		if err != nil {
			return fmt.Sprintf("%s: %v", f.Name, err)
		}
		files[f.Name] = b
	}

	// 1. The manifest: every file listed, of its size and hash, and
	// nothing else.
	var m apiv1.Manifest
	if err := strictJSON(files[apiv1.EvidenceManifest], &m); err != nil {
		return fmt.Sprintf("%s: %v", apiv1.EvidenceManifest, err)
	}
	if m.Format != apiv1.EvidenceFormat {
		return fmt.Sprintf("%s: format %q, want %q", apiv1.EvidenceManifest, m.Format, apiv1.EvidenceFormat)
	}
	listed := map[string]bool{apiv1.EvidenceManifest: true}
	for _, f := range m.Files {
		b, ok := files[f.Name]
		if !ok {
			return fmt.Sprintf("%s lists %s, which the bundle does not hold", apiv1.EvidenceManifest, f.Name)
		}
		sum := sha256.Sum256(b)
		if int64(len(b)) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			return fmt.Sprintf("%s: %d bytes with SHA-256 %x, the manifest says %d bytes with SHA-256 %s", f.Name, len(b), sum, f.Size, f.SHA256)
		}
		listed[f.Name] = true
	}
	required := []string{apiv1.EvidenceQueryFile, apiv1.EvidenceEventsFile, apiv1.EvidenceProofsFile, apiv1.EvidenceNote, apiv1.EvidenceKey}
	for _, f := range apiv1.EvidenceReportFormats {
		required = append(required, apiv1.EvidenceReportPrefix+f)
	}
	for _, name := range required {
		if !listed[name] {
			return fmt.Sprintf("the bundle has no %s", name)
		}
	}
	for name := range files {
		if !listed[name] {
			return fmt.Sprintf("%s is not in %s", name, apiv1.EvidenceManifest)
		}
	}

	// 2. The checkpoint's signature.
	if verifiers == nil {
		v, err := integrity.NewVerifier(string(files[apiv1.EvidenceKey]))
		if err != nil {
			return fmt.Sprintf("%s: %v", apiv1.EvidenceKey, err)
		}
		verifiers = integrity.NewVerifiers(v)
		res.KeyFromBundle = true
	}
	cp, err := integrity.ParseCheckpoint(files[apiv1.EvidenceNote], verifiers)
	if err != nil {
		return fmt.Sprintf("%s: %v", apiv1.EvidenceNote, err)
	}
	res.Checkpoint = cp
	root := hex.EncodeToString(cp.Root[:])
	var q apiv1.EvidenceQuery
	if err := strictJSON(files[apiv1.EvidenceQueryFile], &q); err != nil {
		return fmt.Sprintf("%s: %v", apiv1.EvidenceQueryFile, err)
	}
	res.Report, res.MadeBy = q.Report, q.Version
	res.PDFUnchecked = q.Version != version
	if want := (apiv1.EvidenceCheckpoint{Origin: cp.Origin, Size: cp.Size, Root: root}); q.Checkpoint != want {
		return fmt.Sprintf("%s names checkpoint %s of %d events with root %s, but %s signs %s of %d events with root %s (a checkpoint was swapped)",
			apiv1.EvidenceQueryFile, q.Checkpoint.Origin, q.Checkpoint.Size, q.Checkpoint.Root, apiv1.EvidenceNote, cp.Origin, cp.Size, root)
	}

	// 3. Every event: its leaf, its proof, and what authorises a kept leaf.
	events, p := readEvents(files[apiv1.EvidenceEventsFile], cp.Size)
	if p != "" {
		return p
	}
	proofs, p := readProofs(files[apiv1.EvidenceProofsFile])
	if p != "" {
		return p
	}
	bySeq := map[int64]*apiv1.EvidenceEvent{}
	for i := range events {
		e := &events[i]
		bySeq[e.Seq] = e
		leaf, err := parseHash(e.Leaf)
		if err != nil {
			return fmt.Sprintf("event %d: leaf: %v", e.Seq, err)
		}
		if e.ErasedBy == 0 {
			if got := integrity.LeafHash(journal.LeafData(e.Seq, leafTime(e), e.Source, e.Event)); got != leaf {
				return fmt.Sprintf("event %d: its fields hash to leaf %s, not to its leaf %s (the event was edited)", e.Seq, got, leaf)
			}
		}
		proof, ok := proofs[e.Seq]
		if !ok {
			return fmt.Sprintf("event %d has no inclusion proof in %s", e.Seq, apiv1.EvidenceProofsFile)
		}
		delete(proofs, e.Seq)
		if err := integrity.VerifyInclusion(int(e.Seq-1), int(cp.Size), leaf, cp.Root, proof); err != nil {
			return fmt.Sprintf("event %d: its inclusion proof does not hold: %v", e.Seq, err)
		}
	}
	if len(proofs) > 0 {
		extra := slices.Sorted(maps.Keys(proofs))
		return fmt.Sprintf("%s has a proof of event %d, which %s does not hold (an event was removed)", apiv1.EvidenceProofsFile, extra[0], apiv1.EvidenceEventsFile)
	}
	for i := range events {
		e := &events[i]
		if e.ErasedBy == 0 {
			continue
		}
		by := bySeq[e.ErasedBy]
		switch {
		case by == nil:
			return fmt.Sprintf("event %d: kept by its leaf only, and the erasure record %d that would authorise it is not in the bundle", e.Seq, e.ErasedBy)
		case by.ErasedBy != 0 || by.Event == nil:
			return fmt.Sprintf("event %d: its authority %d is not an intact erasure record", e.Seq, e.ErasedBy)
		}
		ok, err := journal.ErasureNames(by.Event, e.Seq)
		if err != nil || !ok || by.Seq <= e.Seq {
			return fmt.Sprintf("event %d: event %d, given as its erasure record, does not name it", e.Seq, e.ErasedBy)
		}
		if e.Removed {
			res.Removed++
		} else {
			res.Erased++
		}
	}

	// 4. The report, built again from the events.
	var report []apiv1.EvidenceEvent
	for _, e := range events {
		if !e.Removed && !e.Authority {
			report = append(report, e)
		}
	}
	res.Events = len(report)
	return rebuild(ctx, q, cp, report, files, res.PDFUnchecked)
}

func leafTime(e *apiv1.EvidenceEvent) int64 {
	if e.Time.IsZero() {
		return e.LeafTime
	}
	return e.Time.UnixNano()
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func parseHash(s string) (integrity.Hash, error) {
	var h integrity.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != integrity.HashSize {
		return h, fmt.Errorf("%q is not a %d-byte hex hash", s, integrity.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// readEvents parses events.jsonl: ascending sequence numbers within the
// checkpoint's tree.
func readEvents(b []byte, size uint64) ([]apiv1.EvidenceEvent, string) {
	var out []apiv1.EvidenceEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var e apiv1.EvidenceEvent
		if err := strictJSON(sc.Bytes(), &e); err != nil {
			return nil, fmt.Sprintf("%s line %d: %v", apiv1.EvidenceEventsFile, n, err)
		}
		switch {
		case e.Seq < 1 || uint64(e.Seq) > size:
			return nil, fmt.Sprintf("%s line %d: event %d is outside the checkpoint's %d events", apiv1.EvidenceEventsFile, n, e.Seq, size)
		case len(out) > 0 && e.Seq <= out[len(out)-1].Seq:
			return nil, fmt.Sprintf("%s line %d: event %d follows event %d", apiv1.EvidenceEventsFile, n, e.Seq, out[len(out)-1].Seq)
		case e.Removed && (e.Event != nil || e.ErasedBy == 0):
			return nil, fmt.Sprintf("event %d: a removed event has no fields and names its erasure record", e.Seq)
		case !e.Removed && e.Event == nil:
			return nil, fmt.Sprintf("event %d has no fields", e.Seq)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Sprintf("%s: %v", apiv1.EvidenceEventsFile, err)
	}
	return out, ""
}

func readProofs(b []byte) (map[int64][]integrity.Hash, string) {
	out := map[int64][]integrity.Hash{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var p apiv1.EvidenceProof
		if err := strictJSON(sc.Bytes(), &p); err != nil {
			return nil, fmt.Sprintf("%s line %d: %v", apiv1.EvidenceProofsFile, n, err)
		}
		if _, dup := out[p.Seq]; dup {
			return nil, fmt.Sprintf("%s line %d: a second proof of event %d", apiv1.EvidenceProofsFile, n, p.Seq)
		}
		hs := make([]integrity.Hash, len(p.Proof))
		for i, s := range p.Proof {
			h, err := parseHash(s)
			if err != nil {
				return nil, fmt.Sprintf("%s line %d: hash %d: %v", apiv1.EvidenceProofsFile, n, i+1, err)
			}
			hs[i] = h
		}
		out[p.Seq] = hs
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Sprintf("%s: %v", apiv1.EvidenceProofsFile, err)
	}
	return out, ""
}

// rebuild journals the report's events into a scratch journal, builds the
// report there as the writer built it, and holds every rendering to the
// bundle's.
func rebuild(ctx context.Context, q apiv1.EvidenceQuery, cp integrity.Checkpoint, events []apiv1.EvidenceEvent, files map[string][]byte, skipPDF bool) string {
	dir, err := os.MkdirTemp("", "mailtrail-evidence-")
	if err != nil {
		return fmt.Sprintf("cannot build the report again: %v", err)
	}
	defer os.RemoveAll(dir)
	// An event without a time of its own is filtered by when it was
	// journaled: the scratch journal's clock gives it that time again.
	var clock time.Time
	j, err := journal.Open(ctx, filepath.Join(dir, "scratch.db"), journal.Options{Now: func() time.Time { return clock }})
	if err != nil {
		return fmt.Sprintf("cannot build the report again: %v", err)
	}
	defer j.Close()
	var batch []journal.Record
	flush := func() error {
		err := j.Commit(ctx, batch, nil)
		batch = batch[:0]
		return err
	}
	for _, e := range events {
		if e.Time.IsZero() {
			if err := flush(); err != nil {
				return fmt.Sprintf("cannot build the report again: %v", err)
			}
			clock = time.Unix(0, e.LeafTime).UTC()
		}
		batch = append(batch, journal.Record{Event: *e.Event, Source: e.Source})
		if e.Time.IsZero() || len(batch) == 1024 {
			if err := flush(); err != nil {
				return fmt.Sprintf("cannot build the report again: %v", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Sprintf("cannot build the report again: %v", err)
	}
	o := report.Options{Since: q.Since, Until: q.Until, User: q.User, Domain: q.Domain, QueueID: q.QueueID, MessageID: q.MessageID, Top: q.Top}
	params := make([]report.Param, len(q.Params))
	for i, p := range q.Params {
		params[i] = report.Param{Name: p.Name, Value: p.Value}
	}
	doc, err := report.Build(ctx, j, q.Report, o, params)
	if errors.Is(err, query.ErrNotFound) {
		return fmt.Sprintf("the events hold no message %s%s: the report was not built from them", q.QueueID, q.MessageID)
	}
	if err != nil {
		return fmt.Sprintf("cannot build the report again: %v", err)
	}
	// The scratch journal numbers the events 1, 2, ...: a trace shows the
	// journal's own numbers.
	if tr, ok := doc.Data.(*query.TraceResult); ok {
		renumber := func(es []apiv1.Event) {
			for k := range es {
				if s := es[k].Seq; s >= 1 && int(s) <= len(events) {
					es[k].Seq = events[s-1].Seq
				}
			}
		}
		for m := range tr.Messages {
			renumber(tr.Messages[m].Events)
			renumber(tr.Messages[m].Deliveries)
		}
	}
	doc.Generated, doc.Version = q.Generated, q.Version
	doc.Checkpoint = &report.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Root[:]), Proved: true}
	for _, f := range apiv1.EvidenceReportFormats {
		if f == "pdf" && skipPDF {
			continue
		}
		var b bytes.Buffer
		if err := report.Write(&b, doc, f); err != nil {
			return fmt.Sprintf("cannot build the report again as %s: %v", f, err)
		}
		name := apiv1.EvidenceReportPrefix + f
		if p := compare(name, files[name], b.Bytes(), f != "pdf"); p != "" {
			return p
		}
	}
	return ""
}

// compare names the first line of the bundle's rendering that the events
// do not give (text formats), or says that a binary one differs.
func compare(name string, have, want []byte, text bool) string {
	if bytes.Equal(have, want) {
		return ""
	}
	if !text {
		return fmt.Sprintf("%s is not the report its events give (it was edited)", name)
	}
	hl := strings.Split(string(have), "\n")
	wl := strings.Split(string(want), "\n")
	for i := 0; i < max(len(hl), len(wl)); i++ {
		var h, w string
		if i < len(hl) {
			h = hl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if h != w {
			return fmt.Sprintf("%s line %d is %q, but the events give %q (a row was edited, or an event removed)", name, i+1, clip(h), clip(w))
		}
	}
	return fmt.Sprintf("%s is not the report its events give", name)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
