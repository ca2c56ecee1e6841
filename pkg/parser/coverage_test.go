package parser

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/mailtrail/mailtrail/pkg/event"
)

var showUnknown = flag.Bool("unknown", false, "TestCorpusCoverage: print every Postfix/Dovecot line that parses as unknown")

// corpusLogs returns every log file of the corpus copy: everything under
// testdata/corpus except the grok YAML cases, expected-metrics files, configs
// and READMEs.
func corpusLogs(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := d.Name()
		switch {
		case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"), strings.HasSuffix(base, ".md"),
			strings.Contains(base, "metrics"), strings.HasPrefix(base, "showq"):
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatalf("walk corpus: %v", err)
	}
	sort.Strings(files)
	return files
}

// readLines returns the lines of a plain or gzip-compressed file.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = gz
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

// sharedCorpus is ../shared/corpus seen from the repository root: both corpus
// sets, the first of which testdata/corpus copies. CI checks it out at the
// same place.
const sharedCorpus = "../../../shared/corpus"

// corpusFile is one log of either corpus set.
type corpusFile struct {
	set  int    // 1: the parser's copy in testdata/corpus; 2: only in ../shared/corpus
	rel  string // slash path under the corpus root, as expectations-2.jsonl names it
	path string
}

// allCorpusLogs returns the logs of both sets: every log of testdata/corpus,
// then every log of ../shared/corpus that the copy does not hold (the first
// set's files are identical in both places and count once).
func allCorpusLogs(t testing.TB) []corpusFile {
	t.Helper()
	var files []corpusFile
	have := map[string]bool{}
	for _, path := range corpusLogs(t) {
		rel, err := filepath.Rel("testdata/corpus", path)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		have[rel] = true
		files = append(files, corpusFile{set: 1, rel: rel, path: path})
	}
	if _, err := os.Stat(sharedCorpus); err != nil {
		t.Fatalf("the shared corpus is missing (%v): check it out at ../shared/corpus beside the repository, where CI has it; "+
			"corpus coverage and the expectations test need both sets", err)
	}
	err := filepath.WalkDir(sharedCorpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(sharedCorpus, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		base := d.Name()
		switch {
		case have[rel], !strings.Contains(rel, "/"),
			strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"), strings.HasSuffix(base, ".md"),
			strings.HasSuffix(base, ".programs"), strings.HasSuffix(base, ".jsonl"),
			strings.Contains(base, "metrics"), strings.HasPrefix(base, "showq"):
			return nil
		}
		files = append(files, corpusFile{set: 2, rel: rel, path: path})
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", sharedCorpus, err)
	}
	sort.SliceStable(files[len(have):], func(i, j int) bool { return files[len(have)+i].rel < files[len(have)+j].rel })
	return files
}

// corpusHeader is the syslog header put before a line the source gives as
// message text only.
const corpusHeader = "Jun  3 10:40:57 mx "

// headerless names the program of the second set's header-less lines that
// have no .programs file: the source (SSHGuard's parser tests) gives only the
// message, with the program's tag for some.
var headerless = map[string]string{
	"SSHGuard+sshguard/src_parser_tests.txt.log:1":  "",     // "imap-login: ..." carries its ident
	"SSHGuard+sshguard/src_parser_tests.txt.log:2":  "",     // the same
	"SSHGuard+sshguard/src_parser_tests.txt.log:4":  "",     // "submission-login: ..."
	"SSHGuard+sshguard/src_parser_tests.txt.log:5":  "auth", // pam_unix logs under the ident of Dovecot's auth process
	"SSHGuard+sshguard/src_parser_tests.txt.log:9":  "postfix/smtpd[4242]",
	"SSHGuard+sshguard/src_parser_tests.txt.log:12": "postfix/smtpd[4242]",
}

// corpusFileLines returns the lines of one corpus log as a syslog daemon
// would have written them: a message-text-only file gets a header built from
// its sibling .programs file (one program per line), and the header-less
// lines listed in headerless get theirs.
func corpusFileLines(t testing.TB, f corpusFile) []string {
	t.Helper()
	lines := readLines(t, f.path)
	if progs, err := os.ReadFile(strings.TrimSuffix(f.path, ".log") + ".programs"); err == nil {
		names := strings.Split(strings.TrimSuffix(string(progs), "\n"), "\n")
		if len(names) != len(lines) {
			t.Fatalf("%s: %d lines but %d programs in its .programs file", f.rel, len(lines), len(names))
		}
		for i, prog := range names {
			// "(unspecified; generator default postfix/smtpd)": the
			// program the source's own test generator would use.
			if _, def, ok := strings.Cut(prog, "default "); ok && strings.HasPrefix(prog, "(") {
				prog = strings.TrimSuffix(def, ")")
			}
			lines[i] = corpusHeader + prog + "[4242]: " + lines[i]
		}
		return lines
	}
	for i := range lines {
		if ident, ok := headerless[f.rel+":"+strconv.Itoa(i+1)]; ok {
			if ident == "" {
				lines[i] = corpusHeader + lines[i]
			} else {
				lines[i] = corpusHeader + ident + ": " + lines[i]
			}
		}
	}
	return lines
}

// familyOf tells, independently of the parser, which Postfix or Dovecot
// program or policy daemon wrote a line; "" for other programs. It is
// deliberately a plain regular expression so the coverage figure cannot be
// flattered by the code it measures. group is postfix, dovecot or policy;
// only the first two count towards the coverage figure.
var (
	familyRE = regexp.MustCompile(` (postfix[^ \[:]*/([a-z-]+)|dovecot)(\[\d+\])?: (([a-z0-9-]+)[:(])?`)
	// Dovecot's processes under their own idents (log_path=syslog with
	// per-process names, or Dovecot's own log file).
	dovecotIdentRE = regexp.MustCompile(` (imap-login|pop3-login|submission-login|managesieve-login|imap|pop3|lmtp|auth|auth-worker)(\[\d+\])?: `)
	policyRE       = regexp.MustCompile(` (postgrey|policyd-spf|policyd-spf-perl|opendkim|opendmarc|amavis|amavisd|amavisd-new)(\[\d+\])?: `)
)

func familyOf(line string) (family, group string) {
	if m := familyRE.FindStringSubmatch(line); m != nil {
		if m[1] == "dovecot" {
			if m[5] != "" {
				return "dovecot/" + m[5], "dovecot"
			}
			return "dovecot", "dovecot"
		}
		if m[2] == "policy-spf" || m[2] == "policyd-spf" {
			return "postfix/" + m[2], "policy"
		}
		return "postfix/" + m[2], "postfix"
	}
	if m := dovecotIdentRE.FindStringSubmatch(line); m != nil {
		return "dovecot/" + m[1], "dovecot"
	}
	if m := policyRE.FindStringSubmatch(line); m != nil {
		return m[1], "policy"
	}
	return "", ""
}

// coverageGaps are the families whose unknown lines in the second set are
// known gaps, each with the reason, while their fixes are under way. Their
// unknown lines are shown but left out of the figure; an entry with no
// unknown line left fails the test, so the list stays true.
var coverageGaps = map[string]string{}

// TestCorpusCoverage is the corpus-coverage figure: at least 99.5% of the
// lines of both corpus sets written by Postfix or Dovecot get a kind other
// than unknown. Policy daemons are shown but do not count towards it.
// `make corpus-coverage` runs it verbosely to print the table per family;
// -unknown lists the lines.
func TestCorpusCoverage(t *testing.T) {
	type count struct {
		lines, unknown [3]int
		gaps           int
	}
	per := map[string]*count{}
	var total, policy count
	p := &Parser{}
	for _, f := range allCorpusLogs(t) {
		for _, line := range corpusFileLines(t, f) {
			fam, group := familyOf(line)
			if fam == "" {
				continue
			}
			c := per[fam]
			if c == nil {
				c = &count{}
				per[fam] = c
			}
			sum := &total
			if group == "policy" {
				sum = &policy
			}
			c.lines[f.set]++
			sum.lines[f.set]++
			if e := p.Parse(line, testRef); e.Kind == event.KindUnknown {
				c.unknown[f.set]++
				sum.unknown[f.set]++
				if _, gap := coverageGaps[fam]; gap && f.set == 2 {
					c.gaps++
					sum.gaps++
				}
				if *showUnknown {
					fmt.Printf("%s\tset %d\t%s\t%s\n", fam, f.set, f.rel, line)
				}
			}
		}
	}
	fams := make([]string, 0, len(per))
	for f := range per {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	pct := func(c *count) float64 {
		n := c.lines[1] + c.lines[2]
		if n == 0 {
			return 100
		}
		return 100 * float64(n-c.unknown[1]-c.unknown[2]) / float64(n)
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "family\tset 1 lines\tunknown\tset 2 lines\tunknown\tparsed %%\t\n")
	row := func(name string, c *count) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t\n", name, c.lines[1], c.unknown[1], c.lines[2], c.unknown[2], pct(c))
	}
	for _, f := range fams {
		row(f, per[f])
	}
	row("policy daemons (not in TOTAL)", &policy)
	row("TOTAL", &total)
	tw.Flush()
	for _, f := range fams {
		if reason, ok := coverageGaps[f]; ok {
			if per[f].gaps == 0 {
				t.Errorf("%s: listed in coverageGaps (%q) but has no unknown line in the second set", f, reason)
			}
			fmt.Fprintf(&sb, "known gap %s: %d lines (%s)\n", f, per[f].gaps, reason)
		}
	}
	for f := range coverageGaps {
		if per[f] == nil {
			t.Errorf("%s: listed in coverageGaps but not in the corpus", f)
		}
	}
	t.Logf("corpus coverage per family:\n%s", sb.String())
	if total.lines[1] < 5000 || total.lines[2] < 1000 {
		t.Fatalf("only %d + %d Postfix/Dovecot lines found in the two corpus sets; are testdata/corpus and %s complete?",
			total.lines[1], total.lines[2], sharedCorpus)
	}
	n := total.lines[1] + total.lines[2] - total.gaps
	ratio := 100 * float64(n-total.unknown[1]-total.unknown[2]+total.gaps) / float64(n)
	t.Logf("TOTAL without the %d known-gap lines: %.2f%%", total.gaps, ratio)
	if ratio < 99.5 {
		t.Errorf("%.2f%% of Postfix/Dovecot lines parsed (known gaps left out), want at least 99.5%%", ratio)
	}
}
