package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// notScheduledLabel is the drop-down's choice of no schedule.
const notScheduledLabel = "Not scheduled"

// SelectScheduleDialog is Inventory Systems → Schedule...: a drop-down of
// the schedules plus Not scheduled, what the chosen one means and when it
// runs next, OK and Cancel.
type SelectScheduleDialog struct {
	parent  fyne.Window
	choice  *dialogSelect
	summary *widget.Label
	next    *widget.Label
	ok      *dialogButton
	cancel  *dialogButton
	keys    *dialogKeys
	dlg     *dialog.CustomDialog
	content *fyne.Container
	shown   bool

	// ids[i] is the schedule ID of choice.Options[i]; "" for Not
	// scheduled. Choices go by index: a schedule may be named like
	// another choice.
	ids   []string
	cfg   *storage.Config
	now   time.Time
	loc   *time.Location
	done  func(scheduleID string)
	conn  storage.Connection
	title string
}

// showSelectSchedule shows Select Schedule for c on the window's clock.
func (m *scheduling) showSelectSchedule(c storage.Connection, done func(string)) {
	m.selectDialog = newSelectScheduleDialog(m.win, m.cfg, c, m.now().In(m.loc), m.loc, done)
	m.selectDialog.Show()
}

func newSelectScheduleDialog(parent fyne.Window, cfg *storage.Config, c storage.Connection, now time.Time,
	loc *time.Location, done func(string)) *SelectScheduleDialog {
	d := &SelectScheduleDialog{parent: parent, cfg: cfg, now: now, loc: loc, done: done, conn: c, keys: &dialogKeys{}}
	options := []string{notScheduledLabel}
	d.ids = []string{""}
	for _, e := range schedule.Plan(cfg, now, loc).Schedules {
		options = append(options, e.Schedule.Name)
		d.ids = append(d.ids, e.Schedule.ID)
	}
	d.choice = newDialogSelect(d.keys, options, nil)
	d.summary = widget.NewLabel("")
	d.summary.Wrapping = fyne.TextWrapWord
	d.next = widget.NewLabel("")
	d.next.Wrapping = fyne.TextWrapWord

	selected := 0
	for i, id := range d.ids {
		if id != "" && id == c.ScheduleID {
			selected = i
		}
	}
	d.choice.SetSelectedIndex(selected)
	d.choice.OnChanged = func(string) { d.describe() }
	d.describe()
	if c.ScheduleID != "" && selected == 0 {
		// A hand-edited file may name a schedule that is gone.
		d.summary.SetText("The schedule this connection was on no longer exists, so it does not run by itself. " +
			"Choose a schedule, or keep Not scheduled.")
	}

	intro := widget.NewLabel(fmt.Sprintf("When should %q import by itself?", c.Name))
	intro.Wrapping = fyne.TextWrapWord
	hint := widget.NewLabel("Define schedules on the Scheduling page. The choice takes effect when you click Save.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	d.content = container.NewVBox(intro,
		container.NewBorder(nil, nil, widget.NewLabel("Schedule"), nil, d.choice),
		d.summary, d.next, hint)

	d.dlg = dialog.NewCustomWithoutButtons("Select Schedule", d.content, parent)
	d.ok = newDialogButton(d.keys, "OK", d.onOK)
	d.ok.Importance = widget.HighImportance
	d.cancel = newDialogButton(d.keys, "Cancel", d.dlg.Hide)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.ok})
	d.keys.esc, d.keys.enter = []*dialogButton{d.cancel}, []*dialogButton{d.ok}
	return d
}

// Show shows the dialog wide enough for a long summary on one line.
func (d *SelectScheduleDialog) Show() {
	d.keys.show(d.dlg, d.parent)
	d.shown = true
	d.fit()
}

// fit sizes the dialog to its text. Wrapped labels know their height only
// once they have their width: set the width, lay out, then take the height.
func (d *SelectScheduleDialog) fit() {
	if !d.shown {
		return
	}
	d.dlg.Resize(fyne.NewSize(520, d.dlg.MinSize().Height))
	d.content.Refresh()
	d.dlg.Resize(fyne.NewSize(520, d.dlg.MinSize().Height))
}

// selectedID is the chosen schedule's ID, "" for Not scheduled.
func (d *SelectScheduleDialog) selectedID() string {
	if i := d.choice.SelectedIndex(); i > 0 && i < len(d.ids) {
		return d.ids[i]
	}
	return ""
}

// describe says what the chosen schedule means and when it runs next.
func (d *SelectScheduleDialog) describe() {
	id := d.selectedID()
	if id == "" {
		d.summary.SetText("The connection does not import by itself; use Execute Now on the Inventory Systems page.")
		d.next.SetText("Next run: none")
		d.fit()
		return
	}
	s, _ := schedule.Find(d.cfg, id)
	d.summary.SetText(schedule.Summary(s) + ".")
	text := "Next run: " + schedule.DescribeNext(schedule.Next(s, d.now, d.loc), d.now)
	if n := len(schedule.ConnectionsOf(d.cfg, id)); id != d.conn.ScheduleID && n > 0 {
		text += fmt.Sprintf(", one after another with the %s already on it", plural(n, "connection"))
	}
	d.next.SetText(text + ".")
	d.fit()
}

func (d *SelectScheduleDialog) onOK() {
	d.dlg.Hide()
	if d.done != nil {
		d.done(d.selectedID())
	}
}
