package ui

import (
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// The keyboard shortcuts. KeyModifierShortcutDefault is Ctrl, or Cmd on
// macOS. F5 and Delete have no modifier: the desktop driver does not treat
// a bare key as a shortcut, so they arrive as typed keys (onTypedKey); they
// are on the menu items all the same so the menus show them.
var (
	shortcutNew     = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSave    = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutExecute = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutRefresh = &desktop.CustomShortcut{KeyName: fyne.KeyF5}
	shortcutDelete  = &desktop.CustomShortcut{KeyName: fyne.KeyDelete}
	// Ctrl+Shift+E: Execute Now (full import).
	shortcutExecuteFull = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
)

// mainMenu is the window's menu bar, kept for tests.
type mainMenu struct {
	menu                                *fyne.MainMenu
	newConn, save, preferences, exit    *fyne.MenuItem
	execute, deleteConn, refresh, about *fyne.MenuItem
	executeFull                         *fyne.MenuItem
	loadCatalog, builtinCatalog         *fyne.MenuItem
}

// setupMenuAndShortcuts gives the window its menu bar and shortcuts. The
// desktop driver runs a menu item's shortcut itself; the canvas shortcuts
// do the same where there is no menu bar (and in tests).
func (m *MainWindow) setupMenuAndShortcuts() {
	mm := &mainMenu{}
	mm.newConn = &fyne.MenuItem{Label: "New connection...", Shortcut: shortcutNew, Action: m.onNewConnection}
	mm.save = &fyne.MenuItem{Label: "Save", Shortcut: shortcutSave, Action: m.onSaveShortcut}
	mm.preferences = fyne.NewMenuItem("Preferences...", m.showPreferences)
	mm.loadCatalog = fyne.NewMenuItem("Load licensing catalogue...", func() {
		if !m.busy() {
			m.data.onLoadCatalog()
		}
	})
	mm.builtinCatalog = fyne.NewMenuItem("Use built-in catalogue", func() {
		if !m.busy() {
			m.data.onBuiltinCatalog()
		}
	})
	// Ours, so Fyne adds no Quit of its own that would exit without
	// asking about unsaved changes.
	mm.exit = &fyne.MenuItem{Label: "Exit", IsQuit: true, Action: m.requestExit}
	mm.execute = &fyne.MenuItem{Label: executeTitle(ImportRequest{}), Shortcut: shortcutExecute, Action: m.onExecuteShortcut}
	mm.executeFull = &fyne.MenuItem{Label: executeTitle(ImportRequest{Full: true}), Shortcut: shortcutExecuteFull,
		Action: m.onExecuteFullShortcut}
	mm.deleteConn = &fyne.MenuItem{Label: "Delete", Action: m.onDeleteMenu}
	if runtime.GOOS != "darwin" {
		// The macOS menu bar would make a bare Delete a key equivalent
		// of the whole app, taking forward delete from every text field.
		mm.deleteConn.Shortcut = shortcutDelete
	}
	mm.refresh = &fyne.MenuItem{Label: "Refresh", Shortcut: shortcutRefresh, Action: m.onRefresh}
	mm.about = fyne.NewMenuItem("About Inventory Beacon", m.showAbout)
	mm.menu = fyne.NewMainMenu(
		fyne.NewMenu("File", mm.newConn, mm.save, fyne.NewMenuItemSeparator(), mm.loadCatalog, mm.builtinCatalog,
			fyne.NewMenuItemSeparator(), mm.preferences, fyne.NewMenuItemSeparator(), mm.exit),
		fyne.NewMenu("Connection", mm.execute, mm.executeFull, mm.deleteConn),
		fyne.NewMenu("View", mm.refresh),
		fyne.NewMenu("Help", mm.about),
	)
	m.menu = mm
	m.win.SetMainMenu(mm.menu)

	c := m.win.Canvas()
	for _, s := range []struct {
		sc *desktop.CustomShortcut
		do func()
	}{{shortcutNew, m.onNewConnection}, {shortcutSave, m.onSaveShortcut}, {shortcutExecute, m.onExecuteShortcut},
		{shortcutExecuteFull, m.onExecuteFullShortcut}} {
		do := s.do
		c.AddShortcut(s.sc, func(fyne.Shortcut) { do() })
	}
	c.SetOnTypedKey(m.onTypedKey)
}

// onTypedKey takes the keys no focused widget took.
func (m *MainWindow) onTypedKey(ev *fyne.KeyEvent) {
	// A dialog on top: Esc cancels or closes it, Enter presses its
	// default button.
	if pressDialogKey(m.win.Canvas(), ev.Name) {
		return
	}
	switch ev.Name {
	case fyne.KeyF5:
		m.onRefresh()
	case fyne.KeyDelete:
		m.onDeleteShortcut()
	}
}

// busy reports whether the main window cannot take a command now: the
// configuration did not load, or a dialog or menu is open (the shortcuts
// must not act behind a modal dialog).
func (m *MainWindow) busy() bool {
	return m.startup != nil || m.systems == nil || m.win.Canvas().Overlays().Top() != nil
}

// onNewConnection is File → New connection and Ctrl+N.
func (m *MainWindow) onNewConnection() {
	if m.busy() {
		return
	}
	m.nav.Select(PageInventorySystems)
	m.systems.create()
}

// onSaveShortcut is File → Save and Ctrl+S.
func (m *MainWindow) onSaveShortcut() {
	if m.busy() {
		return
	}
	m.save()
}

// onExecuteShortcut is Connection → Execute Now and Ctrl+E, on the
// connection selected on the Inventory Systems page.
func (m *MainWindow) onExecuteShortcut() { m.onExecute(ImportRequest{}) }

// onExecuteFullShortcut is Connection → Execute Now (full import) and
// Ctrl+Shift+E.
func (m *MainWindow) onExecuteFullShortcut() { m.onExecute(ImportRequest{Full: true}) }

func (m *MainWindow) onExecute(req ImportRequest) {
	if m.busy() {
		return
	}
	if _, ok := m.systems.selectedConnection(); !ok {
		m.nav.Select(PageInventorySystems)
		m.prompt = showPrompt(m.win, "No connection selected",
			"Select a connection in the Inventory Systems table, then choose "+executeTitle(req)+" again.",
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	m.systems.execute(req)
}

// onDeleteShortcut is the Delete key: the usual confirmation for the
// selected connection. It acts only on the Inventory Systems page, where
// the selection is visible.
func (m *MainWindow) onDeleteShortcut() {
	if m.busy() || m.pageName != PageInventorySystems {
		return
	}
	m.systems.confirmDelete()
}

// onDeleteMenu is Connection → Delete: from any page, since the menu
// names what it acts on.
func (m *MainWindow) onDeleteMenu() {
	if m.busy() {
		return
	}
	m.nav.Select(PageInventorySystems)
	m.systems.confirmDelete()
}

// onRefresh is View → Refresh and F5: reload the run state and the data
// pages from the database, e.g. after an import by `beacon execute`.
func (m *MainWindow) onRefresh() {
	if m.busy() {
		return
	}
	m.data.refresh()
	m.systems.refresh()
	m.sched.refresh()
}
