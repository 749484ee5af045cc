package csvsafe

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MissingColumnError says a file's header lacks a column a reader needs.
type MissingColumnError struct{ Column string }

func (e *MissingColumnError) Error() string {
	return fmt.Sprintf("the header has no column %q", e.Column)
}

// LineError is a problem with one line of a file (1-based, as an editor
// numbers them).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrEmpty is a file without even a header.
var ErrEmpty = errors.New("the file is empty")

// ReadTable reads a CSV file whose first line names its columns, as
// spreadsheets and Microsoft's downloads write them: a UTF-8 byte-order
// mark, columns in any order, names compared without case, blank lines
// skipped. row gets each line's number and its fields by column name
// (trimmed; "" for a column the line lacks); its error stops the reading,
// wrapped in a *LineError. A required column missing from the header is a
// *MissingColumnError.
func ReadTable(r io.Reader, required []string, row func(line int, field func(column string) string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return ErrEmpty
	}
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, c := range required {
		if _, ok := col[strings.ToLower(c)]; !ok {
			return &MissingColumnError{Column: c}
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A *csv.ParseError names its own line (FieldPos has no
			// record to look at then).
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &LineError{Line: pe.Line, Err: pe.Err}
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		blank := true
		for _, f := range rec {
			blank = blank && strings.TrimSpace(f) == ""
		}
		if blank {
			continue
		}
		field := func(name string) string {
			if i, ok := col[strings.ToLower(name)]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if err := row(line, field); err != nil {
			return &LineError{Line: line, Err: err}
		}
	}
}
