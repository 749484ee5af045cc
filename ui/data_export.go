package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/internal/xlsx"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// onExport asks where to save the page as CSV, or as an Excel workbook
// when the file name ends in .xlsx. The file holds every row of the
// current search, in the current order, with the table's columns.
func (p *dataPage) onExport() {
	askExportFile(p.ctl.screen, exportFileName(p.title, p.conn.Selected), p.startExport)
}

// askExportFile asks where to save an export named name, then calls start
// with the path to write (w nil), or with w when the dialog gave a
// location that is not a file.
func askExportFile(s *screen, name string, start func(path string, w io.WriteCloser)) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			s.prompt = showPrompt(s.win, "Export failed",
				fmt.Sprintf("The file cannot be created: %v. Choose a folder you may write to and try again.", err),
				promptButton{label: "OK", importance: widget.HighImportance})
			return
		}
		if w == nil {
			return // the administrator cancelled
		}
		if w.URI().Scheme() == "file" {
			// The dialog has created the file; write it ourselves, so
			// an interrupted export leaves the old file or nothing, and
			// the export (personal data) is readable only by its owner.
			w.Close()
			start(w.URI().Path(), nil)
			return
		}
		start(w.URI().String(), w)
	}, s.win)
	d.SetFileName(name)
	// The format goes by the name: the dialog has no format chooser, so
	// its title says how to get a workbook.
	d.SetTitleText("Save as CSV, or as an Excel workbook: end the name with .xlsx")
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv", ".xlsx"}))
	showFileDialog(d, s.win)
}

// reportExport says how an export went (Fyne goroutine).
func reportExport(s *screen, path string, n int, noun string, err error) {
	if err != nil {
		s.prompt = showPrompt(s.win, "Export failed",
			fmt.Sprintf("%s could not be written: %v.\n\nCheck that the folder exists, that you may write to it and that the disk "+
				"is not full, then export again. Any earlier file of that name was left as it was.", path, err),
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	s.prompt = showPrompt(s.win, "Export finished",
		fmt.Sprintf("Exported %s %s to %s.", count(n), noun, path),
		promptButton{label: "OK", importance: widget.HighImportance})
}

// writeExport writes an export to w when given (and closes it), else to
// the file at path, replaced only when complete.
func writeExport(path string, w io.WriteCloser, write func(io.Writer) (int, error)) (int, error) {
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		csv := write
		sheet := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		write = func(out io.Writer) (int, error) { return csv(xlsxOut{Writer: out, sheet: sheet}) }
	}
	if w != nil {
		n, err := write(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return n, err
	}
	return writeFileAtomic(path, write)
}

// exportFileName is the suggested file name: page and connection.
func exportFileName(page, conn string) string {
	name := strings.ToLower(page)
	if conn != "" {
		name = conn + " " + name
	}
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return '-'
		}
		return r
	}, name)
	return name + ".csv"
}

// startExport writes the page to path (or to w, when the dialog gave a
// non-file location) in the background and says how it went.
func (p *dataPage) startExport(path string, w io.WriteCloser) {
	src, connID, q, store := p.src, p.connID, p.q, p.ctl.store
	q.Limit, q.Offset = 0, 0
	p.export.Disable()
	go func() {
		n, err := writeExport(path, w, func(out io.Writer) (int, error) {
			return exportCSV(context.Background(), store, src, connID, q, out)
		})
		doUI(func() {
			p.export.Enable()
			reportExport(p.ctl.screen, path, n, p.src.noun(), err)
			p.exported.land(p.gen, q, connID, n, err)
		})
	}()
}

// writeFileAtomic writes beside path and renames the file over path when
// complete, so an interrupted export leaves the old file or nothing.
func writeFileAtomic(path string, write func(io.Writer) (int, error)) (int, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("create a file in %s: %w", dir, err)
	}
	// Exports hold names and addresses: owner-only.
	_ = f.Chmod(0o600)
	n, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}

// exportCSV streams the rows q selects as CSV, with the page's column
// titles as the header: rows go from the database to the file one by one,
// so a 100,000-user export never holds them all.
func exportCSV(ctx context.Context, store *inventory.Store, src dataSource, connID string, q inventory.Query, out io.Writer) (int, error) {
	cols := src.columns()
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.title
	}
	// Pages whose figures count from the snapshot's activity date carry
	// it in a last column, so a file read later says what it was judged by.
	asOf, withAsOf := "", false
	if _, ok := src.(activitySource); ok {
		var run inventory.Run
		var err error
		if q.RunID != 0 {
			run, err = store.Run(ctx, q.RunID) // the snapshot the page shows
		} else {
			run, err = src.snapshot(ctx, store, connID)
		}
		if err != nil {
			return 0, err
		}
		asOf, withAsOf = run.ActivityAsOf, true
		head = append(head, "Activity As Of")
	}
	return writeCSV(out, head, func(row func([]string) error) error {
		return src.each(ctx, store, connID, q, func(cells []string) error {
			if withAsOf {
				cells = append(cells, asOf)
			}
			return row(cells)
		})
	})
}

// xlsxOut is the destination of an export saved under a name ending in
// .xlsx (writeExport): writeCSV, which every export of the window goes
// through, writes an Excel workbook to it instead (issue 17), one sheet
// named after the file.
type xlsxOut struct {
	io.Writer
	sheet string
}

// writeCSV writes head and the rows each gives as CSV for a spreadsheet,
// each cell defused (a name starting with = is not a formula), and counts
// the rows; to an xlsxOut, as a workbook, whose text is never a formula.
func writeCSV(out io.Writer, head []string, each func(row func([]string) error) error) (int, error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	var header, row func([]string) error
	var finish func() error
	if x, ok := out.(xlsxOut); ok {
		xw, err := xlsx.NewWriter(bw, x.sheet)
		if err != nil {
			return 0, err
		}
		header, row, finish = xw.Row, xw.Row, xw.Close
	} else {
		// For a spreadsheet: the byte-order mark Excel needs to read UTF-8
		// ("Núñez"), CRLF line ends on Windows (issues 23 and 24).
		cw, err := csvsafe.NewWriter(bw, csvsafe.ForSpreadsheets())
		if err != nil {
			return 0, err
		}
		header = cw.Write
		row = func(cells []string) error {
			for i, c := range cells {
				cells[i] = csvsafe.Cell(c)
			}
			return cw.Write(cells)
		}
		finish = func() error { cw.Flush(); return cw.Error() }
	}
	if err := header(head); err != nil {
		return 0, err
	}
	n := 0
	err := each(func(cells []string) error {
		n++
		return row(cells)
	})
	if err != nil {
		return n, err
	}
	if err := finish(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
