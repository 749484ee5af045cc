package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// Window geometry: the smallest window the product is laid out for.
const (
	windowWidth  = 1024
	windowHeight = 700
	windowTitle  = "Inventory Beacon"
)

// MainWindow is the application window: navigation on the left, the page in
// the middle, Save and Exit at the bottom. It composes the controllers of
// the features, which share the configuration being edited (draft) and the
// window they show their dialogs over (screen); it keeps the navigation,
// menu, tray, Save / Exit and the window's state.
type MainWindow struct {
	app  fyne.App
	deps Deps
	// screen is the window and the last question asked in it.
	*screen
	// draft is the configuration being edited, with the keyring changes
	// that go with it until Save.
	*draft
	// now and loc are the clock and zone of next runs, shared with the
	// scheduler.
	now func() time.Time
	loc *time.Location

	// The controllers of the features: connections (Inventory Systems and
	// the connection dialog), sign-in (Generate...), Test Connection,
	// import (Execute Now), data pages, scheduling.
	systems *systemsPage
	signIn  signInStarter
	tester  *testConnectionController
	exec    *importController
	data    *dataPages
	sched   *scheduling

	// Navigation and the bottom bar.
	nav        *navTree
	page       *fyne.Container
	pages      map[string]fyne.CanvasObject
	pageName   string
	saveButton *widget.Button
	exitButton *widget.Button
	unsaved    *fyne.Container
	// demoHistory says in the bottom bar how far the demo's licence
	// history is made (ShowDemoHistory); demoText is its text, kept when
	// the bar is rebuilt.
	demoHistory *widget.Label
	demoText    string
	// startup explains a configuration that did not load (nil when it
	// did).
	startup *startupErrorPage

	// menu is the menu bar, tray the system tray (nil when there is
	// none), prefsDialog the last Preferences dialog shown.
	menu        *mainMenu
	tray        *Tray
	prefsDialog *preferencesDialog
	// baseTheme is the app's theme before the Preferences override: the
	// one that follows the system's light/dark setting.
	baseTheme fyne.Theme

	// quit ends the program and notify sends a desktop notification: the
	// window's effects outside itself, which tests observe.
	quit   func()
	notify func(*fyne.Notification)
}

// NewMainWindow builds the window and loads the configuration. A damaged
// or newer configuration file is not overwritten: the window explains the
// problem and offers to set the file aside or exit.
func NewMainWindow(a fyne.App, deps Deps) *MainWindow {
	m := &MainWindow{app: a, deps: deps, pages: map[string]fyne.CanvasObject{}, now: deps.Now, loc: deps.Location,
		notify: a.SendNotification}
	if m.now == nil {
		m.now = clock.Now
	}
	if m.loc == nil {
		m.loc = time.Local
	}
	m.draft = &draft{repo: deps.Repo, now: m.now, changed: m.configChanged}
	m.signIn = newSignInController(deps.SignIn)
	m.tester = newTestConnectionController(deps.Tester)
	m.exec = newImportController(deps.Importer, m.onRunChanged, func(id string) bool { return m.data.hasData(id) })
	m.screen = &screen{win: a.NewWindow(windowTitle)}
	m.sched = newScheduling(m.screen, m.draft, a, m.now, m.loc, m.requireSaved)
	m.data = newDataPages(m.screen, m.draft, deps.Inventory, m.refreshSystems, func(page string) { m.nav.Select(page) })
	if store := deps.Inventory; store != nil {
		m.draft.forgetData = func(ids []string) error {
			for _, id := range ids {
				if err := service.ForgetConnection(context.Background(), store, id, false); err != nil {
					return err
				}
			}
			return nil
		}
	}
	m.data.lic = &licensing{draft: m.draft, changed: m.data.licensingChanged}
	m.data.opt = deps.Optimizer
	if m.data.opt == nil && deps.Inventory != nil {
		m.data.opt = &service.Optimizer{Store: deps.Inventory}
	}
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
		m.sched.refresh()
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
	m.sched.page = nil // rebuilt on the new configuration when shown
	m.pages = map[string]fyne.CanvasObject{PageInventorySystems: m.systems.content}
	m.data.pages = map[string]*dataPage{}
	m.data.optimization, m.data.chart, m.data.catalogNote = nil, nil, nil
	m.data.lic.reload()
	m.data.loadRunStatus()

	m.saveButton = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { m.save() })
	m.saveButton.Importance = widget.HighImportance
	m.exitButton = widget.NewButtonWithIcon("Exit", theme.LogoutIcon(), m.requestExit)
	warn := widget.NewLabel("Unsaved changes")
	warn.Importance = widget.WarningImportance
	warn.TextStyle.Bold = true
	m.unsaved = container.NewHBox(widget.NewIcon(theme.WarningIcon()), warn)
	m.demoHistory = widget.NewLabel(m.demoText)
	m.demoHistory.Truncation = fyne.TextTruncateEllipsis
	m.demoHistory.Hidden = m.demoText == ""
	bottom := container.NewBorder(nil, nil, m.unsaved, container.NewHBox(m.saveButton, m.exitButton), m.demoHistory)

	m.nav = newNavigation(m.showPage)
	m.nav.onKey = m.onTypedKey
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
			p = m.sched.buildPage()
		} else if name == PageOptimization && m.data.buildOptimization() != nil {
			p = m.data.optimization.content
		} else if dp := m.data.buildDataPage(name); dp != nil {
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
	if dp := m.data.pages[name]; dp != nil {
		dp.activate(m.data.connID)
	}
	if o := m.data.optimization; name == PageOptimization && o != nil {
		o.activate(m.data.connID)
	}
}

// configChanged redraws what shows the configuration after a pending
// change.
func (m *MainWindow) configChanged() {
	m.updateSaveState()
	m.systems.refresh()
	m.sched.refresh()
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

// save commits the pending changes. On failure everything stays pending and
// the administrator is told what to do; it reports whether it saved.
func (m *MainWindow) save() bool {
	if !m.dirty {
		return true
	}
	if err := m.commit(); err != nil {
		buttons := []promptButton{{label: "OK", importance: widget.HighImportance}}
		if errors.Is(err, storage.ErrConfigChanged) {
			buttons = append(buttons, promptButton{label: reloadLabel, importance: widget.DangerImportance, action: m.reload})
		}
		m.prompt = showPrompt(m.win, "Changes not saved", saveErrorMessage(err), buttons...)
		return false
	}
	m.updateSaveState()
	m.systems.refresh()
	m.sched.refresh()
	// The runner reads the saved file: tell it now rather than at its
	// next poll, so an edited schedule takes effect at once.
	if m.sched.runner != nil {
		m.sched.runner.Reload()
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
	m.discard()
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
	if len(m.sched.running) > 0 && !m.sched.exitDespite {
		// The runner stops with the program: say so before it does.
		m.prompt = showPrompt(m.win, "Scheduled import running",
			"A scheduled import is still running. Exiting cancels it; the data of the previous import is kept, "+
				"and the cancelled import is made up the next time the scheduler starts.",
			promptButton{label: "Keep running"},
			promptButton{label: "Cancel the import and exit", importance: widget.DangerImportance, action: func() {
				m.sched.exitDespite = true
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

// refreshSystems redraws the Inventory Systems table (run state).
func (m *MainWindow) refreshSystems() {
	if m.systems != nil {
		m.systems.refresh()
	}
	if m.tray != nil {
		m.tray.showFailing()
	}
}

// onRunChanged follows the start and end of an import started here: the
// data pages change only when it ends.
func (m *MainWindow) onRunChanged(connID string) {
	if m.systems != nil {
		m.systems.refresh()
	}
	if m.exec.isRunning(connID) {
		m.data.loadRunStatus()
		return
	}
	if m.exec.exitAfterImports && len(m.exec.running) == 0 {
		m.exec.exitAfterImports = false
		m.requestExit()
		return
	}
	m.data.refresh()
}
