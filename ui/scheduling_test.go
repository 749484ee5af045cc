package ui

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// berlin is the zone of the scheduling tests: next-run texts must not
// depend on the machine's.
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// fakeScheduler stands in for *schedule.Runner.
type fakeScheduler struct {
	mu      sync.Mutex
	ran     []string
	reloads int
	busy    map[string]bool
	err     error
}

func (f *fakeScheduler) RunNow(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.ran = append(f.ran, id)
	return nil
}

func (f *fakeScheduler) Reload() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
}

func (f *fakeScheduler) IsRunning(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.busy[id]
}

func (f *fakeScheduler) runs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ran...)
}

// schedWindow is a main window at Wed 25 Nov 2026 20:00 in Berlin with
// the connections Contoso and Fabrikam, saved, on the Scheduling page.
func schedWindow(t *testing.T) (*MainWindow, *storage.Repository, *bool) {
	t.Helper()
	loc := berlin(t)
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, loc)
	repo := testRepo(t)
	m, quit := testMainWindow(t, repo, Deps{Now: func() time.Time { return now }, Location: loc})
	// Both signed in, so they can run on a schedule.
	for _, name := range []string{"Contoso", "Fabrikam"} {
		c := newNamedConnection(name)
		c.Token = &storage.TokenInfo{Account: "admin@" + strings.ToLower(name) + ".example", ObtainedAt: now}
		m.putConnection(c, nil)
	}
	if !m.save() {
		t.Fatal("saving the connections failed")
	}
	m.nav.Select(PageScheduling)
	if m.sched.page == nil || m.pageName != PageScheduling {
		t.Fatal("the Scheduling page was not built")
	}
	return m, repo, quit
}

func rowOf(p *schedulingPage, node string) [3]string { return p.rowTexts(node) }

func scheduleOf(t *testing.T, m *MainWindow, name string) storage.Schedule {
	t.Helper()
	for _, s := range m.cfg.Schedules {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no schedule %q in %+v", name, m.cfg.Schedules)
	return storage.Schedule{}
}

// errText is the message under a field of the Edit Schedule dialog, "" when
// hidden.
func errText(d *ScheduleDialog, key string) string {
	if l := d.errs[key]; l.Visible() {
		return l.Text
	}
	return ""
}

func TestSchedulingEditScheduleDialogValidatesAndPreviews(t *testing.T) {
	m, _, _ := schedWindow(t)
	p := m.sched.page
	if !p.empty.Visible() || !p.editButton.Disabled() || !p.deleteButton.Disabled() || !p.runButton.Disabled() {
		t.Fatal("with no schedule the page shows its hint and only New")
	}
	if got := p.childUIDs(""); !reflect.DeepEqual(got, []string{notScheduledNode}) {
		t.Fatalf("roots %v", got)
	}
	if got := rowOf(p, notScheduledNode); got[0] != "Not scheduled (2)" {
		t.Errorf("Not scheduled row %q", got)
	}

	test.Tap(p.newButton)
	d := p.dialog
	if d == nil || !d.isNew {
		t.Fatal("New did not open the dialog")
	}
	// A fresh schedule: daily at 06:00, no name yet, no red text yet.
	if d.kind.Selected != "Daily" || d.at.Text != "06:00" || !d.ok.Disabled() || errText(d, errName) != "" {
		t.Fatalf("new dialog: kind %q at %q ok disabled %v name error %q", d.kind.Selected, d.at.Text, d.ok.Disabled(), errText(d, errName))
	}
	if d.Summary() != "Every day at 06:00" || d.NextRuns() != "Next runs: tomorrow at 06:00; Fri 27 Nov at 06:00; Sat 28 Nov at 06:00." {
		t.Fatalf("summary %q, next %q", d.Summary(), d.NextRuns())
	}
	if !d.atRow.Visible() || d.everyRow.Visible() || d.weekdaysRow.Visible() || d.dayRow.Visible() || d.pastHourRow.Visible() {
		t.Error("daily shows only the time")
	}
	test.Type(d.name, "Nightly")
	if d.ok.Disabled() {
		t.Fatal("a named daily schedule is valid")
	}
	retype(d.name, "")
	if errText(d, errName) != "Enter a name for the schedule." || !d.ok.Disabled() {
		t.Errorf("emptied name: %q", errText(d, errName))
	}
	test.Type(d.name, "Nightly")

	steps := []struct {
		do              func()
		field, err      string
		summary, next   string
		visible, hidden []*fyne.Container
	}{
		{do: func() { d.kind.SetSelected("Weekly") },
			summary: "Every weekday (Monday to Friday) at 06:00",
			next:    "Next runs: tomorrow at 06:00; Fri 27 Nov at 06:00; Mon 30 Nov at 06:00.",
			visible: []*fyne.Container{d.weekdaysRow, d.atRow}, hidden: []*fyne.Container{d.everyRow, d.dayRow}},
		{do: func() { d.weekdays.SetSelected(nil) }, field: errWeekdays, err: "Choose at least one day of the week."},
		{do: func() { d.weekdays.SetSelected([]string{"Thu"}) }, summary: "Every Thursday at 06:00"},
		{do: func() { retype(d.at, "7.30") }, field: errAt, err: timeFormatMessage},
		{do: func() { retype(d.at, "25:00") }, field: errAt, err: "Enter an hour from 0 to 23."},
		{do: func() { retype(d.at, "18:30") }, summary: "Every Thursday at 18:30",
			next: "Next runs: tomorrow at 18:30; Thu 3 Dec at 18:30; Thu 10 Dec at 18:30."},
		{do: func() { d.kind.SetSelected("Every N minutes") }, summary: "Every hour on the hour",
			visible: []*fyne.Container{d.everyRow}, hidden: []*fyne.Container{d.atRow, d.weekdaysRow}},
		{do: func() { retype(d.every, "0") }, field: errEvery, err: "Enter a number of minutes from 1 to 1440 (a day)."},
		{do: func() { retype(d.every, "often") }, field: errEvery, err: "Enter a number of minutes from 1 to 1440 (a day)."},
		{do: func() { retype(d.every, "15") }, summary: "Every 15 minutes",
			next: "Next runs: today at 20:15; today at 20:30; today at 20:45."},
		{do: func() { d.kind.SetSelected("Hourly") }, summary: "Every hour on the hour",
			visible: []*fyne.Container{d.pastHourRow}, hidden: []*fyne.Container{d.everyRow, d.atRow}},
		{do: func() { retype(d.pastHour, "60") }, field: errPastHour, err: "Enter a minute past the hour from 0 to 59."},
		{do: func() { retype(d.pastHour, "5") }, summary: "Every hour at 5 minutes past",
			next: "Next runs: today at 20:05; today at 21:05; today at 22:05."},
		{do: func() { d.kind.SetSelected("Monthly") }, summary: "On the 1st of every month at 18:30",
			visible: []*fyne.Container{d.dayRow, d.atRow}, hidden: []*fyne.Container{d.pastHourRow}},
		{do: func() { retype(d.dayOfMonth, "32") }, field: errDay,
			err: "Enter a day of the month from 1 to 31 (29, 30 and 31 run on the last day of shorter months)."},
		{do: func() { retype(d.dayOfMonth, "31") }, summary: "On the last day of every month at 18:30",
			next: "Next runs: Mon 30 Nov at 18:30; Thu 31 Dec at 18:30; Sun 31 Jan 2027 at 18:30."},
		{do: func() { d.kind.SetSelected("Daily"); retype(d.at, "2:00") }, summary: "Every day at 02:00",
			next: "Next runs: tomorrow at 02:00; Fri 27 Nov at 02:00; Sat 28 Nov at 02:00."},
	}
	for i, s := range steps {
		s.do()
		for key := range d.errs {
			want := ""
			if key == s.field {
				want = s.err
			}
			if got := errText(d, key); got != want {
				t.Errorf("step %d: error under %s %q, want %q", i, key, got, want)
			}
		}
		if d.ok.Disabled() != (s.err != "") {
			t.Errorf("step %d: OK disabled %v with error %q", i, d.ok.Disabled(), s.err)
		}
		if s.err != "" && d.Summary() != "Fix the fields marked in red to see when this schedule runs." {
			t.Errorf("step %d: an invalid schedule has the summary %q", i, d.Summary())
		}
		if s.summary != "" && d.Summary() != s.summary {
			t.Errorf("step %d: summary %q, want %q", i, d.Summary(), s.summary)
		}
		if s.next != "" && d.NextRuns() != s.next {
			t.Errorf("step %d: next runs %q, want %q", i, d.NextRuns(), s.next)
		}
		for _, r := range s.visible {
			if !r.Visible() {
				t.Errorf("step %d: a field the frequency uses is hidden", i)
			}
		}
		for _, r := range s.hidden {
			if r.Visible() {
				t.Errorf("step %d: a field the frequency does not use is shown", i)
			}
		}
	}

	test.Tap(d.ok)
	if !m.dirty || m.saveButton.Disabled() {
		t.Fatal("a new schedule must be a pending change")
	}
	// Only the fields daily uses are kept, whatever was typed in the others.
	s := scheduleOf(t, m, "Nightly")
	if want := (storage.Schedule{ID: s.ID, Name: "Nightly", Kind: storage.Daily, Hour: 2}); !reflect.DeepEqual(s, want) {
		t.Errorf("saved %+v, want %+v", s, want)
	}
	if p.selected != s.ID || p.editButton.Disabled() || !p.runButton.Disabled() {
		t.Errorf("the new schedule is selected; Run now waits for a connection (selected %q)", p.selected)
	}
	if got := rowOf(p, scheduleNodePre+s.ID); got != [3]string{"Nightly (0)", "Every day at 02:00", "tomorrow at 02:00 (no connections)"} {
		t.Errorf("schedule row %q", got)
	}
	requireContains(t, "details", p.details.Text, "Next runs: tomorrow at 02:00, Fri 27 Nov at 02:00, Sat 28 Nov at 02:00.")

	// Names stay unique, whatever their case.
	test.Tap(p.newButton)
	d = p.dialog
	test.Type(d.name, "nightly ")
	if errText(d, errName) != `A schedule named "Nightly" already exists; choose another name.` || !d.ok.Disabled() {
		t.Errorf("duplicate name: %q", errText(d, errName))
	}
	d.name.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(m.cfg.Schedules) != 1 {
		t.Error("Enter accepted an invalid schedule")
	}
	test.Tap(d.cancel)
	if len(m.cfg.Schedules) != 1 {
		t.Error("Cancel added a schedule")
	}
	// Enter is OK once it is valid.
	test.Tap(p.newButton)
	test.Type(p.dialog.name, "Weekends")
	p.dialog.name.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(m.cfg.Schedules) != 2 {
		t.Error("Enter did not accept a valid schedule")
	}
}

// Select Schedule attaches connections, the Inventory Systems columns
// follow, Edit changes the next run, Delete detaches, and Save writes it all.
func TestSchedulingSelectEditDeleteAndSave(t *testing.T) {
	m, repo, _ := schedWindow(t)
	sched := &fakeScheduler{}
	m.SetScheduler(sched)
	p := m.sched.page
	m.putSchedule(storage.Schedule{ID: "s-night", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	m.putSchedule(storage.Schedule{ID: "s-hour", Name: "Hourly", Kind: storage.Hourly, Minute: 30})

	contoso := m.cfg.Connections[0]
	m.nav.Select(PageInventorySystems)
	m.systems.selectRow(0)
	test.Tap(m.systems.scheduleButton)
	sd := m.sched.selectDialog
	if sd == nil {
		t.Fatal("Schedule... did not open Select Schedule")
	}
	// Not scheduled first, then the schedules by name.
	if !reflect.DeepEqual(sd.choice.Options, []string{"Not scheduled", "Hourly", "Nightly"}) || sd.choice.SelectedIndex() != 0 {
		t.Fatalf("options %v selected %d", sd.choice.Options, sd.choice.SelectedIndex())
	}
	requireContains(t, "Not scheduled summary", sd.summary.Text, "does not import by itself")
	if sd.next.Text != "Next run: none" {
		t.Errorf("Not scheduled next %q", sd.next.Text)
	}
	sd.choice.SetSelected("Nightly")
	if sd.summary.Text != "Every day at 02:00." || sd.next.Text != "Next run: tomorrow at 02:00." {
		t.Errorf("Nightly: %q / %q", sd.summary.Text, sd.next.Text)
	}
	sd.choice.SetSelected("Hourly")
	if sd.summary.Text != "Every hour at 30 minutes past." || sd.next.Text != "Next run: today at 20:30." {
		t.Errorf("Hourly: %q / %q", sd.summary.Text, sd.next.Text)
	}
	test.Tap(sd.cancel)
	if m.cfg.Connections[0].ScheduleID != "" {
		t.Fatal("Cancel attached the connection")
	}
	test.Tap(m.systems.scheduleButton)
	m.sched.selectDialog.choice.SetSelected("Nightly")
	test.Tap(m.sched.selectDialog.ok)
	if m.cfg.Connections[0].ScheduleID != "s-night" {
		t.Fatal("OK did not attach the connection")
	}
	cell := func(col int) string { return m.systems.cellText(widget.TableCellID{Row: 0, Col: col}) }
	if cell(colSchedule) != "Nightly" || cell(colNextRun) != "2026-11-26 02:00" {
		t.Errorf("Schedule / Next run columns: %q / %q", cell(colSchedule), cell(colNextRun))
	}
	// The dialog opens on the connection's schedule, and says who else is
	// on the one chosen.
	m.systems.selectRow(1)
	test.Tap(m.systems.scheduleButton)
	m.sched.selectDialog.choice.SetSelected("Nightly")
	if want := "Next run: tomorrow at 02:00, one after another with the 1 connection already on it."; m.sched.selectDialog.next.Text != want {
		t.Errorf("next %q, want %q", m.sched.selectDialog.next.Text, want)
	}
	test.Tap(m.sched.selectDialog.cancel)
	m.systems.selectRow(0)
	test.Tap(m.systems.scheduleButton)
	if m.sched.selectDialog.choice.Selected != "Nightly" {
		t.Errorf("Select Schedule opens on %q", m.sched.selectDialog.choice.Selected)
	}
	test.Tap(m.sched.selectDialog.cancel)

	// The Scheduling page groups the connections under their schedules.
	m.nav.Select(PageScheduling)
	if got := p.childUIDs(""); !reflect.DeepEqual(got, []string{"s:s-hour", "s:s-night", notScheduledNode}) {
		t.Fatalf("roots %v", got)
	}
	if got := p.childUIDs("s:s-night"); !reflect.DeepEqual(got, []string{connNodePre + contoso.ID}) {
		t.Errorf("Nightly's connections %v", got)
	}
	if got := rowOf(p, "s:s-night"); got != [3]string{"Nightly (1)", "Every day at 02:00", "tomorrow at 02:00"} {
		t.Errorf("Nightly row %q", got)
	}
	if got := rowOf(p, notScheduledNode)[0]; got != "Not scheduled (1)" {
		t.Errorf("Not scheduled row %q", got)
	}
	// Selecting a connection selects its schedule.
	p.tree.Select(connNodePre + contoso.ID)
	if p.selected != "s-night" || p.runButton.Disabled() || p.editButton.Disabled() {
		t.Fatalf("selected %q", p.selected)
	}
	requireContains(t, "details", p.details.Text, "Runs, one after another: Contoso.")

	// Edit: an unchanged OK changes nothing; a new time moves Next run.
	if !m.save() {
		t.Fatal("save failed")
	}
	if sched.reloads != 1 {
		t.Errorf("Save reloaded the scheduler %d times", sched.reloads)
	}
	test.Tap(p.editButton)
	d := p.dialog
	if d.isNew || d.name.Text != "Nightly" || d.kind.Selected != "Daily" || d.at.Text != "02:00" || d.ok.Disabled() {
		t.Fatalf("edit dialog: %q %q %q", d.name.Text, d.kind.Selected, d.at.Text)
	}
	test.Tap(d.ok)
	if m.dirty {
		t.Error("an unchanged edit made the window dirty")
	}
	test.Tap(p.editButton)
	retype(p.dialog.at, "03:15")
	test.Tap(p.dialog.ok)
	if !m.dirty || scheduleOf(t, m, "Nightly").Hour != 3 {
		t.Fatal("the edit is not pending")
	}
	if cell(colNextRun) != "2026-11-26 03:15" {
		t.Errorf("Next run after the edit %q", cell(colNextRun))
	}
	if got := rowOf(p, "s:s-night")[2]; got != "tomorrow at 03:15" {
		t.Errorf("page next run %q", got)
	}
	if saved, _ := repo.Config.Load(); saved.Schedules[1].Hour != 2 && saved.Schedules[0].Hour != 2 {
		t.Error("the edit was written before Save")
	}

	// Delete asks, then detaches the connection; Save writes it.
	test.Tap(p.deleteButton)
	if m.prompt == nil || m.prompt.title != "Delete schedule" {
		t.Fatal("Delete must ask first")
	}
	requireContains(t, "delete message", m.prompt.message.Text,
		"Its 1 connection (Contoso) becomes Not scheduled: it no longer runs by itself")
	test.Tap(m.prompt.buttons["Cancel"])
	if len(m.cfg.Schedules) != 2 {
		t.Fatal("Cancel deleted the schedule")
	}
	test.Tap(p.deleteButton)
	test.Tap(m.prompt.buttons["Delete"])
	if len(m.cfg.Schedules) != 1 || m.cfg.Connections[0].ScheduleID != "" || p.selected != "" || !p.editButton.Disabled() {
		t.Fatalf("after Delete: schedules %+v, connection on %q", m.cfg.Schedules, m.cfg.Connections[0].ScheduleID)
	}
	if cell(colSchedule) != "Not scheduled" || cell(colNextRun) != "—" {
		t.Errorf("columns after Delete: %q / %q", cell(colSchedule), cell(colNextRun))
	}
	if got := rowOf(p, notScheduledNode)[0]; got != "Not scheduled (2)" {
		t.Errorf("Not scheduled row %q", got)
	}
	test.Tap(m.saveButton)
	saved, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Schedules) != 1 || saved.Schedules[0].ID != "s-hour" || saved.Connections[0].ScheduleID != "" {
		t.Errorf("saved %+v / %+v", saved.Schedules, saved.Connections)
	}
	if sched.reloads != 2 {
		t.Errorf("reloads %d", sched.reloads)
	}
}

func TestSchedulingRunNow(t *testing.T) {
	m, _, _ := schedWindow(t)
	p := m.sched.page
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	m.cfg.Connections[0].ScheduleID = "s1"
	m.markDirty()
	p.selectSchedule("s1")

	// Without a runner, Run now says so.
	test.Tap(p.runButton)
	if m.prompt == nil || !strings.Contains(m.prompt.message.Text, "Run now is not available") {
		t.Fatal("Run now without a runner must say it is not available")
	}

	sched := &fakeScheduler{busy: map[string]bool{}}
	m.SetScheduler(sched)

	// Pending changes are saved first: the runner reads the file.
	test.Tap(p.runButton)
	if m.prompt == nil || m.prompt.title != "Save changes first" {
		t.Fatal("Run now with unsaved changes must offer to save")
	}
	test.Tap(m.prompt.buttons["Save and continue"])
	if err := waitRanNow(t, p, 1); err != nil {
		t.Fatal(err)
	}
	if m.dirty || !reflect.DeepEqual(sched.runs(), []string{"s1"}) {
		t.Fatalf("dirty %v, ran %v", m.dirty, sched.runs())
	}
	requireContains(t, "status", p.status.Text, `Started the imports of "Nightly"`)

	// A running schedule cannot be started again.
	sched.busy["s1"] = true
	p.refresh()
	if !p.runButton.Disabled() {
		t.Error("Run now is enabled while the schedule runs")
	}
	requireContains(t, "details", p.details.Text, "Running now.")
	sched.busy["s1"] = false
	p.refresh()

	// The runner's refusal is shown in words.
	sched.err = schedule.ErrScheduleBusy
	test.Tap(p.runButton)
	if err := waitRanNow(t, p, 2); !errors.Is(err, schedule.ErrScheduleBusy) {
		t.Fatalf("err %v", err)
	}
	if m.prompt == nil || m.prompt.message.Text != "This schedule is running already; wait for its imports to finish." {
		t.Errorf("prompt %v", m.prompt)
	}
}

func TestSchedulingEventsUpdateWindowAndNotify(t *testing.T) {
	m, _, _ := schedWindow(t)
	p := m.sched.page
	var sent []*fyne.Notification
	m.notify = func(n *fyne.Notification) { sent = append(sent, n) }
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	m.cfg.Connections[0].ScheduleID = "s1"
	c := m.cfg.Connections[0]
	ev := schedule.Event{ScheduleID: "s1", ScheduleName: "Nightly", Connection: c, Trigger: schedule.TriggerSchedule}

	ev.Kind = schedule.EventStarted
	m.OnScheduleEvent(ev)
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != "Running…" {
		t.Errorf("Last result while running %q", got)
	}
	if got := rowOf(p, connNodePre+c.ID)[2]; got != "Importing…" {
		t.Errorf("page row %q", got)
	}
	if p.status.Text != `Importing "Contoso" (schedule "Nightly")…` {
		t.Errorf("status %q", p.status.Text)
	}

	cases := []struct {
		outcome schedule.Outcome
		err     error
		status  string
		notice  string // "" for none
	}{
		{outcome: schedule.Outcome{Status: schedule.StatusSucceeded}, status: `"Contoso": succeeded.`},
		{outcome: schedule.Outcome{Status: schedule.StatusWarnings, Warnings: []string{"a", "b"}},
			status: `"Contoso": completed with 2 warnings.`,
			notice: `Scheduled import of "Contoso" completed with 2 warnings. See Import history for the details.`},
		{outcome: schedule.Outcome{Status: schedule.StatusFailed, Err: errors.New("the token was revoked; click Generate... again")},
			status: `"Contoso": failed: the token was revoked; click Generate... again.`,
			notice: `Scheduled import of "Contoso" failed: the token was revoked; click Generate... again. Nothing has been imported from this connection yet. See Import history for what to do.`},
		// A success between two failures: each is the first of its
		// run, so each notifies (TestFailingScheduleNotifiesOnce).
		{outcome: schedule.Outcome{Status: schedule.StatusSucceeded}, status: `"Contoso": succeeded.`},
		{err: errors.New("the database is locked"),
			status: `"Contoso": could not run: the database is locked.`,
			notice: `Scheduled import of "Contoso" could not run: the database is locked. Nothing has been imported from this connection yet. See Import history for what to do.`},
		{outcome: schedule.Outcome{Status: schedule.StatusCancelled}, status: `"Contoso": cancelled; the data of the previous import is kept.`},
	}
	for i, tc := range cases {
		sent = nil
		ev.Kind, ev.Outcome, ev.Err = schedule.EventFinished, tc.outcome, tc.err
		m.OnScheduleEvent(ev)
		if p.status.Text != tc.status {
			t.Errorf("case %d: status %q, want %q", i, p.status.Text, tc.status)
		}
		switch {
		case tc.notice == "" && len(sent) != 0:
			t.Errorf("case %d: notified %q", i, sent[0].Content)
		case tc.notice != "" && (len(sent) != 1 || sent[0].Content != tc.notice || sent[0].Title != "Inventory Beacon"):
			t.Errorf("case %d: notifications %v, want %q", i, sent, tc.notice)
		}
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got == "Running…" {
		t.Error("Last result still says Running after the import ended")
	}

	ev.Kind, ev.Reason = schedule.EventSkipped, schedule.SkipAlreadyRunning
	m.OnScheduleEvent(ev)
	if p.status.Text != `"Contoso" was not imported: already running.` {
		t.Errorf("skipped status %q", p.status.Text)
	}
}

// The Edit Schedule dialog (weekly, with a time out of range) and Select
// Schedule, compared with golden images (test theme).
func TestSchedulingDialogsGolden(t *testing.T) {
	loc := berlin(t)
	now := func() time.Time { return time.Date(2026, 11, 25, 20, 0, 0, 0, loc) }
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(windowWidth, windowHeight))

	nightly := storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2}
	d := newScheduleDialog(w, nightly, false, []storage.Schedule{nightly}, now, loc, func(storage.Schedule) {})
	d.Show()
	d.kind.SetSelected("Weekly")
	retype(d.at, "25:00")
	w.Canvas().Unfocus()
	golden(t, w, "schedule_dialog.png")
	d.dlg.Hide()

	cfg := &storage.Config{Schedules: []storage.Schedule{nightly}, Connections: []storage.Connection{newNamedConnection("Contoso")}}
	sd := newSelectScheduleDialog(w, cfg, cfg.Connections[0], now(), loc, nil)
	sd.Show()
	sd.choice.SetSelected("Nightly")
	golden(t, w, "select_schedule_dialog.png")
}

func golden(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	img := w.Canvas().Capture()
	if *update {
		if err := encodePNG(filepath.Join("testdata", name), img); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertImageMatches(t, name, img)
}

// Issue 23 item 8: a schedule that fails every few minutes notifies at
// its first failure only, until an import succeeds again; the Inventory
// Systems table says in red since when it fails, or that its schedule
// cannot run at all; the tray's menu names the failing connections.
func TestFailingScheduleNotifiesOnce(t *testing.T) {
	m, _, _ := schedWindow(t)
	var sent []*fyne.Notification
	m.notify = func(n *fyne.Notification) { sent = append(sent, n) }
	fake := &fakeTrayApp{}
	newTray(fake, m, nil)
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Every 5 minutes", Kind: storage.EveryNMinutes, EveryMinutes: 5})
	m.cfg.Connections[0].ScheduleID = "s1"
	c := m.cfg.Connections[0]
	ev := schedule.Event{ScheduleID: "s1", ScheduleName: "Every 5 minutes", Connection: c, Trigger: schedule.TriggerSchedule}
	run := func(st schedule.Status) {
		ev.Kind, ev.At = schedule.EventStarted, ev.At.Add(5*time.Minute)
		m.OnScheduleEvent(ev)
		ev.Kind, ev.Outcome = schedule.EventFinished, schedule.Outcome{Status: st}
		if st == schedule.StatusFailed {
			ev.Outcome.Err = errors.New("no sign-in yet")
		}
		m.OnScheduleEvent(ev)
	}
	ev.At = time.Date(2026, 11, 25, 20, 0, 0, 0, m.loc)
	for i := range 3 {
		run(schedule.StatusFailed)
		if len(sent) != 1 {
			t.Fatalf("after failure %d: %d notifications, want the first only", i+1, len(sent))
		}
	}
	run(schedule.StatusSucceeded)
	run(schedule.StatusFailed)
	if len(sent) != 2 {
		t.Fatalf("a failure after a success must notify again: %d notifications", len(sent))
	}
	run(schedule.StatusFailed)
	if len(sent) != 2 {
		t.Fatalf("%d notifications", len(sent))
	}

	// The history says since when it fails (as loaded with the last runs).
	since := time.Date(2026, 11, 25, 19, 5, 0, 0, m.loc)
	m.data.lastRuns = map[string]inventory.Run{c.ID: {ConnectionID: c.ID, Started: since.Add(10 * time.Minute),
		Status: inventory.StatusFailed, Error: "the token was revoked"}}
	m.data.failing = map[string]inventory.Failing{c.ID: {Since: since, Runs: 3}}
	m.refreshSystems()
	want := "Failing since " + formatTime(since, "") + " (3 runs): the token was revoked"
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != want {
		t.Errorf("Last result %q, want %q", got, want)
	}
	if !m.connStatus(c.ID).Alert || m.connStatus(m.cfg.Connections[1].ID).Alert {
		t.Error("only the failing connection is shown in red")
	}
	// Running again, it still shows that it fails, in red: on a short
	// schedule it is running most of the time. The newest run in the
	// history is then the running one.
	ev.Kind = schedule.EventStarted
	m.OnScheduleEvent(ev)
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != "Running again… "+want || !m.connStatus(c.ID).Alert {
		t.Errorf("Last result of a failing connection running again %q", got)
	}
	failed := m.data.lastRuns[c.ID]
	m.data.lastRuns[c.ID] = inventory.Run{ConnectionID: c.ID, Started: since.Add(15 * time.Minute), Status: inventory.StatusRunning}
	m.refreshSystems()
	want2 := "Running again… Failing since " + formatTime(since, "") + " (3 runs)"
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != want2 || !m.connStatus(c.ID).Alert {
		t.Errorf("Last result of a failing connection running again %q, want %q", got, want2)
	}
	delete(m.sched.running, c.ID)
	m.data.lastRuns[c.ID] = failed
	if len(fake.menu.Items) == 0 || fake.menu.Items[0].Label != "Failing: Contoso" {
		t.Fatalf("the tray's menu does not name the failing connection: %v", fake.menu.Items)
	}
	fake.menu.Items[0].Action()
	if m.pageName != PageInventorySystems {
		t.Error("the tray's failing item does not open Inventory Systems")
	}

	// A window opened on a connection failing for a while stays quiet:
	// its next failure is not news.
	m.sched.toldFailing = map[string]bool{}
	run(schedule.StatusFailed)
	if len(sent) != 2 {
		t.Fatalf("a connection failing before the window opened notified again: %d notifications", len(sent))
	}

	// Never signed in: its schedule cannot run, whatever the history.
	m.cfg.Connections[0].Token = nil
	m.refreshSystems()
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != "Cannot run: sign in first (Edit..., Generate...)" {
		t.Errorf("Last result of a scheduled connection never signed in: %q", got)
	}
	// Healed: the tray's menu is as before.
	m.cfg.Connections[0].Token = c.Token
	m.data.lastRuns[c.ID] = inventory.Run{ConnectionID: c.ID, Started: since.Add(time.Hour), Status: inventory.StatusSucceeded}
	delete(m.data.failing, c.ID)
	m.refreshSystems()
	if fake.menu.Items[0].Label != "Open" || m.connStatus(c.ID).Alert {
		t.Errorf("after a success the tray still heads with %q", fake.menu.Items[0].Label)
	}
}

// A failed scheduled import's notification says the earlier data is kept
// only when there is some.
func TestFailedImportNotificationSaysWhatIsKept(t *testing.T) {
	ev := schedule.Event{Kind: schedule.EventFinished, Connection: newNamedConnection("Contoso"), Trigger: schedule.TriggerSchedule,
		Outcome: schedule.Outcome{Status: schedule.StatusFailed, Err: errors.New("no sign-in yet")}}
	for kept, want := range map[keptState]string{
		keptData: `Scheduled import of "Contoso" failed: no sign-in yet. The data of the previous import is kept. See Import history for what to do.`,
		keptNone: `Scheduled import of "Contoso" failed: no sign-in yet. Nothing has been imported from this connection yet. See Import history for what to do.`,
	} {
		if n := eventNotification(ev, kept); n == nil || n.Content != want {
			t.Errorf("notification %v, want %q", n, want)
		}
	}
}
