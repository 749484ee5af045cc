package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	"github.com/inventorybeacon/beacon/service"
)

// signInDialog is the waiting dialog of Generate...: the sign-in address
// with Copy, what happened to the browser, the time left, Cancel, and for
// the nativeclient redirect the field for the final address.
type signInDialog struct {
	ctl    *signInController
	req    signInRequest
	flow   *service.SignInFlow
	ctx    context.Context
	cancel context.CancelFunc
	done   bool // on the Fyne goroutine only
	// browserTold is set once the browser's start reached the status
	// line; pasteRejected counts pastes without a code.
	browserTold   bool
	pasteRejected int

	deadline time.Time
	url      *widget.Label
	copyURL  *dialogButton
	status   *widget.Label
	timeLeft *widget.Label
	paste    *dialogEntry
	pasteErr *widget.Label
	submit   *dialogButton
	cancelB  *dialogButton
	dlg      *dialog.CustomDialog
	keys     *dialogKeys // Esc cancels, Enter continues (issue 23 item 6)
}

func newSignInDialog(ctl *signInController, req signInRequest, flow *service.SignInFlow) *signInDialog {
	g := &signInDialog{ctl: ctl, req: req, flow: flow, keys: &dialogKeys{}}
	g.ctx, g.cancel = context.WithTimeout(context.Background(), ctl.timeout)
	g.deadline = ctl.now().Add(ctl.timeout)

	intro := widget.NewLabel("Sign in with a Microsoft 365 administrator account in your browser and click Accept. If no browser opened, copy this address into one:")
	intro.Wrapping = fyne.TextWrapWord
	g.url = widget.NewLabel(flow.AuthURL())
	g.url.Wrapping = fyne.TextWrapBreak
	g.url.Selectable = true
	g.url.TextStyle = fyne.TextStyle{Monospace: true}
	g.copyURL = newDialogButton(g.keys, "Copy address", func() {
		fyne.CurrentApp().Clipboard().SetContent(flow.AuthURL())
		g.status.SetText("Address copied: paste it into a browser's address bar.")
	})
	g.status = widget.NewLabel("Opening your browser...")
	g.status.Wrapping = fyne.TextWrapWord
	g.timeLeft = widget.NewLabel("")
	g.updateTimeLeft()

	items := []fyne.CanvasObject{intro, g.url, container.NewHBox(g.copyURL), g.status}
	if flow.NeedsPaste() {
		pasteHelp := widget.NewLabel("After Accept the browser shows a blank page. Copy its whole address from the address bar and paste it here:")
		pasteHelp.Wrapping = fyne.TextWrapWord
		g.paste = newDialogEntry(g.keys)
		g.paste.SetPlaceHolder("https://login.microsoftonline.com/common/oauth2/nativeclient?code=...")
		g.paste.OnSubmitted = func(string) { g.onSubmit() }
		g.pasteErr = widget.NewLabel("")
		g.pasteErr.Wrapping = fyne.TextWrapWord
		g.pasteErr.Importance = widget.DangerImportance
		g.pasteErr.Hide()
		g.submit = newDialogButton(g.keys, "Continue", g.onSubmit)
		g.submit.Importance = widget.HighImportance
		items = append(items, pasteHelp, g.paste, g.pasteErr)
	} else {
		wait := widget.NewLabel("Waiting for the browser to come back to Inventory Beacon...")
		wait.Wrapping = fyne.TextWrapWord
		items = append(items, wait)
	}
	items = append(items, g.timeLeft)
	g.cancelB = newDialogButton(g.keys, "Cancel", g.onCancel)
	buttons := []fyne.CanvasObject{g.cancelB}
	if g.submit != nil {
		buttons = append(buttons, g.submit)
	}
	g.dlg = dialog.NewCustomWithoutButtons("Sign in to Microsoft 365", container.NewVBox(items...), req.Parent)
	g.dlg.SetButtons(buttons)
	// Enter in the paste field is Continue (its OnSubmitted).
	g.keys.esc, g.keys.enter = []*dialogButton{g.cancelB}, []*dialogButton{g.submit}
	return g
}

func (g *signInDialog) start() {
	g.keys.show(g.dlg, g.req.Parent)
	w := float32(560)
	if cs := g.req.Parent.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	// A wrapped label's height depends on its width: size the width
	// first, then fit the height to the wrapped text.
	g.dlg.Resize(fyne.NewSize(w, 300))
	g.dlg.Resize(fyne.NewSize(w, g.dlg.MinSize().Height))
	go func() {
		err := g.ctl.svc.OpenBrowser(g.flow.AuthURL())
		doUI(func() {
			defer func() { g.browserTold = true }()
			if g.done {
				return
			}
			if err != nil {
				g.status.SetText("No browser could be opened here. Click Copy address and open it in a browser yourself.")
				g.status.Importance = widget.WarningImportance
				g.status.Refresh()
				return
			}
			g.status.SetText("Your browser should now show Microsoft's sign-in page.")
		})
	}()
	go g.countdown()
	if !g.flow.NeedsPaste() {
		go func() {
			res, err := g.flow.Wait(g.ctx)
			doUI(func() { g.finish(res, err) })
		}()
	} else {
		// The paste flow ends on Continue; the time-out still applies.
		go func() {
			<-g.ctx.Done()
			err := g.ctx.Err()
			doUI(func() {
				if errors.Is(err, context.DeadlineExceeded) {
					g.finish(nil, fmt.Errorf("%w: no address was pasted within %s; click Generate... to try again", service.ErrSignInTimedOut, g.ctl.timeout))
				}
			})
		}()
	}
}

func (g *signInDialog) countdown() {
	t := time.NewTicker(g.ctl.tick)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
			doUI(g.updateTimeLeft)
		}
	}
}

func (g *signInDialog) updateTimeLeft() {
	left := g.deadline.Sub(g.ctl.now()).Round(time.Second)
	if left < 0 {
		left = 0
	}
	g.timeLeft.SetText(fmt.Sprintf("Time left: %d:%02d", int(left.Minutes()), int(left.Seconds())%60))
}

func (g *signInDialog) onSubmit() {
	if g.done || g.paste == nil {
		return
	}
	text := g.paste.Text
	g.submit.Disable()
	g.pasteErr.Hide()
	go func() {
		res, err := g.flow.CompleteFromPaste(g.ctx, text)
		doUI(func() {
			if errors.Is(err, service.ErrNoCode) && !g.done {
				// Worth another try: the admin copied the wrong thing.
				g.pasteErr.SetText(err.Error())
				g.pasteErr.Show()
				g.submit.Enable()
				g.pasteRejected++
				return
			}
			g.finish(res, err)
		})
	}()
}

func (g *signInDialog) onCancel() {
	if g.done {
		return
	}
	g.finish(nil, service.ErrSignInCancelled)
}

// finish ends the sign-in once: closes the dialog and the listener, then
// hands over the token or has the controller explain the error.
func (g *signInDialog) finish(res *service.SignInResult, err error) {
	if g.done {
		return
	}
	g.done = true
	g.cancel()
	// Closing the listener may wait a moment for the browser's page to be
	// written; never on the Fyne goroutine.
	go g.flow.Close()
	g.dlg.Hide()
	if err == nil && res != nil && g.req.Done != nil {
		g.req.Done(res.RefreshToken(), res.Info)
	}
	g.ctl.finished(g.req, err)
}

// isCancel reports a sign-in cancelled by the administrator, here or in
// the browser.
func isCancel(err error) bool { return service.IsSignInCancelled(err) }

func isMicrosoftError(err error) bool { return service.IsAuthError(err) }
