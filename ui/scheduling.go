package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Scheduler is the runner the window drives: Run now, a reload after
// Save, and whether a schedule is running (to disable Run now).
// *schedule.Runner is one.
type Scheduler interface {
	RunNow(scheduleID string) error
	Reload()
	IsRunning(scheduleID string) bool
}

var _ Scheduler = (*schedule.Runner)(nil)

// scheduling is the scheduling controller: the runner the window drives,
// the Scheduling page, Select Schedule, and the connections the runner is
// importing now. Schedules are pending changes of the shared draft.
type scheduling struct {
	*screen
	*draft
	app fyne.App
	// now and loc are the clock and zone of next runs.
	now func() time.Time
	loc *time.Location
	// requireSaved runs an action once the draft is saved, offering to
	// save first: the runner reads the saved configuration.
	requireSaved func(what string, action func())

	runner Scheduler       // nil until SetScheduler
	page   *schedulingPage // nil until shown
	// selectDialog is the last Select Schedule dialog shown.
	selectDialog *SelectScheduleDialog
	// running are the connections the runner is importing now.
	running map[string]bool
	// started is when the runner's import of a connection began, and
	// toldFailing the connections whose current run of failures was
	// notified: a schedule that cannot sign in fails every few minutes,
	// and only the first failure is news (issue 23 item 8).
	started     map[string]time.Time
	toldFailing map[string]bool
	// exitDespite: the administrator chose to exit although a scheduled
	// import is running (the runner cancels it on shutdown).
	exitDespite bool
	// inTray: the application has a system tray, so a hidden window can
	// be brought back.
	inTray bool
}

func newScheduling(s *screen, d *draft, a fyne.App, now func() time.Time, loc *time.Location,
	requireSaved func(string, func())) *scheduling {
	return &scheduling{screen: s, draft: d, app: a, now: now, loc: loc, requireSaved: requireSaved,
		running: map[string]bool{}, started: map[string]time.Time{}, toldFailing: map[string]bool{}}
}

// SetScheduler gives the window the runner that runs the schedules while
// the application is open. Call it on the Fyne goroutine, before or after
// the window is shown; hand the runner's events to OnScheduleEvent.
func (m *MainWindow) SetScheduler(s Scheduler) {
	m.sched.runner = s
	m.sched.refresh()
}

// OnScheduleEvent follows the runner's imports (schedule.Options.OnEvent):
// Last run / Last result, the data pages, the Scheduling page, and a
// desktop notification when an import ends with warnings or fails. It is
// safe to call from any goroutine and does not block.
func (m *MainWindow) OnScheduleEvent(ev schedule.Event) {
	doUI(func() { m.onScheduleEvent(ev) })
}

func (m *MainWindow) onScheduleEvent(ev schedule.Event) {
	name := ev.Connection.Name
	switch ev.Kind {
	case schedule.EventStarted:
		m.sched.running[ev.Connection.ID] = true
		m.sched.started[ev.Connection.ID] = ev.At
		m.sched.setStatus(fmt.Sprintf("Importing %q (schedule %q)…", name, ev.ScheduleName))
		if m.systems != nil {
			m.systems.refresh()
		}
	case schedule.EventSkipped:
		m.sched.setStatus(fmt.Sprintf("%q was not imported: %s.", name, ev.Reason))
		m.data.loadRunStatus()
	case schedule.EventFinished:
		delete(m.sched.running, ev.Connection.ID)
		text := eventOutcome(ev)
		m.sched.setStatus(fmt.Sprintf("%q: %s.", name, text))
		m.data.refresh()
		news := m.sched.firstNews(ev, m.data.failing) // every outcome: a success ends a run of failures
		if news && m.notify != nil {
			kept := keptNone
			if m.data.hasData(ev.Connection.ID) {
				kept = keptData
			}
			if n := eventNotification(ev, kept); n != nil {
				m.notify(n)
			}
		}
		delete(m.sched.started, ev.Connection.ID)
		if m.tray != nil {
			m.tray.showFailing()
		}
	}
	m.sched.refresh()
}

// NotifyExpiry shows an expiry warning of the scheduler's upkeep
// (service.Upkeep.Notify) as a desktop notification and brings the
// Inventory Systems page's warnings up to date. It is safe to call from
// any goroutine.
func (m *MainWindow) NotifyExpiry(text string) {
	doUI(func() {
		if m.notify != nil {
			m.notify(fyne.NewNotification("Inventory Beacon", text))
		}
		if m.systems != nil {
			m.systems.refresh()
		}
	})
}

// eventOutcome says how a finished import ended, in a few words.
func eventOutcome(ev schedule.Event) string {
	err := ev.Err
	if err == nil {
		err = ev.Outcome.Err
	}
	switch {
	case ev.Err != nil:
		return "could not run: " + err.Error()
	case ev.Outcome.Status == schedule.StatusWarnings:
		return fmt.Sprintf("completed with %s", plural(len(ev.Outcome.Warnings), "warning"))
	case ev.Outcome.Status == schedule.StatusSucceeded:
		return "succeeded"
	case ev.Outcome.Status == schedule.StatusCancelled:
		return "cancelled; the data of the previous import is kept"
	case err != nil:
		return "failed: " + err.Error()
	}
	return string(ev.Outcome.Status)
}

// firstNews reports whether a finished import is worth a notification
// beyond its outcome: a failure is when it starts a run of failures, not
// when the connection was failing already, per this window (toldFailing)
// or the import history read before (failing: a window opened on a
// connection failing for hours stays quiet too). Any other outcome ends
// the run of failures.
func (c *scheduling) firstNews(ev schedule.Event, failing map[string]inventory.Failing) bool {
	id := ev.Connection.ID
	if ev.Err == nil && ev.Outcome.Status != schedule.StatusFailed {
		delete(c.toldFailing, id)
		return true
	}
	if c.toldFailing[id] {
		return false
	}
	c.toldFailing[id] = true
	prior, ok := failing[id]
	if !ok {
		return true
	}
	// The history may have been read after this run was recorded: only
	// failures that began before this run started count.
	if start, known := c.started[id]; known {
		return !prior.Since.Before(start)
	}
	return prior.Runs <= 1
}

// eventNotification is the desktop notification for a finished import the
// administrator did not start from this window and may not be watching:
// only warnings and failures, so a working schedule stays quiet.
func eventNotification(ev schedule.Event, kept keptState) *fyne.Notification {
	if ev.Kind != schedule.EventFinished {
		return nil
	}
	bad := ev.Err != nil || ev.Outcome.Status == schedule.StatusFailed
	if !bad && ev.Outcome.Status != schedule.StatusWarnings {
		return nil
	}
	what := "Scheduled import"
	if ev.Trigger != schedule.TriggerSchedule {
		what = "Import"
	}
	text := fmt.Sprintf("%s of %q %s.", what, ev.Connection.Name, eventOutcome(ev))
	if bad {
		// Not "the previous data is kept" of a connection never
		// imported: there is none (issue 23 item 8, as item 4 in the
		// import dialog).
		text += kept.text() + " See Import history for what to do."
	} else {
		text += " See Import history for the details."
	}
	return fyne.NewNotification("Inventory Beacon", text)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// refresh redraws the Scheduling page, when it was built.
func (c *scheduling) refresh() {
	if c.page != nil {
		c.page.refresh()
	}
}

// setStatus tells what the runner is doing on the Scheduling page.
func (c *scheduling) setStatus(text string) {
	if c.page != nil {
		c.page.status.SetText(text)
		c.page.status.Show()
		c.page.relayout()
	}
}

// page builds the Scheduling page on the current configuration.
func (c *scheduling) buildPage() fyne.CanvasObject {
	c.page = newSchedulingPage(c)
	return c.page.content
}

// Tree node IDs of the Scheduling page.
const (
	notScheduledNode = "none"
	scheduleNodePre  = "s:"
	connNodePre      = "c:"
)

// schedulingPage is "Data collection → Scheduling": the schedules with
// their connections (expandable) and next run, the connections on no
// schedule, and New / Edit / Delete / Run now. Every change is a pending
// change of the window's configuration, saved by Save.
type schedulingPage struct {
	m       *scheduling
	content fyne.CanvasObject
	// top and bottom are laid out again when a label in them is shown
	// or hidden: hiding alone leaves its space.
	top, bottom *fyne.Container
	tree        *widget.Tree
	empty       *widget.Label
	details     *widget.Label
	status      *widget.Label
	keep        *widget.Check

	newButton, editButton, deleteButton, runButton *widget.Button

	plan     schedule.Overview
	now      time.Time
	selected string // schedule ID, "" for none

	// dialog is the last Edit Schedule dialog; ranNows counts the Run now
	// requests the runner answered, ranNowErr is the last answer.
	dialog    *ScheduleDialog
	ranNows   int
	ranNowErr error
	// starting is the status shown while Run now waits for the runner.
	starting string
}

func newSchedulingPage(m *scheduling) *schedulingPage {
	p := &schedulingPage{m: m}
	p.newButton = widget.NewButtonWithIcon("New", theme.ContentAddIcon(), p.onNew)
	p.editButton = widget.NewButtonWithIcon("Edit...", theme.DocumentCreateIcon(), p.onEdit)
	p.deleteButton = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), p.onDelete)
	p.runButton = widget.NewButtonWithIcon("Run now", theme.MediaPlayIcon(), p.onRunNow)
	toolbar := container.NewHBox(p.newButton, p.editButton, p.deleteButton, widget.NewSeparator(), p.runButton)

	p.tree = widget.NewTree(p.childUIDs, p.isBranch,
		func(bool) fyne.CanvasObject { return newSchedulingRow() },
		func(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) { p.updateRow(id, o.(*fyne.Container)) })
	p.tree.OnSelected = p.onSelected
	p.tree.OnUnselected = func(widget.TreeNodeID) { p.selected = ""; p.refresh() }

	header := newSchedulingRow()
	for i, t := range []string{"Schedule and its connections", "When", "Next run"} {
		l := header.Objects[i].(*widget.Label)
		l.SetText(t)
		l.TextStyle.Bold = true
	}
	p.empty = widget.NewLabel("No schedules yet. Click New to create one, then attach connections to it with " +
		"Schedule... on the Inventory Systems page.")
	p.empty.Wrapping = fyne.TextWrapWord
	p.empty.Importance = widget.LowImportance
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	p.details = widget.NewLabel("")
	p.details.Wrapping = fyne.TextWrapWord

	p.keep = widget.NewCheck(keepInTrayLabel, p.onKeepInTray)
	p.keep.SetChecked(keepInTray(m.app))

	title := widget.NewLabelWithStyle(PageScheduling, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	note := widget.NewLabel("Schedules run while Inventory Beacon is open, and from `beacon scheduler` on machines " +
		"that run it. Changes take effect when you click Save.")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance
	p.top = container.NewVBox(title, toolbar, p.empty, header)
	p.bottom = container.NewVBox(widget.NewSeparator(), p.details, p.status, p.keep, note)
	p.content = container.NewBorder(p.top, p.bottom, nil, nil, p.tree)
	p.refresh()
	p.tree.OpenAllBranches()
	return p
}

// newSchedulingRow is a tree row (and the header): name, when, next run.
func newSchedulingRow() *fyne.Container {
	labels := make([]fyne.CanvasObject, 3)
	for i := range labels {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		labels[i] = l
	}
	return container.NewGridWithColumns(3, labels...)
}

func (p *schedulingPage) childUIDs(id widget.TreeNodeID) []widget.TreeNodeID {
	var out []widget.TreeNodeID
	switch {
	case id == "":
		for _, e := range p.plan.Schedules {
			out = append(out, scheduleNodePre+e.Schedule.ID)
		}
		out = append(out, notScheduledNode)
	case id == notScheduledNode:
		for _, c := range p.plan.NotScheduled {
			out = append(out, connNodePre+c.ID)
		}
	case strings.HasPrefix(id, scheduleNodePre):
		if e, ok := p.entry(strings.TrimPrefix(id, scheduleNodePre)); ok {
			for _, c := range e.Connections {
				out = append(out, connNodePre+c.ID)
			}
		}
	}
	return out
}

func (p *schedulingPage) isBranch(id widget.TreeNodeID) bool {
	return id == "" || id == notScheduledNode || strings.HasPrefix(id, scheduleNodePre)
}

func (p *schedulingPage) entry(id string) (schedule.Entry, bool) {
	for _, e := range p.plan.Schedules {
		if e.Schedule.ID == id {
			return e, true
		}
	}
	return schedule.Entry{}, false
}

// rowTexts are the three columns of a tree node.
func (p *schedulingPage) rowTexts(id widget.TreeNodeID) [3]string {
	switch {
	case id == notScheduledNode:
		return [3]string{fmt.Sprintf("Not scheduled (%d)", len(p.plan.NotScheduled)), "Only with Execute Now", "—"}
	case strings.HasPrefix(id, scheduleNodePre):
		e, ok := p.entry(strings.TrimPrefix(id, scheduleNodePre))
		if !ok {
			return [3]string{}
		}
		next := schedule.DescribeNext(e.Next, p.now)
		if len(e.Connections) == 0 {
			next += " (no connections)"
		}
		return [3]string{fmt.Sprintf("%s (%d)", e.Schedule.Name, len(e.Connections)), e.Summary, next}
	case strings.HasPrefix(id, connNodePre):
		connID := strings.TrimPrefix(id, connNodePre)
		for _, c := range p.m.cfg.Connections {
			if c.ID == connID {
				state := ""
				if p.m.running[c.ID] {
					state = "Importing…"
				}
				return [3]string{c.Name, tenantOrEndpoint(c), state}
			}
		}
	}
	return [3]string{}
}

func (p *schedulingPage) updateRow(id widget.TreeNodeID, row *fyne.Container) {
	texts := p.rowTexts(id)
	for i, o := range row.Objects {
		l := o.(*widget.Label)
		l.TextStyle.Bold = i == 0 && p.isBranch(id)
		l.SetText(texts[i])
	}
}

// refresh recomputes the plan from the window's configuration (pending
// changes included) and redraws.
func (p *schedulingPage) refresh() {
	p.now = p.m.now().In(p.m.loc)
	p.plan = schedule.Plan(p.m.cfg, p.now, p.m.loc)
	if _, ok := p.entry(p.selected); !ok {
		p.selected = ""
	}
	if len(p.plan.Schedules) == 0 {
		p.empty.Show()
	} else {
		p.empty.Hide()
	}
	e, on := p.entry(p.selected)
	for _, b := range []*widget.Button{p.editButton, p.deleteButton} {
		setEnabled(b, on)
	}
	busy := on && p.m.runner != nil && p.m.runner.IsRunning(p.selected)
	setEnabled(p.runButton, on && len(e.Connections) > 0 && !busy)
	p.details.SetText(p.detailsText(e, on, busy))
	// Without a system tray, a hidden window could not be brought back.
	if p.m.inTray {
		p.keep.Enable()
		p.keep.SetText(keepInTrayLabel)
	} else {
		p.keep.Disable()
		p.keep.SetText(keepInTrayLabel + " (this desktop has no system tray)")
	}
	p.relayout()
	p.tree.Refresh()
}

// detailsText describes the selected schedule in full: the tree's columns
// are cut short at the smallest window.
func (p *schedulingPage) detailsText(e schedule.Entry, on, busy bool) string {
	if !on {
		return "Select a schedule to edit, delete or run it now."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s.", e.Schedule.Name, e.Summary)
	if runs := schedule.NextN(e.Schedule, p.now, p.m.loc, 3); len(runs) > 0 {
		texts := make([]string, len(runs))
		for i, r := range runs {
			texts[i] = schedule.DescribeNext(r, p.now)
		}
		fmt.Fprintf(&b, " Next runs: %s.", strings.Join(texts, ", "))
	}
	switch {
	case busy:
		b.WriteString(" Running now.")
	case len(e.Connections) == 0:
		b.WriteString(" No connection uses it yet: attach one with Schedule... on the Inventory Systems page.")
	default:
		names := make([]string, len(e.Connections))
		for i, c := range e.Connections {
			names[i] = c.Name
		}
		fmt.Fprintf(&b, " Runs, one after another: %s.", strings.Join(names, ", "))
	}
	return b.String()
}

// relayout places the page's parts again after a label was shown, hidden
// or rewrapped: Fyne does not lay out a container when a child's
// visibility changes. The outer one first, so the inner ones get their
// new sizes.
func (p *schedulingPage) relayout() {
	if c, ok := p.content.(*fyne.Container); ok {
		c.Refresh()
	}
	p.top.Refresh()
	p.bottom.Refresh()
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// onSelected takes a schedule row, or the schedule of a connection row, as
// the one the toolbar acts on.
func (p *schedulingPage) onSelected(id widget.TreeNodeID) {
	p.selected = ""
	switch {
	case strings.HasPrefix(id, scheduleNodePre):
		p.selected = strings.TrimPrefix(id, scheduleNodePre)
	case strings.HasPrefix(id, connNodePre):
		for _, e := range p.plan.Schedules {
			for _, c := range e.Connections {
				if connNodePre+c.ID == id {
					p.selected = e.Schedule.ID
				}
			}
		}
	}
	p.refresh()
}

// selectSchedule selects a schedule's row.
func (p *schedulingPage) selectSchedule(id string) {
	p.tree.Select(scheduleNodePre + id)
}

func (p *schedulingPage) onNew() {
	p.dialog = newScheduleDialog(p.m.win, schedule.New(), true, p.m.cfg.Schedules, p.m.now, p.m.loc, func(s storage.Schedule) {
		p.m.putSchedule(s)
		p.selectSchedule(s.ID)
	})
	p.dialog.Show()
}

func (p *schedulingPage) onEdit() {
	e, ok := p.entry(p.selected)
	if !ok {
		return
	}
	p.dialog = newScheduleDialog(p.m.win, e.Schedule, false, p.m.cfg.Schedules, p.m.now, p.m.loc, p.m.putSchedule)
	p.dialog.Show()
}

func (p *schedulingPage) onDelete() {
	e, ok := p.entry(p.selected)
	if !ok {
		return
	}
	msg := fmt.Sprintf("Delete the schedule %q?\n\n", e.Schedule.Name)
	if n := len(e.Connections); n > 0 {
		names := make([]string, n)
		for i, c := range e.Connections {
			names[i] = c.Name
		}
		verb, pron := "become", "they no longer run"
		if n == 1 {
			verb, pron = "becomes", "it no longer runs"
		}
		msg += fmt.Sprintf("Its %s (%s) %s Not scheduled: %s by itself until you give it another schedule. ",
			plural(n, "connection"), strings.Join(names, ", "), verb, pron)
	}
	msg += "Imported data is not affected. The schedule is removed when you click Save."
	id := e.Schedule.ID
	p.m.prompt = showPrompt(p.m.win, "Delete schedule", msg,
		promptButton{label: "Cancel"},
		promptButton{label: "Delete", importance: widget.DangerImportance, action: func() {
			p.m.deleteSchedule(id)
			p.tree.UnselectAll()
			p.selected = ""
			p.refresh()
		}},
	)
}

// onRunNow runs the selected schedule's connections now through the
// runner, which reads the saved configuration: pending changes are saved
// first.
func (p *schedulingPage) onRunNow() {
	e, ok := p.entry(p.selected)
	if !ok {
		return
	}
	if p.m.runner == nil {
		p.m.prompt = notAvailable(p.m.win, "Run now")
		return
	}
	id, name, sched := e.Schedule.ID, e.Schedule.Name, p.m.runner
	p.m.requireSaved("Run now", func() {
		p.runButton.Disable()
		p.starting = fmt.Sprintf("Starting the imports of %q…", name)
		p.m.setStatus(p.starting)
		// RunNow waits for the runner's loop to take the request; keep
		// that wait off the Fyne goroutine.
		go func() {
			err := sched.RunNow(id)
			doUI(func() { p.ranNow(name, err) })
		}()
	})
}

func (p *schedulingPage) ranNow(name string, err error) {
	if err != nil {
		// The runner's errors say what to do; they only need a
		// sentence's capital and full stop.
		msg := err.Error()
		msg = strings.ToUpper(msg[:1]) + msg[1:]
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		p.status.SetText("")
		p.status.Hide()
		p.relayout()
		p.m.prompt = showPrompt(p.m.win, "Run now", msg, promptButton{label: "OK", importance: widget.HighImportance})
	} else if p.status.Text == p.starting {
		// Unless the runner's events, which are newer, have said more.
		p.m.setStatus(fmt.Sprintf("Started the imports of %q; they run one after another. "+
			"Last run and Last result on the Inventory Systems page follow them.", name))
	}
	p.refresh()
	p.ranNows++
	p.ranNowErr = err
}

func (p *schedulingPage) onKeepInTray(on bool) {
	p.m.app.Preferences().SetBool(prefKeepInTray, on)
}
