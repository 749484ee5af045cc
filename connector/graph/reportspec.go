package graph

import (
	"strconv"
	"strings"
)

// ReportSpec says which usage report to download and how to cut its CSV
// into rows: the importer builds it from the inventory's description of
// the report (the client does not know how rows are stored).
type ReportSpec struct {
	Title    string // for messages
	Function string // the path segment after /reports/, with its parameters
	// Columns are the columns kept typed, in the order of a row's Cells;
	// columns the CSV has and these do not name land in the row's Extras.
	Columns []ReportColumn
}

// ReportColumn is a column known by its CSV header.
type ReportColumn struct {
	Header string
	Type   CellType
}

// CellType is how a report cell's text is parsed (ParseCell).
type CellType int

const (
	CellText CellType = iota
	CellDate          // YYYY-MM-DD (a time part is dropped)
	CellBool          // True/False (also Yes/No, any case)
	CellInt           // a decimal count
)

// Column returns the index of the column with the given header, or -1.
func (s ReportSpec) Column(header string) int {
	for i, c := range s.Columns {
		if strings.EqualFold(c.Header, header) {
			return i
		}
	}
	return -1
}

// ReportRow is one row of a usage report. Cells are aligned with the
// spec's Columns and hold normalised text (ParseCell): dates YYYY-MM-DD,
// booleans True/False, counts in decimal, "" for empty or missing columns.
type ReportRow struct {
	Cells []string
	// Extras holds columns the spec does not know (by header) and values
	// of known columns that did not parse, so nothing Microsoft sends is
	// lost.
	Extras map[string]string
}

// ParseCell parses a report value of the given type into its normalised
// text; ok is false when the text is not a valid value of the type.
func ParseCell(t CellType, v string) (norm string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	switch t {
	case CellDate:
		// Microsoft writes YYYY-MM-DD; tolerate a time part.
		d := v
		if len(d) > 10 && (d[10] == 'T' || d[10] == ' ') {
			d = d[:10]
		}
		if !isDate(d) {
			return v, false
		}
		return d, true
	case CellBool:
		// Microsoft writes True and False; other spellings are rare.
		if v == "True" || v == "False" {
			return v, true
		}
		switch strings.ToLower(v) {
		case "true", "yes":
			return "True", true
		case "false", "no":
			return "False", true
		}
		return v, false
	case CellInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v, false
		}
		return strconv.FormatInt(n, 10), true
	}
	return v, true
}

// isDate says whether d is what time.Parse("2006-01-02", d) accepts,
// without its layout parsing (a 100,000-user import checks over a million
// report dates).
func isDate(d string) bool {
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return false
	}
	for i, c := range []byte(d) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	y := int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	m := int(d[5]-'0')*10 + int(d[6]-'0')
	day := int(d[8]-'0')*10 + int(d[9]-'0')
	if m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return day <= days
}
