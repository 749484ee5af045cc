package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// prompt is a small message dialog whose buttons are ours, so each button
// can say what it does ("Delete", "Exit without saving") instead of Yes/No,
// and tests can find and tap them.
type prompt struct {
	title   string
	message *widget.Label
	buttons map[string]*dialogButton
	dlg     *dialog.CustomDialog
	// open is true from Show until the prompt closes.
	open bool
	// cancel and accept are the buttons Esc and Enter press (nil: none):
	// Esc the Cancel (or Close, or only) button, Enter the default
	// (high-importance, or only) button (issue 23 item 6).
	cancel, accept *dialogButton
	keys           *dialogKeys
}

// promptButton is one button of a prompt; action may be nil (just close).
type promptButton struct {
	label      string
	importance widget.Importance
	action     func()
}

// showPrompt shows a modal message over parent. Every button closes the
// prompt before running its action, so an action may open another dialog.
func showPrompt(parent fyne.Window, title, message string, buttons ...promptButton) *prompt {
	return showPromptWidth(parent, 480, title, message, buttons...)
}

// showPromptWidth is showPrompt for a message that reads better wider
// (lists of long names), up to the window's width.
func showPromptWidth(parent fyne.Window, width float32, title, message string, buttons ...promptButton) *prompt {
	p := &prompt{title: title, buttons: map[string]*dialogButton{}, keys: &dialogKeys{}}
	p.message = widget.NewLabel(message)
	p.message.Wrapping = fyne.TextWrapWord
	p.dlg = dialog.NewCustomWithoutButtons(title, p.message, parent)
	var objs []fyne.CanvasObject
	for _, b := range buttons {
		b := b
		btn := newDialogButton(p.keys, b.label, func() {
			p.dlg.Hide()
			if b.action != nil {
				b.action()
			}
		})
		btn.Importance = b.importance
		p.buttons[b.label] = btn
		objs = append(objs, btn)
		if b.label == "Cancel" || b.label == "Close" {
			p.cancel = btn
		}
		// A high-importance Close (a row's details) is the default too.
		if b.importance == widget.HighImportance {
			p.accept = btn
		}
	}
	if len(objs) == 1 {
		// One button: both keys press it (an information message).
		p.cancel, p.accept = objs[0].(*dialogButton), objs[0].(*dialogButton)
	}
	p.dlg.SetButtons(objs)
	p.keys.esc, p.keys.enter = []*dialogButton{p.cancel}, []*dialogButton{p.accept}
	p.dlg.SetOnClosed(func() {
		p.open = false
		p.keys.closed()
	})
	p.open = true
	p.dlg.Show()
	p.keys.opened(parent.Canvas())
	// A wrapped label asks for little width and much height until it is
	// laid out; give the message a readable width first, then take the
	// height it needs at that width.
	w := width
	if cs := parent.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	p.dlg.Resize(fyne.NewSize(w, 1))
	p.message.Resize(fyne.NewSize(w-4*theme.Padding(), p.message.MinSize().Height))
	p.dlg.Resize(fyne.NewSize(w, p.dlg.MinSize().Height))
	return p
}

// notAvailable says plainly that a feature is not in this build yet.
func notAvailable(parent fyne.Window, feature string) *prompt {
	return showPrompt(parent, "Not available yet",
		feature+" is not available in this version of Inventory Beacon yet.",
		promptButton{label: "OK", importance: widget.HighImportance})
}

// screen is the window the controllers show their dialogs over, with the
// last question asked in it, which the keyboard answers (Esc, Enter).
type screen struct {
	win    fyne.Window
	prompt *prompt
}

// ask shows a question or a message over the window.
func (s *screen) ask(title, message string, buttons ...promptButton) *prompt {
	s.prompt = showPrompt(s.win, title, message, buttons...)
	return s.prompt
}
