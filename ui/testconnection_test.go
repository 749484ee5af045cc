package ui

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// The Test Connection use case against the simulator is tested with its
// implementation, in cmd/beacon (gui_tester_test.go); here the
// controller: the progress dialog, Cancel and the report.

// testConnWindow is a window of the size the app opens with.
func testConnWindow(t *testing.T) fyne.Window {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1024, 700))
	return w
}

// runTestConnection runs the controller on c with svc and waits for its
// end: the report and the dialog it showed (nil when none).
func runTestConnection(t *testing.T, svc ConnectionTester, w fyne.Window, c storage.Connection,
	act func(*testConnectionController)) (*service.TestReport, *reportDialog) {
	t.Helper()
	ctl := newTestConnectionController(svc)
	onUI(func() {
		ctl.run(w, c)
		if act != nil {
			act(ctl)
		}
	})
	waitUI(t, "test report", func() bool { return ctl.ended > 0 })
	var r *service.TestReport
	var d *reportDialog
	onUI(func() { r, d = ctl.last, ctl.report })
	return r, d
}

// The report says what works; a missing permission offers the
// admin-consent link, except to a client-credentials connection, whose
// permissions are granted in the portal.
func TestTestConnectionReport(t *testing.T) {
	w := testConnWindow(t)
	works := testerFunc(func(context.Context, storage.Connection) *service.TestReport {
		return &service.TestReport{TokenOK: true, GraphOK: true}
	})
	c := newNamedConnection("Contoso")
	r, d := runTestConnection(t, works, w, c, nil)
	if d == nil || d.dlg == nil || d.message.Text != r.Summary() || d.report.title != "Connection works" || d.copyConsent != nil {
		t.Fatalf("report dialog %+v", d)
	}
	onUI(d.dlg.Hide)

	missing := testerFunc(func(context.Context, storage.Connection) *service.TestReport {
		return &service.TestReport{TokenOK: true, GraphOK: true, Missing: []string{"Reports.Read.All"}}
	})
	_, d = runTestConnection(t, missing, w, c, nil)
	if d.report.title != "Connection works, with a permission missing" || d.copyConsent == nil {
		t.Fatalf("missing permission: %+v", d.report)
	}
	onUI(func() { test.Tap(d.copyConsent) })
	if got := fyne.CurrentApp().Clipboard().Content(); got != d.report.consentURL || got == "" {
		t.Fatalf("clipboard %q", got)
	}
	onUI(d.dlg.Hide)

	daemon := connector.NewConnection()
	daemon.AuthFlow = storage.FlowClientCredentials
	_, d = runTestConnection(t, missing, w, daemon, nil)
	if d.copyConsent != nil {
		t.Fatal("a client-credentials connection gets no admin-consent link")
	}
	onUI(d.dlg.Hide)
}

// Cancel ends the test without a report.
func TestTestConnectionCancel(t *testing.T) {
	w := testConnWindow(t)
	waits := testerFunc(func(ctx context.Context, _ storage.Connection) *service.TestReport {
		<-ctx.Done()
		return &service.TestReport{Err: ctx.Err(), Problem: ctx.Err().Error()}
	})
	r, d := runTestConnection(t, waits, w, newNamedConnection("Contoso"), func(ctl *testConnectionController) {
		// The progress dialog's Cancel.
		for _, o := range w.Canvas().Overlays().List() {
			for _, b := range test.LaidOutObjects(o) {
				if b, ok := b.(*dialogButton); ok && b.Text == "Cancel" {
					test.Tap(b)
				}
			}
		}
	})
	if d != nil || !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("after Cancel: report %+v, dialog %v", r, d)
	}
}
