// Package csvsafe keeps exported CSV files from running as spreadsheet
// formulas (CSV injection), for every export the app writes.
package csvsafe

import "strconv"

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
