package ui

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// requests records what the window asked the importer for.
type requests struct {
	mu   sync.Mutex
	full []bool
}

func (r *requests) add(req ImportRequest) {
	r.mu.Lock()
	r.full = append(r.full, req.Full)
	r.mu.Unlock()
}

func (r *requests) get() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.full...)
}

// simImportModes is the default (incremental when it can be) import
// against the simulator, as cmd/beacon wires it: ImportRequest.Full
// becomes importer.Options.Full.
func simImportModes(sim *m365sim.Server, store *inventory.Store, seen *requests) importFunc {
	tokens := &simTokens{sim: sim}
	return func(ctx context.Context, c storage.Connection, req ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
		seen.add(req)
		client, err := graph.New(sim.Client(), sim.GraphEndpoint(), tokens, graph.Options{})
		if err != nil {
			return inventory.Run{}, err
		}
		res, err := importer.Run(ctx, importer.Options{Conn: c, Client: client, Store: store, Trigger: inventory.TriggerManual,
			Full:     req.Full,
			Progress: func(s importer.Stage, done, total int) { progress(string(s), done, total) }})
		return res.Run, err
	}
}

// Execute Now reads only the changes after a full import; Execute Now
// (full import), from the arrow beside the button (by keyboard) and from
// Ctrl+Shift+E, asks for a full import and gets one. The dialog and the
// Import history say which mode each run was.
func TestExecuteNowFullImport(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 120, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	seen := &requests{}
	h := newExecHarness(t, store, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", simImportModes(sim, store, seen))

	// run does one import by act and returns its dialog once it ended.
	run := func(what string, act func()) *ExecuteDialog {
		t.Helper()
		onUI(act)
		shown := recvTB(t, h.shown, what+": dialog")
		d := recvTB(t, h.finished, what+": end of the import")
		if d != shown {
			t.Fatalf("%s: another dialog ended", what)
		}
		onUI(func() {
			if d.err != nil || !d.run.Status.Good() {
				t.Fatalf("%s: %v, run %+v", what, d.err, d.run)
			}
			d.dlg.Hide()
		})
		return d
	}
	check := func(d *ExecuteDialog, what, title, mode, shown string) {
		t.Helper()
		onUI(func() {
			if d.Title() != title {
				t.Errorf("%s: dialog title %q, want %q", what, d.Title(), title)
			}
			if d.run.Mode != mode {
				t.Errorf("%s: the importer read users as %q, want %q", what, d.run.Mode, mode)
			}
			requireContains(t, what+" details", d.details.Text, "Mode: "+shown+"\n")
		})
	}

	// The first import is full (nothing to start from), the second reads
	// only the changes.
	d := run("first Execute Now", func() { test.Tap(h.m.systems.executeButton) })
	check(d, "first Execute Now", "Execute Now: Contoso", importer.ModeSharded, "Full (parallel)")
	d = run("second Execute Now", func() { test.Tap(h.m.systems.executeButton) })
	check(d, "second Execute Now", "Execute Now: Contoso", importer.ModeDelta, "Incremental (changes only)")

	// The arrow beside Execute Now: its menu, chosen with the keyboard.
	d = run("Execute Now (full import) from the toolbar", func() {
		if h.m.systems.executeMore.Disabled() {
			t.Fatal("the Execute Now menu is disabled with a connection selected")
		}
		test.Tap(h.m.systems.executeMore)
		menu, ok := h.m.win.Canvas().Focused().(*widget.PopUpMenu)
		if !ok || h.m.win.Canvas().Overlays().Top() == nil {
			t.Fatalf("the arrow beside Execute Now gave the focus to %T, want its menu", h.m.win.Canvas().Focused())
		}
		var labels []string
		for _, it := range h.m.systems.executeMenu.Items {
			labels = append(labels, it.Label)
		}
		if want := []string{"Execute Now", "Execute Now (full import)"}; !reflect.DeepEqual(labels, want) {
			t.Fatalf("Execute Now menu %v, want %v", labels, want)
		}
		for _, k := range []fyne.KeyName{fyne.KeyDown, fyne.KeyDown, fyne.KeyReturn} {
			menu.TypedKey(&fyne.KeyEvent{Name: k})
		}
	})
	check(d, "full import from the toolbar", "Execute Now (full import): Contoso", importer.ModeSharded, "Full (parallel)")

	// Ctrl+Shift+E, then Ctrl+E: full, then the changes again.
	d = run("Ctrl+Shift+E", func() { typeShortcut(h.m, shortcutExecuteFull) })
	check(d, "Ctrl+Shift+E", "Execute Now (full import): Contoso", importer.ModeSharded, "Full (parallel)")
	d = run("Ctrl+E", func() { typeShortcut(h.m, shortcutExecute) })
	check(d, "Ctrl+E", "Execute Now: Contoso", importer.ModeDelta, "Incremental (changes only)")

	if got, want := seen.get(), []bool{false, false, true, true, false}; !reflect.DeepEqual(got, want) {
		t.Fatalf("full import requested %v, want %v", got, want)
	}

	// The Import history shows each run's mode, newest first.
	hp, e := openPage(t, h.m, PageImportHistory)
	if e.total != 5 {
		t.Fatalf("history: %d runs", e.total)
	}
	col := colIndex(t, historyColumns, "Mode")
	var modes []string
	for row := range 5 {
		modes = append(modes, screenCell(t, hp, row, col))
	}
	want := []string{"Incremental (changes only)", "Full (parallel)", "Full (parallel)", "Incremental (changes only)", "Full (parallel)"}
	if !reflect.DeepEqual(modes, want) {
		t.Fatalf("history modes %q, want %q", modes, want)
	}
}

func TestModeText(t *testing.T) {
	for mode, want := range map[string]string{
		"":                      "",
		importer.ModeDelta:      "Incremental (changes only)",
		importer.ModeSharded:    "Full (parallel)",
		importer.ModePlain:      "Full (one pass)",
		importer.ModeSequential: "Full (sequential)",
		"something new":         "something new",
	} {
		if got := modeText(mode); got != want {
			t.Errorf("modeText(%q) = %q, want %q", mode, got, want)
		}
	}
}
