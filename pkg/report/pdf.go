package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// PDF layout, in millimetres on landscape A4: wide enough for the
// delivery timeline's twelve columns at a size still legible on paper.
const (
	pdfMargin   = 10.0
	pdfBottom   = 14.0 // the footer sits in it
	pdfFont     = "Helvetica"
	pdfCellSize = 7.0 // points
	pdfLine     = 3.2 // height of a line of a table cell
	pdfMaxCol   = 70.0
)

// writePDF renders d as a paginated PDF: the title and the query on the
// first page, each table with its header repeated on every page it spans,
// and on every page's foot the checkpoint the report is tied to and its
// root hash, so that a printed page still names what proves it. The
// output depends only on d (its dates come from d.Generated), so a
// verifier rendering the same report gets the same bytes.
func writePDF(w io.Writer, d *Doc) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, pdfBottom)
	pdf.SetCreationDate(d.Generated.UTC())
	pdf.SetModificationDate(d.Generated.UTC())
	pdf.SetCatalogSort(true)
	pdf.SetProducer("mailtrail "+d.Version, true)
	pdf.SetTitle(d.Title, true)
	pdf.AliasNbPages("{nb}")
	// The core fonts are Windows-1252: what a log line holds beyond it
	// prints as '?' (the CSV and JSON keep it exactly).
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	footer := "No signed checkpoint in the journal."
	if c := d.Checkpoint; c != nil {
		what := "Newest journal checkpoint"
		if c.Proved {
			what = "Proved against checkpoint"
		}
		footer = fmt.Sprintf("%s %s: %d events, root %s", what, c.Origin, c.Size, c.Root)
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfBottom + 4)
		pdf.SetFont(pdfFont, "", 7)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 4, tr(footer), "T", 0, "L", false, 0, "")
		pdf.SetX(pdfMargin)
		pdf.CellFormat(0, 4, fmt.Sprintf("%s, page %d of {nb}", tr(d.Title), pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	pdf.SetFont(pdfFont, "B", 14)
	pdf.CellFormat(0, 8, tr(d.Title), "", 1, "L", false, 0, "")
	pdf.SetFont(pdfFont, "", 8)
	params := append([]Param(nil), d.Params...)
	if !d.Generated.IsZero() {
		params = append(params, Param{"Generated", fmtTime(d.Generated) + " UTC"})
	}
	for _, p := range params {
		pdf.SetFont(pdfFont, "B", 8)
		pdf.CellFormat(25, 4, tr(p.Name+":"), "", 0, "L", false, 0, "")
		pdf.SetFont(pdfFont, "", 8)
		pdf.MultiCell(0, 4, tr(p.Value), "", "L", false)
	}
	for i := range d.Tables {
		pdfTable(pdf, tr, &d.Tables[i])
	}
	return pdf.Output(w)
}

// pdfTable writes t, wrapping long cells within their column and starting
// a new page, with the header again, where a row does not fit.
func pdfTable(pdf *fpdf.Fpdf, tr func(string) string, t *Table) {
	pageW, pageH := pdf.GetPageSize()
	avail := pageW - 2*pdfMargin
	pdf.Ln(3)
	if pdf.GetY()+20 > pageH-pdfBottom {
		pdf.AddPage()
	}
	pdf.SetFont(pdfFont, "B", 10)
	pdf.CellFormat(0, 6, tr(t.Title), "", 1, "L", false, 0, "")
	if len(t.Rows) == 0 {
		pdf.SetFont(pdfFont, "I", 8)
		pdf.CellFormat(0, 5, tr(t.Empty), "", 1, "L", false, 0, "")
		return
	}
	// Columns get the width of their widest cell (capped); when the table
	// is wider than the page, only the widest are narrowed.
	widths := make([]float64, len(t.Columns))
	pdf.SetFont(pdfFont, "B", pdfCellSize)
	for i, c := range t.Columns {
		widths[i] = pdf.GetStringWidth(c.Name) + 2
	}
	pdf.SetFont(pdfFont, "", pdfCellSize)
	for _, r := range t.Rows {
		for i, cell := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], min(pdf.GetStringWidth(cell)+2, pdfMaxCol))
			}
		}
	}
	fitWidths(widths, avail)
	header := func() {
		pdf.SetFont(pdfFont, "B", pdfCellSize)
		pdf.SetFillColor(225, 225, 225)
		for i, c := range t.Columns {
			align := "L"
			if c.Numeric {
				align = "R"
			}
			pdf.CellFormat(widths[i], pdfLine+1, tr(c.Name), "1", 0, align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont(pdfFont, "", pdfCellSize)
	}
	header()
	for ri, r := range t.Rows {
		lines := make([][]string, len(t.Columns))
		n := 1
		for i := range t.Columns {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			// Split before translating: SplitText measures UTF-8.
			lines[i] = pdf.SplitText(cell, widths[i])
			n = max(n, len(lines[i]))
		}
		h := float64(n) * pdfLine
		if pdf.GetY()+h > pageH-pdfBottom {
			pdf.AddPage()
			header()
		}
		x, y := pdf.GetX(), pdf.GetY()
		fill := ri < len(t.Marked) && t.Marked[ri]
		if fill {
			pdf.SetFillColor(255, 215, 215)
		}
		for i, c := range t.Columns {
			align := "L"
			if c.Numeric {
				align = "R"
			}
			pdf.Rect(x, y, widths[i], h, map[bool]string{true: "FD", false: "D"}[fill])
			for k, l := range lines[i] {
				pdf.SetXY(x, y+float64(k)*pdfLine)
				pdf.CellFormat(widths[i], pdfLine, tr(strings.TrimRight(l, " ")), "", 0, align, false, 0, "")
			}
			x += widths[i]
		}
		pdf.SetXY(pdfMargin, y+h)
	}
}

// fitWidths narrows the widest columns to one common width, the largest
// that fits the table in avail: a time or a queue id keeps its one line,
// and a reply text wraps.
func fitWidths(widths []float64, avail float64) {
	total := 0.0
	for _, w := range widths {
		total += w
	}
	if total <= avail {
		return
	}
	sorted := slices.Sorted(slices.Values(widths))
	// With the k narrowest kept, the others share what is left.
	kept := 0.0
	for k, w := range sorted {
		c := (avail - kept) / float64(len(sorted)-k)
		if w >= c {
			for i := range widths {
				widths[i] = min(widths[i], c)
			}
			return
		}
		kept += w
	}
}
