package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// The frequencies of the Edit Schedule dialog's radio group, in its order.
var scheduleKinds = []struct {
	kind  storage.ScheduleKind
	label string
}{
	{storage.EveryNMinutes, "Every N minutes"},
	{storage.Hourly, "Hourly"},
	{storage.Daily, "Daily"},
	{storage.Weekly, "Weekly"},
	{storage.Monthly, "Monthly"},
}

// weekdayChoices are the weekly check boxes, Monday first as a working
// week reads.
var weekdayChoices = []struct {
	day   time.Weekday
	label string
}{
	{time.Monday, "Mon"}, {time.Tuesday, "Tue"}, {time.Wednesday, "Wed"}, {time.Thursday, "Thu"},
	{time.Friday, "Fri"}, {time.Saturday, "Sat"}, {time.Sunday, "Sun"},
}

const timeFormatMessage = "Enter the time as hours and minutes on a 24-hour clock, e.g. 06:30 or 18:00."

// ScheduleDialog is New / Edit Schedule: a name, the frequency and the
// fields that frequency uses, each checked as it is typed with the problem
// in words under it; a summary and the next three runs; OK only while the
// schedule is valid.
type ScheduleDialog struct {
	parent fyne.Window
	orig   storage.Schedule
	isNew  bool
	others []storage.Schedule
	now    func() time.Time
	loc    *time.Location
	onOK   func(storage.Schedule)

	name       *dialogEntry
	kind       *dialogRadio
	every      *dialogEntry
	pastHour   *dialogEntry
	weekdays   *dialogCheckGroup
	dayOfMonth *dialogEntry
	at         *dialogEntry

	// rows hold each field with its label and error, shown for the
	// frequencies that use it.
	everyRow, pastHourRow, weekdaysRow, dayRow, atRow *fyne.Container
	errs                                              map[string]*widget.Label

	// content is laid out again after rows and errors show or hide.
	content  *fyne.Container
	summary  *widget.Label
	nextRuns *widget.Label
	ok       *dialogButton
	cancel   *dialogButton
	dlg      *dialog.CustomDialog
	keys     *dialogKeys // Esc is Cancel, Enter OK (issue 23 item 6)

	// nameTouched: a new schedule's empty name is not an error until the
	// administrator has typed in it (OK stays disabled all the same).
	nameTouched bool
	current     storage.Schedule
	valid       bool
}

// Error label keys of ScheduleDialog.errs.
const (
	errName     = "name"
	errKind     = "kind"
	errEvery    = "every"
	errPastHour = "pastHour"
	errWeekdays = "weekdays"
	errDay      = "day"
	errAt       = "at"
)

func newScheduleDialog(parent fyne.Window, s storage.Schedule, isNew bool, others []storage.Schedule,
	now func() time.Time, loc *time.Location, onOK func(storage.Schedule)) *ScheduleDialog {
	d := &ScheduleDialog{parent: parent, orig: s, isNew: isNew, others: others, now: now, loc: loc, onOK: onOK, errs: map[string]*widget.Label{}, keys: &dialogKeys{}}
	for _, k := range []string{errName, errKind, errEvery, errPastHour, errWeekdays, errDay, errAt} {
		l := widget.NewLabel("")
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		l.Hide()
		d.errs[k] = l
	}

	d.name = newDialogEntry(d.keys)
	d.name.SetPlaceHolder("e.g. Nightly")
	d.name.SetText(s.Name)
	d.every = newDialogEntry(d.keys)
	d.every.SetText(intText(s.EveryMinutes, 60))
	d.pastHour = newDialogEntry(d.keys)
	d.pastHour.SetText(strconv.Itoa(s.Minute))
	var labels []string
	for _, w := range weekdayChoices {
		labels = append(labels, w.label)
	}
	d.weekdays = newDialogCheckGroup(d.keys, labels, true, nil)
	var checked []string
	for _, w := range weekdayChoices {
		for _, x := range s.Weekdays {
			if x == w.day {
				checked = append(checked, w.label)
			}
		}
	}
	d.weekdays.SetSelected(checked)
	d.dayOfMonth = newDialogEntry(d.keys)
	d.dayOfMonth.SetText(intText(s.DayOfMonth, 1))
	d.at = newDialogEntry(d.keys)
	d.at.SetPlaceHolder("06:30")
	d.at.SetText(fmt.Sprintf("%02d:%02d", s.Hour, s.Minute))

	var kindLabels []string
	for _, k := range scheduleKinds {
		kindLabels = append(kindLabels, k.label)
	}
	d.kind = newDialogRadio(d.keys, kindLabels, true, nil)
	d.kind.SetSelected(kindLabel(s.Kind))

	d.everyRow = fieldRow("Run every", d.every, widget.NewLabel("minutes"), d.errs[errEvery])
	d.pastHourRow = fieldRow("At minute", d.pastHour, widget.NewLabel("past the hour (0–59)"), d.errs[errPastHour])
	d.weekdaysRow = fieldRow("On", d.weekdays, nil, d.errs[errWeekdays])
	dayHint := widget.NewLabel("29, 30, 31: the last day in shorter months")
	dayHint.Importance = widget.LowImportance
	d.dayRow = fieldRow("Day of month", d.dayOfMonth, dayHint, d.errs[errDay])
	d.atRow = fieldRow("At", d.at, widget.NewLabel("local time, 24-hour clock"), d.errs[errAt])

	d.summary = widget.NewLabel("")
	d.summary.Wrapping = fyne.TextWrapWord
	d.summary.TextStyle.Bold = true
	d.nextRuns = widget.NewLabel("")
	d.nextRuns.Wrapping = fyne.TextWrapWord

	d.content = container.NewVBox(
		fieldRow("Name", d.name, nil, d.errs[errName]),
		fieldRow("Frequency", d.kind, nil, d.errs[errKind]),
		d.everyRow, d.pastHourRow, d.weekdaysRow, d.dayRow, d.atRow,
		widget.NewSeparator(), d.summary, d.nextRuns,
	)

	title := "Edit Schedule"
	if isNew {
		title = "New Schedule"
	}
	d.dlg = dialog.NewCustomWithoutButtons(title, d.content, parent)
	d.ok = newDialogButton(d.keys, "OK", d.onOKTapped)
	d.ok.Importance = widget.HighImportance
	d.cancel = newDialogButton(d.keys, "Cancel", d.dlg.Hide)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.ok})

	// Handlers last, so filling the fields above does not validate a
	// half-built dialog.
	d.name.OnChanged = func(string) { d.nameTouched = true; d.validate() }
	for _, e := range []*dialogEntry{d.every, d.pastHour, d.dayOfMonth, d.at} {
		e.OnChanged = func(string) { d.validate() }
	}
	// Enter in any field is OK, when the schedule is valid.
	for _, e := range []*dialogEntry{d.name, d.every, d.pastHour, d.dayOfMonth, d.at} {
		e.OnSubmitted = func(string) { d.onOKTapped() }
	}
	d.weekdays.OnChanged = func([]string) { d.validate() }
	d.kind.OnChanged = d.onKindChanged
	d.showRows()
	d.validate()
	return d
}

// Show shows the dialog at a width where the summary and the weekday boxes
// fit on their lines.
func (d *ScheduleDialog) Show() {
	// Enter in a field is OK already (OnSubmitted); Esc is Cancel.
	d.keys.esc, d.keys.enter = []*dialogButton{d.cancel}, []*dialogButton{d.ok}
	d.keys.show(d.dlg, d.parent)
	d.dlg.Resize(fyne.NewSize(640, d.dlg.MinSize().Height))
}

// fieldRow is a label, a field, an optional unit or hint after it, and the
// field's error message under it.
func fieldRow(label string, field, after fyne.CanvasObject, errLabel *widget.Label) *fyne.Container {
	l := widget.NewLabel(label)
	left := container.NewGridWrap(fyne.NewSize(110, l.MinSize().Height), l)
	line := container.NewBorder(nil, nil, left, after, field)
	return container.NewVBox(line, container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(110, 1)), nil, errLabel))
}

func intText(n, fallback int) string {
	if n == 0 {
		n = fallback
	}
	return strconv.Itoa(n)
}

func kindLabel(k storage.ScheduleKind) string {
	for _, x := range scheduleKinds {
		if x.kind == k {
			return x.label
		}
	}
	return ""
}

func (d *ScheduleDialog) selectedKind() storage.ScheduleKind {
	for _, x := range scheduleKinds {
		if x.label == d.kind.Selected {
			return x.kind
		}
	}
	return ""
}

func (d *ScheduleDialog) onKindChanged(string) {
	// A weekly schedule with no day would only say "choose a day":
	// start from the working week instead.
	if d.selectedKind() == storage.Weekly && len(d.weekdays.Selected) == 0 {
		d.weekdays.SetSelected([]string{"Mon", "Tue", "Wed", "Thu", "Fri"})
	}
	d.showRows()
	d.validate()
}

// showRows shows the fields the chosen frequency uses.
func (d *ScheduleDialog) showRows() {
	k := d.selectedKind()
	show := map[*fyne.Container]bool{
		d.everyRow:    k == storage.EveryNMinutes,
		d.pastHourRow: k == storage.Hourly,
		d.weekdaysRow: k == storage.Weekly,
		d.dayRow:      k == storage.Monthly,
		d.atRow:       k == storage.Daily || k == storage.Weekly || k == storage.Monthly,
	}
	for row, on := range show {
		if on {
			row.Show()
		} else {
			row.Hide()
		}
	}
}

// clockPattern is a 24-hour time: "6", "06", "6:30", "06:30".
var clockPattern = regexp.MustCompile(`^\s*(\d{1,2})(?::(\d{2}))?\s*$`)

// parseClock reads a 24-hour time; ok is false when the text is not one
// (out-of-range values parse, for Validate to name).
func parseClock(text string) (hour, minute int, ok bool) {
	m := clockPattern.FindStringSubmatch(text)
	if m == nil {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		minute, _ = strconv.Atoi(m[2])
	}
	return hour, minute, true
}

// number reads a whole number; text that is not one is -1, out of every
// range, so Validate names the field's range.
func number(text string) int {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return -1
	}
	return n
}

// schedule is the schedule as the fields say, with only the fields its
// frequency uses, and whether the time field could be read.
func (d *ScheduleDialog) schedule() (storage.Schedule, bool) {
	s := storage.Schedule{ID: d.orig.ID, Name: strings.TrimSpace(d.name.Text), Kind: d.selectedKind()}
	clockOK := true
	switch s.Kind {
	case storage.EveryNMinutes:
		s.EveryMinutes = number(d.every.Text)
	case storage.Hourly:
		s.Minute = number(d.pastHour.Text)
	case storage.Daily, storage.Weekly, storage.Monthly:
		s.Hour, s.Minute, clockOK = parseClock(d.at.Text)
		if s.Kind == storage.Weekly {
			for _, w := range weekdayChoices {
				for _, l := range d.weekdays.Selected {
					if l == w.label {
						s.Weekdays = append(s.Weekdays, w.day)
					}
				}
			}
		}
		if s.Kind == storage.Monthly {
			s.DayOfMonth = number(d.dayOfMonth.Text)
		}
	}
	return s, clockOK
}

// validate checks the fields, shows each problem under its field, and
// updates the summary, the next runs and OK.
func (d *ScheduleDialog) validate() {
	s, clockOK := d.schedule()
	var verr schedule.ValidationError
	if err := schedule.Validate(s, d.others); err != nil {
		verr, _ = err.(schedule.ValidationError)
	}
	msgs := map[string]string{
		errName:     verr.For(schedule.FieldName),
		errKind:     verr.For(schedule.FieldKind),
		errEvery:    verr.For(schedule.FieldEveryMinutes),
		errWeekdays: verr.For(schedule.FieldWeekdays),
		errDay:      verr.For(schedule.FieldDayOfMonth),
	}
	if s.Kind == storage.Hourly {
		msgs[errPastHour] = verr.For(schedule.FieldMinute)
	} else {
		msgs[errAt] = strings.TrimSpace(verr.For(schedule.FieldHour) + " " + verr.For(schedule.FieldMinute))
	}
	if !clockOK {
		msgs[errAt] = timeFormatMessage
	}
	valid := len(verr) == 0 && clockOK
	if d.isNew && !d.nameTouched && s.Name == "" {
		msgs[errName] = "" // not yet: nothing was typed
	}
	for k, l := range d.errs {
		l.SetText(msgs[k])
		if msgs[k] == "" {
			l.Hide()
		} else {
			l.Show()
		}
	}
	d.current, d.valid = s, valid
	if valid {
		d.ok.Enable()
	} else {
		d.ok.Disable()
	}
	d.updateSummary(s, clockOK)
	d.content.Refresh()
	if d.dlg != nil && d.dlg.MinSize().Height > 0 {
		d.dlg.Resize(fyne.NewSize(640, d.dlg.MinSize().Height))
	}
}

// updateSummary says when the schedule runs and its next three runs. The
// timing is shown as soon as it is valid, even while the name is missing.
func (d *ScheduleDialog) updateSummary(s storage.Schedule, clockOK bool) {
	timing := s
	timing.Name = "x" // the summary does not depend on the name
	if !clockOK || schedule.Validate(timing, nil) != nil {
		d.summary.SetText("Fix the fields marked in red to see when this schedule runs.")
		d.nextRuns.SetText("")
		d.nextRuns.Hide()
		return
	}
	d.summary.SetText(schedule.Summary(s))
	now := d.now().In(d.loc)
	runs := schedule.NextN(s, now, d.loc, 3)
	texts := make([]string, len(runs))
	for i, r := range runs {
		texts[i] = schedule.DescribeNext(r, now)
	}
	d.nextRuns.SetText("Next runs: " + strings.Join(texts, "; ") + ".")
	d.nextRuns.Show()
}

func (d *ScheduleDialog) onOKTapped() {
	d.validate()
	if !d.valid {
		return
	}
	d.dlg.Hide()
	d.onOK(d.current)
}

// Summary is the dialog's summary line (for tests and screenshots).
func (d *ScheduleDialog) Summary() string { return d.summary.Text }

// NextRuns is the dialog's next-runs line.
func (d *ScheduleDialog) NextRuns() string { return d.nextRuns.Text }
