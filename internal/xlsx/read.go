package xlsx

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"strings"
)

// ReadFile reads the first sheet of a workbook this package wrote back as
// rows of text, the way a spreadsheet shows them: numbers as written,
// left-out cells empty. It reads inline strings only (no shared-string
// table), which is what Writer writes; the exports' tests check their
// files with it.
func ReadFile(path string) ([][]string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %s is not a workbook: %w", path, err)
	}
	defer zr.Close()
	f, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, fmt.Errorf("xlsx: %s: %w", path, err)
	}
	defer f.Close()
	var ws struct {
		Rows []struct {
			Cells []struct {
				Ref    string `xml:"r,attr"`
				Value  string `xml:"v"`
				Inline string `xml:"is>t"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.NewDecoder(f).Decode(&ws); err != nil {
		return nil, fmt.Errorf("xlsx: %s: %w", path, err)
	}
	out := make([][]string, 0, len(ws.Rows))
	for _, r := range ws.Rows {
		var row []string
		for _, c := range r.Cells {
			col := 0
			for _, ch := range strings.TrimRight(c.Ref, "0123456789") {
				col = col*26 + int(ch-'A') + 1
			}
			for len(row) < col-1 {
				row = append(row, "")
			}
			row = append(row, c.Value+c.Inline)
		}
		out = append(out, row)
	}
	return out, nil
}
