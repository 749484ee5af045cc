package ui

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Window geometry: the smallest window the product is laid out for.
const (
	windowWidth  = 1024
	windowHeight = 700
	windowTitle  = "Inventory Beacon"
)

// MainWindow is the application window: navigation on the left, the page in
// the middle, Save and Exit at the bottom. It holds the configuration being
// edited and the keyring changes that go with it until Save.
type MainWindow struct {
	app  fyne.App
	win  fyne.Window
	deps Deps

	cfg     *storage.Config
	pending []storage.SecretChange
	dirty   bool

	nav        *widget.Tree
	page       *fyne.Container
	pages      map[string]fyne.CanvasObject
	pageName   string
	saveButton *widget.Button
	exitButton *widget.Button
	unsaved    *fyne.Container
	systems    *systemsPage
	startup    *startupErrorPage

	// The built-in data pages (Deps.Inventory), the connection they show,
	// the latest run of each connection, and the imports running here.
	data         map[string]*dataPage
	dataConn     string
	lastRuns     map[string]inventory.Run
	exec         *importController
	licenseChart *licenseChart
	appKind      *widget.Select // the Applications page's filter
	usageReport  *widget.Select
	// signIn is Generate..., tester Test Connection.
	signIn signInStarter
	tester *testConnectionController
	// statusLoaded follows each load of lastRuns (tests).
	statusLoaded func(error)
	// demoDone follows the end of "Try with a demo tenant" (tests).
	demoDone func(error)
	// baseTheme is the app's theme before the Preferences override: the
	// one that follows the system's light/dark setting.
	baseTheme fyne.Theme
	// menu is the menu bar.
	menu *mainMenu
	// prefsDialog is the last Preferences dialog shown (tests).
	prefsDialog *preferencesDialog

	// prompt and connDialog are the last ones shown, kept for tests.
	prompt     *prompt
	connDialog *ConnectionDialog

	// quit ends the program; tests replace it to observe Exit.
	quit func()

	// Scheduling: the clock and zone of next runs, the runner (nil until
	// SetScheduler), the page, the connections it is importing now, and
	// the system tray (nil when there is none).
	now        func() time.Time
	loc        *time.Location
	scheduler  Scheduler
	scheduling *schedulingPage
	// selectSchedule is the last Select Schedule dialog shown (tests).
	selectSchedule *SelectScheduleDialog
	schedRuns      map[string]bool
	tray           *Tray
	// exitDespiteSchedule: the administrator chose to exit although a
	// scheduled import is running (the runner cancels it on shutdown).
	exitDespiteSchedule bool
	// notify sends a desktop notification; tests replace it.
	notify func(*fyne.Notification)
}

// NewMainWindow builds the window and loads the configuration. A damaged
// or newer configuration file is not overwritten: the window explains the
// problem and offers to set the file aside or exit.
func NewMainWindow(a fyne.App, deps Deps) *MainWindow {
	m := &MainWindow{app: a, deps: deps, pages: map[string]fyne.CanvasObject{}, now: deps.Now, loc: deps.Location,
		schedRuns: map[string]bool{}, notify: a.SendNotification}
	if m.now == nil {
		m.now = clock.Now
	}
	if m.loc == nil {
		m.loc = time.Local
	}
	m.signIn = newSignInController(deps.SignIn)
	m.tester = newTestConnectionController(deps.Tester)
	m.exec = newImportController(deps.Importer, m.onRunChanged, m.hasData)
	m.win = a.NewWindow(windowTitle)
	m.initAppearance()
	m.win.Resize(m.restoredSize())
	m.win.SetMaster()
	m.quit = func() {
		m.win.Close()
		a.Quit()
	}
	m.win.SetCloseIntercept(m.closeWindow)
	m.setupMenuAndShortcuts()
	// Read before load: building the window shows Inventory Systems,
	// which records itself as the last page.
	lastPage := a.Preferences().String(prefLastPage)
	m.load()
	m.restoreLastPage(lastPage)
	if len(deps.DemoAccounts) > 0 && m.startup == nil {
		m.showDemoAccounts(deps.DemoAccounts)
	}
	return m
}

// Window is the window, for the caller's screenshots and dialogs.
func (m *MainWindow) Window() fyne.Window { return m.win }

// ShowAndRun shows the window and runs the application until it quits.
func (m *MainWindow) ShowAndRun() {
	// Next-run texts ("today at 06:00") age with the clock and a passed
	// slot moves to the next one: redraw them every minute.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.RefreshStatus()
			case <-stop:
				return
			}
		}
	}()
	m.win.ShowAndRun()
	close(stop)
}

// RefreshStatus redraws the run state of the connections (Deps.Status). It
// is safe to call from any goroutine.
func (m *MainWindow) RefreshStatus() {
	fyne.Do(func() {
		if m.systems != nil {
			m.systems.refresh()
		}
		m.refreshScheduling()
	})
}

func (m *MainWindow) load() {
	if m.deps.Repo == nil || m.deps.Repo.Config == nil {
		m.showStartupError(errors.New("no configuration store was given to the window (a bug in Inventory Beacon)"))
		return
	}
	cfg, err := m.deps.Repo.Config.Load()
	if err != nil {
		m.showStartupError(err)
		return
	}
	m.cfg = cfg
	m.startup = nil
	m.buildMain()
}

func (m *MainWindow) buildMain() {
	m.systems = newSystemsPage(m)
	m.scheduling = nil // rebuilt on the new configuration when shown
	m.pages = map[string]fyne.CanvasObject{PageInventorySystems: m.systems.content}
	m.data = map[string]*dataPage{}
	m.loadRunStatus()

	m.saveButton = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { m.save() })
	m.saveButton.Importance = widget.HighImportance
	m.exitButton = widget.NewButtonWithIcon("Exit", theme.LogoutIcon(), m.requestExit)
	warn := widget.NewLabel("Unsaved changes")
	warn.Importance = widget.WarningImportance
	warn.TextStyle.Bold = true
	m.unsaved = container.NewHBox(widget.NewIcon(theme.WarningIcon()), warn)
	bottom := container.NewBorder(nil, nil, m.unsaved, container.NewHBox(m.saveButton, m.exitButton))

	m.nav = newNavigation(m.showPage)
	m.page = container.NewStack()
	split := container.NewHSplit(m.nav, m.page)
	split.Offset = 0.185
	m.win.SetContent(container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), bottom), nil, nil, split))
	m.nav.Select(PageInventorySystems)
	m.updateSaveState()
}

// showPage puts the named page in the middle, building it the first time.
func (m *MainWindow) showPage(name string) {
	p, ok := m.pages[name]
	if !ok {
		if name == PageScheduling {
			m.scheduling = newSchedulingPage(m)
			p = m.scheduling.content
		} else if dp := m.buildDataPage(name); dp != nil {
			p = dp.content
		} else {
			p = placeholderPage(name)
		}
		m.pages[name] = p
	}
	m.pageName = name
	m.app.Preferences().SetString(prefLastPage, name)
	m.page.Objects = []fyne.CanvasObject{p}
	// Fyne drops the renderers of objects that left the canvas a while
	// ago; a table given a new renderer at its old size is never laid out
	// again (Resize to the same size does nothing), so it showed no rows
	// until scrolled (issue 23 item 3). Collapse the page first, so the
	// layout below resizes it, and every widget in it, for real.
	p.Resize(fyne.Size{})
	m.page.Refresh()
	if dp := m.data[name]; dp != nil {
		dp.activate(m.dataConn)
	}
}

func (m *MainWindow) updateSaveState() {
	if m.saveButton == nil {
		return
	}
	if m.dirty {
		m.saveButton.Enable()
		m.unsaved.Show()
	} else {
		m.saveButton.Disable()
		m.unsaved.Hide()
	}
}

// markDirty records that the configuration or the keyring has changes to
// save.
func (m *MainWindow) markDirty() {
	m.dirty = true
	m.updateSaveState()
	m.systems.refresh()
	m.refreshScheduling()
}

// addSecretChanges queues keyring changes for Save. A later change of the
// same secret replaces an earlier one, so only the final value is written.
func (m *MainWindow) addSecretChanges(changes []storage.SecretChange) {
	for _, ch := range changes {
		kept := m.pending[:0]
		for _, p := range m.pending {
			if p.ConnID != ch.ConnID || p.Kind != ch.Kind {
				kept = append(kept, p)
			}
		}
		m.pending = append(kept, ch)
	}
}

// putConnection adds c or replaces the connection with its ID, with its
// keyring changes. An edit that changes nothing leaves the window clean.
func (m *MainWindow) putConnection(c storage.Connection, changes []storage.SecretChange) {
	for i := range m.cfg.Connections {
		if m.cfg.Connections[i].ID == c.ID {
			old := m.cfg.Connections[i]
			same := old
			same.Modified = c.Modified
			if reflect.DeepEqual(same, c) && len(changes) == 0 {
				return
			}
			m.cfg.Connections[i] = c
			m.addSecretChanges(changes)
			m.markDirty()
			return
		}
	}
	m.cfg.Connections = append(m.cfg.Connections, c)
	m.addSecretChanges(changes)
	m.markDirty()
}

// deleteConnection removes a connection; its keyring secrets go on Save.
func (m *MainWindow) deleteConnection(id string) {
	conns := m.cfg.Connections[:0]
	for _, c := range m.cfg.Connections {
		if c.ID != id {
			conns = append(conns, c)
		}
	}
	m.cfg.Connections = conns
	var del []storage.SecretChange
	for _, k := range storage.AllSecretKinds {
		del = append(del, storage.SecretChange{ConnID: id, Kind: k, Delete: true})
	}
	m.addSecretChanges(del)
	m.markDirty()
}

// save commits the pending changes. On failure everything stays pending and
// the administrator is told what to do; it reports whether it saved.
func (m *MainWindow) save() bool {
	if !m.dirty {
		return true
	}
	if err := m.deps.Repo.Commit(m.cfg, m.pending); err != nil {
		buttons := []promptButton{{label: "OK", importance: widget.HighImportance}}
		if errors.Is(err, storage.ErrConfigChanged) {
			buttons = append(buttons, promptButton{label: reloadLabel, importance: widget.DangerImportance, action: m.reload})
		}
		m.prompt = showPrompt(m.win, "Changes not saved", saveErrorMessage(err), buttons...)
		return false
	}
	m.pending = nil
	m.dirty = false
	m.updateSaveState()
	m.systems.refresh()
	m.refreshScheduling()
	// The runner reads the saved file: tell it now rather than at its
	// next poll, so an edited schedule takes effect at once.
	if m.scheduler != nil {
		m.scheduler.Reload()
	}
	return true
}

const stillPending = "Nothing was saved; your changes are still here and you can click Save again."

// saveErrorMessage turns a failed save into what the administrator can do.
func saveErrorMessage(err error) string {
	var damaged *storage.DamagedConfigError
	var newer *storage.NewerConfigError
	switch {
	case errors.Is(err, storage.ErrKeyringLocked):
		return "The keyring, where Inventory Beacon keeps tokens and passwords, is locked. " +
			"Unlock it (log in to the desktop again, or unlock the \"login\" keyring in Passwords and Keys), then click Save again.\n\n" + stillPending
	case errors.Is(err, storage.ErrKeyringTimeout):
		return "The keyring, where Inventory Beacon keeps tokens and passwords, did not answer in time. " +
			"It may be waiting for you to unlock it in another window: answer that prompt, then click Save again.\n\n" + stillPending
	case errors.Is(err, storage.ErrNoKeyring):
		return "No keyring is available to keep tokens and passwords. On Linux, start a Secret Service such as " +
			"GNOME Keyring (or KeePassXC with its Secret Service integration) in your desktop session, then click Save again.\n\n" + stillPending
	case errors.Is(err, storage.ErrConfigChanged):
		return "Another Inventory Beacon window, the command line or a scheduled run saved the configuration after this window " +
			"opened it. Saving now would undo that change, so nothing was saved. Your changes are still here: note them, click " +
			reloadLabel + " to load the newer configuration, and make them again."
	case errors.Is(err, storage.ErrConfigLocked):
		return "Another Inventory Beacon process is holding the configuration, perhaps for a running import. " +
			"Wait for it to finish, then click Save again.\n\n" + stillPending
	case errors.As(err, &damaged):
		return fmt.Sprintf("The configuration file %s was damaged after this window opened it, so it was not replaced. "+
			"Restore it from a backup, or exit and start Inventory Beacon again to set it aside. Your changes are still here.", damaged.Path)
	case errors.As(err, &newer):
		return fmt.Sprintf("The configuration file %s was replaced by a newer version of Inventory Beacon after this window "+
			"opened it, so it was not overwritten. Use the newer version to make your changes.", newer.Path)
	}
	return fmt.Sprintf("Saving failed: %v.\n\n%s", err, stillPending)
}

const reloadLabel = "Discard my changes and reload"

// reload drops the pending changes and loads the configuration from disk,
// after a save was refused because another process saved in between.
func (m *MainWindow) reload() {
	m.pending = nil
	m.dirty = false
	m.load()
}

// requestExit is Exit and the window's close button: it asks before
// discarding unsaved changes.
func (m *MainWindow) requestExit() {
	if len(m.exec.running) > 0 {
		m.prompt = showPrompt(m.win, "Import running",
			"An import is still running. Exiting cancels it; the data of the previous import is kept.",
			promptButton{label: "Keep running"},
			promptButton{label: "Cancel the import and exit", importance: widget.DangerImportance, action: func() {
				// Exit continues once the cancelled runs are recorded
				// as cancelled in the import history.
				m.exec.exitAfterImports = true
				m.exec.cancelAll()
			}},
		)
		return
	}
	if len(m.schedRuns) > 0 && !m.exitDespiteSchedule {
		// The runner stops with the program: say so before it does.
		m.prompt = showPrompt(m.win, "Scheduled import running",
			"A scheduled import is still running. Exiting cancels it; the data of the previous import is kept, "+
				"and the cancelled import is made up the next time the scheduler starts.",
			promptButton{label: "Keep running"},
			promptButton{label: "Cancel the import and exit", importance: widget.DangerImportance, action: func() {
				m.exitDespiteSchedule = true
				m.requestExit()
			}},
		)
		return
	}
	if !m.dirty {
		m.exit()
		return
	}
	m.prompt = showPrompt(m.win, "Unsaved changes",
		"You have changes that are not saved. Save them before exiting?",
		promptButton{label: "Cancel"},
		promptButton{label: "Exit without saving", importance: widget.DangerImportance, action: m.exit},
		promptButton{label: "Save and exit", importance: widget.HighImportance, action: func() {
			if m.save() {
				m.exit()
			}
		}},
	)
}

// requireSaved runs action once nothing is pending, offering to save
// first: imports and tests read the saved settings and the keyring.
func (m *MainWindow) requireSaved(what string, action func()) {
	if !m.dirty {
		action()
		return
	}
	m.prompt = showPrompt(m.win, "Save changes first",
		what+" uses the saved settings and the secrets in the keyring. Save your changes first?",
		promptButton{label: "Cancel"},
		promptButton{label: "Save and continue", importance: widget.HighImportance, action: func() {
			if m.save() {
				action()
			}
		}},
	)
}

// hasData reports whether the connection has an imported snapshot, which
// a failed run leaves current (false when the store cannot say).
func (m *MainWindow) hasData(connID string) bool {
	if m.deps.Inventory == nil {
		return false
	}
	_, err := m.deps.Inventory.CurrentRun(context.Background(), connID)
	return err == nil
}
