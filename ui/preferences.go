package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The appearance preference: follow the system's light/dark setting (the
// default), or force one.
const (
	prefAppearance   = "appearance"
	appearanceSystem = "System"
	appearanceLight  = "Light"
	appearanceDark   = "Dark"
)

// variantTheme is a theme with its light/dark variant fixed, whatever the
// system says: Fyne asks a theme for colours with the system's variant,
// so overriding Color is enough.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t *variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// initAppearance remembers the app's own theme (it follows the system) and
// applies the saved override, if any.
func (m *MainWindow) initAppearance() {
	base := m.app.Settings().Theme()
	if vt, ok := base.(*variantTheme); ok {
		base = vt.Theme
	}
	if base == nil {
		base = theme.DefaultTheme()
	}
	m.baseTheme = base
	if a := appearance(m.app); a != appearanceSystem {
		m.applyAppearance(a)
	}
}

func appearance(a fyne.App) string {
	switch v := a.Preferences().StringWithFallback(prefAppearance, appearanceSystem); v {
	case appearanceLight, appearanceDark:
		return v
	}
	return appearanceSystem
}

// applyAppearance sets the theme for choice at once.
func (m *MainWindow) applyAppearance(choice string) {
	t := m.baseTheme
	switch choice {
	case appearanceLight:
		t = &variantTheme{Theme: m.baseTheme, variant: theme.VariantLight}
	case appearanceDark:
		t = &variantTheme{Theme: m.baseTheme, variant: theme.VariantDark}
	}
	m.app.Settings().SetTheme(t)
}

// preferencesDialog is File → Preferences.
type preferencesDialog struct {
	appearance *dialogRadio
	keepInTray *dialogCheck
	closeB     *dialogButton
	retention  *retentionSection
	dlg        *dialog.CustomDialog
}

func (m *MainWindow) showPreferences() {
	p := &preferencesDialog{}
	keys := &dialogKeys{}
	p.appearance = newDialogRadio(keys, []string{appearanceSystem, appearanceLight, appearanceDark}, true, nil)
	p.appearance.SetSelected(appearance(m.app))
	p.appearance.OnChanged = func(choice string) {
		if choice == "" {
			return
		}
		m.app.Preferences().SetString(prefAppearance, choice)
		m.applyAppearance(choice)
	}
	p.keepInTray = newDialogCheck(keys, keepInTrayLabel, func(on bool) {
		m.app.Preferences().SetBool(prefKeepInTray, on)
		// The Scheduling page shows the same preference.
		if m.sched.page != nil {
			m.sched.page.keep.SetChecked(on)
		}
	})
	p.keepInTray.SetChecked(keepInTray(m.app))
	if m.tray == nil {
		p.keepInTray.Disable()
	}
	var retention fyne.CanvasObject
	p.retention, retention = m.newRetentionSection(keys)
	note := widget.NewLabel("System follows the light or dark setting of your desktop.")
	note.Importance = widget.LowImportance
	content := container.NewVBox(
		widget.NewLabelWithStyle("Appearance", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.appearance, note,
		widget.NewLabelWithStyle("System tray", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.keepInTray,
		retention,
	)
	p.dlg = dialog.NewCustomWithoutButtons("Preferences", content, m.win)
	// Our Close rather than Fyne's, which drops Esc and Enter while it
	// has the focus.
	p.closeB = newDialogButton(keys, "Close", p.dlg.Hide)
	p.dlg.SetButtons([]fyne.CanvasObject{p.closeB})
	keys.esc, keys.enter = []*dialogButton{p.closeB}, []*dialogButton{p.closeB}
	m.prefsDialog = p
	keys.show(p.dlg, m.win)
	// The licence history's help wraps: give it a readable width, then
	// the height it takes at that width.
	w := float32(560)
	if cs := m.win.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	p.retention.fit = func() { p.dlg.Resize(fyne.NewSize(w, p.dlg.MinSize().Height)) }
	p.dlg.Resize(fyne.NewSize(w, 1))
	p.retention.fit()
}

// showAbout is Help → About: the name and version from FyneApp.toml, and
// the licensing catalogue that names the products.
func (m *MainWindow) showAbout() {
	name, version := m.deps.AppName, m.deps.AppVersion
	meta := m.app.Metadata()
	if name == "" {
		name = meta.Name
	}
	if name == "" {
		name = windowTitle
	}
	if version == "" {
		version = meta.Version
	}
	if version == "" {
		version = "unknown"
	}
	m.prompt = showPrompt(m.win, "About "+name,
		fmt.Sprintf("%s\nVersion %s\n\nImports the users, licenses, applications and usage of Microsoft 365 tenants, "+
			"so you can compare the licenses you pay for with the ones that are used.\n\n%s", name, version, m.data.lic.sourceText()),
		promptButton{label: "OK", importance: widget.HighImportance})
}
