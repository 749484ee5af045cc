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
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// onExport asks where to save the page as CSV. The file holds every row
// of the current search, in the current order, with the table's columns.
func (p *dataPage) onExport() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			p.ctl.prompt = showPrompt(p.ctl.win, "Export failed",
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
			p.startExport(w.URI().Path(), nil)
			return
		}
		p.startExport(w.URI().String(), w)
	}, p.ctl.win)
	d.SetFileName(exportFileName(p.title, p.conn.Selected))
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
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
		var n int
		var err error
		if w != nil {
			n, err = exportCSV(context.Background(), store, src, connID, q, w)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		} else {
			n, err = exportCSVFile(context.Background(), store, src, connID, q, path)
		}
		doUI(func() {
			p.export.Enable()
			if err != nil {
				p.ctl.prompt = showPrompt(p.ctl.win, "Export failed",
					fmt.Sprintf("%s could not be written: %v.\n\nCheck that the folder exists, that you may write to it and that the disk "+
						"is not full, then export again. Any earlier file of that name was left as it was.", path, err),
					promptButton{label: "OK", importance: widget.HighImportance})
			} else {
				p.ctl.prompt = showPrompt(p.ctl.win, "Export finished",
					fmt.Sprintf("Exported %s %s to %s.", count(n), p.src.noun(), path),
					promptButton{label: "OK", importance: widget.HighImportance})
			}
			p.notify(tableEvent{kind: "export", q: q, total: n, err: err})
		})
	}()
}

// exportCSVFile writes the export beside path and renames it over path
// when complete.
func exportCSVFile(ctx context.Context, store *inventory.Store, src dataSource, connID string, q inventory.Query, path string) (int, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("create a file in %s: %w", dir, err)
	}
	// Exports hold names and addresses: owner-only.
	_ = f.Chmod(0o600)
	n, err := exportCSV(ctx, store, src, connID, q, f)
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
	bw := bufio.NewWriterSize(out, 64<<10)
	// For a spreadsheet: the byte-order mark Excel needs to read UTF-8
	// ("Núñez"), CRLF line ends on Windows (issues 23 and 24).
	cw, err := csvsafe.NewWriter(bw, csvsafe.ForSpreadsheets())
	if err != nil {
		return 0, err
	}
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
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	n := 0
	err = src.each(ctx, store, connID, q, func(cells []string) error {
		for i, c := range cells {
			cells[i] = csvsafe.Cell(c)
		}
		if withAsOf {
			cells = append(cells, asOf)
		}
		n++
		return cw.Write(cells)
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
