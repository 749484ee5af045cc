package ui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/storage"
)

// update rewrites the golden images instead of comparing with them:
// go test -tags migrated_fynedo ./ui/ -run Golden -update
var update = flag.Bool("update", false, "write the golden images under testdata instead of comparing")

// keyringTimeout bounds each keyring call of the tests' real keyring.
const keyringTimeout = 10 * time.Second

// testRepo is the real storage in a temporary directory with the real
// keyring under a service name of its own, whose entries are removed when
// the test ends.
func testRepo(t *testing.T) *storage.Repository {
	t.Helper()
	testenv.Keyring(t)
	service := "inventory-beacon-uitest-" + storage.NewID()
	repo := &storage.Repository{
		Config:  storage.NewConfigStore(t.TempDir()),
		Secrets: storage.NewKeyring(service, keyringTimeout),
	}
	t.Cleanup(func() {
		cfg, err := repo.Config.Load()
		if err != nil {
			return
		}
		cleanup := storage.Repository{Config: repo.Config, Secrets: storage.NewKeyring(service, keyringTimeout)}
		for _, c := range cfg.Connections {
			_ = cleanup.DeleteConnectionSecrets(c.ID)
		}
	})
	return repo
}

// testMainWindow opens the main window on repo in a test app and records
// whether Exit ended the program.
func testMainWindow(t *testing.T, repo *storage.Repository, deps Deps) (*MainWindow, *bool) {
	t.Helper()
	a := test.NewTempApp(t)
	m := NewMainWindow(a, withServices(deps, repo))
	quit := new(bool)
	m.quit = func() { *quit = true }
	m.win.Resize(fyne.NewSize(windowWidth, windowHeight))
	t.Cleanup(m.win.Close)
	return m, quit
}

// testDialog shows a connection dialog for c over a plain window; signIn
// nil is the real sign-in.
func testDialog(t *testing.T, c storage.Connection, isNew bool, others []storage.Connection, signIn signInStarter,
	onOK func(storage.Connection, []storage.SecretChange)) (*ConnectionDialog, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(windowWidth, windowHeight))
	if signIn == nil {
		signIn = newSignInController(authSignIn{})
	}
	d := newConnectionDialog(w, signIn, c, isNew, others, onOK)
	d.Show()
	return d, w
}

// retype replaces the text of an entry as a user would: select all and
// type over it.
func retype(e interface {
	fyne.Focusable
	SetText(string)
}, text string) {
	e.SetText("")
	test.Type(e, text)
}

// newNamedConnection is a valid new connection.
func newNamedConnection(name string) storage.Connection {
	c := connector.NewConnection()
	c.Name = name
	return c
}

// cellAt finds the rendered table cell of a row and column. It walks the
// renderers itself: test.LaidOutObjects does not descend into the table's
// cell area.
func cellAt(t *testing.T, m *MainWindow, row, col int) *rowCell {
	t.Helper()
	want := m.systems.cellText(widget.TableCellID{Row: row, Col: col})
	var found *rowCell
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil || o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *rowCell:
			if x.row == row && x.label.Text == want {
				found = x
			}
			return
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(m.win.Content())
	if found == nil {
		t.Fatalf("no cell for row %d column %d on screen", row, col)
	}
	return found
}

func requireContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s = %q, want it to contain %q", what, got, want)
	}
}

// writePNG writes a capture for the documentation.
func writePNG(t *testing.T, path string, w fyne.Window) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := encodePNG(path, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}
