package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/parser"
)

// parsedLine is what `exporter parse` prints: the input line number and the
// Event's fields, flattened into one object.
type parsedLine struct {
	Line int `json:"line"`
	event.Event
}

func parseCommand(app *kingpin.Application, stdin io.Reader, stdout, stderr io.Writer) (string, func() error) {
	cmd := app.Command("parse", "Parse log lines from FILE or stdin and print one JSON event per line; with --summary, how many lines of each program mailtrail understood and the shapes of those it did not.")
	tz := cmd.Flag("log.timezone", "IANA time zone of timestamps that carry none (RFC 3164).").Default("Local").String()
	instance := cmd.Flag("instance", "Postfix instance name copied into every event.").Default("").String()
	summary := cmd.Flag("summary", "Print, per program, how many lines got a kind and the most common shapes (values masked) of those that did not, instead of the events. Reads every FILE (plain or .gz).").Bool()
	top := new(int)
	intVar(cmd.Flag("summary.top", "Unparsed shapes listed per program with --summary.").Default("10"), top)
	files := cmd.Arg("file", "Log file to read; stdin when absent or '-'. --summary reads several.").Strings()
	return cmd.FullCommand(), func() error {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fail(2, "--log.timezone=%q: %v", *tz, err)
		}
		p := &parser.Parser{Instance: *instance, Location: loc}
		if *summary {
			if *top < 0 {
				return fail(2, "--summary.top=%d: must not be negative", *top)
			}
			return parseSummaryCommand(p, *files, *top, stdin, stdout)
		}
		if len(*files) > 1 {
			return fail(2, "one FILE at a time (or --summary for several)")
		}
		file := ""
		if len(*files) == 1 {
			file = (*files)[0]
		}
		in := stdin
		if file != "" && file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return fail(1, "%v", err)
			}
			defer f.Close()
			in = f
		}
		if err := parseStream(p, in, stdout, time.Now()); err != nil {
			return fail(1, "%v", err)
		}
		return nil
	}
}

// parseStream parses every line of r and writes one JSON object per line.
// Lines of any length are read whole; the parser itself decides what is too
// long to interpret.
func parseStream(p *parser.Parser, r io.Reader, w io.Writer, ref time.Time) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	out := parsedLine{}
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			out.Line = n
			p.ParseInto(&out.Event, line, ref)
			if err := enc.Encode(&out); err != nil {
				return fmt.Errorf("write event for line %d: %w", n, err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read line %d: %w", n, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}
