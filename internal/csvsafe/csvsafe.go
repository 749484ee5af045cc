// Package csvsafe keeps exported CSV files from running as spreadsheet
// formulas (CSV injection), and lays them out for the program that opens
// them (byte-order mark, line ends), for every export the app writes.
package csvsafe

import (
	"encoding/csv"
	"io"
	"runtime"
	"strconv"
)

// Cell returns s as it is safe to write into a CSV cell. Directory fields
// such as display names are typed by users, and a cell starting with "=",
// "+", "-", "@", a tab or a carriage return would run as a formula when the
// export is opened in a spreadsheet; such a cell gets a leading quote.
// Numbers ("-5", "+1.5") stay as they are so that they remain numbers.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s
		}
		return "'" + s
	}
	return s
}

// BOM is the UTF-8 byte-order mark. Excel on Windows reads a CSV file
// without it in the machine's ANSI code page, so "Núñez" comes out as
// "NÃºÃ±ez"; with it, as UTF-8.
const BOM = "\ufeff"

// Format is how an export file is laid out for the program that opens it.
type Format struct {
	// BOM starts the file with the UTF-8 byte-order mark.
	BOM bool
	// CRLF ends lines with "\r\n" (Windows programs expect it) instead
	// of "\n".
	CRLF bool
}

// ForSpreadsheets is the layout for a file a person opens: the mark, so
// spreadsheets read UTF-8, and CRLF line ends on Windows.
func ForSpreadsheets() Format { return Format{BOM: true, CRLF: runtime.GOOS == "windows"} }

// ForScripts is the layout for a pipe into another program: no mark (a
// script would read it as part of the first header) and the platform's
// line ends.
func ForScripts() Format { return Format{CRLF: runtime.GOOS == "windows"} }

// NewWriter starts a CSV export in format f on w: it writes the mark when f
// asks for it and returns the CSV writer to write the records with.
func NewWriter(w io.Writer, f Format) (*csv.Writer, error) {
	if f.BOM {
		if _, err := io.WriteString(w, BOM); err != nil {
			return nil, err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = f.CRLF
	return cw, nil
}
