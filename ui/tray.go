package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"github.com/inventorybeacon/beacon/schedule"
)

// The system tray preference: off by default, so closing the window exits
// as it always did until the administrator asks otherwise.
const (
	prefKeepInTray  = "keepInTray"
	keepInTrayLabel = "Keep running in the system tray when the window is closed"
)

func keepInTray(a fyne.App) bool {
	return a.Preferences().BoolWithFallback(prefKeepInTray, false)
}

// TrayApp is the part of a desktop application that owns the system tray;
// the GLFW app (desktop.App) is one.
type TrayApp interface {
	SetSystemTrayMenu(menu *fyne.Menu)
	SetSystemTrayIcon(icon fyne.Resource)
}

// Tray is Inventory Beacon in the system tray: Open, Execute all now, Quit.
// With it, and the preference on, closing the window hides it and the
// schedules go on running.
type Tray struct {
	m    *MainWindow
	Menu *fyne.Menu

	app                TrayApp
	open, runAll, quit *fyne.MenuItem
	// failing heads the menu while connections fail or cannot run on
	// their schedule (issue 23 item 8): the tray is what an
	// administrator sees with the window closed. Choosing it opens the
	// window on Inventory Systems.
	failing *fyne.MenuItem
	// toldHidden: the first hide of the window says where the app went.
	toldHidden bool
	// ranAlls counts the ends of Execute all now, ranAllText is the last
	// one's outcome, as notified.
	ranAlls    int
	ranAllText string
}

// SetupTray puts the window's application in the system tray with icon
// (nil: the app's icon). It returns nil, and closing the window keeps
// exiting, when the application has no system tray (a mobile or test
// driver). Call it on the Fyne goroutine after NewMainWindow.
func SetupTray(a fyne.App, m *MainWindow, icon fyne.Resource) *Tray {
	ta, ok := a.(TrayApp)
	if !ok {
		return nil
	}
	if icon == nil {
		icon = a.Icon()
	}
	t := newTray(ta, m, icon)
	if d, ok := a.(desktop.App); ok {
		// A left click on the tray icon shows the window where the
		// desktop supports it.
		d.SetSystemTrayWindow(m.win)
	}
	return t
}

func newTray(a TrayApp, m *MainWindow, icon fyne.Resource) *Tray {
	t := &Tray{m: m, app: a}
	t.failing = fyne.NewMenuItem("", func() {
		m.showWindow()
		m.nav.Select(PageInventorySystems)
	})
	t.failing.Icon = theme.ErrorIcon()
	t.open = fyne.NewMenuItem("Open", m.showWindow)
	t.runAll = fyne.NewMenuItem("Execute all now", t.onRunAll)
	t.quit = fyne.NewMenuItem("Quit", t.onQuit)
	// Quit is ours: Fyne would add its own Quit that exits without
	// asking about unsaved changes or running imports.
	t.quit.IsQuit = true
	t.Menu = fyne.NewMenu("Inventory Beacon", t.open, t.runAll, fyne.NewMenuItemSeparator(), t.quit)
	a.SetSystemTrayMenu(t.Menu)
	if icon != nil {
		a.SetSystemTrayIcon(icon)
	}
	m.tray = t
	m.sched.inTray = true
	m.sched.refresh()
	return t
}

// failingText names the connections that fail or whose schedule cannot
// run, for the tray's menu; "" when there are none.
func (t *Tray) failingText() string {
	var names []string
	for _, c := range t.m.cfg.Connections {
		if t.m.connStatus(c.ID).Alert {
			names = append(names, c.Name)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "Failing: " + names[0]
	case 2, 3:
		return "Failing: " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("Failing: %s and %d more", strings.Join(names[:2], ", "), len(names)-2)
}

// showFailing puts the failing connections at the head of the tray's
// menu, or takes them off.
func (t *Tray) showFailing() {
	text := t.failingText()
	shown := len(t.Menu.Items) > 0 && t.Menu.Items[0] == t.failing
	if text == t.failing.Label && shown == (text != "") {
		return
	}
	t.failing.Label = text
	items := []*fyne.MenuItem{t.open, t.runAll, fyne.NewMenuItemSeparator(), t.quit}
	if text != "" {
		items = append([]*fyne.MenuItem{t.failing, fyne.NewMenuItemSeparator()}, items...)
	}
	t.Menu.Items = items
	t.app.SetSystemTrayMenu(t.Menu)
}

// showWindow brings the window back from the tray.
func (m *MainWindow) showWindow() {
	m.win.Show()
	m.win.RequestFocus()
}

// closeWindow is the window's close button: into the tray when there is
// one and the preference says so, otherwise Exit.
func (m *MainWindow) closeWindow() {
	if m.tray == nil || !keepInTray(m.app) {
		m.requestExit()
		return
	}
	m.rememberWindow()
	m.win.Hide()
	if !m.tray.toldHidden && m.notify != nil {
		m.tray.toldHidden = true
		m.notify(fyne.NewNotification("Inventory Beacon",
			"Inventory Beacon is still running in the system tray, and your schedules keep running. "+
				"Choose Quit in its menu to exit."))
	}
}

// onQuit exits as Exit does; the window comes back first when Exit has
// something to ask (unsaved changes, imports running).
func (t *Tray) onQuit() {
	m := t.m
	if m.dirty || len(m.exec.running) > 0 {
		m.showWindow()
	}
	m.requestExit()
}

// onRunAll imports every connection now: each schedule that has
// connections runs as Run now on the Scheduling page would (one connection
// after another), and each connection on no schedule starts as a
// background Execute Now. The outcome is told in a notification (the
// window may be hidden). The runner reads the saved configuration, so
// pending changes are saved first.
func (t *Tray) onRunAll() {
	m := t.m
	if m.sched.runner == nil {
		m.showWindow()
		m.prompt = notAvailable(m.win, "Execute all now")
		return
	}
	if m.dirty {
		m.showWindow()
	}
	m.requireSaved("Execute all now", func() {
		type job struct{ id, name string }
		var jobs []job
		conns := 0
		plan := schedule.Plan(m.cfg, m.now(), m.loc)
		for _, e := range plan.Schedules {
			if len(e.Connections) > 0 {
				jobs = append(jobs, job{e.Schedule.ID, e.Schedule.Name})
				conns += len(e.Connections)
			}
		}
		// Connections on no schedule: the window's own Execute Now, in
		// the background.
		unscheduled := 0
		for _, c := range plan.NotScheduled {
			m.exec.executeBackground(m.win, c)
			unscheduled++
		}
		also := ""
		if unscheduled > 0 {
			also = fmt.Sprintf(" Also started %s on no schedule.", plural(unscheduled, "connection"))
		}
		if len(jobs) == 0 {
			if unscheduled > 0 {
				t.ranAll(fmt.Sprintf("Started the imports of %s; they run in the background.", plural(unscheduled, "connection")))
				return
			}
			t.ranAll("No connection is on a schedule, so there is nothing to run. Attach connections to a schedule " +
				"with Schedule... on the Inventory Systems page.")
			return
		}
		sched := m.sched.runner
		// RunNow waits for the runner's loop; not on the Fyne goroutine.
		go func() {
			var problems []string
			started := 0
			for _, j := range jobs {
				if err := sched.RunNow(j.id); err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", j.name, err))
				} else {
					started++
				}
			}
			text := fmt.Sprintf("Started the imports of %s on %s; they run in the background.",
				plural(conns, "scheduled connection"), plural(started, "schedule"))
			if started < len(jobs) {
				text = fmt.Sprintf("Started %s of %d.", plural(started, "schedule"), len(jobs))
			}
			if len(problems) > 0 {
				text += " Not started: " + strings.Join(problems, "; ") + "."
			}
			text += also
			doUI(func() { t.ranAll(text) })
		}()
	})
}

func (t *Tray) ranAll(text string) {
	t.m.sched.setStatus(text)
	if t.m.notify != nil {
		t.m.notify(fyne.NewNotification("Inventory Beacon", text))
	}
	t.ranAlls++
	t.ranAllText = text
}
