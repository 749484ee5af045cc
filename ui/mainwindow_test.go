package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage/inventory"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fyne.io/fyne/v2"
	"github.com/inventorybeacon/beacon/storage"
)

func TestNavigationShowsEveryPage(t *testing.T) {
	m, _ := testMainWindow(t, testRepo(t), Deps{})
	if m.pageName != PageInventorySystems {
		t.Fatalf("the window opens on %q", m.pageName)
	}
	groups := m.nav.ChildUIDs("")
	if !reflect.DeepEqual(groups, []string{"Data collection", "Imported data"}) {
		t.Fatalf("groups %v", groups)
	}
	if got := m.nav.ChildUIDs(GroupDataCollection); !reflect.DeepEqual(got, []string{"Inventory Systems", "Scheduling"}) {
		t.Errorf("Data collection: %v", got)
	}
	if got := m.nav.ChildUIDs(GroupImportedData); !reflect.DeepEqual(got, []string{"Users", "Licenses", "Optimization", "Applications", "Usage", "Import history"}) {
		t.Errorf("Imported data: %v", got)
	}
	// Scheduling is built in (scheduling_test.go); the data pages are
	// placeholders without Deps.Inventory.
	for _, page := range []string{PageUsers, PageLicenses, PageOptimization, PageApplications, PageUsage, PageImportHistory} {
		m.nav.Select(page)
		if m.pageName != page {
			t.Fatalf("selecting %q shows %q", page, m.pageName)
		}
		var texts []string
		for _, o := range test.LaidOutObjects(m.page) {
			if l, ok := o.(*widget.Label); ok {
				texts = append(texts, l.Text)
			}
		}
		all := strings.Join(texts, "\n")
		if !strings.Contains(all, "not available in this version") || !strings.Contains(all, page) || len(placeholderText[page]) < 40 {
			t.Errorf("placeholder of %q says %q", page, all)
		}
	}
}

// The whole round: New → PowerShell, fill in, OK, Save through the real
// storage and keyring, Exit.
func TestCreateSaveAndExit(t *testing.T) {
	repo := testRepo(t)
	m, quit := testMainWindow(t, repo, Deps{})
	if !m.saveButton.Disabled() || m.unsaved.Visible() {
		t.Fatal("nothing is pending yet: Save must be disabled and the indicator hidden")
	}
	if !m.systems.empty.Visible() || !m.systems.editButton.Disabled() {
		t.Fatal("an empty list shows its hint and no selection")
	}

	// New is a menu of the reference product's kinds; only PowerShell works.
	before := len(m.win.Canvas().Overlays().List())
	test.Tap(m.systems.newButton)
	if len(m.win.Canvas().Overlays().List()) != before+1 {
		t.Fatal("New did not open its menu")
	}
	var labels []string
	for _, it := range m.systems.newMenu.Items {
		labels = append(labels, it.Label)
		if it.Disabled != (it.Label != kindPowerShell) {
			t.Errorf("%s: disabled=%v", it.Label, it.Disabled)
		}
	}
	if !reflect.DeepEqual(labels, []string{"SQL Server", "Spreadsheet", "PowerShell", "Other"}) {
		t.Errorf("New menu %v", labels)
	}
	m.win.Canvas().Overlays().Remove(m.win.Canvas().Overlays().Top())
	m.systems.newMenu.Items[2].Action()

	d := m.systems.dialog
	if d == nil || d.dlg == nil {
		t.Fatal("PowerShell did not open the connection dialog")
	}
	test.Type(d.name, "Contoso")
	test.Tap(d.useProxy)
	test.Type(d.proxyServer, "10.0.0.5:3128")
	test.Type(d.proxyUser, "alice")
	const pw = "proxy-password-for-alice"
	test.Type(d.proxyPassword, pw)
	test.Tap(d.ok)

	if m.saveButton.Disabled() || !m.unsaved.Visible() || !m.dirty {
		t.Fatal("a new connection must be pending")
	}
	if len(m.cfg.Connections) != 1 || m.systems.selected != 0 || m.systems.editButton.Disabled() {
		t.Fatalf("the new connection should be listed and selected: %+v", m.cfg.Connections)
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colConnName}); got != "Contoso" {
		t.Errorf("name cell %q", got)
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colSchedule}); got != "Not scheduled" {
		t.Errorf("schedule cell %q", got)
	}

	// Exit with changes asks; Cancel keeps everything.
	test.Tap(m.exitButton)
	if *quit || m.prompt == nil || m.prompt.title != "Unsaved changes" {
		t.Fatal("Exit with unsaved changes must ask first")
	}
	test.Tap(m.prompt.buttons["Cancel"])
	if *quit || !m.dirty {
		t.Fatal("Cancel must keep the window and the changes")
	}

	test.Tap(m.saveButton)
	if m.dirty || !m.saveButton.Disabled() || m.unsaved.Visible() {
		t.Fatalf("Save did not clear the pending state (prompt: %v)", m.prompt)
	}
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Connections) != 1 || cfg.Connections[0].Name != "Contoso" || !cfg.Connections[0].Proxy.HasPassword {
		t.Fatalf("saved configuration %+v", cfg.Connections)
	}
	data, err := os.ReadFile(repo.Config.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), pw) {
		t.Fatal("the proxy password is in the configuration file")
	}
	got, err := repo.Secrets.Get(cfg.Connections[0].ID, storage.SecretProxyPassword)
	if err != nil || got != pw {
		t.Fatalf("keyring has %q, %v", got, err)
	}

	// Nothing pending: Exit quits without asking.
	m.prompt = nil
	test.Tap(m.exitButton)
	if !*quit || m.prompt != nil {
		t.Fatal("Exit without changes should quit at once")
	}
}

func TestCloseOfTheWindowIsIntercepted(t *testing.T) {
	m, quit := testMainWindow(t, testRepo(t), Deps{})
	// The test window cannot be closed by a window manager; check the
	// intercept is in place and behaves as Exit.
	f := reflect.ValueOf(m.win).Elem().FieldByName("onCloseIntercepted")
	if !f.IsValid() || f.IsNil() {
		t.Fatal("no close intercept on the window")
	}
	m.putConnection(newNamedConnection("Contoso"), nil)
	m.requestExit()
	if *quit {
		t.Fatal("closing with changes must ask")
	}
	test.Tap(m.prompt.buttons["Exit without saving"])
	if !*quit {
		t.Fatal("Exit without saving did not quit")
	}
}

func TestSaveAndExitSavesFirst(t *testing.T) {
	repo := testRepo(t)
	m, quit := testMainWindow(t, repo, Deps{})
	m.putConnection(newNamedConnection("Contoso"), nil)
	test.Tap(m.exitButton)
	test.Tap(m.prompt.buttons["Save and exit"])
	if !*quit {
		t.Fatal("Save and exit did not quit")
	}
	cfg, err := repo.Config.Load()
	if err != nil || len(cfg.Connections) != 1 {
		t.Fatalf("not saved: %v %v", cfg, err)
	}
}

// A keyring that fails keeps every change pending, and a later Save with a
// working keyring saves them all.
func TestSaveKeyringFailureKeepsChangesPending(t *testing.T) {
	repo := testRepo(t)
	working := repo.Secrets
	// The real keyring with a time-out too short for any answer: the
	// failure an administrator meets when the keyring waits for an unlock.
	repo.Secrets = storage.NewKeyring("inventory-beacon-uitest-"+storage.NewID(), time.Nanosecond)
	m, quit := testMainWindow(t, repo, Deps{})
	c := newNamedConnection("Contoso")
	c.Proxy = storage.Proxy{Enabled: true, Server: "10.0.0.5:3128", Username: "alice", HasPassword: true}
	m.putConnection(c, []storage.SecretChange{{ConnID: c.ID, Kind: storage.SecretProxyPassword, Value: "proxy-password-xyz"}})

	test.Tap(m.saveButton)
	if m.prompt == nil || m.prompt.title != "Changes not saved" {
		t.Fatal("a failed save must say so")
	}
	msg := m.prompt.message.Text
	requireContains(t, "message", msg, "keyring")
	requireContains(t, "message", msg, "did not answer in time")
	requireContains(t, "message", msg, "your changes are still here")
	if !m.dirty || m.saveButton.Disabled() || !m.unsaved.Visible() || len(m.pending) != 1 {
		t.Fatal("the changes must stay pending")
	}
	if _, err := os.Stat(repo.Config.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the configuration was written although the keyring failed: %v", err)
	}

	// Exit still asks: the changes are not lost.
	test.Tap(m.prompt.buttons["OK"])
	test.Tap(m.exitButton)
	if *quit {
		t.Fatal("Exit after a failed save must ask")
	}
	test.Tap(m.prompt.buttons["Cancel"])

	repo.Secrets = working
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("the retry failed: %s", m.prompt.message.Text)
	}
	if got, err := working.Get(c.ID, storage.SecretProxyPassword); err != nil || got != "proxy-password-xyz" {
		t.Fatalf("keyring after retry: %q %v", got, err)
	}
}

func TestSaveRefusesToUndoAnotherProcessesChange(t *testing.T) {
	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{})
	// Another process (the CLI, a scheduler) saves in between.
	other := storage.NewConfigStore(repo.Config.Dir())
	if err := other.Update(func(c *storage.Config) error {
		c.Connections = append(c.Connections, newNamedConnection("FromCLI"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m.putConnection(newNamedConnection("Contoso"), nil)
	test.Tap(m.saveButton)
	if m.prompt == nil {
		t.Fatal("no message")
	}
	requireContains(t, "message", m.prompt.message.Text, "saved the configuration after this window opened it")
	if !m.dirty || len(m.cfg.Connections) != 1 {
		t.Fatal("the window's changes must stay pending")
	}
	cfg, err := repo.Config.Load()
	if err != nil || len(cfg.Connections) != 1 || cfg.Connections[0].Name != "FromCLI" {
		t.Fatalf("the other process's change was undone: %+v %v", cfg, err)
	}
	// The way out: discard and reload shows the other process's change.
	test.Tap(m.prompt.buttons[reloadLabel])
	if m.dirty || len(m.cfg.Connections) != 1 || m.cfg.Connections[0].Name != "FromCLI" || !m.saveButton.Disabled() {
		t.Fatalf("after reload: dirty %v, connections %+v", m.dirty, m.cfg.Connections)
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colConnName}); got != "FromCLI" {
		t.Errorf("table shows %q", got)
	}
}

// Select a row by tapping, Delete asks, Cancel keeps, Delete removes and
// Save removes the keyring secrets.
func TestDeleteConfirmsAndRemovesSecretsOnSave(t *testing.T) {
	repo := testRepo(t)
	c := newNamedConnection("Contoso")
	c.AuthFlow = storage.FlowClientCredentials
	c.TokenEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
	c.HasClientSecret = true
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{c, newNamedConnection("Fabrikam")}}
	if err := repo.Commit(cfg, []storage.SecretChange{{ConnID: c.ID, Kind: storage.SecretClientSecret, Value: "client-secret-value-1"}}); err != nil {
		t.Fatal(err)
	}
	m, _ := testMainWindow(t, repo, Deps{})
	if len(m.cfg.Connections) != 2 || m.systems.empty.Visible() {
		t.Fatal("the saved connections are not listed")
	}
	if !m.systems.deleteButton.Disabled() {
		t.Fatal("Delete needs a selection")
	}
	test.Tap(cellAt(t, m, 0, colTenant))
	if m.systems.selected != 0 || m.systems.deleteButton.Disabled() {
		t.Fatal("tapping a cell must select its row")
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colTenant}); got != "contoso.com" {
		t.Errorf("tenant cell %q", got)
	}

	test.Tap(m.systems.deleteButton)
	if m.prompt == nil || m.prompt.title != "Delete connection" {
		t.Fatal("Delete must ask")
	}
	msg := m.prompt.message.Text
	requireContains(t, "message", msg, `"Contoso"`)
	requireContains(t, "message", msg, "already imported from it stays")
	requireContains(t, "message", msg, "goes stale")
	requireContains(t, "message", msg, "removed from the keyring when you click Save")
	test.Tap(m.prompt.buttons["Cancel"])
	if len(m.cfg.Connections) != 2 || m.dirty {
		t.Fatal("Cancel deleted")
	}

	test.Tap(m.systems.deleteButton)
	test.Tap(m.prompt.buttons["Delete"])
	if len(m.cfg.Connections) != 1 || m.cfg.Connections[0].Name != "Fabrikam" || !m.dirty {
		t.Fatalf("after Delete: %+v", m.cfg.Connections)
	}
	if m.systems.selected != -1 || !m.systems.editButton.Disabled() {
		t.Error("nothing should be selected after Delete")
	}
	// Until Save the secret is still in the keyring.
	if _, err := repo.Secrets.Get(c.ID, storage.SecretClientSecret); err != nil {
		t.Fatalf("secret gone before Save: %v", err)
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if _, err := repo.Secrets.Get(c.ID, storage.SecretClientSecret); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("secret still in the keyring after Save: %v", err)
	}
}

func TestDoubleTapOpensEdit(t *testing.T) {
	repo := testRepo(t)
	c := newNamedConnection("Contoso")
	if err := repo.Commit(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{c}}, nil); err != nil {
		t.Fatal(err)
	}
	m, _ := testMainWindow(t, repo, Deps{})
	test.DoubleTap(cellAt(t, m, 0, colConnName))
	d := m.systems.dialog
	if d == nil || d.isNew || d.dlg == nil {
		t.Fatal("double tap did not open Edit")
	}
	if d.name.Text != "Contoso" {
		t.Errorf("edit shows %q", d.name.Text)
	}
	// OK without a change leaves nothing to save.
	test.Tap(d.ok)
	if m.dirty {
		t.Error("an unchanged edit made the window dirty")
	}
	// A rename is pending, and the name stays unique against the others
	// but not against itself.
	test.Tap(m.systems.editButton)
	d = m.systems.dialog
	retype(d.name, "CONTOSO")
	if d.ok.Disabled() {
		t.Fatalf("renaming to itself in other case refused: %v", d.current)
	}
	test.Tap(d.ok)
	if !m.dirty || m.cfg.Connections[0].Name != "CONTOSO" {
		t.Fatal("rename not pending")
	}
}

func TestServicesRunOnSavedConnection(t *testing.T) {
	repo := testRepo(t)
	executed, tested := make(chan storage.Connection, 1), make(chan storage.Connection, 1)
	deps := Deps{
		Importer: importFunc(func(_ context.Context, c storage.Connection, _ ImportRequest, _ func(string, int, int)) (inventory.Run, error) {
			executed <- c
			return inventory.Run{ID: 1, Status: inventory.StatusSucceeded}, nil
		}),
		Tester: testerFunc(func(_ context.Context, c storage.Connection) *service.TestReport {
			tested <- c
			return &service.TestReport{TokenOK: true, GraphOK: true}
		}),
	}
	m, _ := testMainWindow(t, repo, deps)
	onUI(func() {
		m.putConnection(newNamedConnection("Contoso"), nil)
		m.systems.selectRow(0)

		// Pending changes: Execute Now offers to save first.
		test.Tap(m.systems.executeButton)
		if len(executed) != 0 || m.prompt == nil || m.prompt.title != "Save changes first" {
			t.Fatal("Execute Now with unsaved changes must offer to save")
		}
		test.Tap(m.prompt.buttons["Save and continue"])
	})
	if c := recvTB(t, executed, "import"); c.Name != "Contoso" {
		t.Fatalf("executed %+v", c)
	}
	waitUI(t, "end of the import", func() bool { return len(m.exec.running) == 0 })
	onUI(func() {
		if m.dirty {
			t.Fatal("Execute Now did not save first")
		}
		test.Tap(m.systems.testButt)
	})
	if c := recvTB(t, tested, "Test Connection"); c.Name != "Contoso" {
		t.Fatalf("tested %+v", c)
	}
	waitUI(t, "test report", func() bool { return m.tester.ended == 1 })

	// Never signed in: attaching it to a schedule warns first (issue 23).
	// The schedule comes from the Select Schedule dialog.
	schedules := []storage.Schedule{{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2}}
	m.cfg.Schedules = schedules
	pick := func() {
		test.Tap(m.systems.scheduleButton)
		m.sched.selectDialog.choice.SetSelected("Nightly")
		test.Tap(m.sched.selectDialog.ok)
	}
	m.prompt = nil
	pick()
	if m.prompt == nil || m.prompt.title != "Scheduled imports would fail" || m.cfg.Connections[0].ScheduleID != "" {
		t.Fatal("attaching a connection that never signed in must warn before attaching")
	}
	requireContains(t, "warning", m.prompt.message.Text, "never signed in")
	test.Tap(m.prompt.buttons["Cancel"])
	if m.cfg.Connections[0].ScheduleID != "" {
		t.Fatal("Cancel attached the schedule")
	}
	pick()
	test.Tap(m.prompt.buttons["Attach anyway"])
	if !m.dirty || m.cfg.Connections[0].ScheduleID != "s1" {
		t.Fatal("the schedule choice must be a pending change")
	}
	// Signed in: no warning.
	signed := m.cfg.Connections[0]
	signed.Token, signed.ScheduleID = &storage.TokenInfo{Account: "admin@contoso.example"}, ""
	m.putConnection(signed, nil)
	m.prompt = nil
	pick()
	if m.prompt != nil || m.cfg.Connections[0].ScheduleID != "s1" {
		t.Fatal("a signed-in connection attaches without a warning")
	}
	// Last result comes from the import history (no run start recorded
	// here), the next run from the schedule as edited.
	id := m.cfg.Connections[0].ID
	m.data.lastRuns = map[string]inventory.Run{id: {ID: 1, Status: inventory.StatusSucceeded}}
	next, _ := schedule.NextRun(m.cfg, id, m.now(), m.loc)
	m.systems.refresh()
	cells := map[int]string{colSchedule: "Nightly", colNextRun: next.In(m.loc).Format(timeLayout), colLastRun: "Never", colLastResult: "Succeeded"}
	for col, want := range cells {
		if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: col}); got != want {
			t.Errorf("column %s: %q, want %q", systemsColumns[col].title, got, want)
		}
	}
	// A finished run redraws the table through RefreshStatus.
	m.win.Resize(fyne.NewSize(1400, windowHeight)) // every column on screen
	if got := cellAt(t, m, 0, colLastResult).label.Text; got != "Succeeded" {
		t.Fatalf("last result cell %q", got)
	}
	m.data.lastRuns[id] = inventory.Run{ID: 2, Status: inventory.StatusFailed}
	m.RefreshStatus()
	if got := cellAt(t, m, 0, colLastResult).label.Text; got != "Failed" {
		t.Errorf("after RefreshStatus the cell shows %q", got)
	}
}

func TestStartupDamagedConfigOffersSetAside(t *testing.T) {
	repo := testRepo(t)
	if err := os.MkdirAll(repo.Config.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	damaged := []byte(`{"version": 1, "connections": [`)
	if err := os.WriteFile(repo.Config.Path(), damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	m, quit := testMainWindow(t, repo, Deps{})
	if m.startup == nil || m.systems != nil {
		t.Fatal("a damaged configuration must stop at the error page")
	}
	requireContains(t, "message", m.startup.message.Text, repo.Config.Path())
	requireContains(t, "message", m.startup.message.Text, "has not changed it")
	if got, _ := os.ReadFile(repo.Config.Path()); string(got) != string(damaged) {
		t.Fatal("the damaged file was changed")
	}
	test.Tap(m.startup.setAside)
	if m.startup != nil || m.systems == nil || len(m.cfg.Connections) != 0 {
		t.Fatal("after setting aside, the window must start fresh")
	}
	matches, _ := filepath.Glob(repo.Config.Path() + ".damaged-*")
	if len(matches) != 1 {
		t.Fatalf("set-aside files %v", matches)
	}
	if got, _ := os.ReadFile(matches[0]); string(got) != string(damaged) {
		t.Fatal("the set-aside file lost its content")
	}
	requireContains(t, "message", m.prompt.message.Text, matches[0])
	if *quit {
		t.Fatal("quit")
	}
}

func TestStartupNewerConfigOffersExit(t *testing.T) {
	repo := testRepo(t)
	if err := os.MkdirAll(repo.Config.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(repo.Config.Path(), []byte(`{"version": 99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	m, quit := testMainWindow(t, repo, Deps{})
	if m.startup == nil {
		t.Fatal("a newer configuration must stop at the error page")
	}
	requireContains(t, "message", m.startup.message.Text, "newer version")
	if m.startup.setAside == nil {
		t.Fatal("no Set aside offered")
	}
	test.Tap(m.startup.exit)
	if !*quit {
		t.Fatal("Exit did not quit")
	}
	if got, _ := os.ReadFile(repo.Config.Path()); string(got) != `{"version": 99}` {
		t.Fatal("the newer file was changed")
	}
}

func TestSaveErrorMessages(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{storage.ErrKeyringLocked, "is locked"},
		{storage.ErrNoKeyring, "No keyring is available"},
		{storage.ErrKeyringTimeout, "did not answer in time"},
		{storage.ErrConfigLocked, "Wait for it to finish"},
		{&storage.DamagedConfigError{Path: "/x/config.json", Err: errors.New("bad")}, "/x/config.json was damaged"},
		{&storage.NewerConfigError{Path: "/x/config.json", Version: 9}, "newer version"},
		{errors.New("disk full"), "disk full"},
	}
	for _, tc := range cases {
		msg := saveErrorMessage(tc.err)
		requireContains(t, tc.err.Error(), msg, tc.want)
		if !strings.Contains(msg, "still here") && !strings.Contains(msg, "not overwritten") {
			t.Errorf("%v: the message must say the changes are kept: %q", tc.err, msg)
		}
	}
}

// A connection through /common shows its tenant by the signed-in
// account's domain, not a GUID a column cuts off (issue 23 item 7).
func TestTenantShownByDomain(t *testing.T) {
	c := newNamedConnection("Contoso")
	c.TokenEndpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
	c.Token = &storage.TokenInfo{TenantID: "3f1c2b4a-0000-4000-8000-123456789abc", Account: "admin@contoso.onmicrosoft.com"}
	if got := tenantOrEndpoint(c); got != "contoso.onmicrosoft.com" {
		t.Errorf("tenant shown as %q", got)
	}
	c.Token.Account = ""
	if got := tenantOrEndpoint(c); got != c.Token.TenantID {
		t.Errorf("without an account: %q", got)
	}
	if systemsColumns[colLastResult].title != "Last result" || colLastResult != 1 {
		t.Error("the last result must be the second column, on screen at 1024 px")
	}
}
