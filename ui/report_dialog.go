package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// report is what the report dialog says: the outcome of a sign-in that
// failed (signin.go) or of Test Connection (testconnection.go).
type report struct {
	title string
	// details is the message, which Copy details puts on the clipboard
	// for support.
	details string
	// consentURL is the admin-consent link, "" when no administrator
	// approval would help.
	consentURL string
}

// reportDialog shows a report in plain words, with the IDs Microsoft
// support asks for and buttons to copy them and, when an administrator
// must approve the app, the admin-consent link. Sign-in failures and
// connection tests share it so they look and copy alike.
type reportDialog struct {
	message     *widget.Label
	copyDetails *dialogButton
	copyConsent *dialogButton // nil without a consent link
	report      report
	dlg         *dialog.CustomDialog
}

func showReport(parent fyne.Window, r report) *reportDialog {
	e := &reportDialog{report: r}
	keys := &dialogKeys{}
	e.message = widget.NewLabel(r.details)
	e.message.Wrapping = fyne.TextWrapWord
	e.message.Selectable = true
	e.copyDetails = newDialogButton(keys, "Copy details", func() {
		fyne.CurrentApp().Clipboard().SetContent(r.details)
	})
	buttons := []fyne.CanvasObject{e.copyDetails}
	if r.consentURL != "" {
		e.copyConsent = newDialogButton(keys, "Copy admin-consent link", func() {
			fyne.CurrentApp().Clipboard().SetContent(r.consentURL)
		})
		buttons = append(buttons, e.copyConsent)
	}
	closeB := newDialogButton(keys, "Close", func() { e.dlg.Hide() })
	closeB.Importance = widget.HighImportance
	buttons = append(buttons, closeB)
	e.dlg = dialog.NewCustomWithoutButtons(r.title, keys.scrolling(e.message), parent)
	e.dlg.SetButtons(buttons)
	keys.esc, keys.enter = []*dialogButton{closeB}, []*dialogButton{closeB}
	keys.show(e.dlg, parent)
	// A wrapped label's height depends on its width; a dialog cannot
	// outgrow its window, so a long report scrolls.
	w := float32(600)
	cs := parent.Canvas().Size()
	if cs.Width > 0 && cs.Width-40 < w {
		w = cs.Width - 40
	}
	h := e.message.MinSize().Height + 120
	if cs.Height > 0 && cs.Height-40 < h {
		h = cs.Height - 40
	}
	e.dlg.Resize(fyne.NewSize(w, h))
	return e
}

// detailsText is what Copy details puts on the clipboard.
func (e *reportDialog) detailsText() string { return strings.TrimSpace(e.report.details) }

// signInReport explains a failed sign-in of conn: auth's guidance, and the
// admin-consent link when an administrator must approve the app.
func signInReport(conn storage.Connection, err error) report {
	f := service.ExplainFailure(conn, err, "")
	r := report{title: "Sign-in failed", details: f.Guidance}
	if f.AdminApproval {
		r.title = "Administrator approval needed"
		r.consentURL = f.ConsentURL
	}
	return r
}

// testReport is the outcome of Test Connection on c: what works, and the
// admin-consent link when a permission is missing. A client-credentials
// connection gets no link: its permissions are granted in the portal.
func testReport(c storage.Connection, r *service.TestReport) report {
	out := report{title: "Connection works", details: r.Summary()}
	if !r.TokenOK || !r.GraphOK {
		out.title = "Connection test failed"
	} else if len(r.Missing) > 0 {
		out.title = "Connection works, with a permission missing"
	}
	tenant := ""
	if c.Token != nil {
		tenant = c.Token.TenantID
	}
	f := service.ExplainFailure(c, r.Err, tenant)
	if len(r.Missing) == 0 && !f.AdminApproval || c.AuthFlow == storage.FlowClientCredentials {
		return out
	}
	out.consentURL = f.ConsentURL
	if out.consentURL == "" {
		out.consentURL = service.ConsentURL(c, tenant)
	}
	return out
}
