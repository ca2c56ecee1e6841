package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/integrity"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/report"
)

var base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// testJournal journals deliveries and connects one minute apart in small
// blocks, expires the connects of the first day (retention stubs), erases
// bob (rewritten events) and signs a checkpoint over it all.
func testJournal(t *testing.T) (path string, verifiers integrity.Verifiers) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "j.db")
	signer, vkey, _, err := integrity.LoadOrCreateKey(path+".key", "mx1")
	if err != nil {
		t.Fatal(err)
	}
	now := base
	j, err := journal.Open(ctx, path, journal.Options{Now: func() time.Time { return now }, Signer: signer, VerifierKey: vkey,
		Origin: "mx1", BlockEvents: 32, CheckpointEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var recs []journal.Record
	for i := range 400 {
		at := base.Add(time.Duration(i) * time.Minute)
		e := event.Event{Time: at, Instance: "mx1", Host: "mail", Service: "postfix", Program: "smtpd", Kind: event.KindConnect, ClientIP: fmt.Sprintf("192.0.2.%d", i%200+1)}
		if i%2 == 1 {
			sender := []string{"alice@example.com", "bob@example.com", "carol@example.org"}[i%3]
			e = event.Event{Time: at, Instance: "mx1", Host: "mail", Service: "postfix", Program: "smtp", Kind: event.KindDelivery,
				QueueID: fmt.Sprintf("Q%04X", i), Sender: sender, Recipient: fmt.Sprintf("r%d@example.net", i), Status: "sent", DSN: "2.0.0",
				Delay: float64(i) / 10, Response: "250 2.0.0 Ok", Raw: "... from=<" + sender + "> ..."}
		}
		recs = append(recs, journal.Record{Event: e, Source: "mail.log"})
	}
	// One event without a time of its own: its leaf covers when it was
	// journaled.
	recs = append(recs, journal.Record{Event: event.Event{Kind: event.KindDelivery, QueueID: "QNOTIME", Service: "postfix", Program: "smtp", Status: "sent", Sender: "alice@example.com"}, Source: "mail.log"})
	now = base.Add(100 * time.Minute)
	if err := j.Commit(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	now = base.Add(400*time.Minute + 24*time.Hour)
	if _, err := j.Expire(ctx, journal.Retention{Kinds: map[event.Kind]time.Duration{event.KindConnect: 24*time.Hour + 200*time.Minute}}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Erase(ctx, []string{"bob@example.com"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := integrity.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return path, integrity.NewVerifiers(v)
}

func TestBundleRoundTrip(t *testing.T) {
	ctx := context.Background()
	path, verifiers := testJournal(t)
	if r, err := journal.Verify(ctx, path, verifiers, nil); err != nil || r.Problem != nil {
		t.Fatalf("the test journal does not verify: %v %v", err, r.Problem)
	}
	req := Request{Kind: "deliveries", Options: report.Options{Since: base, Until: base.Add(48 * time.Hour)},
		Params: []report.Param{{Name: "Journal", Value: path}}, Generated: base.Add(72 * time.Hour), Version: "test"}
	var buf bytes.Buffer
	w, err := Write(ctx, path, req, &buf)
	if err != nil {
		t.Fatal(err)
	}
	// 200 deliveries in the range, the one without a time of its own
	// journaled in it too.
	if w.Events != 201 || w.Erased == 0 || w.Removed == 0 || w.Authorities < 2 {
		t.Errorf("wrote %d events, %d erased, %d removed, %d erasure records; want 201 events and some of each", w.Events, w.Erased, w.Removed, w.Authorities)
	}
	t.Logf("wrote %+v", *w)
	for _, verifiers := range []integrity.Verifiers{verifiers, nil} {
		got, err := Verify(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), verifiers, "test")
		if err != nil {
			t.Fatal(err)
		}
		if got.Problem != "" {
			t.Fatalf("the bundle does not verify: %s", got.Problem)
		}
		if got.Events != w.Events || got.Erased != w.Erased || got.Removed != w.Removed || got.KeyFromBundle != (verifiers == nil) || got.PDFUnchecked {
			t.Errorf("verified %+v, wrote %+v", got, w)
		}
	}
	// The same bundle, bit for bit, from the same request: a bundle is a
	// function of the journal and the query.
	var again bytes.Buffer
	if _, err := Write(ctx, path, req, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two bundles of the same report differ")
	}

	// transparency-dev/merkle's verifier accepts every proof.
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		files[f.Name] = b.Bytes()
	}
	cp, err := integrity.ParseCheckpoint(files[apiv1.EvidenceNote], verifiers)
	if err != nil {
		t.Fatal(err)
	}
	leaves := map[int64][]byte{}
	for sc := bufio.NewScanner(bytes.NewReader(files[apiv1.EvidenceEventsFile])); sc.Scan(); {
		var e apiv1.EvidenceEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		leaves[e.Seq], _ = hex.DecodeString(e.Leaf)
	}
	n := 0
	for sc := bufio.NewScanner(bytes.NewReader(files[apiv1.EvidenceProofsFile])); sc.Scan(); n++ {
		var p apiv1.EvidenceProof
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		var hs [][]byte
		for _, h := range p.Proof {
			b, _ := hex.DecodeString(h)
			hs = append(hs, b)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.Seq-1), cp.Size, leaves[p.Seq], hs, cp.Root[:]); err != nil {
			t.Fatalf("event %d: transparency-dev/merkle: %v", p.Seq, err)
		}
	}
	if n != len(leaves) || n != w.Events+w.Removed+w.Authorities {
		t.Errorf("%d proofs for %d events", n, len(leaves))
	}
	if !strings.Contains(string(files["report.csv"]), "[erased:") {
		t.Error("the report shows no erased address")
	}
}

func TestWriteWithoutCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.Open(ctx, path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Commit(ctx, []journal.Record{{Event: event.Event{Time: base, Kind: event.KindConnect}, Source: "x"}}, nil); err != nil {
		t.Fatal(err)
	}
	j.Close()
	var buf bytes.Buffer
	if _, err := Write(ctx, path, Request{Kind: "summary", Options: report.Options{Top: 10}}, &buf); err != ErrNoCheckpoint {
		t.Fatalf("a journal without checkpoints gave %v, want ErrNoCheckpoint", err)
	}
}
