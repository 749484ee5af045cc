package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestWriteDataDocs writes docs/execute-now.png, docs/users-page.png and
// docs/licenses-page.png when BEACON_WRITE_DOCS=1 (into
// $BEACON_DOCS_DIR instead, when set).
func TestWriteDataDocs(t *testing.T) {
	if os.Getenv("BEACON_WRITE_DOCS") != "1" {
		t.Skip("set BEACON_WRITE_DOCS=1 to write docs/execute-now.png, docs/users-page.png and docs/licenses-page.png")
	}
	dir := os.Getenv("BEACON_DOCS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "docs")
	}
	sim, err := m365sim.Start(m365sim.Options{Users: 400, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := newExecHarness(t, store, "0123456789abcdef0123456789abcdef", simImport(sim, store, nil))
	onUI(func() {
		fyne.CurrentApp().Settings().SetTheme(theme.LightTheme())
		test.Tap(h.m.systems.executeButton)
	})
	recvTB(t, h.shown, "dialog")
	recvTB(t, h.finished, "import")
	h.lastResult(t, "Succeeded")
	onUI(func() { writePNG(t, filepath.Join(dir, "execute-now.png"), h.m.win) })
	onUI(func() {
		for _, d := range h.m.exec.running {
			d.dlg.Hide()
		}
	})
	// The dialog of the finished run is the top overlay: close it.
	onUI(func() {
		if o := h.m.win.Canvas().Overlays().Top(); o != nil {
			h.m.win.Canvas().Overlays().Remove(o)
		}
	})
	openPage(t, h.m, PageUsers)
	onUI(func() { writePNG(t, filepath.Join(dir, "users-page.png"), h.m.win) })
	p, _ := openPage(t, h.m, PageLicenses)
	waitExtra(t, p, dataMark{}, nil)
	onUI(func() { writePNG(t, filepath.Join(dir, "licenses-page.png"), h.m.win) })
}
