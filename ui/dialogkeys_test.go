package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// pressKey delivers a key as the desktop driver does: to the focused
// widget if there is one, else to the window's key handler.
func pressKey(c fyne.Canvas, name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

// keyedDialog is testDialog over a window that hands unclaimed keys to
// the dialog on top, as MainWindow's onTypedKey does.
func keyedDialog(t *testing.T, size fyne.Size, onOK func(storage.Connection, []storage.SecretChange)) (*ConnectionDialog, fyne.Window) {
	t.Helper()
	d, w := testDialog(t, connector.NewConnection(), true, nil, nil, onOK)
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) { pressDialogKey(w.Canvas(), ev.Name) })
	w.Resize(size)
	d.Hide()
	d.Show()
	return d, w
}

// Issue 23 item 6: Esc cancels the connection dialog and Enter is OK,
// whether the cursor is in a field or nothing has the focus.
func TestConnectionDialogEscAndEnter(t *testing.T) {
	saved := 0
	d, w := keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), func(storage.Connection, []storage.SecretChange) { saved++ })
	c := w.Canvas()
	if c.Focused() != d.name {
		t.Fatalf("a new connection's dialog opens with the cursor in Name, not %T", c.Focused())
	}
	// Enter on an invalid form presses nothing: OK is disabled.
	pressKey(c, fyne.KeyReturn)
	if saved != 0 || c.Overlays().Top() == nil {
		t.Fatal("Enter saved an invalid connection or closed the dialog")
	}
	test.Type(d.name, "Contoso")
	pressKey(c, fyne.KeyReturn)
	if saved != 1 {
		t.Fatalf("Enter in Name did not press OK (saved %d times)", saved)
	}

	// Esc in a field cancels.
	d, w = keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), func(storage.Connection, []storage.SecretChange) { saved++ })
	c = w.Canvas()
	test.Type(d.name, "Fabrikam")
	pressKey(c, fyne.KeyEscape)
	if c.Overlays().Top() != nil || saved != 1 {
		t.Fatal("Esc in a field did not cancel the dialog")
	}
	if pressDialogKey(c, fyne.KeyEscape) {
		t.Error("a closed dialog still took Esc")
	}

	// Esc with nothing focused cancels too.
	_, w = keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), nil)
	c = w.Canvas()
	c.Unfocus()
	pressKey(c, fyne.KeyEscape)
	if c.Overlays().Top() != nil {
		t.Fatal("Esc did not cancel the dialog")
	}
}

// visibleIn reports whether obj lies wholly inside the scroll's view.
func visibleIn(s interface {
	fyne.CanvasObject
}, obj fyne.CanvasObject) bool {
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(obj).Y - d.AbsolutePositionForObject(s).Y
	return top >= 0 && top+obj.Size().Height <= s.Size().Height+0.5
}

// Tab to a widget below the visible part of the dialog scrolls it into
// view, whatever the widget (a field, a drop-down list, a check box, a
// radio button, a button), and Shift+Tab back up scrolls up again.
func TestTabScrollsTheFieldIntoView(t *testing.T) {
	d, w := keyedDialog(t, fyne.NewSize(1024, 480), nil)
	c := w.Canvas()
	if !visibleIn(d.scroll, d.name) || visibleIn(d.scroll, d.redirectURI) {
		t.Fatal("the test needs a dialog that shows Name but not Redirect URI")
	}
	kinds := map[string]bool{}
	reached := false
	for i := 0; i < 60 && !reached; i++ {
		test.FocusNext(c)
		f := c.Focused()
		obj, ok := f.(fyne.CanvasObject)
		if !ok || !inDialogScroll(d, obj) {
			continue
		}
		if !visibleIn(d.scroll, obj) {
			t.Fatalf("Tab moved to a %T out of view (step %d, offset %.0f)", f, i, d.scroll.Offset.Y)
		}
		kinds[fmt.Sprintf("%T", f)] = true
		reached = f == d.prompt
	}
	if !reached {
		t.Fatal("Tab never reached Prompt, the last field")
	}
	for _, k := range []string{"*ui.dialogEntry", "*ui.dialogSelect", "*ui.dialogCheck", "*ui.dialogButton"} {
		if !kinds[k] {
			t.Errorf("Tab never stopped on a %s (stopped on %v)", k, kinds)
		}
	}
	if d.scroll.Offset.Y == 0 {
		t.Fatal("the dialog did not scroll")
	}
	for i := 0; i < 60 && c.Focused() != d.name; i++ {
		test.FocusPrevious(c)
		if obj, ok := c.Focused().(fyne.CanvasObject); ok && inDialogScroll(d, obj) && !visibleIn(d.scroll, obj) {
			t.Fatalf("Shift+Tab moved to a %T out of view (offset %.0f)", obj, d.scroll.Offset.Y)
		}
	}
	if c.Focused() != d.name || !visibleIn(d.scroll, d.name) {
		t.Fatalf("Shift+Tab back to Name left it out of view (offset %.0f)", d.scroll.Offset.Y)
	}
}

// inDialogScroll reports whether obj is in the scrolling part of the
// connection dialog: its buttons at the bottom are the only widgets that
// are not.
func inDialogScroll(d *ConnectionDialog, obj fyne.CanvasObject) bool {
	return obj != d.ok && obj != d.cancel
}

// The mouse wheel anywhere over a scrolling dialog scrolls it: Fyne's
// Entry takes the wheel event for its own (one-line) scroll and drops it.
// Tried over every widget of the connection dialog in view at the top.
func TestWheelOverAFieldScrollsTheDialog(t *testing.T) {
	d, w := keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), nil)
	c := w.Canvas()
	drv := fyne.CurrentApp().Driver()
	tried := 0
	for _, f := range focusStops(c) {
		o := f.(fyne.CanvasObject)
		d.scroll.ScrollToTop()
		if !inDialogScroll(d, o) || !visibleIn(d.scroll, o) {
			continue
		}
		over := drv.AbsolutePositionForObject(o).Add(fyne.NewPos(5, o.Size().Height/2))
		test.Scroll(c, over, 0, -60)
		if d.scroll.Offset.Y <= 0 {
			t.Errorf("the wheel over a %T did not scroll the dialog", o)
		}
		tried++
	}
	if tried < 5 {
		t.Fatalf("only %d widgets tried", tried)
	}
}

// A dialog that scrolls through keys.scrolling needs nothing of its
// fields for the wheel: here Fyne's own Entry and Select.
func TestWheelScrollsAnyScrollingDialog(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(600, 400))
	keys := &dialogKeys{}
	box := container.NewVBox()
	var fields []fyne.CanvasObject
	for i := 0; i < 20; i++ {
		var f fyne.CanvasObject = widget.NewEntry()
		if i%2 == 1 {
			f = widget.NewSelect([]string{"a", "b"}, nil)
		}
		fields = append(fields, f)
		box.Add(f)
	}
	dlg := dialog.NewCustomWithoutButtons("Many fields", keys.scrolling(box), w)
	keys.show(dlg, w)
	dlg.Resize(fyne.NewSize(400, 300))
	drv := fyne.CurrentApp().Driver()
	for _, f := range fields[:2] {
		keys.scroll.ScrollToTop()
		over := drv.AbsolutePositionForObject(f).Add(fyne.NewPos(20, f.Size().Height/2))
		test.Scroll(w.Canvas(), over, 0, -60)
		if keys.scroll.Offset.Y <= 0 {
			t.Errorf("the wheel over a %T did not scroll the dialog", f)
		}
	}
}

// focusStops are the widgets Tab stops on in the dialog on top of c, in
// order, starting with the one focused now.
func focusStops(c fyne.Canvas) []fyne.Focusable {
	first := c.Focused()
	stops := []fyne.Focusable{first}
	for i := 0; i < 100; i++ {
		test.FocusNext(c)
		if c.Focused() == first {
			return stops
		}
		stops = append(stops, c.Focused())
	}
	return stops
}

// Issue 23 item 6: Esc cancels and Enter presses OK whatever widget of the
// connection dialog has the focus: a field, a drop-down list, a check
// box, a radio button; Enter on a button presses that button.
func TestEscAndEnterWhateverHasTheFocus(t *testing.T) {
	saved := 0
	d, w := keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), func(storage.Connection, []storage.SecretChange) { saved++ })
	c := w.Canvas()
	test.Type(d.name, "Contoso")
	stops := focusStops(c)
	if len(stops) < 10 {
		t.Fatalf("Tab stops on %d widgets only", len(stops))
	}
	kinds := map[string]bool{}
	for i, stop := range stops {
		kind := fmt.Sprintf("%T", stop)
		kinds[kind] = true
		// Esc cancels.
		d.Show()
		c.Focus(stop)
		pressKey(c, fyne.KeyEscape)
		if c.Overlays().Top() != nil || saved != 0 {
			t.Fatalf("Esc on stop %d (%s) did not cancel the dialog", i, kind)
		}
		if _, button := stop.(*dialogButton); button {
			continue
		}
		// Enter is OK.
		d.Show()
		c.Focus(stop)
		pressKey(c, fyne.KeyReturn)
		if saved != 1 || c.Overlays().Top() != nil {
			t.Fatalf("Enter on stop %d (%s) did not press OK", i, kind)
		}
		saved = 0
	}
	for _, k := range []string{"*ui.dialogEntry", "*ui.dialogSelect", "*ui.dialogCheck", "*ui.dialogButton"} {
		if !kinds[k] {
			t.Errorf("Tab never stopped on a %s (stopped on %v)", k, kinds)
		}
	}

	// Enter on a focused button presses that button: Cancel cancels, and
	// Space does the same as Enter.
	d.Show()
	c.Focus(d.cancel)
	pressKey(c, fyne.KeyReturn)
	if c.Overlays().Top() != nil || saved != 0 {
		t.Fatal("Enter on Cancel did not cancel")
	}
	d.Show()
	c.Focus(d.ok)
	pressKey(c, fyne.KeySpace)
	if saved != 1 {
		t.Fatal("Space on OK did not press it")
	}
}

// Esc on a drop-down list whose list is open closes the list, and only
// the next Esc the dialog.
func TestEscClosesAnOpenListFirst(t *testing.T) {
	d, w := keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), nil)
	c := w.Canvas()
	dialogLayer := c.Overlays().Top()
	c.Focus(d.cloud)
	pressKey(c, fyne.KeySpace)
	if c.Overlays().Top() == dialogLayer {
		t.Fatal("Space did not open the list")
	}
	pressKey(c, fyne.KeyEscape)
	if c.Overlays().Top() != dialogLayer {
		t.Fatal("Esc did not close the open list, or closed the dialog with it")
	}
	if c.Focused() != d.cloud {
		t.Fatalf("the focus went to %T, not back to the list", c.Focused())
	}
	pressKey(c, fyne.KeyEscape)
	if c.Overlays().Top() != nil {
		t.Fatal("the second Esc did not cancel the dialog")
	}
}

// The schedule dialog: Esc and Enter on its radio buttons and weekday
// boxes; the radio buttons choose one frequency, by mouse or Space.
func TestScheduleDialogKeys(t *testing.T) {
	loc := berlin(t)
	now := func() time.Time { return time.Date(2026, 11, 25, 20, 0, 0, 0, loc) }
	open := func(onOK func(storage.Schedule)) (*ScheduleDialog, fyne.Canvas) {
		test.NewTempApp(t)
		w := test.NewTempWindow(t, widget.NewLabel(""))
		w.Resize(fyne.NewSize(windowWidth, windowHeight))
		w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) { pressDialogKey(w.Canvas(), ev.Name) })
		nightly := storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Weekly, Hour: 2, Weekdays: []time.Weekday{time.Monday}}
		d := newScheduleDialog(w, nightly, false, []storage.Schedule{nightly}, now, loc, onOK)
		d.Show()
		return d, w.Canvas()
	}
	var got []storage.Schedule
	onOK := func(s storage.Schedule) { got = append(got, s) }

	d, c := open(onOK)
	c.Focus(d.kind.items[0])
	pressKey(c, fyne.KeyEscape)
	if c.Overlays().Top() != nil || len(got) != 0 {
		t.Fatal("Esc on a radio button did not cancel")
	}
	d, c = open(onOK)
	c.Focus(d.weekdays.items[2])
	pressKey(c, fyne.KeyReturn)
	if len(got) != 1 || got[0].Kind != storage.Weekly || c.Overlays().Top() != nil {
		t.Fatalf("Enter on a weekday box did not press OK (%v)", got)
	}

	// Space on a radio button chooses it, and only it; a click on the
	// chosen one keeps it chosen; Tab reaches every radio button.
	d, c = open(onOK)
	changes := 0
	d.kind.OnChanged = func(s string) { changes++; d.onKindChanged(s) }
	hourly := d.kind.items[1]
	c.Focus(hourly)
	hourly.TypedRune(' ')
	if d.kind.Selected != "Hourly" || changes != 1 || !d.pastHourRow.Visible() {
		t.Fatalf("Space chose %q (%d changes)", d.kind.Selected, changes)
	}
	for _, it := range d.kind.items {
		if it.Checked != (it.Text == "Hourly") {
			t.Errorf("%s shown chosen: %v", it.Text, it.Checked)
		}
	}
	test.Tap(hourly)
	if d.kind.Selected != "Hourly" || !hourly.Checked || changes != 1 {
		t.Fatalf("a click on the chosen button changed the choice to %q", d.kind.Selected)
	}
	// Monday cleared, back to Weekly with no day: the working week, whose
	// Friday a click clears.
	test.Tap(d.weekdays.items[0])
	d.kind.SetSelected("Weekly")
	test.Tap(d.weekdays.items[4])
	if want := []string{"Mon", "Tue", "Wed", "Thu"}; fmt.Sprint(d.weekdays.Selected) != fmt.Sprint(want) {
		t.Errorf("weekdays %v, want %v", d.weekdays.Selected, want)
	}
	c.Focus(d.name)
	stops := focusStops(c)
	radios := 0
	for _, s := range stops {
		for _, it := range d.kind.items {
			if s == it {
				radios++
			}
		}
	}
	if radios != len(scheduleKinds) {
		t.Errorf("Tab stops on %d of the %d radio buttons", radios, len(scheduleKinds))
	}
}

// Preferences: Esc closes it from its radio buttons and its check box.
func TestPreferencesEsc(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	m := NewMainWindow(a, Deps{Repo: testRepo(t)})
	t.Cleanup(m.win.Close)
	c := m.win.Canvas()
	for _, focus := range []func(p *preferencesDialog) fyne.Focusable{
		func(p *preferencesDialog) fyne.Focusable { return p.appearance.items[1] },
		func(p *preferencesDialog) fyne.Focusable { return p.keepInTray },
		func(p *preferencesDialog) fyne.Focusable { return p.closeB },
	} {
		m.menu.preferences.Action()
		f := focus(m.prefsDialog)
		c.Focus(f)
		pressKey(c, fyne.KeyEscape)
		if c.Overlays().Top() != nil {
			t.Fatalf("Esc on %T did not close Preferences", f)
		}
	}
}
