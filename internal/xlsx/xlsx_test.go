package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// sheetCell is a cell as read back: its reference, type and text.
type sheetCell struct {
	Ref    string `xml:"r,attr"`
	Type   string `xml:"t,attr"`
	Style  string `xml:"s,attr"`
	Value  string `xml:"v"`
	Inline string `xml:"is>t"`
}

// readBack opens the file as a spreadsheet program would: every part must
// be well-formed XML; it returns the sheet's cells by reference and the
// sheet's name.
func readBack(t *testing.T, data []byte) (map[string]sheetCell, string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed XML: %v", f.Name, err)
			}
		}
		parts[f.Name] = b
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"} {
		if parts[name] == nil {
			t.Fatalf("part %s missing", name)
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(parts["xl/workbook.xml"], &wb); err != nil || len(wb.Sheets) != 1 {
		t.Fatalf("workbook: %v %+v", err, wb)
	}
	var ws struct {
		Rows []struct {
			R     string      `xml:"r,attr"`
			Cells []sheetCell `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.Unmarshal(parts["xl/worksheets/sheet1.xml"], &ws); err != nil {
		t.Fatal(err)
	}
	cells := map[string]sheetCell{}
	for _, r := range ws.Rows {
		for _, c := range r.Cells {
			if !strings.HasSuffix(c.Ref, r.R) {
				t.Fatalf("cell %s in row %s", c.Ref, r.R)
			}
			cells[c.Ref] = c
		}
	}
	return cells, wb.Sheets[0].Name
}

func TestWorkbookReadsBack(t *testing.T) {
	var buf bytes.Buffer
	x, err := NewWriter(&buf, "Users: [all]")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", MaxCellRunes+10)
	rows := [][]string{
		{"Display Name", "Seats", "Note"},
		{"Núñez <Ana> & \"Co\"", "42", "=HYPERLINK(\"x\")"},
		{"  padded  ", "00123", "tab\there\nline\x01bell"},
		{"", "-7", long},
		{"0", "-0", "12345678901234567890"},
	}
	for _, r := range rows {
		if err := x.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	cells, sheet := readBack(t, buf.Bytes())
	if sheet != "Users_ _all_" {
		t.Errorf("sheet name %q", sheet)
	}
	text := func(ref string) string {
		c := cells[ref]
		if c.Type == "inlineStr" {
			return c.Inline
		}
		return c.Value
	}
	want := map[string]string{
		"A1": "Display Name", "B1": "Seats", "C1": "Note",
		"A2": "Núñez <Ana> & \"Co\"", "B2": "42", "C2": "=HYPERLINK(\"x\")",
		"A3": "  padded  ", "B3": "00123", "C3": "tab\there\nlinebell",
		"B4": "-7", "A5": "0", "B5": "-0", "C5": "12345678901234567890",
	}
	for ref, w := range want {
		if got := text(ref); got != w {
			t.Errorf("%s = %q, want %q", ref, got, w)
		}
	}
	if cells["A1"].Style != "1" || cells["A2"].Style != "" {
		t.Error("the header row is bold, the others plain")
	}
	// Whole numbers are numbers; identifiers with leading zeros, "-0"
	// and numbers beyond Excel's 15 digits stay text, as do formulas.
	for ref, number := range map[string]bool{"B2": true, "B4": true, "A5": true, "B3": false, "B5": false, "C5": false, "C2": false} {
		if got := cells[ref].Type != "inlineStr"; got != number {
			t.Errorf("%s number %v, want %v", ref, got, number)
		}
	}
	if _, ok := cells["A4"]; ok {
		t.Error("an empty cell is written")
	}
	if got := []rune(text("C4")); len(got) != MaxCellRunes {
		t.Errorf("a long text keeps %d characters, want %d", len(got), MaxCellRunes)
	}
}

func TestColumn(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := Column(i); got != want {
			t.Errorf("Column(%d) = %s, want %s", i, got, want)
		}
	}
}
