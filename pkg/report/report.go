// Package report renders the journal's audit reports — the pflogsumm-style
// summary, the delivery timeline, the login history and message traces —
// as a terminal table, CSV, JSON or one self-contained HTML file that a
// compliance officer can attach to a ticket.
//
// The summary and the delivery timeline are computed here from
// journal.Scan; the login history and traces come from pkg/query, so the
// CLI and the HTTP API give the same answers.
package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the output formats, in the order --help lists them.
var Formats = []string{"table", "csv", "json", "html", "pdf"}

// Doc is a rendered report: a title, the parameters it was made with, and
// its tables. Data is what the JSON format writes: the typed result, so
// that scripts get numbers, not strings.
type Doc struct {
	Kind      string // summary, deliveries, logins, trace
	Title     string
	Generated time.Time
	Version   string // of mailtrail, for the HTML footer
	Params    []Param
	Tables    []Table
	Data      any
	// Checkpoint is the signed checkpoint the report is tied to, shown on
	// every page of a PDF; nil when the journal has none.
	Checkpoint *Checkpoint
}

// Checkpoint names a signed checkpoint of the journal.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   string // hex
	// Proved says the report's events are proved against it (an evidence
	// bundle); otherwise it is only the journal's newest.
	Proved bool
}

// Param is one line of a report's header ("Range", "2026-01-01 ... ").
type Param struct {
	Name, Value string
}

// Table is one section of a report.
type Table struct {
	Title   string
	Columns []Column
	Rows    [][]string
	// Marked rows are highlighted (an address on the threat list).
	Marked []bool
	// Empty is said instead of an empty table.
	Empty string
}

// Column is a table column; numeric columns are right-aligned.
type Column struct {
	Name    string
	Numeric bool
}

func (t *Table) add(marked bool, cells ...string) {
	t.Rows = append(t.Rows, cells)
	t.Marked = append(t.Marked, marked)
}

func cols(names ...string) []Column {
	cs := make([]Column, len(names))
	for i, n := range names {
		// A leading '#' marks a numeric column.
		cs[i] = Column{Name: strings.TrimPrefix(n, "#"), Numeric: strings.HasPrefix(n, "#")}
	}
	return cs
}

// Write renders d in format (one of Formats).
func Write(w io.Writer, d *Doc, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "table":
		err = writeTable(bw, d)
	case "csv":
		err = writeCSV(bw, d)
	case "json":
		err = writeJSON(bw, d)
	case "html":
		err = writeHTML(bw, d)
	case "pdf":
		err = writePDF(bw, d)
	default:
		return fmt.Errorf("unknown report format %q (one of %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeTable(w io.Writer, d *Doc) error {
	fmt.Fprintf(w, "%s\n%s\n", d.Title, strings.Repeat("=", len(d.Title)))
	for _, p := range d.Params {
		fmt.Fprintf(w, "%-10s %s\n", p.Name+":", p.Value)
	}
	for _, t := range d.Tables {
		fmt.Fprintf(w, "\n%s\n%s\n", t.Title, strings.Repeat("-", len(t.Title)))
		if len(t.Rows) == 0 {
			fmt.Fprintf(w, "%s\n", t.Empty)
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, c := range t.Columns {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, strings.ToUpper(c.Name))
		}
		fmt.Fprintln(tw)
		for i, r := range t.Rows {
			cells := r
			if t.Marked[i] {
				// No colour on a terminal report: it may be pasted
				// into a ticket. A star is visible everywhere.
				cells = append([]string(nil), r...)
				cells[0] = "*" + cells[0]
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeCSV writes one CSV block per table. A report of one table is plain
// CSV (header, rows); a report of several separates them by a line naming
// the table ("# Top senders"), which spreadsheet programs show as a row.
func writeCSV(w io.Writer, d *Doc) error {
	cw := csv.NewWriter(w)
	for i, t := range d.Tables {
		if len(d.Tables) > 1 {
			if i > 0 {
				cw.Flush()
				fmt.Fprintln(w)
			}
			cw.Flush()
			fmt.Fprintf(w, "# %s\n", t.Title)
		}
		head := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			head[i] = c.Name
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, d *Doc) error {
	params := map[string]string{}
	for _, p := range d.Params {
		params[strings.ToLower(strings.ReplaceAll(p.Name, " ", "_"))] = p.Value
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Report     string            `json:"report"`
		Generated  time.Time         `json:"generated"`
		Parameters map[string]string `json:"parameters"`
		Result     any               `json:"result"`
	}{d.Kind, d.Generated.UTC(), params, d.Data})
}

// fmtTime is how reports print a time: UTC, to the second, sortable.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func itoa(n int) string { return fmt.Sprint(n) }

// fmtBytes prints a byte count as pflogsumm does: plain under 1 MB, then
// with a k/m/g suffix (decimal, as mail sizes are quoted).
func fmtBytes(n int64) string {
	switch {
	case n < 1_000_000:
		return fmt.Sprint(n)
	case n < 1_000_000_000:
		return fmt.Sprintf("%dk", n/1000)
	case n < 1_000_000_000_000:
		return fmt.Sprintf("%dm", n/1_000_000)
	}
	return fmt.Sprintf("%dg", n/1_000_000_000)
}
