package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The widgets of a dialog with keys. The desktop driver gives a key to
// the focused widget alone, and Fyne's Button, Select, Check and radio
// items drop Esc and Enter, so once the administrator had tabbed to one
// (or clicked it) the keys did nothing (issue 23 item 6). Each of these
// passes them on to the dialog, and scrolls itself into view when it
// takes the focus.

// take gives a key that a focused widget has no use for to the dialog:
// Esc to its cancel button, Enter to its default one.
func (k *dialogKeys) take(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyEscape, fyne.KeyReturn, fyne.KeyEnter:
		return k.press(ev.Name)
	}
	return false
}

// typedKey is the TypedKey of a widget of a dialog with keys: the dialog
// takes Esc and Enter, the widget (own) the other keys.
func (k *dialogKeys) typedKey(ev *fyne.KeyEvent, own func(*fyne.KeyEvent)) {
	if !k.take(ev) {
		own(ev)
	}
}

// focusGained is the FocusGained of a widget of a dialog with keys: the
// widget's own (own), then the dialog scrolls it into view.
func (k *dialogKeys) focusGained(obj fyne.CanvasObject, own func()) {
	own()
	k.reveal(obj)
}

// dialogButton is a button of a dialog with keys: Enter presses it when it
// has the focus, as Space does, and Esc goes to the dialog.
type dialogButton struct {
	widget.Button
	keys *dialogKeys
}

func newDialogButton(keys *dialogKeys, label string, tapped func()) *dialogButton {
	return newDialogButtonWithIcon(keys, label, nil, tapped)
}

func newDialogButtonWithIcon(keys *dialogKeys, label string, icon fyne.Resource, tapped func()) *dialogButton {
	b := &dialogButton{keys: keys}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *dialogButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		b.Button.Tapped(nil)
		return
	case fyne.KeyEscape:
		if b.keys.take(ev) {
			return
		}
	}
	b.Button.TypedKey(ev)
}

func (b *dialogButton) FocusGained() { b.keys.focusGained(b, b.Button.FocusGained) }

// dialogSelect is a drop-down list of a dialog with keys. While its list
// is open the list has the focus, so Esc closes the list first.
type dialogSelect struct {
	widget.Select
	keys *dialogKeys
}

func newDialogSelect(keys *dialogKeys, options []string, changed func(string)) *dialogSelect {
	s := &dialogSelect{keys: keys}
	s.Options, s.OnChanged = options, changed
	s.PlaceHolder = "(Select one)" // Fyne's own, which NewSelect sets
	s.ExtendBaseWidget(s)
	return s
}

func (s *dialogSelect) TypedKey(ev *fyne.KeyEvent) { s.keys.typedKey(ev, s.Select.TypedKey) }
func (s *dialogSelect) FocusGained()               { s.keys.focusGained(s, s.Select.FocusGained) }

// dialogCheck is a check box of a dialog with keys, and each choice of a
// dialogRadio or dialogCheckGroup.
type dialogCheck struct {
	widget.Check
	keys *dialogKeys
}

func newDialogCheck(keys *dialogKeys, label string, changed func(bool)) *dialogCheck {
	c := &dialogCheck{keys: keys}
	c.Text, c.OnChanged = label, changed
	c.ExtendBaseWidget(c)
	return c
}

func (c *dialogCheck) TypedKey(ev *fyne.KeyEvent) { c.keys.typedKey(ev, c.Check.TypedKey) }
func (c *dialogCheck) FocusGained()               { c.keys.focusGained(c, c.Check.FocusGained) }

// setQuietly sets the box without calling OnChanged: a group keeping its
// choices in step.
func (c *dialogCheck) setQuietly(on bool) {
	if c.Checked != on {
		c.Checked = on
		c.Refresh()
	}
}

// choiceBox lays out the choices of a group in a row or a column.
func choiceBox(horizontal bool, items []*dialogCheck) *fyne.Container {
	objs := make([]fyne.CanvasObject, len(items))
	for i, it := range items {
		objs[i] = it
	}
	if horizontal {
		return container.NewHBox(objs...)
	}
	return container.NewVBox(objs...)
}

// dialogRadio is a radio group of a dialog with keys, one choice always
// chosen (Fyne's RadioGroup with Required set). Fyne's radio items are
// its own unexported widgets, so the choices are dialogChecks drawn with
// the radio icons.
type dialogRadio struct {
	widget.BaseWidget
	Options   []string
	Selected  string
	OnChanged func(string)
	items     []*dialogCheck
	content   fyne.CanvasObject
}

func newDialogRadio(keys *dialogKeys, options []string, horizontal bool, changed func(string)) *dialogRadio {
	r := &dialogRadio{Options: options, OnChanged: changed}
	for _, o := range options {
		o := o
		var it *dialogCheck
		it = newDialogCheck(keys, o, func(on bool) {
			if on {
				r.SetSelected(o)
			} else {
				it.setQuietly(true) // a chosen choice stays chosen
			}
		})
		r.items = append(r.items, it)
	}
	r.content = container.NewThemeOverride(choiceBox(horizontal, r.items), radioIcons{})
	r.ExtendBaseWidget(r)
	return r
}

// SetSelected chooses option, as RadioGroup.SetSelected does.
func (r *dialogRadio) SetSelected(option string) {
	if option == r.Selected {
		return
	}
	r.Selected = option
	for _, it := range r.items {
		it.setQuietly(it.Text == option)
	}
	if r.OnChanged != nil {
		r.OnChanged(option)
	}
}

func (r *dialogRadio) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.content)
}

// radioIcons is the app's theme with a check box's icons swapped for a
// radio button's.
type radioIcons struct{}

func (radioIcons) current() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t radioIcons) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.current().Color(n, v)
}
func (t radioIcons) Font(s fyne.TextStyle) fyne.Resource { return t.current().Font(s) }
func (t radioIcons) Size(n fyne.ThemeSizeName) float32   { return t.current().Size(n) }

func (t radioIcons) Icon(n fyne.ThemeIconName) fyne.Resource {
	switch n {
	case theme.IconNameCheckButton:
		n = theme.IconNameRadioButton
	case theme.IconNameCheckButtonChecked:
		n = theme.IconNameRadioButtonChecked
	case theme.IconNameCheckButtonFill:
		n = theme.IconNameRadioButtonFill
	}
	return t.current().Icon(n)
}

// dialogCheckGroup is a CheckGroup of a dialog with keys: Fyne's makes
// its own check boxes.
type dialogCheckGroup struct {
	widget.BaseWidget
	Options   []string
	Selected  []string
	OnChanged func([]string)
	items     []*dialogCheck
	content   fyne.CanvasObject
}

func newDialogCheckGroup(keys *dialogKeys, options []string, horizontal bool, changed func([]string)) *dialogCheckGroup {
	g := &dialogCheckGroup{Options: options, OnChanged: changed}
	for _, o := range options {
		g.items = append(g.items, newDialogCheck(keys, o, func(bool) { g.changed() }))
	}
	g.content = choiceBox(horizontal, g.items)
	g.ExtendBaseWidget(g)
	return g
}

// changed takes the boxes' state after one was ticked or cleared.
func (g *dialogCheckGroup) changed() {
	g.Selected = nil
	for _, it := range g.items {
		if it.Checked {
			g.Selected = append(g.Selected, it.Text)
		}
	}
	if g.OnChanged != nil {
		g.OnChanged(g.Selected)
	}
}

// SetSelected ticks the boxes of options, as CheckGroup.SetSelected does.
func (g *dialogCheckGroup) SetSelected(options []string) {
	for _, it := range g.items {
		on := false
		for _, o := range options {
			on = on || o == it.Text
		}
		it.setQuietly(on)
	}
	g.changed()
}

func (g *dialogCheckGroup) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(g.content)
}

// Disable greys out every choice (a setting that cannot be changed now).
func (r *dialogRadio) Disable() {
	for _, it := range r.items {
		it.Disable()
	}
}
