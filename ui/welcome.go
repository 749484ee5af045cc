package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Labels of the welcome panel's buttons.
const (
	tryDemoLabel       = "Try with a demo tenant"
	connectTenantLabel = "Connect my tenant"
	demoReadyTitle     = "Demo tenant ready"
)

// welcomeText is on the Inventory Systems page while there are no
// connections. Explicit lines rather than word wrapping: a wrapped label in
// the page's top box reports a one-line height and would be cut off.
const welcomeText = "Inventory Beacon imports the users, licenses, applications and usage of a Microsoft 365 tenant,\n" +
	"so you can see which licenses you pay for, who holds them and who actually uses them.\n\n" +
	"Try it first with a simulated demo tenant that runs inside Inventory Beacon (no Microsoft account needed),\n" +
	"or connect your own tenant: you need an administrator who can sign in and consent."

// welcomePanel greets an administrator who has no connection yet, with the
// two ways to start.
type welcomePanel struct {
	m       *MainWindow
	content *widget.Card
	demo    *widget.Button
	connect *widget.Button
	status  *widget.Label
	// started counts the demo starts that ended, err is the last one's
	// outcome.
	started int
	err     error
}

func newWelcomePanel(m *MainWindow, p *systemsPage) *welcomePanel {
	w := &welcomePanel{m: m}
	w.demo = widget.NewButtonWithIcon(tryDemoLabel, theme.MediaPlayIcon(), w.onTryDemo)
	w.demo.Importance = widget.HighImportance
	w.connect = widget.NewButtonWithIcon(connectTenantLabel, theme.LoginIcon(), p.create)
	text := widget.NewLabel(welcomeText)
	text.Truncation = fyne.TextTruncateEllipsis
	w.status = widget.NewLabel("")
	w.status.Truncation = fyne.TextTruncateEllipsis
	w.status.Hide()
	w.content = widget.NewCard("Welcome to Inventory Beacon", "",
		container.NewVBox(text, container.NewHBox(w.demo, w.connect), w.status))
	return w
}

// onTryDemo starts the demo tenant. Its connection is committed behind the
// window, which then reloads the configuration: pending changes would be
// lost, so they are saved first.
func (w *welcomePanel) onTryDemo() {
	m := w.m
	if m.deps.Demo == nil {
		m.prompt = notAvailable(m.win, "The demo tenant")
		return
	}
	if !m.dirty {
		w.startDemo()
		return
	}
	m.prompt = showPrompt(m.win, "Save changes first",
		"Starting the demo tenant saves its connection and reloads the configuration. Save your changes first?",
		promptButton{label: "Cancel"},
		promptButton{label: "Save and continue", importance: widget.HighImportance, action: func() {
			if m.save() {
				w.startDemo()
			}
		}},
	)
}

func (w *welcomePanel) startDemo() {
	m := w.m
	w.demo.Disable()
	w.connect.Disable()
	w.status.SetText("Starting the demo tenant…")
	w.status.Show()
	before := map[string]bool{}
	for _, c := range m.cfg.Connections {
		before[c.ID] = true
	}
	demo := m.deps.Demo
	go func() {
		accounts, err := demo.StartDemo()
		doUI(func() { m.demoStarted(w, before, accounts, err) })
	}()
}

// demoStarted shows the demo connection, selected, and how to use it.
func (m *MainWindow) demoStarted(w *welcomePanel, before map[string]bool, accounts []DemoAccount, err error) {
	w.started++
	w.err = err
	if err != nil {
		w.demo.Enable()
		w.connect.Enable()
		w.status.Hide()
		m.prompt = showPrompt(m.win, "The demo tenant did not start",
			fmt.Sprintf("The demo tenant could not be started: %v.\n\nYou can still connect your own tenant with %s.", err, connectTenantLabel),
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	// The connection was committed by Demo.StartDemo: load it through the
	// same path as "Discard my changes and reload" (nothing is pending,
	// it was saved before the start).
	m.reload()
	if m.startup != nil {
		return // the reload failed; the window explains why
	}
	if m.sched.runner != nil {
		m.sched.runner.Reload()
	}
	for i, c := range m.cfg.Connections {
		if !before[c.ID] {
			m.systems.selectRow(i)
		}
	}
	m.showDemoAccounts(accounts)
}

// showDemoAccounts tells how to try the demo tenant: whom to sign in as
// and the next steps.
func (m *MainWindow) showDemoAccounts(accounts []DemoAccount) {
	// Wide enough for "account — role" on one line.
	m.prompt = showPromptWidth(m.win, 720, demoReadyTitle, demoHint(accounts),
		promptButton{label: "OK", importance: widget.HighImportance})
}

func demoHint(accounts []DemoAccount) string {
	var b strings.Builder
	b.WriteString("The \"Demo tenant\" connection reads a simulated Microsoft 365 tenant that runs inside Inventory Beacon; " +
		"nothing is sent to Microsoft.\n\n")
	b.WriteString("1. Select Demo tenant, click Edit..., then Generate... Your browser opens the demo sign-in page: " +
		"sign in as one of these accounts (no password needed):\n")
	for _, a := range accounts {
		fmt.Fprintf(&b, "    • %s — %s\n", a.UPN, a.Role)
	}
	b.WriteString("2. Click OK, then Save.\n")
	b.WriteString("3. Click Execute Now to import the users, licenses, applications and usage.")
	return b.String()
}
