package ui

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// dialogKeys gives a dialog the keyboard an administrator expects (issue
// 23 item 6): Esc presses its cancel or close button, Enter its default
// button, whatever has the focus; Tab to a widget outside the visible part
// of a scrolling dialog scrolls it into view, and the mouse wheel anywhere
// over the dialog scrolls it.
//
// Fyne's dialogs do none of this. A key reaches the window's OnTypedKey
// only while no widget has the focus, so the window asks the dialog on top
// (pressDialogKey); a focused widget takes the key itself, so a dialog is
// made of widgets that pass Esc and Enter on (dialogEntry, dialogButton,
// dialogSelect, dialogCheck, dialogRadio, dialogCheckGroup).
type dialogKeys struct {
	// esc and enter list the buttons each key may press: the first one
	// shown and enabled is pressed (a dialog whose buttons change with
	// its state, like the import's, lists them all).
	esc, enter []*dialogButton
	// dismiss is what Esc does when no button in esc can: closing a file
	// chooser, whose buttons are Fyne's own.
	dismiss func()
	// scroll is the dialog's scrolling content, if it scrolls.
	scroll *container.Scroll

	canvas fyne.Canvas
	// depth is how many overlays the canvas had once the dialog showed: a
	// dialog opened over this one (a file chooser) adds one, and the keys
	// are not this dialog's while it is open.
	depth int
}

// openDialogs are the dialogs shown with keys, newest last, per canvas.
// The window's key handler has only the canvas to go by.
var openDialogs = struct {
	sync.Mutex
	by map[fyne.Canvas][]*dialogKeys
}{by: map[fyne.Canvas][]*dialogKeys{}}

// show shows dlg over win and takes its keys until it closes. Call it
// instead of dlg.Show(), again each time the dialog is shown.
func (k *dialogKeys) show(dlg dialog.Dialog, win fyne.Window) {
	dlg.SetOnClosed(k.closed)
	before := len(win.Canvas().Overlays().List())
	dlg.Show()
	if len(win.Canvas().Overlays().List()) > before {
		k.opened(win.Canvas())
	} // else shown by the system (a native file chooser) or already open
}

// showFileDialog shows a file chooser over win that Esc closes.
func showFileDialog(fd *dialog.FileDialog, win fyne.Window) {
	k := &dialogKeys{dismiss: fd.Dismiss}
	k.show(fd, win)
}

// opened records that the dialog is now on top of c.
func (k *dialogKeys) opened(c fyne.Canvas) {
	k.closed() // shown again: once on the list
	k.canvas, k.depth = c, len(c.Overlays().List())
	openDialogs.Lock()
	openDialogs.by[c] = append(openDialogs.by[c], k)
	openDialogs.Unlock()
}

// closed takes the dialog off its canvas's list.
func (k *dialogKeys) closed() {
	if k.canvas == nil {
		return
	}
	openDialogs.Lock()
	defer openDialogs.Unlock()
	list := openDialogs.by[k.canvas]
	for i, o := range list {
		if o == k {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(openDialogs.by, k.canvas)
	} else {
		openDialogs.by[k.canvas] = list
	}
}

// onTop reports whether the dialog is the top overlay of its canvas.
func (k *dialogKeys) onTop() bool {
	if k.canvas == nil {
		return false
	}
	openDialogs.Lock()
	list := openDialogs.by[k.canvas]
	last := len(list) > 0 && list[len(list)-1] == k
	openDialogs.Unlock()
	return last && len(k.canvas.Overlays().List()) == k.depth
}

// press presses the button the key stands for and reports whether there
// was one.
func (k *dialogKeys) press(name fyne.KeyName) bool {
	var candidates []*dialogButton
	switch name {
	case fyne.KeyEscape:
		candidates = k.esc
	case fyne.KeyReturn, fyne.KeyEnter:
		candidates = k.enter
	default:
		return false
	}
	if !k.onTop() {
		return false
	}
	for _, b := range candidates {
		if b != nil && b.Visible() && !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
			return true
		}
	}
	if name == fyne.KeyEscape && k.dismiss != nil {
		k.dismiss()
		return true
	}
	return false
}

// pressDialogKey gives a key no widget took to the dialog on top of c, and
// reports whether it pressed a button.
func pressDialogKey(c fyne.Canvas, name fyne.KeyName) bool {
	openDialogs.Lock()
	list := openDialogs.by[c]
	var top *dialogKeys
	if len(list) > 0 {
		top = list[len(list)-1]
	}
	openDialogs.Unlock()
	return top != nil && top.press(name)
}

// reveal scrolls the dialog so that obj, which just took the focus, is
// fully visible: Fyne moves the focus with Tab without scrolling to it.
func (k *dialogKeys) reveal(obj fyne.CanvasObject) {
	if k.scroll == nil || k.scroll.Content == nil {
		return
	}
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(obj).Y - d.AbsolutePositionForObject(k.scroll.Content).Y
	bottom := top + obj.Size().Height
	off := k.scroll.Offset
	view := k.scroll.Size().Height
	switch {
	case top < off.Y:
		off.Y = top
	case bottom > off.Y+view:
		off.Y = bottom - view
	default:
		return
	}
	k.scroll.ScrollToOffset(off)
}

// wheelPass lies over the whole scrolling part of a dialog and hands
// every mouse wheel event over it to the dialog's scroll. Fyne gives a
// wheel event to the innermost scrollable object under the pointer, and
// an Entry holds a scroll of its own (for text wider than the field) that
// takes the event and does nothing with it, so the dialog stopped
// scrolling under the pointer (fyne-io/fyne#2592, still so in 2.7). Being
// drawn after the dialog's content, this is found last and wins; it takes
// no taps, hovers or keys, so those still reach the fields. No dialog
// holds a list or a multi-line field that would want the wheel itself.
type wheelPass struct {
	widget.BaseWidget
	scroll *container.Scroll
}

func (w *wheelPass) Scrolled(ev *fyne.ScrollEvent) { w.scroll.Scrolled(ev) }

func (w *wheelPass) MinSize() fyne.Size { return fyne.Size{} }

func (w *wheelPass) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewWithoutLayout())
}

// scrolling puts a dialog's content in a vertical scroll that Tab and the
// mouse wheel move as they should (see reveal and wheelPass). Every
// dialog that scrolls makes its scroll with it.
func (k *dialogKeys) scrolling(content fyne.CanvasObject) fyne.CanvasObject {
	k.scroll = container.NewVScroll(content)
	w := &wheelPass{scroll: k.scroll}
	w.ExtendBaseWidget(w)
	return container.NewStack(k.scroll, w)
}

// dialogEntry is a text field of a dialog with keys: Esc and (in a
// one-line field without a submit action of its own) Enter go to the
// dialog's buttons, and taking the focus scrolls it into view. A focused
// Entry gets every key itself and ignores Esc and Enter, so without this
// the keys did nothing while the cursor was in a field.
type dialogEntry struct {
	widget.Entry
	keys *dialogKeys
}

func newDialogEntry(keys *dialogKeys) *dialogEntry {
	e := &dialogEntry{keys: keys}
	e.ExtendBaseWidget(e)
	return e
}

// newDialogPasswordEntry is widget.NewPasswordEntry as a dialogEntry,
// with a show/hide icon drawn and behaving like Fyne's (whose own is not
// exported): not a button, so Tab does not stop on it.
func newDialogPasswordEntry(keys *dialogKeys) *dialogEntry {
	e := &dialogEntry{keys: keys}
	e.Password = true
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	r := &revealer{entry: e, icon: canvas.NewImageFromResource(theme.VisibilityOffIcon())}
	r.ExtendBaseWidget(r)
	e.ActionItem = r
	return e
}

// revealer is the eye at the end of a password field.
type revealer struct {
	widget.BaseWidget
	entry *dialogEntry
	icon  *canvas.Image
}

func (r *revealer) Cursor() desktop.Cursor { return desktop.DefaultCursor }

func (r *revealer) Tapped(*fyne.PointEvent) {
	if r.entry.Disabled() {
		return
	}
	r.entry.Password = !r.entry.Password
	r.entry.Refresh()
	r.Refresh()
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil {
		c.Focus(r.entry)
	}
}

func (r *revealer) CreateRenderer() fyne.WidgetRenderer {
	return &revealerRenderer{WidgetRenderer: widget.NewSimpleRenderer(r.icon), r: r}
}

type revealerRenderer struct {
	fyne.WidgetRenderer
	r *revealer
}

func (rr *revealerRenderer) Layout(size fyne.Size) {
	icon := theme.Size(theme.SizeNameInlineIcon)
	rr.r.icon.Resize(fyne.NewSquareSize(icon))
	rr.r.icon.Move(fyne.NewPos((size.Width-icon)/2, (size.Height-icon)/2))
}

func (rr *revealerRenderer) MinSize() fyne.Size {
	return fyne.NewSquareSize(theme.Size(theme.SizeNameInlineIcon) + 2*theme.Size(theme.SizeNameInnerPadding))
}

func (rr *revealerRenderer) Refresh() {
	res := theme.VisibilityOffIcon()
	if !rr.r.entry.Password {
		res = theme.VisibilityIcon()
	}
	if rr.r.entry.Disabled() {
		res = theme.NewDisabledResource(res)
	}
	rr.r.icon.Resource = res
	rr.r.icon.Refresh()
}

func (e *dialogEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if e.keys.press(ev.Name) {
			return
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if !e.MultiLine && e.OnSubmitted == nil && e.keys.press(ev.Name) {
			return
		}
	}
	e.Entry.TypedKey(ev)
}

func (e *dialogEntry) FocusGained() { e.keys.focusGained(e, e.Entry.FocusGained) }
