package ui

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage/inventory"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

var demoAccounts = []DemoAccount{
	{UPN: "admin@contoso-demo.onmicrosoft.com", Role: "Global Administrator"},
	{UPN: "user@contoso-demo.onmicrosoft.com", Role: "no admin role: shows the admin-approval error"},
}

// startDemoStub commits a "Demo tenant" connection behind the window, as
// demo.Start does, and returns the accounts (or err).
func startDemoStub(t *testing.T, repo *storage.Repository, err error) demoFunc {
	return func() ([]DemoAccount, error) {
		if err != nil {
			return nil, err
		}
		cfg, lerr := repo.Config.Load()
		if lerr != nil {
			return nil, lerr
		}
		cfg.Connections = append(cfg.Connections, newNamedConnection("Demo tenant"))
		if cerr := repo.Commit(cfg, nil); cerr != nil {
			return nil, cerr
		}
		return demoAccounts, nil
	}
}

// waitDemo taps "Try with a demo tenant" and waits for its end.
func waitDemo(t *testing.T, m *MainWindow) error {
	t.Helper()
	w := m.systems.welcome
	n := w.started
	test.Tap(w.demo)
	var err error
	waitUI(t, "end of the demo start", func() bool { err = w.err; return w.started > n })
	return err
}

func TestWelcomePanelTryDemo(t *testing.T) {
	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{Demo: startDemoStub(t, repo, nil)})
	w := m.systems.welcome
	if !w.content.Visible() || w.demo.Text != tryDemoLabel || w.connect.Text != connectTenantLabel {
		t.Fatal("with no connection the welcome panel offers the demo and connecting a tenant")
	}
	if err := waitDemo(t, m); err != nil {
		t.Fatal(err)
	}
	// The window reloaded the configuration committed behind it.
	if len(m.cfg.Connections) != 1 || m.cfg.Connections[0].Name != "Demo tenant" || m.dirty {
		t.Fatalf("after the demo start: %+v (dirty %v)", m.cfg.Connections, m.dirty)
	}
	if m.systems.selected != 0 || m.systems.welcome.content.Visible() || m.systems.empty.Visible() {
		t.Fatal("the demo connection should be listed and selected, the welcome panel gone")
	}
	if m.prompt == nil || m.prompt.title != demoReadyTitle {
		t.Fatalf("no accounts hint after the demo start: %+v", m.prompt)
	}
	msg := m.prompt.message.Text
	for _, want := range []string{
		"admin@contoso-demo.onmicrosoft.com — Global Administrator",
		"user@contoso-demo.onmicrosoft.com — no admin role",
		"Edit...", "Generate...", "Save", "Execute Now",
	} {
		requireContains(t, "demo hint", msg, want)
	}
}

func TestWelcomePanelDemoFailureAndMissingHook(t *testing.T) {
	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{Demo: startDemoStub(t, repo, errors.New("port 45365 is in use"))})
	if err := waitDemo(t, m); err == nil {
		t.Fatal("the failing start reported success")
	}
	if m.prompt == nil || m.prompt.title != "The demo tenant did not start" {
		t.Fatalf("no error shown: %+v", m.prompt)
	}
	requireContains(t, "error", m.prompt.message.Text, "port 45365 is in use")
	w := m.systems.welcome
	if w.demo.Disabled() || w.connect.Disabled() || w.status.Visible() || !w.content.Visible() {
		t.Fatal("after a failure the panel must offer both choices again")
	}

	m2, _ := testMainWindow(t, testRepo(t), Deps{})
	test.Tap(m2.systems.welcome.demo)
	if m2.prompt == nil || !strings.Contains(m2.prompt.message.Text, "not available in this version") {
		t.Fatal("without StartDemo the button must say it is not available")
	}
	// Connect my tenant is New → PowerShell.
	test.Tap(m2.systems.welcome.connect)
	if d := m2.systems.dialog; d == nil || !d.isNew || d.dlg == nil {
		t.Fatal("Connect my tenant did not open the new connection dialog")
	}
}

// beacon --demo: the accounts are shown once when the window opens.
func TestDemoAccountsShownAtStart(t *testing.T) {
	repo := testRepo(t)
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{newNamedConnection("Demo tenant")}}
	if err := repo.Commit(cfg, nil); err != nil {
		t.Fatal(err)
	}
	m, _ := testMainWindow(t, repo, Deps{DemoAccounts: demoAccounts})
	if m.prompt == nil || m.prompt.title != demoReadyTitle {
		t.Fatal("the demo accounts are not shown at start")
	}
	requireContains(t, "demo hint", m.prompt.message.Text, "admin@contoso-demo.onmicrosoft.com — Global Administrator")
	if m.systems.welcome.content.Visible() {
		t.Fatal("the welcome panel is for an empty list only")
	}
}

func typeShortcut(m *MainWindow, s fyne.Shortcut) {
	m.win.Canvas().(fyne.Shortcutable).TypedShortcut(s)
}

func typeKey(m *MainWindow, k fyne.KeyName) {
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: k})
}

// closeOverlays closes the dialogs and menus left open.
func closeOverlays(m *MainWindow) {
	for m.win.Canvas().Overlays().Top() != nil {
		m.win.Canvas().Overlays().Remove(m.win.Canvas().Overlays().Top())
	}
}

func TestKeyboardShortcuts(t *testing.T) {
	repo := testRepo(t)
	var executed []string
	started := make(chan string, 1)
	m, _ := testMainWindow(t, repo, Deps{
		Importer: importFunc(func(_ context.Context, c storage.Connection, req ImportRequest, _ func(string, int, int)) (inventory.Run, error) {
			name := c.Name
			if req.Full {
				name += " (full)"
			}
			started <- name
			return inventory.Run{ID: 1, Status: inventory.StatusSucceeded}, nil
		}),
	})
	// typeExecute types an Execute Now shortcut and, when it starts an
	// import, waits for its end and closes its dialog.
	typeExecute := func(s fyne.Shortcut) {
		typeShortcut(m, s)
		select {
		case name := <-started:
			executed = append(executed, name)
			waitUI(t, "end of the import", func() bool { return len(m.exec.running) == 0 })
			closeOverlays(m)
		case <-time.After(50 * time.Millisecond): // nothing started
		}
	}
	m.win.Resize(fyne.NewSize(1400, windowHeight)) // every column on screen

	// Ctrl+N from another page: the new connection dialog on Inventory
	// Systems. A second Ctrl+N behind the open dialog does nothing.
	m.nav.Select(PageUsers)
	typeShortcut(m, shortcutNew)
	d := m.systems.dialog
	if d == nil || !d.isNew || m.pageName != PageInventorySystems {
		t.Fatalf("Ctrl+N: dialog %v on page %q", d, m.pageName)
	}
	typeShortcut(m, shortcutNew)
	if m.systems.dialog != d {
		t.Fatal("Ctrl+N behind an open dialog opened another one")
	}
	test.Type(d.name, "Contoso")
	test.Tap(d.ok)
	if !m.dirty {
		t.Fatal("the new connection is not pending")
	}

	// Ctrl+S saves.
	typeShortcut(m, shortcutSave)
	if m.dirty {
		t.Fatalf("Ctrl+S did not save: %+v", m.prompt)
	}
	if cfg, err := repo.Config.Load(); err != nil || len(cfg.Connections) != 1 {
		t.Fatalf("saved %+v, %v", cfg, err)
	}

	// Ctrl+E runs the selected connection; without one it says so.
	m.systems.selectRow(-1)
	typeExecute(shortcutExecute)
	if len(executed) != 0 || m.prompt == nil || m.prompt.title != "No connection selected" {
		t.Fatal("Ctrl+E without a selection must say so")
	}
	closeOverlays(m)
	m.systems.selectRow(0)
	typeExecute(shortcutExecute)
	if !reflect.DeepEqual(executed, []string{"Contoso"}) {
		t.Fatalf("Ctrl+E executed %v", executed)
	}
	// Ctrl+Shift+E is Execute Now (full import); Ctrl+E stays the usual
	// one.
	typeExecute(shortcutExecuteFull)
	typeExecute(shortcutExecute)
	if !reflect.DeepEqual(executed, []string{"Contoso", "Contoso (full)", "Contoso"}) {
		t.Fatalf("Ctrl+Shift+E, Ctrl+E executed %v", executed)
	}
	m.systems.selectRow(-1)
	typeExecute(shortcutExecuteFull)
	if len(executed) != 3 || m.prompt == nil || m.prompt.title != "No connection selected" {
		t.Fatal("Ctrl+Shift+E without a selection must say so")
	}
	requireContains(t, "hint", m.prompt.message.Text, "choose Execute Now (full import) again")
	closeOverlays(m)
	m.systems.selectRow(0)

	// F5 redraws the run state (here from the import history).
	id := m.cfg.Connections[0].ID
	m.data.lastRuns = map[string]inventory.Run{id: {ID: 1, Status: inventory.StatusSucceeded}}
	m.systems.refresh()
	if got := cellAt(t, m, 0, colLastResult).label.Text; got != "Succeeded" {
		t.Fatalf("last result %q", got)
	}
	m.data.lastRuns[id] = inventory.Run{ID: 2, Status: inventory.StatusFailed}
	typeKey(m, fyne.KeyF5)
	if got := cellAt(t, m, 0, colLastResult).label.Text; got != "Failed" {
		t.Fatalf("after F5 the cell shows %q", got)
	}

	// Delete asks first, only on the Inventory Systems page.
	m.prompt = nil
	m.nav.Select(PageScheduling)
	typeKey(m, fyne.KeyDelete)
	if m.prompt != nil {
		t.Fatal("Delete on another page acted on the hidden selection")
	}
	m.nav.Select(PageInventorySystems)
	typeKey(m, fyne.KeyDelete)
	if m.prompt == nil || m.prompt.title != "Delete connection" {
		t.Fatal("Delete must ask first")
	}
	// Esc cancels the question (issue 23 item 6), as its Cancel button does.
	typeKey(m, fyne.KeyEscape)
	if len(m.cfg.Connections) != 1 || m.prompt.open {
		t.Fatal("Esc did not cancel the question, or deleted")
	}
	// Enter presses the default button of a message: the only one here.
	m.prompt = notAvailable(m.win, "Something")
	typeKey(m, fyne.KeyReturn)
	if m.prompt.open {
		t.Fatal("Enter did not close the message")
	}
	// Enter on a question presses its high-importance button, not Cancel.
	pressed := ""
	m.prompt = showPrompt(m.win, "Question", "Sure?", promptButton{label: "Cancel", action: func() { pressed = "Cancel" }},
		promptButton{label: "Go ahead", importance: widget.HighImportance, action: func() { pressed = "Go ahead" }})
	typeKey(m, fyne.KeyEnter)
	if pressed != "Go ahead" || m.prompt.open {
		t.Fatalf("Enter pressed %q", pressed)
	}
	// Keys reach the window again once no message is open.
	m.prompt = nil
	// The navigation tree, focused by the click that chose the page,
	// passes Delete on (the key did nothing in the real window).
	m.prompt = nil
	m.win.Canvas().Focus(m.nav)
	pressKey(m.win.Canvas(), fyne.KeyDelete)
	if m.prompt == nil || m.prompt.title != "Delete connection" || !m.prompt.open {
		t.Fatal("Delete with the navigation focused must ask too")
	}
	pressKey(m.win.Canvas(), fyne.KeyEscape)
	if m.prompt.open || len(m.cfg.Connections) != 1 {
		t.Fatal("Esc did not cancel the question")
	}
	// A row's details: Close is the default button, so Enter closes.
	m.prompt = showPrompt(m.win, "Details", "Row 1", promptButton{label: "Copy"},
		promptButton{label: "Close", importance: widget.HighImportance})
	pressKey(m.win.Canvas(), fyne.KeyReturn)
	if m.prompt.open {
		t.Fatal("Enter did not press a high-importance Close")
	}
	// The table, focused after a keyboard selection, passes Delete on.
	m.prompt = nil
	m.win.Canvas().Focus(m.systems.table)
	m.win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if m.prompt == nil || m.prompt.title != "Delete connection" {
		t.Fatal("Delete in the focused table must ask too")
	}
	test.Tap(m.prompt.buttons["Delete"])
	if len(m.cfg.Connections) != 0 || !m.dirty {
		t.Fatal("Delete did not remove the connection")
	}
}

func TestMainMenuShowsShortcuts(t *testing.T) {
	m, _ := testMainWindow(t, testRepo(t), Deps{})
	var menus []string
	items := map[string][]string{}
	for _, menu := range m.menu.menu.Items {
		menus = append(menus, menu.Label)
		for _, it := range menu.Items {
			if !it.IsSeparator {
				items[menu.Label] = append(items[menu.Label], it.Label)
			}
		}
	}
	if !reflect.DeepEqual(menus, []string{"File", "Connection", "View", "Help"}) {
		t.Fatalf("menus %v", menus)
	}
	if want := []string{"New connection...", "Save", "Load licensing catalogue...", "Use built-in catalogue", "Preferences...", "Exit"}; !reflect.DeepEqual(items["File"], want) {
		t.Errorf("File menu %v, want %v", items["File"], want)
	}
	if !reflect.DeepEqual(items["Help"], []string{"About Inventory Beacon"}) {
		t.Errorf("Help menu %v", items["Help"])
	}
	if want := []string{"Execute Now", "Execute Now (full import)", "Delete"}; !reflect.DeepEqual(items["Connection"], want) {
		t.Errorf("Connection menu %v, want %v", items["Connection"], want)
	}
	shortcuts := map[*fyne.MenuItem]fyne.KeyName{
		m.menu.newConn: fyne.KeyN, m.menu.save: fyne.KeyS, m.menu.execute: fyne.KeyE, m.menu.executeFull: fyne.KeyE,
		m.menu.refresh: fyne.KeyF5,
	}
	if ks, ok := m.menu.executeFull.Shortcut.(fyne.KeyboardShortcut); !ok || ks.Mod()&fyne.KeyModifierShift == 0 ||
		m.menu.executeFull.Shortcut.ShortcutName() == m.menu.execute.Shortcut.ShortcutName() {
		t.Errorf("Execute Now (full import) shows %v, want Ctrl+Shift+E", m.menu.executeFull.Shortcut)
	}
	if runtime.GOOS != "darwin" {
		shortcuts[m.menu.deleteConn] = fyne.KeyDelete
	}
	for it, want := range shortcuts {
		ks, ok := it.Shortcut.(fyne.KeyboardShortcut)
		if !ok || ks.Key() != want {
			t.Errorf("%s shows shortcut %v, want key %s", it.Label, it.Shortcut, want)
		}
	}
	if !m.menu.exit.IsQuit {
		t.Error("Exit must replace Fyne's own Quit")
	}
}

func TestPreferencesAppearanceAndAbout(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	m := NewMainWindow(a, Deps{Repo: testRepo(t), AppName: "Inventory Beacon", AppVersion: "1.2.3"})
	t.Cleanup(m.win.Close)
	bg := theme.ColorNameBackground
	light, dark := theme.DefaultTheme().Color(bg, theme.VariantLight), theme.DefaultTheme().Color(bg, theme.VariantDark)

	m.menu.preferences.Action()
	p := m.prefsDialog
	if p == nil || p.appearance.Selected != appearanceSystem {
		t.Fatal("Preferences must open on System")
	}
	if !reflect.DeepEqual(p.appearance.Options, []string{"System", "Light", "Dark"}) {
		t.Errorf("options %v", p.appearance.Options)
	}
	p.appearance.SetSelected(appearanceDark)
	if got := a.Preferences().String(prefAppearance); got != appearanceDark {
		t.Errorf("stored %q", got)
	}
	// Applied at once, whatever variant the system asks for.
	if got := a.Settings().Theme().Color(bg, theme.VariantLight); got != dark {
		t.Errorf("Dark: background %v, want %v", got, dark)
	}
	p.appearance.SetSelected(appearanceLight)
	if got := a.Settings().Theme().Color(bg, theme.VariantDark); got != light {
		t.Errorf("Light: background %v, want %v", got, light)
	}
	p.appearance.SetSelected(appearanceSystem)
	if got := a.Settings().Theme().Color(bg, theme.VariantDark); got != dark {
		t.Errorf("System: background in the dark variant %v, want %v", got, dark)
	}

	// The stored override is applied at the next start.
	a.Preferences().SetString(prefAppearance, appearanceDark)
	a.Settings().SetTheme(theme.DefaultTheme())
	m2 := NewMainWindow(a, Deps{Repo: testRepo(t)})
	t.Cleanup(m2.win.Close)
	if got := a.Settings().Theme().Color(bg, theme.VariantLight); got != dark {
		t.Errorf("Dark not applied at start: %v", got)
	}

	closeOverlays(m)
	m.menu.about.Action()
	if m.prompt == nil || m.prompt.title != "About Inventory Beacon" {
		t.Fatal("no About")
	}
	requireContains(t, "About", m.prompt.message.Text, "Version 1.2.3")
}

func TestWindowSizeAndLastPageRemembered(t *testing.T) {
	a := test.NewTempApp(t)
	repo := testRepo(t)
	if err := repo.Commit(&storage.Config{Version: storage.ConfigVersion,
		Connections: []storage.Connection{newNamedConnection("Contoso")}}, nil); err != nil {
		t.Fatal(err)
	}
	open := func(deps Deps) *MainWindow {
		deps.Repo = repo
		m := NewMainWindow(a, deps)
		m.quit = func() {}
		t.Cleanup(m.win.Close)
		return m
	}
	m := open(Deps{})
	if got := m.win.Canvas().Size(); got != fyne.NewSize(windowWidth, windowHeight) {
		t.Fatalf("first start %v", got)
	}
	m.nav.Select(PageScheduling)
	m.win.Resize(fyne.NewSize(1300, 900))
	m.requestExit()
	if w, h := a.Preferences().Float(prefWindowWidth), a.Preferences().Float(prefWindowHeight); w != 1300 || h != 900 {
		t.Fatalf("stored %vx%v", w, h)
	}

	m2 := open(Deps{})
	if m2.pageName != PageScheduling {
		t.Errorf("opens on %q, want the last page", m2.pageName)
	}
	if got := m2.win.Canvas().Size(); got != fyne.NewSize(1300, 900) {
		t.Errorf("opens at %v, want 1300x900", got)
	}
	// Larger than the screen it opens on: the screen's size.
	m3 := open(Deps{ScreenSize: func() fyne.Size { return fyne.NewSize(1280, 800) }})
	if got := m3.win.Canvas().Size(); got != fyne.NewSize(1280, 800) {
		t.Errorf("on a smaller screen it opens at %v", got)
	}
}

func TestClampWindowSize(t *testing.T) {
	for _, tc := range []struct{ size, screen, want fyne.Size }{
		{fyne.NewSize(300, 200), fyne.Size{}, fyne.NewSize(windowWidth, windowHeight)},
		{fyne.NewSize(1600, 1000), fyne.Size{}, fyne.NewSize(1600, 1000)},
		{fyne.NewSize(5000, 4000), fyne.NewSize(1920, 1080), fyne.NewSize(1920, 1080)},
		{fyne.NewSize(1200, 300), fyne.NewSize(1920, 1080), fyne.NewSize(1200, windowHeight)},
		// A screen smaller than the default wins.
		{fyne.NewSize(1024, 700), fyne.NewSize(800, 600), fyne.NewSize(800, 600)},
	} {
		if got := clampWindowSize(tc.size, tc.screen); got != tc.want {
			t.Errorf("clamp(%v, screen %v) = %v, want %v", tc.size, tc.screen, got, tc.want)
		}
	}
}

// With no connection the window stays on Inventory Systems, where the
// welcome panel is, whatever page was shown last.
func TestLastPageIgnoredWithoutConnections(t *testing.T) {
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefLastPage, PageUsers)
	m := NewMainWindow(a, Deps{Repo: testRepo(t)})
	t.Cleanup(m.win.Close)
	if m.pageName != PageInventorySystems {
		t.Fatalf("opens on %q", m.pageName)
	}
}

// Tab moves through the dialog's fields in the order they are shown,
// skipping disabled ones, and ends on the buttons.
func TestDialogTabOrder(t *testing.T) {
	d, w := testDialog(t, connector.NewConnection(), true, nil, nil, nil)
	names := map[fyne.Focusable]string{
		d.name: "name", d.sourceTypeButton: "source type", d.useProxy: "use proxy",
		d.proxyServer: "proxy server", d.proxyUser: "proxy user", d.proxyPassword: "proxy password",
		d.caCertFile: "ca cert", d.caCertBrowse: "browse",
		d.cloud: "cloud", d.tokenEndpoint: "token endpoint", d.clientID: "client id", d.redirectURI: "redirect uri",
		d.authorizationEndpoint: "authorization endpoint", d.generate: "generate", d.clientSecret: "client secret",
		d.graphEndpoint: "graph endpoint", d.cancel: "cancel", d.ok: "ok",
		d.permissions: "permissions", d.signInActivity: "sign-in activity", d.customScopes: "custom scopes",
		d.issuer: "issuer", d.prompt: "prompt",
	}
	order := func() []string {
		c := w.Canvas()
		c.Focus(d.name)
		var got []string
		for range 40 {
			f := c.Focused()
			name, ok := names[f]
			if !ok {
				// The radio buttons of Authentication Flow are
				// internal widgets.
				name = "auth flow"
			}
			if len(got) > 0 && name == "name" {
				break
			}
			if len(got) == 0 || got[len(got)-1] != name {
				got = append(got, name)
			}
			c.FocusNext()
		}
		return got
	}
	want := []string{"name", "source type", "use proxy", "ca cert", "browse", "cloud", "token endpoint", "client id", "redirect uri",
		"auth flow", "authorization endpoint", "generate", "permissions", "sign-in activity", "prompt", "cancel"}
	if got := order(); !reflect.DeepEqual(got, want) {
		t.Errorf("tab order\n got %v\nwant %v", got, want)
	}
	// Use Proxy enables its fields, which come next; a valid name enables
	// OK, which comes last.
	test.Type(d.name, "Contoso")
	test.Tap(d.useProxy)
	test.Type(d.proxyServer, "10.0.0.5:3128")
	want = []string{"name", "source type", "use proxy", "proxy server", "proxy user", "proxy password", "ca cert", "browse", "cloud",
		"token endpoint", "client id", "redirect uri", "auth flow", "authorization endpoint", "generate", "permissions", "sign-in activity", "prompt", "cancel", "ok"}
	if got := order(); !reflect.DeepEqual(got, want) {
		t.Errorf("tab order with the proxy on\n got %v\nwant %v", got, want)
	}
}

// Every Microsoft 365 field says what it is, and the group says which
// permissions and roles signing in needs; the notes are not cut off.
func TestDialogHelpTexts(t *testing.T) {
	d, _ := testDialog(t, connector.NewConnection(), true, nil, nil, nil)
	for _, want := range []string{"Directory.Read.All", "Reports.Read.All", "admin consent", "Reports Reader", "Global Reader"} {
		requireContains(t, "roles help", d.rolesHelp.Text, want)
	}
	for _, f := range []string{connector.FieldCloud, connector.FieldTokenEndpoint, connector.FieldClientID,
		connector.FieldRedirectURI, connector.FieldAuthFlow, connector.FieldAuthorizationEndpoint, fieldRefreshToken,
		connector.FieldGraphEndpoint} {
		h := d.help[f]
		if h == nil || h.Text == "" || !h.Visible() {
			t.Errorf("%s has no help", f)
			continue
		}
		if got, min := h.Size().Height, h.MinSize().Height; got < min {
			t.Errorf("%s: help %v high, needs %v", f, got, min)
		}
	}
	if h := d.help[connector.FieldClientSecret]; h == nil || !strings.Contains(h.Text, "application permissions chosen under Permissions") {
		t.Error("Client Secret help must name the application permissions")
	}
	// Proxy fields have no Microsoft 365 help.
	if _, ok := d.help[connector.FieldProxyServer]; ok {
		t.Error("help on a proxy field")
	}
}
