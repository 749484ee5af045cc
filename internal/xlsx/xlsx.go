// Package xlsx writes a workbook of one sheet, row by row, in the Office
// Open XML format Excel and LibreOffice open (issue 17: every list
// exportable as XLSX beside CSV). It is the smallest correct writer the
// exports need: text in inline strings (no shared-string table, so rows
// stream straight into the zip without being held), whole numbers as
// numbers, a bold header row, no formulas ever (a cell starting with "="
// is text, which is what makes CSV exports need escaping).
package xlsx

import (
	"archive/zip"
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxCellRunes is the most characters Excel keeps in a cell; longer
// texts are cut there (Excel would refuse the file).
const MaxCellRunes = 32767

// MaxRows is the most rows a sheet may have.
const MaxRows = 1048576

// ErrTooManyRows is returned by Row past MaxRows.
var ErrTooManyRows = errors.New("xlsx: a sheet holds at most 1,048,576 rows")

// Writer writes one sheet. Call Row for the header and each row, then
// Close, which finishes the file (it does not close the io.Writer).
type Writer struct {
	zw   *zip.Writer
	w    *bufio.Writer
	rows int
	err  error
}

// NewWriter starts a workbook on w whose one sheet is named sheet (at
// most 31 characters, none of []:*?/\, as Excel requires).
func NewWriter(w io.Writer, sheet string) (*Writer, error) {
	x := &Writer{zw: zip.NewWriter(w)}
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", xmlHead + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
			`</Types>`},
		{"_rels/.rels", xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
			`</Relationships>`},
		{"xl/workbook.xml", xmlHead + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="` + escape(sheetName(sheet)) + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`</Relationships>`},
		// Style 0 is plain, style 1 bold (the header).
		{"xl/styles.xml", xmlHead + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			`<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>` +
			`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
			`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
			`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
			`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
			`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
			`</styleSheet>`},
	}
	for _, p := range parts {
		f, err := x.zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return nil, err
		}
	}
	f, err := x.zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, err
	}
	x.w = bufio.NewWriterSize(f, 64<<10)
	// The header row stays in view while scrolling.
	_, err = x.w.WriteString(xmlHead + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>` +
		`<sheetData>`)
	return x, err
}

const xmlHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

// Row adds a row; the first one is the header, in bold.
func (x *Writer) Row(cells []string) error {
	if x.err != nil {
		return x.err
	}
	if x.rows == MaxRows {
		return ErrTooManyRows
	}
	x.rows++
	n := strconv.Itoa(x.rows)
	b := x.w
	b.WriteString(`<row r="` + n + `">`)
	for i, c := range cells {
		ref := Column(i) + n
		switch {
		case x.rows == 1:
			b.WriteString(`<c r="` + ref + `" s="1" t="inlineStr"><is><t xml:space="preserve">` + escape(cut(c)) + `</t></is></c>`)
		case c == "":
			// An empty cell is left out.
		case isNumber(c):
			b.WriteString(`<c r="` + ref + `"><v>` + c + `</v></c>`)
		default:
			b.WriteString(`<c r="` + ref + `" t="inlineStr"><is><t xml:space="preserve">` + escape(cut(c)) + `</t></is></c>`)
		}
	}
	_, x.err = b.WriteString(`</row>`)
	return x.err
}

// Close ends the sheet and the file.
func (x *Writer) Close() error {
	if x.err != nil {
		return x.err
	}
	if _, err := x.w.WriteString(`</sheetData></worksheet>`); err != nil {
		return err
	}
	if err := x.w.Flush(); err != nil {
		return err
	}
	return x.zw.Close()
}

// Column is the letters of a 0-based column: A … Z, AA …
func Column(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// isNumber: a whole number written as Excel would show it back (no
// leading zeros or plus sign, at most 15 digits, Excel's precision), so
// identifiers like "00123" stay text.
func isNumber(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 15 || (len(d) > 1 && d[0] == '0') || d == "0" && s != d {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// cut keeps a text within MaxCellRunes.
func cut(s string) string {
	if len(s) <= MaxCellRunes || utf8.RuneCountInString(s) <= MaxCellRunes {
		return s
	}
	r := []rune(s)
	return string(r[:MaxCellRunes])
}

// escape makes s XML text, leaving out the characters XML 1.0 cannot
// hold (control characters but tab and line breaks, lone surrogates as
// Go has replaced them, U+FFFE and U+FFFF), which Excel would reject.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
			// not allowed in XML
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sheetName is name as Excel allows a sheet to be named.
func sheetName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	if name == "" {
		name = "Sheet1"
	}
	return name
}
