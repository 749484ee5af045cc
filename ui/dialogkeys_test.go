package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

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

// Tab to a field below the visible part of the dialog scrolls it into
// view, and Shift+Tab back up scrolls up again.
func TestTabScrollsTheFieldIntoView(t *testing.T) {
	d, w := keyedDialog(t, fyne.NewSize(1024, 480), nil)
	c := w.Canvas()
	if !visibleIn(d.scroll, d.name) || visibleIn(d.scroll, d.redirectURI) {
		t.Fatal("the test needs a dialog that shows Name but not Redirect URI")
	}
	reached := false
	for i := 0; i < 40 && !reached; i++ {
		test.FocusNext(c)
		e, ok := c.Focused().(*dialogEntry)
		if !ok {
			continue
		}
		if !visibleIn(d.scroll, e) {
			t.Fatalf("Tab moved to a field out of view (step %d, offset %.0f)", i, d.scroll.Offset.Y)
		}
		reached = e == d.redirectURI
	}
	if !reached {
		t.Fatal("Tab never reached Redirect URI")
	}
	if d.scroll.Offset.Y == 0 {
		t.Fatal("the dialog did not scroll")
	}
	for i := 0; i < 40 && c.Focused() != d.name; i++ {
		test.FocusPrevious(c)
	}
	if c.Focused() != d.name || !visibleIn(d.scroll, d.name) {
		t.Fatalf("Shift+Tab back to Name left it out of view (offset %.0f)", d.scroll.Offset.Y)
	}
}

// The mouse wheel over a text field scrolls the dialog: Fyne's Entry
// takes the wheel event for its own (one-line) scroll and drops it.
func TestWheelOverAFieldScrollsTheDialog(t *testing.T) {
	d, w := keyedDialog(t, fyne.NewSize(windowWidth, windowHeight), nil)
	c := w.Canvas()
	drv := fyne.CurrentApp().Driver()
	for _, e := range []*dialogEntry{d.name, d.proxyPassword} {
		d.scroll.ScrollToTop()
		if !visibleIn(d.scroll, e) {
			t.Fatal("the field is not in view")
		}
		over := drv.AbsolutePositionForObject(e).Add(fyne.NewPos(20, e.Size().Height/2))
		test.Scroll(c, over, 0, -60)
		if d.scroll.Offset.Y <= 0 {
			t.Fatalf("the wheel over a field did not scroll the dialog (offset %.0f)", d.scroll.Offset.Y)
		}
	}
}
