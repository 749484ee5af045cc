package ui

import (
	"fyne.io/fyne/v2"
)

// Preferences that bring the window back as it was left.
const (
	prefWindowWidth  = "window.width"
	prefWindowHeight = "window.height"
	prefLastPage     = "window.lastPage"
)

// restoredSize is the window size of the last run, never smaller than the
// size the product is laid out for and never larger than the screen (a
// size saved on a bigger monitor must not open off-screen).
func (m *MainWindow) restoredSize() fyne.Size {
	p := m.app.Preferences()
	want := fyne.NewSize(
		float32(p.FloatWithFallback(prefWindowWidth, windowWidth)),
		float32(p.FloatWithFallback(prefWindowHeight, windowHeight)))
	var screen fyne.Size
	if m.deps.ScreenSize != nil {
		screen = m.deps.ScreenSize()
	}
	return clampWindowSize(want, screen)
}

// clampWindowSize keeps size between the default window size and screen
// (zero: unknown). On a screen smaller than the default, the screen wins.
func clampWindowSize(size, screen fyne.Size) fyne.Size {
	size = size.Max(fyne.NewSize(windowWidth, windowHeight))
	if screen.Width > 0 && screen.Height > 0 {
		size = size.Min(screen)
	}
	return size
}

// rememberWindow records the window size for the next start. The last
// page is recorded as it is shown (showPage).
func (m *MainWindow) rememberWindow() {
	size := m.win.Canvas().Size()
	if size.Width <= 0 || size.Height <= 0 {
		return // not laid out (hidden window): keep what was saved
	}
	p := m.app.Preferences()
	p.SetFloat(prefWindowWidth, float64(size.Width))
	p.SetFloat(prefWindowHeight, float64(size.Height))
}

// exit records the window's state and ends the program.
func (m *MainWindow) exit() {
	m.rememberWindow()
	m.quit()
}

// restoreLastPage shows the page the administrator last looked at. With
// no connection the window stays on Inventory Systems, where the welcome
// panel is.
func (m *MainWindow) restoreLastPage(name string) {
	if m.startup != nil || m.nav == nil || len(m.cfg.Connections) == 0 || name == "" || name == m.pageName {
		return
	}
	for _, g := range navGroups {
		for _, page := range g.pages {
			if page == name {
				m.nav.Select(name)
				return
			}
		}
	}
}
