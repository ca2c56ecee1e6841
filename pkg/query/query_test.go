package query

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/correlate"
	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/simulate"
)

func TestRedactorText(t *testing.T) {
	r := NewRedactor([]byte("0123456789abcdef"))
	for _, c := range []struct{ in, keep string }{
		{"to=<alice@example.com>, relay=x", "@example.com>, relay=x"},
		{"lmtp(bob.smith@mail.example.org)<1><x>: saved", "@mail.example.org)<1><x>: saved"},
		{"550 5.1.1 <no-body+tag@ex-ample.net>: User unknown", "@ex-ample.net>: User unknown"},
		{"no address here", "no address here"},
	} {
		out := r.Text(c.in)
		if strings.Contains(c.in, "@") && (!strings.Contains(out, c.keep) || !pseudoRE.MatchString(out)) {
			t.Errorf("Text(%q) = %q: want the local part pseudonymised and %q kept", c.in, out, c.keep)
		}
		if !strings.Contains(c.in, "@") && out != c.in {
			t.Errorf("Text(%q) = %q, want it unchanged", c.in, out)
		}
		for _, local := range []string{"alice", "bob.smith", "no-body"} {
			if strings.Contains(out, local+"@") {
				t.Errorf("Text(%q) = %q still holds %s", c.in, out, local)
			}
		}
	}
	if a, b := r.Text("x alice@example.com"), r.Text("y ALICE@example.com"); a[2:] != b[2:] {
		t.Errorf("pseudonyms differ by case: %q %q", a, b)
	}
	if o := NewRedactor([]byte("another key 0123")); o.Text("alice@example.com") == r.Text("alice@example.com") {
		t.Error("two keys give the same pseudonym")
	}
}

func TestRedactorBareUser(t *testing.T) {
	r := NewRedactor([]byte("0123456789abcdef"))
	e := event.Event{
		Kind: event.KindLogin, SASLUsername: "al",
		Raw: "dovecot: imap-login: Login: user=<al>, method=PLAIN, rip=1.2.3.4, session=<also>",
	}
	r.Event(&e)
	if e.SASLUsername == "al" || !strings.HasPrefix(e.SASLUsername, "u-") {
		t.Errorf("bare user kept: %q", e.SASLUsername)
	}
	if strings.Contains(e.Raw, "<al>") || !strings.Contains(e.Raw, "session=<also>") || !strings.Contains(e.Raw, "method=PLAIN") {
		t.Errorf("raw line %q: want the user replaced and the rest untouched", e.Raw)
	}
}

func TestAccessVisible(t *testing.T) {
	a := Access{Tenants: []string{"example.com"}}
	for _, c := range []struct {
		e    event.Event
		want bool
	}{
		{event.Event{Kind: event.KindDelivery, Sender: "a@example.com", Recipient: "b@other.org"}, true},
		{event.Event{Kind: event.KindDelivery, Sender: "a@other.org", Recipient: "b@mail.example.com"}, true},
		{event.Event{Kind: event.KindDelivery, Sender: "a@other.org", Recipient: "b@notexample.com"}, false},
		{event.Event{Kind: event.KindLogin, SASLUsername: "u@Example.COM"}, true},
		{event.Event{Kind: event.KindConnect, ClientIP: "192.0.2.1"}, false},
		{event.Event{Kind: event.KindAccess, SASLUsername: "x@example.com"}, false},
	} {
		if got := a.Visible(&c.e); got != c.want {
			t.Errorf("Visible(%+v) = %v, want %v", c.e, got, c.want)
		}
	}
	if all := (Access{}); all.Visible(&event.Event{Kind: event.KindAccess}) || !all.Visible(&event.Event{Kind: event.KindConnect}) {
		t.Error("an unscoped caller without System: wants mail events and no access records")
	}
}

func TestCursor(t *testing.T) {
	c := encodeCursor(true, 42)
	if seq, err := decodeCursor(c, true); err != nil || seq != 42 {
		t.Errorf("decode(encode(42)) = %d, %v", seq, err)
	}
	for _, bad := range []string{c + "x", "", "Yzs", encodeCursor(false, 42), "YzEuYS4tMQ", "YzEuYS4wMDE"} {
		if _, err := decodeCursor(bad, true); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestDefaultStep(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if s := DefaultStep(t0, t0.Add(24*time.Hour)); s != time.Minute {
		t.Errorf("a day: step %v, want 1m", s)
	}
	until := t0.Add(31 * 24 * time.Hour)
	if s := DefaultStep(t0, until); until.Sub(t0)/s > MaxPoints {
		t.Errorf("31 days: step %v gives more than %d points", s, MaxPoints)
	}
}

// simJournal journals n simulated lines, correlated as serve does, in a
// journal under dir.
func simJournal(tb testing.TB, dir string, n int) (*journal.Journal, []string) {
	tb.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(dir, "j.db"), journal.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := simulate.New(simulate.Config{Seed: 3, Format: simulate.RFC3339}).WriteLines(&buf, n); err != nil {
		tb.Fatal(err)
	}
	p := &parser.Parser{Instance: "mx1", Location: time.UTC}
	corr := correlate.New(correlate.Config{})
	var recs []journal.Record
	seen := map[string]bool{}
	var qids []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		e := p.Parse(line, time.Now())
		corr.Observe(&e)
		if e.QueueID != "" && !seen[e.QueueID] {
			seen[e.QueueID] = true
			qids = append(qids, e.QueueID)
		}
		recs = append(recs, journal.Record{Event: e, Source: "sim"})
	}
	for len(recs) > 0 {
		// Batches as ingest commits them.
		n := min(len(recs), 2048)
		if err := j.Commit(ctx, recs[:n], nil); err != nil {
			tb.Fatal(err)
		}
		recs = recs[n:]
	}
	return j, qids
}

func TestTraceSimulated(t *testing.T) {
	j, qids := simJournal(t, t.TempDir(), 20000)
	defer j.Close()
	ctx := context.Background()
	ndr, hops := 0, 0
	for _, q := range qids[:min(len(qids), 600)] {
		res, err := Trace(ctx, j, TraceRequest{QueueID: q})
		if err != nil {
			t.Fatalf("trace %s: %v", q, err)
		}
		for _, m := range res.Messages {
			for _, e := range m.Events {
				if e.QueueID != q {
					t.Fatalf("trace %s holds an event of %s", q, e.QueueID)
				}
			}
			for _, l := range m.Links {
				switch l.Relation {
				case apiv1.RelNDR:
					// The notification points back.
					child, err := Trace(ctx, j, TraceRequest{QueueID: l.QueueID})
					if err != nil {
						t.Fatalf("trace of NDR %s: %v", l.QueueID, err)
					}
					if !hasLink(child.Messages, apiv1.RelNDRParent, q) {
						t.Errorf("NDR %s does not link back to %s: %+v", l.QueueID, q, child.Messages[0].Links)
					}
					ndr++
				case apiv1.RelNextHop:
					hops++
				}
			}
		}
	}
	if ndr == 0 || hops == 0 {
		t.Errorf("%d NDR links and %d hops in 20000 simulated lines, want some of each", ndr, hops)
	}
	if _, err := Trace(ctx, j, TraceRequest{QueueID: "NOSUCHQID"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown queue id: %v, want ErrNotFound", err)
	}
}

func hasLink(ms []Message, rel, qid string) bool {
	for _, m := range ms {
		for _, l := range m.Links {
			if l.Relation == rel && l.QueueID == qid {
				return true
			}
		}
	}
	return false
}

// The benchmark's journal is built once per process: the benchmark
// function runs several times while b.N grows.
var (
	benchOnce sync.Once
	benchDir  string
	benchJ    *journal.Journal
	benchQIDs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchJ != nil {
		benchJ.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkTrace measures a trace by queue id over a journal of 200,000
// simulated events (the storage's lookup and the assembly).
func BenchmarkTrace(b *testing.B) {
	benchOnce.Do(func() {
		var err error
		if benchDir, err = os.MkdirTemp("", "mailtrail-query-bench-"); err != nil {
			b.Fatal(err)
		}
		benchJ, benchQIDs = simJournal(b, benchDir, 200000)
	})
	if benchJ == nil {
		b.Fatal("no benchmark journal")
	}
	j, qids := benchJ, benchQIDs
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Trace(ctx, j, TraceRequest{QueueID: qids[(i*7919)%len(qids)]}); err != nil {
			b.Fatal(err)
		}
	}
}

var pseudoRE = regexp.MustCompile(`u-[0-9a-f]{8}@`)
