package ui

import (
	"fmt"
	"image/color"
	"net/url"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/schedule"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// systemsColumns are the columns of the Inventory Systems table, with their
// widths: wide enough for their usual content (a date and time, "Not
// scheduled", "Microsoft 365"), so at the smallest window the table
// scrolls sideways rather than cutting every cell short.
var systemsColumns = []struct {
	title string
	width float32
}{
	{"Connection Name", 150},
	{"Last result", 190},
	{"Last run", 135},
	{"Next run", 135},
	{"Schedule", 120},
	{"Tenant or endpoint", 190},
	{"Type", 110},
}

// The columns of Inventory Systems, most important first: at 1024 px the
// last result (a failure) must be on screen (issue 23 item 7).
const (
	colConnName = iota
	colLastResult
	colLastRun
	colNextRun
	colSchedule
	colTenant
	colType
)

// The kinds the New menu lists, as the reference product does; only
// PowerShell is implemented.
const (
	kindSQLServer   = "SQL Server"
	kindSpreadsheet = "Spreadsheet"
	kindPowerShell  = "PowerShell"
	kindOther       = "Other"
)

const timeLayout = "2006-01-02 15:04"

// systemsPage is the connections controller: "Data collection → Inventory
// Systems", the connections and what can be done with them, and the
// connection dialog. Connections are pending changes of the shared draft;
// Execute Now, Test Connection and Schedule... hand the saved connection
// to their controllers.
type systemsPage struct {
	*screen
	*draft
	signIn  signInStarter
	tester  *testConnectionController
	imports *importController
	sched   *scheduling
	// requireSaved runs an action once the draft is saved, offering to
	// save first; status is a connection's run state; loc the zone of
	// next runs.
	requireSaved func(what string, action func())
	status       func(connID string) ConnectionStatus
	loc          *time.Location
	// dialog is the last connection dialog shown.
	dialog *ConnectionDialog

	content fyne.CanvasObject
	table   *connectionsTable
	empty   *widget.Label
	// warnings lists what of the connections expires soon (issue 22).
	warnings *widget.Label
	welcome  *welcomePanel
	selected int // row of the selected connection, -1 for none

	newButton, editButton, deleteButton     *widget.Button
	executeButton, scheduleButton, testButt *widget.Button
	// executeMore is the arrow beside Execute Now: its menu adds Execute
	// Now (full import).
	executeMore          *widget.Button
	newMenu, executeMenu *fyne.Menu
}

func newSystemsPage(m *MainWindow) *systemsPage {
	p := &systemsPage{screen: m.screen, draft: m.draft, signIn: m.signIn, tester: m.tester, imports: m.exec,
		sched: m.sched, requireSaved: m.requireSaved, status: m.connStatus, loc: m.loc, selected: -1}

	p.newMenu = fyne.NewMenu("",
		&fyne.MenuItem{Label: kindSQLServer, Disabled: true},
		&fyne.MenuItem{Label: kindSpreadsheet, Disabled: true},
		fyne.NewMenuItem(kindPowerShell, p.create),
		&fyne.MenuItem{Label: kindOther, Disabled: true},
	)
	p.newButton = widget.NewButtonWithIcon("New", theme.MenuDropDownIcon(), p.showNewMenu)
	p.newButton.IconPlacement = widget.ButtonIconTrailingText
	p.editButton = widget.NewButtonWithIcon("Edit...", theme.DocumentCreateIcon(), p.edit)
	p.deleteButton = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), p.confirmDelete)
	p.executeButton = widget.NewButtonWithIcon("Execute Now", theme.MediaPlayIcon(), p.executeNow)
	// Execute Now is a split button: the button runs the usual import
	// (incremental when it can be), the arrow beside it offers the full
	// one, which reads every user again. Both are also in the Connection
	// menu, with their shortcuts.
	p.executeMenu = fyne.NewMenu("",
		&fyne.MenuItem{Label: executeTitle(ImportRequest{}), Shortcut: shortcutExecute, Action: p.executeNow},
		&fyne.MenuItem{Label: executeTitle(ImportRequest{Full: true}), Shortcut: shortcutExecuteFull, Action: p.executeFull},
	)
	p.executeMore = widget.NewButtonWithIcon("", theme.MenuDropDownIcon(), p.showExecuteMenu)
	executeSplit := container.New(layout.NewCustomPaddedHBoxLayout(1), p.executeButton, p.executeMore)
	p.scheduleButton = widget.NewButtonWithIcon("Schedule...", theme.HistoryIcon(), p.schedule)
	p.testButt = widget.NewButtonWithIcon("Test Connection", theme.ConfirmIcon(), p.testConnection)
	toolbar := container.NewHBox(p.newButton, p.editButton, p.deleteButton, widget.NewSeparator(),
		executeSplit, p.scheduleButton, p.testButt)

	p.table = &connectionsTable{onKey: m.onTypedKey}
	p.table.Length = func() (int, int) { return len(p.cfg.Connections), len(systemsColumns) }
	p.table.CreateCell = func() fyne.CanvasObject { return newRowCell(p) }
	p.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		cell := o.(*rowCell)
		cell.row = id.Row
		cell.set(p.cellText(id), id.Row == p.selected)
		alert := false
		if id.Col == colLastResult && id.Row >= 0 && id.Row < len(p.cfg.Connections) {
			alert = p.status(p.cfg.Connections[id.Row].ID).Alert
		}
		cell.alert(alert)
	}
	p.table.ShowHeaderRow = true
	p.table.ExtendBaseWidget(p.table)
	p.table.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	p.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(systemsColumns) {
			o.(*widget.Label).SetText(systemsColumns[id.Col].title)
		}
	}
	for i, c := range systemsColumns {
		p.table.SetColumnWidth(i, c.width)
	}
	// Keyboard selection (arrows, then space) goes through the table.
	p.table.OnSelected = func(id widget.TableCellID) { p.selectRow(id.Row) }

	p.empty = widget.NewLabel("No connections yet. Click New, then PowerShell, to connect a Microsoft 365 tenant.")
	p.empty.Importance = widget.LowImportance
	title := widget.NewLabelWithStyle(PageInventorySystems, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.welcome = newWelcomePanel(m, p)
	p.warnings = widget.NewLabel("")
	p.warnings.Importance = widget.WarningImportance
	p.warnings.Wrapping = fyne.TextWrapWord
	p.content = container.NewBorder(container.NewVBox(title, toolbar, p.empty, p.welcome.content, p.warnings), nil, nil, nil, p.table)
	p.refresh()
	return p
}

// refresh redraws the table and the toolbar after any change.
func (p *systemsPage) refresh() {
	if p.selected >= len(p.cfg.Connections) {
		p.selected = -1
	}
	if len(p.cfg.Connections) == 0 {
		p.empty.Show()
		p.welcome.content.Show()
	} else {
		p.empty.Hide()
		p.welcome.content.Hide()
	}
	var warn []string
	now := clock.Now()
	state := p.state()
	for _, c := range p.cfg.Connections {
		for _, w := range connector.ExpiryWarnings(c, state.Of(c.ID), now) {
			warn = append(warn, "⚠ "+w.Text)
		}
	}
	if text := strings.Join(warn, "\n"); p.warnings.Text != text {
		p.warnings.SetText(text)
	}
	if len(warn) == 0 {
		p.warnings.Hide()
	} else {
		p.warnings.Show()
	}
	on := p.selected >= 0
	for _, b := range []*widget.Button{p.editButton, p.deleteButton, p.executeButton, p.executeMore, p.scheduleButton, p.testButt} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	p.table.Refresh()
}

func (p *systemsPage) selectRow(row int) {
	if row < 0 || row >= len(p.cfg.Connections) {
		row = -1
	}
	p.selected = row
	p.refresh()
}

func (p *systemsPage) selectedConnection() (storage.Connection, bool) {
	if p.selected < 0 || p.selected >= len(p.cfg.Connections) {
		return storage.Connection{}, false
	}
	return p.cfg.Connections[p.selected], true
}

func (p *systemsPage) cellText(id widget.TableCellID) string {
	if id.Row < 0 || id.Row >= len(p.cfg.Connections) {
		return ""
	}
	c := p.cfg.Connections[id.Row]
	st := p.status(c.ID)
	switch id.Col {
	case colConnName:
		return c.Name
	case colType:
		return c.SourceType
	case colTenant:
		return tenantOrEndpoint(c)
	case colSchedule:
		return p.scheduleName(c.ScheduleID)
	case colNextRun:
		if st.NextRun.IsZero() {
			return "—"
		}
		return st.NextRun.In(p.loc).Format(timeLayout)
	case colLastRun:
		return formatTime(st.LastRun, "Never")
	case colLastResult:
		if st.LastResult == "" {
			return "—"
		}
		return st.LastResult
	}
	return ""
}

// tenantOrEndpoint names the tenant a connection reads: the one in its
// token endpoint, else the one its token was issued by, else the sign-in
// tenant part and host of the endpoint, tenant first so a narrow column
// still shows it.
func tenantOrEndpoint(c storage.Connection) string {
	t := connector.TenantFromEndpoint(c.TokenEndpoint)
	if t != "" && !connector.IsTenantIndependent(t) {
		return t
	}
	if c.Token != nil && c.Token.TenantID != "" {
		// The signed-in account's domain reads better than the tenant's
		// GUID, which a column cuts to "3f1c…" (issue 23 item 7).
		if _, domain, ok := strings.Cut(c.Token.Account, "@"); ok && domain != "" {
			return domain
		}
		return c.Token.TenantID
	}
	if u, err := url.Parse(c.TokenEndpoint); err == nil && u.Host != "" && t != "" {
		return t + " (" + u.Host + ")"
	}
	return c.TokenEndpoint
}

func (p *systemsPage) scheduleName(id string) string {
	if id == "" {
		return "Not scheduled"
	}
	for _, s := range p.cfg.Schedules {
		if s.ID == id {
			return s.Name
		}
	}
	return "Missing schedule"
}

func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Local().Format(timeLayout)
}

func (p *systemsPage) showNewMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(p.newButton)
	if c == nil {
		return
	}
	widget.ShowPopUpMenuAtRelativePosition(p.newMenu, c, fyne.NewPos(0, p.newButton.Size().Height), p.newButton)
}

// showExecuteMenu drops the Execute Now menu under the split button, left
// aligned with Execute Now. The menu takes the keyboard focus: arrows and
// Enter choose, Escape closes it.
func (p *systemsPage) showExecuteMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(p.executeMore)
	if c == nil {
		return
	}
	widget.ShowPopUpMenuAtRelativePosition(p.executeMenu, c, fyne.NewPos(0, p.executeButton.Size().Height), p.executeButton)
}

// create opens the dialog for a new PowerShell source connection.
func (p *systemsPage) create() {
	c := connector.NewConnection()
	p.dialog = newConnectionDialog(p.win, p.signIn, c, true, p.cfg.Connections,
		func(c storage.Connection, changes []storage.SecretChange) {
			p.putConnection(c, changes)
			p.selectRow(len(p.cfg.Connections) - 1)
		})
	p.dialog.Show()
}

// state is what imports and the scheduler recorded of the connections
// (the age of sign-ins, credential end dates); empty when unreadable.
func (p *systemsPage) state() *storage.State {
	if p.repo == nil || p.repo.Config == nil {
		return &storage.State{}
	}
	st, err := p.repo.Config.LoadState()
	if err != nil {
		return &storage.State{}
	}
	return st
}

func (p *systemsPage) edit() {
	c, ok := p.selectedConnection()
	if !ok {
		return
	}
	p.dialog = newConnectionDialog(p.win, p.signIn, c, false, p.cfg.Connections, p.putConnection)
	p.dialog.showExpiry(p.state().Of(c.ID))
	p.dialog.Show()
}

// deleteWithHistory is the delete question's choice that deletes the
// connection's imported data and licence history too.
const deleteWithHistory = "Delete with data and history"

func (p *systemsPage) confirmDelete() {
	c, ok := p.selectedConnection()
	if !ok {
		return
	}
	p.prompt = showPrompt(p.win, "Delete connection",
		fmt.Sprintf("Delete the connection %q?\n\nData already imported from it stays in Inventory Beacon with its licence history, "+
			"but it is no longer updated and goes stale, unless you choose %s. Its token and secrets are removed from the keyring "+
			"when you click Save.", c.Name, deleteWithHistory),
		promptButton{label: "Cancel"},
		promptButton{label: deleteWithHistory, importance: widget.DangerImportance, action: func() {
			p.deleteConnection(c.ID, true)
			p.selectRow(-1)
		}},
		promptButton{label: "Delete", importance: widget.DangerImportance, action: func() {
			p.deleteConnection(c.ID, false)
			p.selectRow(-1)
		}},
	)
}

// executeNow is Execute Now: the usual import of the selected connection,
// incremental when it can be.
func (p *systemsPage) executeNow() { p.execute(ImportRequest{}) }

// executeFull is Execute Now (full import): every user is read again, for
// an administrator who suspects the incremental imports drifted.
func (p *systemsPage) executeFull() { p.execute(ImportRequest{Full: true}) }

func (p *systemsPage) execute(req ImportRequest) {
	c, ok := p.selectedConnection()
	if !ok {
		return
	}
	p.requireSaved(executeTitle(req), func() { p.imports.execute(p.win, p.current(c.ID, c), req) })
}

func (p *systemsPage) testConnection() {
	c, ok := p.selectedConnection()
	if !ok {
		return
	}
	p.requireSaved("Test Connection", func() { p.tester.run(p.win, p.current(c.ID, c)) })
}

// current is the connection with id as it is after a save (which may have
// changed nothing but the revision), falling back to c.
func (p *systemsPage) current(id string, c storage.Connection) storage.Connection {
	for _, x := range p.cfg.Connections {
		if x.ID == id {
			return x
		}
	}
	return c
}

func (p *systemsPage) schedule() {
	c, ok := p.selectedConnection()
	if !ok {
		return
	}
	p.sched.showSelectSchedule(c, func(scheduleID string) {
		if scheduleID == c.ScheduleID {
			return
		}
		attach := func() {
			c.ScheduleID = scheduleID
			c.Modified = clock.Now()
			p.putConnection(c, nil)
		}
		// A connection that cannot run unattended would fail at every
		// scheduled run: say so before attaching it.
		problem := connector.UnattendedProblem(c)
		if scheduleID == "" || problem == "" {
			attach()
			return
		}
		p.prompt = showPrompt(p.win, "Scheduled imports would fail",
			fmt.Sprintf("%q cannot import on a schedule yet: %s. Until then every scheduled run fails (Import history and a notification say so).",
				c.Name, problem),
			promptButton{label: "Cancel"},
			promptButton{label: "Attach anyway", action: attach},
		)
	})
}

// connectionsTable is the table of connections. After selecting a row
// with the keyboard the table has the focus, and a focused widget gets the
// typed keys instead of the window: it passes Delete and F5 on.
type connectionsTable struct {
	widget.Table
	onKey func(*fyne.KeyEvent)
}

func (t *connectionsTable) TypedKey(ev *fyne.KeyEvent) { passWindowKeys(ev, t.onKey, t.Table.TypedKey) }

// passWindowKeys gives Delete and F5, the window's keys, to window (when
// set) and any other key to own, the focused widget's own handling.
func passWindowKeys(ev *fyne.KeyEvent, window, own func(*fyne.KeyEvent)) {
	if window != nil && (ev.Name == fyne.KeyDelete || ev.Name == fyne.KeyF5) {
		window(ev)
		return
	}
	own(ev)
}

// rowCell is one cell of the table. Fyne tables have no row selection and
// no double-click, so the cell takes both: a tap selects its row (drawn
// highlighted across all columns), a double tap opens Edit...
type rowCell struct {
	widget.BaseWidget
	page  *systemsPage
	row   int
	bg    *canvas.Rectangle
	label *widget.Label
}

func newRowCell(p *systemsPage) *rowCell {
	c := &rowCell{page: p, bg: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	c.label.Truncation = fyne.TextTruncateEllipsis
	c.ExtendBaseWidget(c)
	return c
}

func (c *rowCell) set(text string, selected bool) {
	c.label.SetText(text)
	if selected {
		c.bg.FillColor = theme.Color(theme.ColorNameSelection)
	} else {
		c.bg.FillColor = color.Transparent
	}
	c.bg.Refresh()
}

// alert draws the cell's text in the error colour (a failing connection).
func (c *rowCell) alert(on bool) {
	imp := widget.MediumImportance
	if on {
		imp = widget.DangerImportance
	}
	if c.label.Importance != imp {
		c.label.Importance = imp
		c.label.Refresh()
	}
}

func (c *rowCell) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, c.label))
}

// Tapped selects the cell's row.
func (c *rowCell) Tapped(*fyne.PointEvent) { c.page.selectRow(c.row) }

// DoubleTapped opens the row's connection for editing.
func (c *rowCell) DoubleTapped(*fyne.PointEvent) {
	c.page.selectRow(c.row)
	c.page.edit()
}

// connStatus is what the Inventory Systems table shows of a connection's
// runs: the last run from the import history, the next run from the
// window's configuration, and "Running" while this window or the
// scheduler imports it.
func (m *MainWindow) connStatus(connID string) ConnectionStatus {
	var st ConnectionStatus
	var conn storage.Connection
	for _, c := range m.cfg.Connections {
		if c.ID == connID {
			conn = c
		}
	}
	scheduled := conn.ScheduleID != ""
	if r, ok := m.data.lastRuns[connID]; ok {
		st.LastRun = r.Started
		st.LastResult = resultText(r)
		st.Alert = r.Status == inventory.StatusFailed
		// A schedule failing every few minutes says for how long,
		// where a single failure just says it failed.
		if f, ok := m.data.failing[connID]; ok && (scheduled || f.Runs > 1) {
			switch {
			case st.Alert:
				st.LastResult = fmt.Sprintf("Failing since %s (%s): %s", formatTime(f.Since, ""), plural(f.Runs, "run"),
					strings.TrimPrefix(st.LastResult, "Failed: "))
			case r.Status == inventory.StatusRunning || r.Status == inventory.StatusSkipped:
				// The newest run says nothing of the connection yet:
				// the failures before it still stand.
				st.LastResult = fmt.Sprintf("Failing since %s (%s)", formatTime(f.Since, ""), plural(f.Runs, "run"))
				st.Alert = true
			}
		}
	}
	if scheduled && connector.UnattendedProblem(conn) != "" {
		// The schedule cannot work until the administrator acts: say
		// so before (and instead of) its failures.
		st.LastResult, st.Alert = cannotRunText(conn), true
	}
	if st.NextRun.IsZero() {
		// From the window's configuration, so a schedule chosen or
		// edited but not saved yet shows its next run at once.
		st.NextRun, _ = schedule.NextRun(m.cfg, connID, m.now(), m.loc)
	}
	if m.exec.isRunning(connID) || m.sched.running[connID] {
		if st.Alert {
			// Failing on a short schedule, a connection is running
			// again most of the time (a refused token endpoint is
			// retried for minutes): "Running…" alone hid in the real
			// window that it fails (issue 23 item 8).
			st.LastResult = "Running again… " + st.LastResult
		} else {
			st.LastResult = "Running…"
		}
	}
	return st
}

// cannotRunText is the Last result of a scheduled connection that cannot
// import unattended: short, since the column is narrow; the warning given
// when the schedule was attached, and Test Connection, say the rest.
func cannotRunText(c storage.Connection) string {
	if c.AuthFlow == storage.FlowClientCredentials {
		return "Cannot run: save its client secret"
	}
	return "Cannot run: sign in first (Edit..., Generate...)"
}
