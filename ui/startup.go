package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/storage"
)

// startupErrorPage replaces the window's content when the configuration
// cannot be loaded. The file is never overwritten behind the
// administrator's back: they choose to set it aside, retry or exit.
type startupErrorPage struct {
	message  *widget.Label
	setAside *widget.Button
	retry    *widget.Button
	exit     *widget.Button
}

func (m *MainWindow) showStartupError(err error) {
	p := &startupErrorPage{}
	m.startup = p
	var damaged *storage.DamagedConfigError
	var newer *storage.NewerConfigError
	canSetAside := false
	var text string
	switch {
	case errors.As(err, &damaged):
		canSetAside = true
		text = fmt.Sprintf("The configuration file %s cannot be read: %v.\n\n"+
			"Inventory Beacon has not changed it. Repair the file or restore it from a backup and start Inventory Beacon again, "+
			"or set it aside: it is renamed, not deleted, and you start with no connections.", damaged.Path, damaged.Err)
	case errors.As(err, &newer):
		canSetAside = true
		text = fmt.Sprintf("The configuration file %s was written by a newer version of Inventory Beacon "+
			"(file version %d; this version reads up to version %d).\n\n"+
			"Inventory Beacon has not changed it. Install the newer version, or set the file aside: "+
			"it is renamed, not deleted, and you start with no connections.", newer.Path, newer.Version, storage.ConfigVersion)
	default:
		text = fmt.Sprintf("The configuration cannot be opened: %v.\n\nFix the problem (for example the folder's permissions) and click Try again.", err)
	}
	p.message = widget.NewLabel(text)
	p.message.Wrapping = fyne.TextWrapWord
	p.exit = widget.NewButtonWithIcon("Exit", theme.LogoutIcon(), func() { m.exit() })
	var buttons []fyne.CanvasObject
	if canSetAside {
		p.setAside = widget.NewButton("Set aside and start fresh", func() { m.setAside() })
		p.setAside.Importance = widget.HighImportance
		buttons = append(buttons, p.setAside)
	} else {
		p.retry = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), m.load)
		p.retry.Importance = widget.HighImportance
		buttons = append(buttons, p.retry)
	}
	buttons = append(buttons, p.exit)
	title := widget.NewLabelWithStyle("The configuration cannot be opened", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.win.SetContent(container.NewPadded(container.NewVBox(
		container.NewHBox(widget.NewIcon(theme.ErrorIcon()), title),
		p.message,
		container.NewHBox(buttons...),
	)))
	// Without a loaded configuration there is nothing to save.
	m.dirty = false
}

func (m *MainWindow) setAside() {
	path, err := m.deps.Repo.Config.SetAside()
	if err != nil {
		m.prompt = showPrompt(m.win, "Could not set the file aside",
			fmt.Sprintf("The configuration file could not be renamed: %v.\n\nCheck that you may write to the folder %s, then try again.",
				err, m.deps.Repo.Config.Dir()),
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	m.load()
	if m.startup == nil {
		m.prompt = showPrompt(m.win, "Configuration set aside",
			fmt.Sprintf("The old configuration file was renamed to %s; nothing was deleted. You start with no connections.", path),
			promptButton{label: "OK", importance: widget.HighImportance})
	}
}
