package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
	"github.com/mailtrail/mailtrail/pkg/shape"
)

// parseSummaryCommand runs `exporter parse --summary FILE...`.
func parseSummaryCommand(p *parser.Parser, files []string, top int, stdin io.Reader, stdout io.Writer) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	s := newParseSummary()
	ref := time.Now()
	for _, name := range files {
		if err := s.readFile(p, name, stdin, ref); err != nil {
			return fail(1, "%v", err)
		}
	}
	if err := s.write(stdout, top); err != nil {
		return fail(1, "%v", err)
	}
	return nil
}

// parseSummary counts, per program, the lines that got a kind and the
// shapes of those that did not: what an operator checks before trusting
// mailtrail with a log, and pastes into a bug report.
type parseSummary struct {
	files, lines, typed int
	programs            map[string]*programSummary
}

type programSummary struct {
	name          string
	lines, typed  int
	shapes        map[string]int
	unparsedLines int
}

func newParseSummary() *parseSummary {
	return &parseSummary{programs: map[string]*programSummary{}}
}

// readFile reads one file ("-": stdin; a .gz name is decompressed).
func (s *parseSummary) readFile(p *parser.Parser, name string, stdin io.Reader, ref time.Time) error {
	in := stdin
	label := "stdin"
	if name != "-" {
		label = name
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
		if strings.HasSuffix(name, ".gz") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			defer gz.Close()
			in = gz
		}
	}
	s.files++
	br := bufio.NewReaderSize(in, 64<<10)
	var e event.Event
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			p.ParseInto(&e, line, ref)
			s.add(&e)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: read line %d: %w", label, n, err)
		}
	}
}

// programOf names the program a line came from as the summary groups
// lines: the syslog ident without its pid (Dovecot's process after
// "dovecot/").
func programOf(e *event.Event) string {
	switch {
	case e.Program == "" && e.Service == "":
		if e.Time.IsZero() {
			return "(no syslog header)"
		}
		return "(no program)"
	case e.Service == "" || e.Service == e.Program:
		return e.Program
	}
	return e.Service + "/" + e.Program
}

func (s *parseSummary) add(e *event.Event) {
	name := programOf(e)
	ps := s.programs[name]
	if ps == nil {
		ps = &programSummary{name: name, shapes: map[string]int{}}
		s.programs[name] = ps
	}
	s.lines++
	ps.lines++
	if e.Kind != event.KindUnknown {
		s.typed++
		ps.typed++
		return
	}
	ps.unparsedLines++
	ps.shapes[shape.OfLine(e.Raw)]++
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func percent(part, whole int) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// write prints the table of programs (most lines first), then each
// program's unparsed shapes, most common first, top of them.
func (s *parseSummary) write(w io.Writer, top int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s read from %s: %d typed (%s), %d unparsed\n\n",
		plural(s.lines, "line"), plural(s.files, "file"), s.typed, percent(s.typed, s.lines), s.lines-s.typed)
	progs := make([]*programSummary, 0, len(s.programs))
	for _, ps := range s.programs {
		progs = append(progs, ps)
	}
	sort.Slice(progs, func(i, j int) bool {
		if progs[i].lines != progs[j].lines {
			return progs[i].lines > progs[j].lines
		}
		return progs[i].name < progs[j].name
	})
	// Names left, counts right: columns as wide as their widest entry.
	nameW, numW := len("PROGRAM"), len("UNPARSED")
	for _, ps := range progs {
		nameW = max(nameW, len(ps.name))
		numW = max(numW, len(fmt.Sprint(ps.lines)))
	}
	fmt.Fprintf(bw, "%-*s  %*s  %*s  %*s\n", nameW, "PROGRAM", numW, "LINES", numW, "TYPED", numW, "UNPARSED")
	for _, ps := range progs {
		fmt.Fprintf(bw, "%-*s  %*d  %*d  %*d\n", nameW, ps.name, numW, ps.lines, numW, ps.typed, numW, ps.unparsedLines)
	}
	for _, ps := range progs {
		if ps.unparsedLines == 0 {
			continue
		}
		shapes := make([]string, 0, len(ps.shapes))
		for sh := range ps.shapes {
			shapes = append(shapes, sh)
		}
		sort.Slice(shapes, func(i, j int) bool {
			a, b := ps.shapes[shapes[i]], ps.shapes[shapes[j]]
			if a != b {
				return a > b
			}
			return shapes[i] < shapes[j]
		})
		fmt.Fprintf(bw, "\nunparsed %s: %s in %s\n", ps.name, plural(ps.unparsedLines, "line"), plural(len(shapes), "shape"))
		shown := shapes[:min(top, len(shapes))]
		width := len(fmt.Sprint(ps.shapes[shapes[0]]))
		for _, sh := range shown {
			fmt.Fprintf(bw, "  %*d  %s\n", width, ps.shapes[sh], sh)
		}
		if rest := shapes[len(shown):]; len(rest) > 0 {
			n := 0
			for _, sh := range rest {
				n += ps.shapes[sh]
			}
			fmt.Fprintf(bw, "  ... %s (%s)\n", plural(len(rest), "more shape"), plural(n, "line"))
		}
	}
	return bw.Flush()
}
