package correlate

import (
	"bufio"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

const lightmeter = "../parser/testdata/corpus/lightmeterio+ControlCenter/individual_files/"

var corpusRef = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)

// readLines parses every line of a corpus file.
func readLines(t testing.TB, path string) []event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		in = z
	}
	p := &parser.Parser{Location: time.UTC}
	var evs []event.Event
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		evs = append(evs, p.Parse(sc.Text(), corpusRef))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// run observes every event in order, enriching them in place.
type run struct {
	evs   []event.Event
	notes []Note
	c     *Correlator
}

func observeFile(t testing.TB, name string) *run {
	t.Helper()
	r := &run{evs: readLines(t, lightmeter+name), c: New(Config{})}
	r.notes = make([]Note, len(r.evs))
	for i := range r.evs {
		r.notes[i] = r.c.Observe(&r.evs[i])
	}
	return r
}

// where returns the indexes of the events of a queue id and kind.
func (r *run) where(qid string, kind event.Kind) []int {
	var is []int
	for i, e := range r.evs {
		if e.QueueID == qid && e.Kind == kind {
			is = append(is, i)
		}
	}
	if len(is) == 0 {
		panic("no " + kind.String() + " event for " + qid)
	}
	return is
}

func (r *run) newMessages(qid string) int {
	n := 0
	for i, e := range r.evs {
		if e.QueueID == qid && r.notes[i].NewMessage {
			n++
		}
	}
	return n
}

// want is the part of an enriched event a test checks.
type want struct {
	Sender, ClientHost, ClientIP, SASLMethod, SASLUsername, MessageID, Origin string
	Size                                                                      int64
	Nrcpt                                                                     int
	Parent                                                                    string
}

func got(e *event.Event, n Note) want {
	return want{e.Sender, e.ClientHost, e.ClientIP, e.SASLMethod, e.SASLUsername, e.MessageID, e.Origin, e.Size, e.Nrcpt, n.Parent}
}

func TestCorpusEnrichment(t *testing.T) {
	type check struct {
		qid  string
		kind event.Kind
		nth  int // which of the qid's events of that kind; -1 is the last
		want want
	}
	tests := []struct {
		file   string
		checks []check
		// newMessages per queue id: how many times Note.NewMessage is set.
		newMessages map[string]int
	}{
		{
			file: "1_bounce_simple.log",
			checks: []check{
				// Submitted with SASL: the delivery (to the content filter)
				// carries the session's identity and address.
				{"4AA091855DA0", event.KindDelivery, 0, want{
					Sender: "user@sender.com", ClientHost: "some.domain.name", ClientIP: "1.2.3.4",
					SASLMethod: "PLAIN", SASLUsername: "user@sender.com",
					MessageID: "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com", Origin: "submission",
					Size: 391, Nrcpt: 1}},
				{"4AA091855DA0", event.KindRemoved, 0, want{
					Sender: "user@sender.com", ClientHost: "some.domain.name", ClientIP: "1.2.3.4",
					SASLMethod: "PLAIN", SASLUsername: "user@sender.com",
					MessageID: "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com", Origin: "submission",
					Size: 391, Nrcpt: 1}},
				// Re-injected by the content filter: its own client, the
				// submitter's SASL identity, linked to the original.
				{"776E41855DB2", event.KindQueued, 0, want{
					Sender: "user@sender.com", ClientHost: "localhost", ClientIP: "127.0.0.1",
					MessageID: "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com", Origin: "smtpd",
					Size: 1111, Nrcpt: 1}},
				{"776E41855DB2", event.KindDelivery, 0, want{
					Sender: "user@sender.com", ClientHost: "localhost", ClientIP: "127.0.0.1",
					SASLMethod: "PLAIN", SASLUsername: "user@sender.com",
					MessageID: "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com", Origin: "smtpd",
					Size: 1111, Nrcpt: 1, Parent: "4AA091855DA0"}},
				{"776E41855DB2", event.KindBounceNotice, 0, want{
					Sender: "user@sender.com", ClientHost: "localhost", ClientIP: "127.0.0.1",
					SASLMethod: "PLAIN", SASLUsername: "user@sender.com",
					MessageID: "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com", Origin: "smtpd",
					Size: 1111, Nrcpt: 1, Parent: "4AA091855DA0"}},
				// The NDR: queued before the bounce daemon names it (origin
				// from its null sender and no client), then linked back.
				{"A48191855DA0", event.KindQueued, 0, want{
					MessageID: "20200603104059.A48191855DA0@mail.sender.com", Origin: "bounce", Size: 3147, Nrcpt: 1}},
				{"A48191855DA0", event.KindDelivery, 0, want{
					MessageID: "20200603104059.A48191855DA0@mail.sender.com", Origin: "bounce", Size: 3147, Nrcpt: 1,
					Parent: "776E41855DB2"}},
				{"A48191855DA0", event.KindRemoved, 0, want{
					MessageID: "20200603104059.A48191855DA0@mail.sender.com", Origin: "bounce", Size: 3147, Nrcpt: 1,
					Parent: "776E41855DB2"}},
			},
			newMessages: map[string]int{"4AA091855DA0": 1, "776E41855DB2": 1, "A48191855DA0": 1},
		},
		{
			file: "2_multiple_recipients_some_bounces.log",
			checks: []check{
				{"BA8F630001DA", event.KindDelivery, -1, want{
					Sender: "sender@mydomain.com", ClientHost: "client.example.com", ClientIP: "89.247.252.52",
					SASLMethod: "PLAIN", SASLUsername: "sender@mydomain.com",
					MessageID: "264dc34c-ad52-466c-6d41-6622dfced3b8@mydomain.com", Origin: "submission", Size: 502, Nrcpt: 5}},
				{"C7B4530001DA", event.KindDelivery, 0, want{
					MessageID: "20201209101826.C7B4530001DA@mail.mydomain.com", Origin: "bounce", Size: 5006, Nrcpt: 1,
					Parent: "1310930001DB"}},
			},
			newMessages: map[string]int{"BA8F630001DA": 1, "1310930001DB": 1, "C7B4530001DA": 1},
		},
		{
			file: "31_relayed_bounce.log",
			checks: []check{
				// SASL on port 25's service: submission all the same.
				{"202A613D2BC", event.KindDelivery, 0, want{
					Sender: "h-77ff@h-e0a7c0355e2339add.com", ClientHost: "unknown", ClientIP: "247.53.187.18",
					SASLMethod: "PLAIN", SASLUsername: "h-77ff@h-e0a7c0355e2339add.com",
					MessageID: "h-d556d439a45b54b2156bb469778@h-efe0e6cc7a50c8a1.com", Origin: "submission", Size: 3082, Nrcpt: 2}},
				// A remote bounce received over SMTP has the null sender
				// but a client: smtpd, not a notification of ours.
				{"AC80013D2BC", event.KindQueued, 0, want{
					ClientHost: "unknown", ClientIP: "135.85.30.202",
					MessageID: "h-6cd348b327c99961061eb34bb4f87edff6047bf8@h-36add3d953b3de9c9d3.com", Origin: "smtpd", Size: 5739, Nrcpt: 1}},
			},
			newMessages: map[string]int{"202A613D2BC": 1, "AC80013D2BC": 1},
		},
		{
			file: "10_pickup.log",
			checks: []check{
				{"08ACF1541B01", event.KindPickup, 0, want{Sender: "root", Origin: "pickup"}},
				// qmgr's rewritten sender, not pickup's "root".
				{"08ACF1541B01", event.KindDelivery, 0, want{
					Sender: "h-dc76@h-ac7182297368ddc0f.com", MessageID: "h-9f09ba6382a7163a9a1f1da16cb@h-ac7182297368ddc0f.com",
					Origin: "pickup", Size: 829, Nrcpt: 1}},
				{"AED441541AFC", event.KindDelivery, 0, want{
					Sender: "h-dc76@h-ac7182297368ddc0f.com", ClientHost: "h-1080e7bf040f81bcd1628", ClientIP: "127.0.0.1",
					MessageID: "h-9f09ba6382a7163a9a1f1da16cb@h-ac7182297368ddc0f.com", Origin: "smtpd", Size: 2387, Nrcpt: 1,
					Parent: "08ACF1541B01"}},
			},
			newMessages: map[string]int{"08ACF1541B01": 1, "AED441541AFC": 1},
		},
		{
			file: "14_reuse_of_queueid.log",
			checks: []check{
				// Two messages under one queue id, each with its own client.
				{"BABABABABA", event.KindDelivery, 0, want{
					Sender: "h-031a55e5a6a901a7be94@h-5e67b9b4406.com", ClientHost: "h-d31ae31e5f8e95fe54a540", ClientIP: "170.55.103.23",
					MessageID: "h-b36847e73153e9ac645ba7cb2050cae3@h-5e67b9b4406.com", Origin: "smtpd", Size: 11214, Nrcpt: 1,
					Parent: "DADADADADA"}},
				{"BABABABABA", event.KindDelivery, 1, want{
					Sender: "h-e65bbe8f9ea3a961d1ac28b1c0971@h-5e67b9b4406.com", ClientHost: "h-d04c17c68166c9deda13c8e79ad", ClientIP: "112.83.23.93",
					MessageID: "h-ae29580097c1f26a25dab61b5e690cfd@h-5e67b9b4406.com", Origin: "smtpd", Size: 10673, Nrcpt: 1}},
			},
			newMessages: map[string]int{"BABABABABA": 2, "DADADADADA": 1, "CACACACACACA": 1},
		},
		{
			file: "6_deferred_message_retry.log",
			checks: []check{
				// Delivered on the retry seven minutes later.
				{"A17F830001CA", event.KindDelivery, -1, want{
					Sender: "bounces@some.example.com", ClientHost: "localhost", ClientIP: "127.0.0.1",
					MessageID: "000msgid0000@example.com", Origin: "smtpd", Size: 2259, Nrcpt: 1,
					Parent: "78E8330001C7"}}, // amavis handed it over
			},
			newMessages: map[string]int{"A17F830001CA": 1},
		},
		{
			file: "18_expired.log",
			checks: []check{
				// The bounce notice after the expiry still knows the message.
				{"23EBE3D5C0", event.KindBounceNotice, 0, want{
					Sender: "h-498b874f2bf0cf639807ad80e1@h-5e67b9b4406.com", ClientHost: "h-3857624469d1756194e464", ClientIP: "239.58.50.50",
					MessageID: "h-dea85411b67a40a063ef58e0ab590721@h-daa2fe3dd7fc0b5c2017db90829038b.com", Origin: "smtpd", Size: 312343, Nrcpt: 1,
					Parent: "20B4E3D5BD"}},
				{"A7E673C067", event.KindDelivery, 0, want{
					MessageID: "h-75055d2ab82e952d4ce9c3445@h-3857624469d1756194e464.com", Origin: "bounce", Size: 3503, Nrcpt: 1,
					Parent: "23EBE3D5C0"}},
			},
			// Queued five times over five days: one message.
			newMessages: map[string]int{"23EBE3D5C0": 1, "A7E673C067": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := observeFile(t, tt.file)
			for _, ck := range tt.checks {
				is := r.where(ck.qid, ck.kind)
				i := ck.nth
				if i < 0 {
					i = len(is) - 1
				}
				j := is[i]
				if g := got(&r.evs[j], r.notes[j]); g != ck.want {
					t.Errorf("line %d (%s %s #%d):\n got %+v\nwant %+v", j+1, ck.qid, ck.kind, ck.nth, g, ck.want)
				}
			}
			for qid, n := range tt.newMessages {
				if g := r.newMessages(qid); g != n {
					t.Errorf("%s: NewMessage %d times, want %d", qid, g, n)
				}
			}
		})
	}
}

// TestCorpusSessions checks what sessions add to lines without a queue id.
func TestCorpusSessions(t *testing.T) {
	r := observeFile(t, "1_bounce_simple.log")
	// The submission session's disconnect names the user it authenticated.
	for i, e := range r.evs {
		if e.Kind == event.KindDisconnect && e.PID == 9708 {
			if e.SASLUsername != "user@sender.com" || e.SASLMethod != "PLAIN" {
				t.Errorf("line %d: disconnect sasl = %q %q, want PLAIN user@sender.com", i+1, e.SASLMethod, e.SASLUsername)
			}
		}
		if e.Kind == event.KindDisconnect && e.PID == 9715 && e.SASLUsername != "" {
			t.Errorf("line %d: unauthenticated session got sasl %q", i+1, e.SASLUsername)
		}
	}
	// Every session ended and every message was removed.
	if s := r.c.Stats(); s.Sessions != 0 || s.Messages != 0 || s.Evictions != 0 {
		t.Errorf("stats after the file = %+v, want no sessions, messages or evictions", s)
	}
}

// TestSessionLookup checks that a session holds its TLS and SASL identity
// between connect and disconnect.
func TestSessionLookup(t *testing.T) {
	evs := readLines(t, lightmeter+"1_bounce_simple.log")
	c := New(Config{})
	for i := range evs[:3] { // connect, TLS, client= with SASL
		c.Observe(&evs[i])
	}
	s, ok := c.Session("mail", "postfix/submission", 9708)
	want := Session{ClientHost: "some.domain.name", ClientIP: "1.2.3.4", SASLMethod: "PLAIN", SASLUsername: "user@sender.com",
		TLSProtocol: "TLSv1.2", TLSCipher: "ECDHE-RSA-AES256-GCM-SHA384", TLSTrust: "Anonymous", LastSeen: evs[2].Time}
	if !ok || s != want {
		t.Fatalf("Session = %+v, %v\nwant %+v", s, ok, want)
	}
	m, ok := c.Message("mail", "4AA091855DA0")
	if !ok || m.Origin != "submission" || m.SASLUsername != "user@sender.com" || m.Queued {
		t.Errorf("Message = %+v, %v", m, ok)
	}
	for i := range evs[3:8] { // up to the disconnect
		c.Observe(&evs[3+i])
	}
	if _, ok := c.Session("mail", "postfix/submission", 9708); ok {
		t.Error("session still held after its disconnect")
	}
	if m, _ := c.Message("mail", "4AA091855DA0"); !m.Queued || m.Size != 391 {
		t.Errorf("after qmgr: %+v", m)
	}
}

// TestCorpusNeverOverwrites runs every corpus file through a correlator
// and checks that no field a line set is changed, that origins stay in
// their closed set and that no queue id counts as new more often than
// it has a first line (client=, pickup or cleanup's message-id).
func TestCorpusNeverOverwrites(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../parser/testdata/corpus", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, f := range files {
		evs := readLines(t, f)
		c := New(Config{})
		starts := map[string]int{}
		news := map[string]int{}
		for i := range evs {
			before := evs[i]
			n := c.Observe(&evs[i])
			lines++
			if d := overwritten(&before, &evs[i]); d != "" {
				t.Errorf("%s line %d: %s overwritten", f, i+1, d)
			}
			switch evs[i].Origin {
			case "", "smtpd", "submission", "pickup", "bounce":
			default:
				t.Errorf("%s line %d: origin %q", f, i+1, evs[i].Origin)
			}
			k := evs[i].Host + " " + evs[i].QueueID
			switch evs[i].Kind {
			case event.KindClient, event.KindPickup, event.KindMessageID:
				starts[k]++
			}
			if n.NewMessage {
				news[k]++
			}
		}
		for k, n := range news {
			if n > max(starts[k], 1) {
				t.Errorf("%s: %s new %d times with %d first lines", f, k, n, starts[k])
			}
		}
	}
	t.Logf("%d files, %d lines", len(files), lines)
}

// overwritten names the first field that was set before and differs after.
func overwritten(before, after *event.Event) string {
	b, a := reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	for i := 0; i < b.NumField(); i++ {
		if !b.Field(i).IsZero() && !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			return b.Type().Field(i).Name
		}
	}
	return ""
}

func TestOriginFromService(t *testing.T) {
	tests := []struct {
		line, origin string
	}{
		{"Jun  3 10:40:57 mail postfix/submission/smtpd[1]: 4AA091855DA0: client=a.example[192.0.2.1]", "submission"},
		{"Jun  3 10:40:57 mail postfix/smtps/smtpd[1]: 4AA091855DA0: client=a.example[192.0.2.1]", "submission"},
		{"Jun  3 10:40:57 mail postfix/smtpd[1]: 4AA091855DA0: client=a.example[192.0.2.1]", "smtpd"},
		{"Jun  3 10:40:57 mail postfix/smtpd[1]: 4AA091855DA0: client=a.example[192.0.2.1], sasl_method=LOGIN, sasl_username=u", "submission"},
	}
	p := &parser.Parser{Location: time.UTC}
	for _, tt := range tests {
		c := New(Config{})
		e := p.Parse(tt.line, corpusRef)
		c.Observe(&e)
		q := p.Parse("Jun  3 10:40:58 mail postfix/qmgr[2]: 4AA091855DA0: from=<a@example.com>, size=1, nrcpt=1 (queue active)", corpusRef)
		n := c.Observe(&q)
		if e.Origin != tt.origin || q.Origin != tt.origin || !n.NewMessage {
			t.Errorf("%s: origin %q, queued %q (new %v), want %q", tt.line, e.Origin, q.Origin, n.NewMessage, tt.origin)
		}
	}
}

func TestStateful(t *testing.T) {
	for _, k := range event.Kinds() {
		want := strings.Contains(" connect disconnect tls client pickup message_id queued bounce_notice delivery removed expired ", " "+k.String()+" ")
		if Stateful(k) != want {
			t.Errorf("Stateful(%s) = %v", k, !want)
		}
	}
}

// TestReset: after a reset (an erasure) nothing of a session or message is
// left to enrich a later line with, and the counts start again.
func TestReset(t *testing.T) {
	evs := readLines(t, lightmeter+"1_bounce_simple.log")
	c := New(Config{})
	for i := range evs[:3] {
		c.Observe(&evs[i])
	}
	if _, ok := c.Message("mail", "4AA091855DA0"); !ok {
		t.Fatal("fixture: no message before the reset")
	}
	c.Reset()
	if _, ok := c.Session("mail", "postfix/submission", 9708); ok {
		t.Error("session held after the reset")
	}
	if m, ok := c.Message("mail", "4AA091855DA0"); ok {
		t.Errorf("message held after the reset: %+v", m)
	}
	if s := c.Stats(); s.Sessions != 0 || s.Messages != 0 {
		t.Errorf("stats after the reset: %+v", s)
	}
	// The next line of the message is left as it was logged.
	next := evs[3]
	c.Observe(&next)
	if next.SASLUsername != "" {
		t.Errorf("a line after the reset was enriched with %q", next.SASLUsername)
	}
}
