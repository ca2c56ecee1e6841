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
	"strings"
	"testing"
	"text/tabwriter"
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

// familyOf tells, independently of the parser, which Postfix or Dovecot
// program wrote a line; "" for other programs. It is deliberately a plain
// regular expression so the coverage figure cannot be flattered by the code
// it measures.
var familyRE = regexp.MustCompile(` (postfix[^ \[:]*/([a-z-]+)|dovecot)(\[\d+\])?: (([a-z0-9-]+)[:(])?`)

func familyOf(line string) string {
	m := familyRE.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if m[1] == "dovecot" {
		if m[5] != "" {
			return "dovecot/" + m[5]
		}
		return "dovecot"
	}
	return "postfix/" + m[2]
}

// TestCorpusCoverage is the corpus-coverage figure: at least 99% of the
// corpus lines written by Postfix or Dovecot get a kind other than unknown.
// `make corpus-coverage` runs it verbosely to print the table per family.
func TestCorpusCoverage(t *testing.T) {
	type count struct{ lines, unknown int }
	per := map[string]*count{}
	var total count
	p := &Parser{}
	for _, path := range corpusLogs(t) {
		for _, line := range readLines(t, path) {
			fam := familyOf(line)
			if fam == "" {
				continue
			}
			c := per[fam]
			if c == nil {
				c = &count{}
				per[fam] = c
			}
			c.lines++
			total.lines++
			if e := p.Parse(line, testRef); e.Kind == KindUnknown {
				c.unknown++
				total.unknown++
				if *showUnknown {
					fmt.Printf("%s\t%s\n", fam, line)
				}
			}
		}
	}
	fams := make([]string, 0, len(per))
	for f := range per {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "family\tlines\tunknown\tparsed %%\t\n")
	for _, f := range fams {
		c := per[f]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t\n", f, c.lines, c.unknown, 100*float64(c.lines-c.unknown)/float64(c.lines))
	}
	ratio := float64(total.lines-total.unknown) / float64(total.lines)
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%.2f\t\n", total.lines, total.unknown, 100*ratio)
	tw.Flush()
	t.Logf("corpus coverage per family:\n%s", sb.String())
	if total.lines < 5000 {
		t.Fatalf("only %d Postfix/Dovecot lines found in the corpus; is testdata/corpus complete?", total.lines)
	}
	if ratio < 0.99 {
		t.Errorf("%.2f%% of Postfix/Dovecot lines parsed, want at least 99%%", 100*ratio)
	}
}
