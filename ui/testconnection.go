package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// ConnectionTester is Test Connection: get a token the way an import
// would and read one page of users, reporting what works and which
// permission is missing. cmd/beacon implements it with service.TestConnection.
type ConnectionTester interface {
	TestConnection(ctx context.Context, c storage.Connection) *service.TestReport
}

// testConnectionController runs Test Connection on a saved connection with
// a Cancel-able progress dialog, then shows the report.
type testConnectionController struct {
	svc ConnectionTester
	// timeout bounds the whole test.
	timeout time.Duration

	// The latest test (Fyne goroutine): its report and dialog (nil when
	// the administrator cancelled), and how many tests have ended.
	last   *service.TestReport
	report *reportDialog
	ended  int
}

func newTestConnectionController(svc ConnectionTester) *testConnectionController {
	return &testConnectionController{svc: svc, timeout: time.Minute}
}

// run tests c, which is saved: the window saves pending changes first, so
// its secrets are in the keyring.
func (t *testConnectionController) run(parent fyne.Window, c storage.Connection) {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	bar := widget.NewProgressBarInfinite()
	label := widget.NewLabel("Signing in and reading one user from Microsoft Graph...")
	progress := dialog.NewCustomWithoutButtons("Test Connection — "+c.Name, container.NewVBox(label, bar), parent)
	keys := &dialogKeys{}
	cancelB := newDialogButton(keys, "Cancel", cancel)
	progress.SetButtons([]fyne.CanvasObject{cancelB})
	keys.esc = []*dialogButton{cancelB} // Esc cancels the test; Enter has nothing to press
	keys.show(progress, parent)
	go func() {
		defer cancel()
		r := t.svc.TestConnection(ctx, c)
		doUI(func() {
			bar.Stop()
			progress.Hide()
			t.last, t.report = r, nil
			if !errors.Is(ctx.Err(), context.Canceled) || r.TokenOK {
				t.report = showReport(parent, testReport(c, r))
			} // else the administrator cancelled: nothing to report
			t.ended++
		})
	}()
}
