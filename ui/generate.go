package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/storage"
)

// GenerateOptions configure the Generate... dialogs.
type GenerateOptions struct {
	// Secrets gives the saved proxy password when the dialog has none
	// typed. May be nil when no proxy password is ever saved.
	Secrets storage.Secrets
	// Timeout is how long the sign-in waits; zero means auth.DefaultTimeout.
	Timeout time.Duration
	// OpenBrowser starts the browser; nil means auth.OpenBrowser.
	OpenBrowser func(url string) error
	// Logger gets progress, never tokens; nil discards.
	Logger *slog.Logger
	// Now is the countdown's clock; nil means time.Now.
	Now func() time.Time
	// Tick is how often the countdown updates; zero means one second.
	Tick time.Duration
	// Shown, if set, is called on the Fyne goroutine with each waiting
	// dialog as it appears, and Finished when the sign-in ends (err nil on
	// success). Tests use them to synchronise without sleeping.
	Shown      func(*GenerateDialog)
	ErrorShown func(*GenerateErrorDialog)
	Finished   func(error)
}

// NewGenerate returns the Deps.Generate hook: it runs the sign-in of the
// connection as typed in the dialog, shows the waiting dialog, and on
// success hands the refresh token to req.Done (which keeps it pending until
// Save commits it to the keyring with the configuration).
func NewGenerate(opts GenerateOptions) func(req GenerateRequest) {
	if opts.Timeout <= 0 {
		opts.Timeout = auth.DefaultTimeout
	}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = auth.OpenBrowser
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	return func(req GenerateRequest) { startGenerate(opts, req) }
}

// uiMu serialises the sign-in's updates of its widgets. The real driver
// runs every fyne.Do on the main goroutine anyway; Fyne's test driver runs
// them on the caller's goroutine, where two background results arriving at
// once would otherwise race.
var uiMu sync.Mutex

func doUI(f func()) {
	fyne.Do(func() {
		uiMu.Lock()
		defer uiMu.Unlock()
		f()
	})
}

// GenerateDialog is the waiting dialog of Generate...: the sign-in address
// with Copy, what happened to the browser, the time left, Cancel, and for
// the nativeclient redirect the field for the final address.
type GenerateDialog struct {
	opts   GenerateOptions
	req    GenerateRequest
	flow   *auth.Flow
	ctx    context.Context
	cancel context.CancelFunc
	done   bool // on the Fyne goroutine only
	// events reports "browser" (status updated) and "paste-rejected" to
	// tests, which must not read widgets from their own goroutine.
	events chan string

	deadline time.Time
	url      *widget.Label
	copyURL  *widget.Button
	status   *widget.Label
	timeLeft *widget.Label
	paste    *widget.Entry
	pasteErr *widget.Label
	submit   *widget.Button
	cancelB  *widget.Button
	dlg      *dialog.CustomDialog
}

func startGenerate(opts GenerateOptions, req GenerateRequest) {
	// Reading the saved proxy password and binding the port may block
	// (keyring prompt); keep the Fyne goroutine free.
	go func() {
		flow, err := prepareFlow(opts, req)
		doUI(func() {
			if err != nil {
				showGenerateError(opts, req.Parent, req.Connection, err)
				if opts.Finished != nil {
					opts.Finished(err)
				}
				return
			}
			g := newGenerateDialog(opts, req, flow)
			g.start()
		})
	}()
}

func prepareFlow(opts GenerateOptions, req GenerateRequest) (*auth.Flow, error) {
	conn := req.Connection
	client, err := service.HTTPClient(conn, opts.Secrets, req.ProxyPassword)
	if err != nil {
		return nil, err
	}
	return auth.Start(conn, auth.FlowOptions{HTTPClient: client, Logger: opts.Logger})
}

func newGenerateDialog(opts GenerateOptions, req GenerateRequest, flow *auth.Flow) *GenerateDialog {
	g := &GenerateDialog{opts: opts, req: req, flow: flow, events: make(chan string, 16)}
	g.ctx, g.cancel = context.WithTimeout(context.Background(), opts.Timeout)
	g.deadline = opts.Now().Add(opts.Timeout)

	intro := widget.NewLabel("Sign in with a Microsoft 365 administrator account in your browser and click Accept. If no browser opened, copy this address into one:")
	intro.Wrapping = fyne.TextWrapWord
	g.url = widget.NewLabel(flow.AuthURL())
	g.url.Wrapping = fyne.TextWrapBreak
	g.url.Selectable = true
	g.url.TextStyle = fyne.TextStyle{Monospace: true}
	g.copyURL = widget.NewButton("Copy address", func() {
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
		g.paste = widget.NewEntry()
		g.paste.SetPlaceHolder("https://login.microsoftonline.com/common/oauth2/nativeclient?code=...")
		g.paste.OnSubmitted = func(string) { g.onSubmit() }
		g.pasteErr = widget.NewLabel("")
		g.pasteErr.Wrapping = fyne.TextWrapWord
		g.pasteErr.Importance = widget.DangerImportance
		g.pasteErr.Hide()
		g.submit = widget.NewButton("Continue", g.onSubmit)
		g.submit.Importance = widget.HighImportance
		items = append(items, pasteHelp, g.paste, g.pasteErr)
	} else {
		wait := widget.NewLabel("Waiting for the browser to come back to Inventory Beacon...")
		wait.Wrapping = fyne.TextWrapWord
		items = append(items, wait)
	}
	items = append(items, g.timeLeft)
	g.cancelB = widget.NewButton("Cancel", g.onCancel)
	buttons := []fyne.CanvasObject{g.cancelB}
	if g.submit != nil {
		buttons = append(buttons, g.submit)
	}
	g.dlg = dialog.NewCustomWithoutButtons("Sign in to Microsoft 365", container.NewVBox(items...), req.Parent)
	g.dlg.SetButtons(buttons)
	return g
}

func (g *GenerateDialog) start() {
	g.dlg.Show()
	w := float32(560)
	if cs := g.req.Parent.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	// A wrapped label's height depends on its width: size the width
	// first, then fit the height to the wrapped text.
	g.dlg.Resize(fyne.NewSize(w, 300))
	g.dlg.Resize(fyne.NewSize(w, g.dlg.MinSize().Height))
	if g.opts.Shown != nil {
		g.opts.Shown(g)
	}
	go func() {
		err := g.opts.OpenBrowser(g.flow.AuthURL())
		doUI(func() {
			defer g.event("browser")
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
					g.finish(nil, fmt.Errorf("%w: no address was pasted within %s; click Generate... to try again", auth.ErrTimedOut, g.opts.Timeout))
				}
			})
		}()
	}
}

func (g *GenerateDialog) event(e string) {
	select {
	case g.events <- e:
	default:
	}
}

func (g *GenerateDialog) countdown() {
	t := time.NewTicker(g.opts.Tick)
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

func (g *GenerateDialog) updateTimeLeft() {
	left := g.deadline.Sub(g.opts.Now()).Round(time.Second)
	if left < 0 {
		left = 0
	}
	g.timeLeft.SetText(fmt.Sprintf("Time left: %d:%02d", int(left.Minutes()), int(left.Seconds())%60))
}

func (g *GenerateDialog) onSubmit() {
	if g.done || g.paste == nil {
		return
	}
	text := g.paste.Text
	g.submit.Disable()
	g.pasteErr.Hide()
	go func() {
		res, err := g.flow.CompleteFromPaste(g.ctx, text)
		doUI(func() {
			if errors.Is(err, auth.ErrNoCode) && !g.done {
				// Worth another try: the admin copied the wrong thing.
				g.pasteErr.SetText(err.Error())
				g.pasteErr.Show()
				g.submit.Enable()
				g.event("paste-rejected")
				return
			}
			g.finish(res, err)
		})
	}()
}

func (g *GenerateDialog) onCancel() {
	if g.done {
		return
	}
	g.finish(nil, auth.ErrCancelled)
}

// finish ends the sign-in once: closes the dialog and the listener, then
// hands over the token or shows the error. A cancel by the user needs no
// error dialog.
func (g *GenerateDialog) finish(res *auth.Result, err error) {
	if g.done {
		return
	}
	g.done = true
	g.cancel()
	// Closing the listener may wait a moment for the browser's page to be
	// written; never on the Fyne goroutine.
	go g.flow.Close()
	g.dlg.Hide()
	switch {
	case err == nil && res != nil:
		if g.req.Done != nil {
			g.req.Done(res.RefreshToken(), res.Info)
		}
	case errors.Is(err, auth.ErrCancelled) && !isMicrosoftError(err):
		// The user pressed Cancel here: nothing to explain.
	default:
		showGenerateError(g.opts, g.req.Parent, g.req.Connection, err)
	}
	if g.opts.Finished != nil {
		g.opts.Finished(err)
	}
}

func isMicrosoftError(err error) bool {
	var ae *auth.Error
	return errors.As(err, &ae)
}

// URLText is the sign-in address as shown (for tests).
func (g *GenerateDialog) URLText() string { return g.url.Text }

// StatusText is the browser status line (for tests).
func (g *GenerateDialog) StatusText() string { return g.status.Text }

// TimeLeftText is the countdown (for tests).
func (g *GenerateDialog) TimeLeftText() string { return g.timeLeft.Text }

// Paste types into the paste field and presses Continue (for tests).
func (g *GenerateDialog) Paste(s string) {
	g.paste.SetText(s)
	g.onSubmit()
}

// Cancel presses Cancel (for tests).
func (g *GenerateDialog) Cancel() { g.cancelB.OnTapped() }

// GenerateErrorDialog shows why a sign-in failed, in plain words, with the
// IDs Microsoft support asks for and buttons to copy them and, when an
// administrator must approve the app, the admin-consent link.
type GenerateErrorDialog struct {
	Message      *widget.Label
	CopyDetails  *widget.Button
	CopyConsent  *widget.Button // nil unless admin approval is needed
	ConsentURL   string
	dlg          *dialog.CustomDialog
	detailsValue string
}

func showGenerateError(opts GenerateOptions, parent fyne.Window, conn storage.Connection, err error) *GenerateErrorDialog {
	e := &GenerateErrorDialog{}
	guidance := auth.Guidance(err)
	e.detailsValue = guidance
	e.Message = widget.NewLabel(guidance)
	e.Message.Wrapping = fyne.TextWrapWord
	e.Message.Selectable = true
	title := "Sign-in failed"
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Kind() == auth.KindAdminApproval {
		title = "Administrator approval needed"
		e.ConsentURL = ae.AdminConsentURL
		if e.ConsentURL == "" {
			e.ConsentURL = auth.AdminConsentURL(conn, "")
		}
	}
	e.CopyDetails = widget.NewButton("Copy details", func() {
		fyne.CurrentApp().Clipboard().SetContent(e.detailsValue)
	})
	buttons := []fyne.CanvasObject{e.CopyDetails}
	if e.ConsentURL != "" {
		e.CopyConsent = widget.NewButton("Copy admin-consent link", func() {
			fyne.CurrentApp().Clipboard().SetContent(e.ConsentURL)
		})
		buttons = append(buttons, e.CopyConsent)
	}
	closeB := widget.NewButton("Close", func() { e.dlg.Hide() })
	closeB.Importance = widget.HighImportance
	buttons = append(buttons, closeB)
	e.dlg = dialog.NewCustomWithoutButtons(title, container.NewVScroll(e.Message), parent)
	e.dlg.SetButtons(buttons)
	e.dlg.Show()
	w := float32(600)
	if cs := parent.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	h := e.Message.MinSize().Height + 120
	if cs := parent.Canvas().Size(); cs.Height > 0 && cs.Height-40 < h {
		h = cs.Height - 40
	}
	e.dlg.Resize(fyne.NewSize(w, h))
	if opts.ErrorShown != nil {
		opts.ErrorShown(e)
	}
	return e
}

// DetailsText is what Copy details puts on the clipboard.
func (e *GenerateErrorDialog) DetailsText() string { return strings.TrimSpace(e.detailsValue) }

// TestConnectionOptions configure the Test Connection hook.
type TestConnectionOptions struct {
	// Secrets holds the connection's refresh token, client secret and
	// proxy password.
	Secrets storage.Secrets
	// ConfigDir is where the token lock file lives (next to the
	// configuration), shared with imports and the scheduler.
	ConfigDir string
	Logger    *slog.Logger
	// Timeout bounds the whole test; zero means one minute.
	Timeout time.Duration
	// Finished, if set, gets the report and the result dialog (tests).
	Finished func(*service.TestReport, *GenerateErrorDialog)
}

// NewTestConnection returns the Deps.TestConnection hook: it gets a token
// the way an import would and reads one page of users, with a Cancel-able
// progress dialog, then says what works and what is missing.
func NewTestConnection(opts TestConnectionOptions) func(parent fyne.Window, c storage.Connection) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	return func(parent fyne.Window, c storage.Connection) {
		ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
		bar := widget.NewProgressBarInfinite()
		label := widget.NewLabel("Signing in and reading one user from Microsoft Graph...")
		progress := dialog.NewCustomWithoutButtons("Test Connection — "+c.Name, container.NewVBox(label, bar), parent)
		progress.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", cancel)})
		progress.Show()
		go func() {
			defer cancel()
			r := runTestConnection(ctx, opts, c)
			doUI(func() {
				bar.Stop()
				progress.Hide()
				if errors.Is(ctx.Err(), context.Canceled) && !r.TokenOK {
					if opts.Finished != nil {
						opts.Finished(r, nil)
					}
					return // the administrator cancelled
				}
				d := showTestReport(parent, c, r)
				if opts.Finished != nil {
					opts.Finished(r, d)
				}
			})
		}()
	}
}

func runTestConnection(ctx context.Context, opts TestConnectionOptions, c storage.Connection) *service.TestReport {
	return service.TestConnection(ctx, c, service.TestOptions{Secrets: opts.Secrets, ConfigDir: opts.ConfigDir, Logger: opts.Logger})
}

// showTestReport shows the outcome with the same Copy buttons as a failed
// sign-in: details for support, and the admin-consent link when a
// permission is missing.
func showTestReport(parent fyne.Window, c storage.Connection, r *service.TestReport) *GenerateErrorDialog {
	e := &GenerateErrorDialog{detailsValue: r.Summary()}
	e.Message = widget.NewLabel(e.detailsValue)
	e.Message.Wrapping = fyne.TextWrapWord
	e.Message.Selectable = true
	title := "Connection works"
	if !r.TokenOK || !r.GraphOK {
		title = "Connection test failed"
	} else if len(r.Missing) > 0 {
		title = "Connection works, with a permission missing"
	}
	var ae *auth.Error
	needsConsent := len(r.Missing) > 0 || (errors.As(r.Err, &ae) && ae.Kind() == auth.KindAdminApproval)
	if needsConsent {
		if ae != nil && ae.AdminConsentURL != "" {
			e.ConsentURL = ae.AdminConsentURL
		} else {
			tenant := ""
			if c.Token != nil {
				tenant = c.Token.TenantID
			}
			e.ConsentURL = auth.AdminConsentURL(c, tenant)
		}
	}
	e.CopyDetails = widget.NewButton("Copy details", func() { fyne.CurrentApp().Clipboard().SetContent(e.detailsValue) })
	buttons := []fyne.CanvasObject{e.CopyDetails}
	if e.ConsentURL != "" && c.AuthFlow != storage.FlowClientCredentials {
		e.CopyConsent = widget.NewButton("Copy admin-consent link", func() { fyne.CurrentApp().Clipboard().SetContent(e.ConsentURL) })
		buttons = append(buttons, e.CopyConsent)
	}
	closeB := widget.NewButton("Close", func() { e.dlg.Hide() })
	closeB.Importance = widget.HighImportance
	buttons = append(buttons, closeB)
	e.dlg = dialog.NewCustomWithoutButtons(title, container.NewVScroll(e.Message), parent)
	e.dlg.SetButtons(buttons)
	e.dlg.Show()
	w := float32(600)
	if cs := parent.Canvas().Size(); cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	e.dlg.Resize(fyne.NewSize(w, e.Message.MinSize().Height+120))
	return e
}
