package main

// Tests of `exporter report --evidence`, `exporter verify-evidence` and
// `--format=pdf`: a bundle of each report verifies, each kind of
// tampering is named, and the PDFs render page by page with poppler.

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/integrity"
)

type bundleFile struct {
	name string
	data []byte
}

func readBundle(t *testing.T, path string) []bundleFile {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []bundleFile
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		out = append(out, bundleFile{f.Name, b.Bytes()})
	}
	return out
}

// tamper writes a copy of the bundle at src with edit applied to its
// files and, as a forger would, the manifest's hashes brought up to date.
func tamper(t *testing.T, src, dst string, edit func(files map[string][]byte)) {
	t.Helper()
	fs := readBundle(t, src)
	files := map[string][]byte{}
	for _, f := range fs {
		files[f.name] = f.data
	}
	edit(files)
	var m apiv1.Manifest
	if err := json.Unmarshal(files[apiv1.EvidenceManifest], &m); err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		m.Files[i].Size, m.Files[i].SHA256 = int64(len(files[f.Name])), hex.EncodeToString(sum[:])
	}
	files[apiv1.EvidenceManifest], _ = json.Marshal(m)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range fs {
		w, _ := zw.Create(f.name)
		w.Write(files[f.name])
	}
	zw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editLine replaces line n (0-based) of a JSON-lines file with what edit
// makes of its decoded object; edit returning nil deletes the line.
func editLine(t *testing.T, b []byte, n int, edit func(m map[string]any) map[string]any) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[n]), &m); err != nil {
		t.Fatal(err)
	}
	if m = edit(m); m == nil {
		lines = append(lines[:n], lines[n+1:]...)
	} else {
		nb, _ := json.Marshal(m)
		lines[n] = string(nb)
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func TestEvidenceRoundTrip(t *testing.T) {
	f := reportJournal(t)
	dir := t.TempDir()
	pub := strings.TrimPrefix(f.rng[0], "--journal.path=") + ".key.pub"
	bundle := filepath.Join(dir, "deliveries.zip")
	r := cliRun(t, "", append([]string{"report", "deliveries", "--user=alice.smith@example.com", "--evidence=" + bundle, "--format=csv"}, f.rng...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "events proved against checkpoint mx1") {
		t.Fatalf("report --evidence: %s", r)
	}
	// What the command printed is the report the bundle holds.
	for _, b := range readBundle(t, bundle) {
		if b.name == "report.csv" && string(b.data) != r.stdout {
			t.Errorf("the bundle's report.csv is not the report printed:\n%s\n---\n%s", b.data, r.stdout)
		}
	}
	expectStdout(t, cliRun(t, "", "verify-evidence", bundle, "--pubkey="+pub), 0,
		regexp.MustCompile(`^verified: deliveries report of \d+ events, proved against checkpoint mx1 of 6\d\d\d events \(root [0-9a-f]{64}\)\n$`))

	// Another key, as a forger holding the bundle would make one.
	skey, vkey, err := integrity.GenerateKey("mx1")
	if err != nil {
		t.Fatal(err)
	}
	otherPub := cliWriteFile(t, filepath.Join(dir, "other.pub"), vkey+"\n")
	otherKey := cliWriteFile(t, filepath.Join(dir, "other.key"), skey+"\n")
	forger, err := integrity.LoadSigner(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	realKey, err := integrity.LoadSigner(strings.TrimSuffix(pub, ".pub"))
	if err != nil {
		t.Fatal(err)
	}
	// Which event the tamperings touch: a delivery of the report, and the
	// line of report.csv it is (the timeline is in event order).
	const victim = 3
	for _, c := range []struct {
		name   string
		edit   func(files map[string][]byte)
		pubkey string
		want   string
	}{
		{"edited report row", func(fs map[string][]byte) {
			fs["report.csv"] = bytes.Replace(fs["report.csv"], []byte(",sent,"), []byte(",bounced,"), 1)
		}, pub, `report.csv line \d+ is ".*,bounced,.*", but the events give ".*,sent,.*" \(a row was edited`},
		{"edited pdf", func(fs map[string][]byte) {
			fs["report.pdf"] = bytes.Replace(fs["report.pdf"], []byte("/Title"), []byte("/Titel"), 1)
		}, pub, `report.pdf is not the report its events give \(it was edited\)`},
		{"removed event", func(fs map[string][]byte) {
			fs[apiv1.EvidenceEventsFile] = editLine(t, fs[apiv1.EvidenceEventsFile], victim, func(map[string]any) map[string]any { return nil })
			fs[apiv1.EvidenceProofsFile] = editLine(t, fs[apiv1.EvidenceProofsFile], victim, func(map[string]any) map[string]any { return nil })
		}, pub, `report.csv line \d+ is .*, but the events give .* \(a row was edited, or an event removed\)`},
		{"removed event, proof left", func(fs map[string][]byte) {
			fs[apiv1.EvidenceEventsFile] = editLine(t, fs[apiv1.EvidenceEventsFile], victim, func(map[string]any) map[string]any { return nil })
		}, pub, `proofs.jsonl has a proof of event \d+, which events.jsonl does not hold \(an event was removed\)`},
		{"edited event", func(fs map[string][]byte) {
			fs[apiv1.EvidenceEventsFile] = editLine(t, fs[apiv1.EvidenceEventsFile], victim, func(m map[string]any) map[string]any {
				m["recipient"] = "someone.else@example.org"
				return m
			})
		}, pub, `event \d+: its fields hash to leaf [0-9a-f]{64}, not to its leaf [0-9a-f]{64} \(the event was edited\)`},
		{"edited event and leaf", func(fs map[string][]byte) {
			fs[apiv1.EvidenceEventsFile] = editLine(t, fs[apiv1.EvidenceEventsFile], victim, func(m map[string]any) map[string]any {
				m["leaf"] = strings.Repeat("ab", 32)
				return m
			})
		}, pub, `event \d+: its fields hash to leaf`},
		{"swapped checkpoint", func(fs map[string][]byte) {
			// Signed with the journal's own key, of another tree.
			note, err := integrity.Sign(integrity.Checkpoint{Origin: "mx1", Size: 7000, Root: sha256.Sum256([]byte("x")), Time: time.Now()}, realKey)
			if err != nil {
				t.Fatal(err)
			}
			fs[apiv1.EvidenceNote] = note
		}, pub, `query.json names checkpoint mx1 of 6\d+ events with root [0-9a-f]{64}, but checkpoint.note signs mx1 of 7000 events with root [0-9a-f]{64} \(a checkpoint was swapped\)`},
		{"swapped checkpoint and query", func(fs map[string][]byte) {
			root := sha256.Sum256([]byte("x"))
			note, _ := integrity.Sign(integrity.Checkpoint{Origin: "mx1", Size: 7000, Root: root}, realKey)
			fs[apiv1.EvidenceNote] = note
			var q apiv1.EvidenceQuery
			json.Unmarshal(fs[apiv1.EvidenceQueryFile], &q)
			q.Checkpoint = apiv1.EvidenceCheckpoint{Origin: "mx1", Size: 7000, Root: hex.EncodeToString(root[:])}
			fs[apiv1.EvidenceQueryFile], _ = json.Marshal(q)
		}, pub, `event \d+: its inclusion proof does not hold: integrity: inclusion proof of leaf \d+ (has \d+ hashes, want \d+|gives root)`},
		{"wrong key", nil, otherPub, `checkpoint.note: integrity: checkpoint signed only by unknown keys \[mx1\+[0-9a-f]{8}\]: no signature by a known key`},
		{"re-signed with another key", func(fs map[string][]byte) {
			cp, err := integrity.ParseCheckpoint(fs[apiv1.EvidenceNote], nil)
			_ = err // unverified: the forger only needs the body
			cp.Origin = "mx1"
			note, _ := integrity.Sign(cp, forger)
			fs[apiv1.EvidenceNote] = note
			fs[apiv1.EvidenceKey] = []byte(vkey + "\n")
		}, pub, `checkpoint.note: integrity: checkpoint signed only by unknown keys`},
		{"truncated proof", func(fs map[string][]byte) {
			fs[apiv1.EvidenceProofsFile] = editLine(t, fs[apiv1.EvidenceProofsFile], victim, func(m map[string]any) map[string]any {
				p := m["proof"].([]any)
				m["proof"] = p[:len(p)-1]
				return m
			})
		}, pub, `event \d+: its inclusion proof does not hold: integrity: inclusion proof of leaf \d+ in tree of size \d+ has \d+ hashes, want \d+: wrong proof length`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".zip")
			if c.edit == nil {
				dst = bundle
			} else {
				tamper(t, bundle, dst, c.edit)
			}
			r := cliRun(t, "", "verify-evidence", dst, "--pubkey="+c.pubkey)
			if r.code != 1 || !regexp.MustCompile(`^TAMPERED: `+c.want+`.*\n$`).MatchString(r.stdout) {
				t.Errorf("verify-evidence: %s\nwant exit 1 and TAMPERED: %s", r, c.want)
			}
		})
	}
	// A bundle another version of mailtrail made: its PDF's layout may
	// differ from this one's, so only CSV and JSON are compared, and the
	// user is told.
	t.Run("another version", func(t *testing.T) {
		dst := filepath.Join(dir, "other-version.zip")
		tamper(t, bundle, dst, func(fs map[string][]byte) {
			fs[apiv1.EvidenceQueryFile] = bytes.Replace(fs[apiv1.EvidenceQueryFile], []byte(`"version": "`+version+`"`), []byte(`"version": "0.0.1"`), 1)
			fs["report.pdf"] = append(fs["report.pdf"], '\n')
		})
		r := cliRun(t, "", "verify-evidence", dst, "--pubkey="+pub)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "verified: ") ||
			r.stderr != "exporter verify-evidence: report.pdf not compared: mailtrail 0.0.1 made it, this is "+version+" (its CSV and JSON were compared)\n" {
			t.Errorf("%s", r)
		}
	})
	t.Run("file edited behind the manifest", func(t *testing.T) {
		fs := readBundle(t, bundle)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range fs {
			w, _ := zw.Create(f.name)
			if f.name == "report.json" {
				f.data = bytes.Replace(f.data, []byte("sent"), []byte("lost"), 1)
			}
			w.Write(f.data)
		}
		zw.Close()
		dst := cliWriteFile(t, filepath.Join(dir, "behind.zip"), buf.String())
		expectStdout(t, cliRun(t, "", "verify-evidence", dst, "--pubkey="+pub), 1,
			regexp.MustCompile(`^TAMPERED: report.json: \d+ bytes with SHA-256 [0-9a-f]{64}, the manifest says \d+ bytes with SHA-256 [0-9a-f]{64}\n$`))
	})
}

// evidenceMust runs a report that writes a bundle: it says so on stderr.
func evidenceMust(t *testing.T, args ...string) {
	t.Helper()
	if r := cliRun(t, "", args...); r.code != 0 || !strings.Contains(r.stderr, " events proved against checkpoint ") {
		t.Fatalf("%s", r)
	}
}

// expectStdout asserts an exit code and what was printed on stdout.
func expectStdout(t *testing.T, r cliResult, code int, want *regexp.Regexp) {
	t.Helper()
	if r.code != code || !want.MatchString(r.stdout) {
		t.Errorf("want exit %d and stdout matching %s, got %s", code, want, r)
	}
}

// TestEvidenceEachReport bundles every report kind, one with an erased
// subject, and verifies each with the key the bundle carries.
func TestEvidenceEachReport(t *testing.T) {
	f := reportJournal(t)
	dir := t.TempDir()
	// A copy of the journal to forget someone in.
	src := strings.TrimPrefix(f.rng[0], "--journal.path=")
	db := filepath.Join(dir, "j.db")
	for _, suffix := range []string{"", ".key", ".key.pub"} {
		b, err := os.ReadFile(src + suffix)
		if err != nil {
			t.Fatal(err)
		}
		cliWriteFile(t, db+suffix, string(b))
	}
	var qid, victim string
	for _, e := range f.events {
		if e.Kind.String() == "delivery" && e.SASLUsername != "" && e.Sender != "" {
			qid, victim = e.QueueID, e.Sender
			break
		}
	}
	cliMust(t, "", "forget", "--journal.path="+db, "--subject="+victim)
	rng := append([]string{"--journal.path=" + db}, f.rng[1:]...)
	for _, args := range [][]string{
		append([]string{"summary"}, rng...),
		append([]string{"deliveries"}, rng...),
		append([]string{"logins"}, rng...),
		{"trace", "--journal.path=" + db, "--queue-id=" + qid},
	} {
		t.Run(args[0], func(t *testing.T) {
			bundle := filepath.Join(dir, args[0]+".zip")
			evidenceMust(t, append([]string{"report", "--evidence=" + bundle, "--output=" + filepath.Join(dir, args[0]+".txt")}, args...)...)
			want := `^verified: ` + args[0] + ` report of \d+ events, proved against checkpoint \S+ of \d+ events \(root [0-9a-f]{64}\)`
			// The forgotten sender sent mail and logged in: every report
			// has events erasure rewrote.
			want += `; \d+ erased and 0 removed by retention, each named by a signed erasure record`
			r := cliRun(t, "", "verify-evidence", bundle)
			expectStdout(t, r, 0, regexp.MustCompile(want+"\n$"))
			if !strings.Contains(r.stderr, "no --pubkey: the signature was checked with the key the bundle carries") {
				t.Errorf("no warning about the bundle's own key: %s", r)
			}
		})
	}
}

// TestReportPDF renders every report kind as PDF and reads it back with
// poppler: pdftotext finds each row's first cell, pdftoppm renders every
// page.
func TestReportPDF(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s (poppler-utils) is missing: scripts/deps.sh installs it", tool)
			}
			t.Skipf("%s (poppler-utils) is not installed", tool)
		}
	}
	f := reportJournal(t)
	dir := t.TempDir()
	var qid string
	for _, e := range f.events {
		if e.Kind.String() == "delivery" {
			qid = e.QueueID
			break
		}
	}
	for _, args := range [][]string{
		append([]string{"summary"}, f.rng...),
		append([]string{"deliveries"}, f.rng...),
		append([]string{"logins"}, f.rng...),
		{"trace", f.rng[0], "--queue-id=" + qid},
	} {
		t.Run(args[0], func(t *testing.T) {
			pdf := filepath.Join(dir, args[0]+".pdf")
			cliMust(t, "", append([]string{"report", "--format=pdf", "--output=" + pdf}, args...)...)
			csv := cliMust(t, "", append([]string{"report", "--format=csv"}, args...)...)
			out, err := exec.Command("pdftotext", "-layout", pdf, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text := string(out)
			flat := strings.Join(strings.Fields(text), " ")
			rows := 0
			for _, l := range strings.Split(csv, "\n") {
				if l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				first, _, _ := strings.Cut(l, ",")
				first = strings.Trim(first, `"`)
				if !strings.Contains(flat, first) {
					t.Errorf("pdftotext does not find the row %q", l)
				}
				rows++
			}
			if rows < 2 {
				t.Fatalf("the CSV has %d lines to look for", rows)
			}
			if !regexp.MustCompile(`Newest journal checkpoint mx1: 6\d{3} events, root [0-9a-f]{64}`).MatchString(text) {
				t.Errorf("no checkpoint in the footer:\n%.2000s", text)
			}
			info, err := exec.Command("pdfinfo", pdf).Output()
			if err != nil {
				t.Fatal(err)
			}
			var pages int
			if m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(info); m != nil {
				fmt.Sscan(string(m[1]), &pages)
			}
			// Every page carries the footer.
			if n := strings.Count(text, "Newest journal checkpoint"); pages == 0 || n != pages {
				t.Errorf("%d pages, %d footers", pages, n)
			}
			if args[0] == "deliveries" && pages < 2 {
				t.Errorf("the delivery timeline of a day fits on %d page", pages)
			}
			cmd := exec.Command("pdftoppm", "-r", "20", "-png", pdf, filepath.Join(dir, args[0]))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("pdftoppm: %v %s", err, stderr.String())
			}
			pngs, _ := filepath.Glob(filepath.Join(dir, args[0]+"-*.png"))
			if len(pngs) != pages {
				t.Errorf("pdftoppm rendered %d of %d pages", len(pngs), pages)
			}
		})
	}
}

func TestEvidenceErrors(t *testing.T) {
	f := reportJournal(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "b.zip")
	evidenceMust(t, append([]string{"report", "logins", "--evidence=" + bundle}, f.rng...)...)
	notZip := cliWriteFile(t, filepath.Join(dir, "not.zip"), "hello")
	for _, c := range []struct {
		name string
		args []string
		code int
		want any
	}{
		{"unknown format", append([]string{"report", "summary", "--format=xml"}, f.rng...), 2,
			"exporter report summary: --format=xml: unknown format (one of table, csv, json, html, pdf)\n"},
		{"unwritable evidence", append([]string{"report", "summary", "--evidence=" + filepath.Join(dir, "absent", "b.zip")}, f.rng...), 2,
			"exporter report summary: --evidence=" + filepath.Join(dir, "absent", "b.zip") + ": cannot write in " + filepath.Join(dir, "absent") + ": no such file or directory\n"},
		{"evidence is a directory", append([]string{"report", "summary", "--evidence=" + dir}, f.rng...), 2,
			"exporter report summary: --evidence=" + dir + ": is a directory\n"},
		{"unwritable pdf", append([]string{"report", "summary", "--format=pdf", "--output=" + filepath.Join(notZip, "r.pdf")}, f.rng...), 1,
			regexp.MustCompile(`^exporter report summary: --output: open ` + regexp.QuoteMeta(notZip) + `/\.r\.pdf\.\d+: not a directory\n$`)},
		{"evidence with enrichment", append([]string{"report", "logins", "--evidence=" + bundle, "--enrich.blocklist=" + notZip}, f.rng...), 2,
			"exporter report logins: --evidence cannot be combined with --enrich.geoip or --enrich.blocklist: a verifier could not build the report again without the same databases\n"},
		{"missing key", []string{"verify-evidence", bundle, "--pubkey=" + filepath.Join(dir, "none.pub")}, 2,
			"exporter verify-evidence: --pubkey: open " + filepath.Join(dir, "none.pub") + ": no such file or directory\n"},
		{"bad key", []string{"verify-evidence", bundle, "--pubkey=" + notZip}, 2,
			"exporter verify-evidence: --pubkey=" + notZip + ": integrity: verifier key: malformed verifier id\n"},
		{"missing bundle", []string{"verify-evidence", filepath.Join(dir, "none.zip")}, 3,
			"exporter verify-evidence: open " + filepath.Join(dir, "none.zip") + ": no such file or directory\n"},
		{"not a zip", []string{"verify-evidence", notZip}, 3,
			"exporter verify-evidence: " + notZip + ": not a zip file: zip: not a valid zip file\n"},
		{"no bundle", []string{"verify-evidence"}, 2, "exporter: error: required argument 'bundle' not provided, try --help\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cliExpect(t, cliRun(t, "", c.args...), c.code, c.want)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "absent")); err == nil {
		t.Error("a directory was created")
	}
}
