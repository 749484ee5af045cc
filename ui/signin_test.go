package ui

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// generateConn is a valid connection whose token endpoint is never reached:
// these tests end before any code exchange (the end-to-end sign-in against
// the simulator is in auth and cmd/beacon/cli).
func generateConn(redirect string) storage.Connection {
	c := connector.NewConnection()
	c.Name = "Contoso"
	c.TokenEndpoint = "http://127.0.0.1:9/common/oauth2/v2.0/token"
	c.AuthorizationEndpoint = "http://127.0.0.1:9/common/oauth2/v2.0/authorize"
	c.RedirectURI = redirect
	return c
}

type generateHarness struct {
	win    fyne.Window
	ctl    *signInController
	opened chan string
	done   chan storage.TokenInfo
	ended  int // the sign-ins seen ending
}

func newGenerateHarness(t *testing.T, openErr error, timeout time.Duration, now func() time.Time) (*generateHarness, func(signInRequest)) {
	t.Helper()
	test.NewTempApp(t)
	h := &generateHarness{opened: make(chan string, 1), done: make(chan storage.TokenInfo, 1)}
	h.win = test.NewTempWindow(t, widget.NewLabel(""))
	h.win.Resize(fyne.NewSize(1024, 700))
	h.ctl = newSignInController(authSignIn{openBrowser: func(u string) error {
		h.opened <- u
		return openErr
	}})
	if timeout > 0 {
		h.ctl.timeout = timeout
	}
	if now != nil {
		h.ctl.now = now
	}
	return h, h.ctl.start
}

func (h *generateHarness) request(c storage.Connection) signInRequest {
	return signInRequest{Parent: h.win, Connection: c, Done: func(_ string, info storage.TokenInfo) { h.done <- info }}
}

// shown waits for the waiting dialog.
func (h *generateHarness) shown(t *testing.T) *signInDialog {
	t.Helper()
	var g *signInDialog
	waitUI(t, "waiting dialog", func() bool { g = h.ctl.dialog; return g != nil })
	return g
}

// finished waits for the end of the next sign-in and returns its error.
func (h *generateHarness) finished(t *testing.T) error {
	t.Helper()
	h.ended++
	var err error
	waitUI(t, "finish", func() bool { err = h.ctl.err; return h.ctl.ended >= h.ended })
	return err
}

// report is the report of the failure that ended the last sign-in, nil
// when none was shown.
func (h *generateHarness) report() *reportDialog {
	var e *reportDialog
	onUI(func() { e = h.ctl.report })
	return e
}

func TestGenerateWaitingDialogCopyAndCancel(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	h, gen := newGenerateHarness(t, auth.ErrNoBrowser, 0, func() time.Time { return fixed })
	gen(h.request(generateConn("http://localhost/callback")))
	g := h.shown(t)
	opened := recvTB(t, h.opened, "browser start")
	var shownURL, left string
	onUI(func() { shownURL, left = g.URLText(), g.TimeLeftText() })
	if shownURL != opened {
		t.Fatalf("dialog shows %q, browser got %q", shownURL, opened)
	}
	u, err := url.Parse(opened)
	if err != nil || u.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("not an authorization request: %q", opened)
	}
	if left != "Time left: 5:00" {
		t.Fatalf("countdown %q, want the 5-minute default", left)
	}
	// The browser failure reaches the status line.
	recvStatus(t, g)
	var status string
	onUI(func() { status = g.StatusText() })
	requireContains(t, "status", status, "No browser")
	onUI(func() { test.Tap(g.copyURL) })
	if got := fyne.CurrentApp().Clipboard().Content(); got != opened {
		t.Fatalf("clipboard %q", got)
	}
	onUI(g.Cancel)
	if err := h.finished(t); !errors.Is(err, auth.ErrCancelled) {
		t.Fatalf("finished with %v", err)
	}
	if e := h.report(); e != nil {
		t.Fatalf("a cancel by the user needs no error dialog: %q", e.detailsText())
	}
	// The listener is closed: the browser can no longer complete it.
	if _, err := (&urlGetter{}).get(g.flow.RedirectURI()); err == nil {
		t.Fatal("listener still open after Cancel")
	}
}

const nativeClient = "https://login.microsoftonline.com/common/oauth2/nativeclient"

// recvStatus waits until the browser's outcome reached the status line.
func recvStatus(t *testing.T, g *signInDialog) {
	t.Helper()
	waitUI(t, "browser status", func() bool { return g.browserTold })
}

func TestGenerateTimeoutShowsError(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 100*time.Millisecond, nil)
	gen(h.request(generateConn("http://localhost/callback")))
	h.shown(t)
	err := h.finished(t)
	if !errors.Is(err, auth.ErrTimedOut) {
		t.Fatalf("finished with %v", err)
	}
	e := h.report()
	requireContains(t, "error text", e.message.Text, "time-out")
	if e.copyConsent != nil {
		t.Fatal("a time-out needs no admin-consent link")
	}
}

func TestGeneratePasteFlow(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	gen(h.request(generateConn(nativeClient)))
	g := h.shown(t)
	if g.paste == nil {
		t.Fatal("the nativeclient redirect needs the paste field")
	}
	// A paste without a code may be retried.
	onUI(func() { g.Paste("https://login.microsoftonline.com/common/oauth2/nativeclient") })
	waitUI(t, "paste rejection", func() bool { return g.pasteRejected > 0 })
	onUI(func() {
		if !g.pasteErr.Visible() {
			t.Error("the paste error is not shown")
		}
		if h.ctl.ended != 0 {
			t.Errorf("a paste without code ended the sign-in: %v", h.ctl.err)
		}
	})
	// Microsoft's admin-approval answer becomes guidance with the link.
	state := mustState(t, g.URLText())
	onUI(func() {
		g.Paste(" https://login.microsoftonline.com/common/oauth2/nativeclient?error=access_denied&error_description=AADSTS90094%3a+Admin+approval+required.%0d%0aTrace+ID%3a+0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100%0d%0aCorrelation+ID%3a+7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d&state=" + state + "\n")
	})
	err := h.finished(t)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Kind() != auth.KindAdminApproval {
		t.Fatalf("finished with %v", err)
	}
	e := h.report()
	for _, want := range []string{"administrator", "Trace ID: 0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100", "Correlation ID: 7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d", "/v2.0/adminconsent"} {
		requireContains(t, "error text", e.message.Text, want)
	}
	if e.copyConsent == nil {
		t.Fatal("no Copy admin-consent link button")
	}
	onUI(func() { test.Tap(e.copyConsent) })
	if got := fyne.CurrentApp().Clipboard().Content(); !strings.Contains(got, "/organizations/v2.0/adminconsent?") {
		t.Fatalf("clipboard %q", got)
	}
}

func TestGeneratePasteWrongStateFailsClosed(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	gen(h.request(generateConn(nativeClient)))
	g := h.shown(t)
	onUI(func() { g.Paste("https://login.microsoftonline.com/common/oauth2/nativeclient?code=abc&state=forged") })
	if err := h.finished(t); !errors.Is(err, auth.ErrStateMismatch) {
		t.Fatalf("finished with %v", err)
	}
	if h.report() == nil {
		t.Fatal("no error dialog")
	}
}

func TestGeneratePortInUseShowsError(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	l, port := listenAny(t)
	defer l.Close()
	gen(h.request(generateConn("http://localhost:" + port + "/")))
	if err := h.finished(t); !errors.Is(err, auth.ErrPortInUse) {
		t.Fatalf("finished with %v", err)
	}
	e := h.report()
	requireContains(t, "error text", e.message.Text, port)
}

func mustState(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// TestWriteGenerateDocs writes docs/generate-waiting.png and
// docs/token-present.png when BEACON_WRITE_DOCS=1.
func TestWriteGenerateDocs(t *testing.T) {
	if os.Getenv("BEACON_WRITE_DOCS") != "1" {
		t.Skip("set BEACON_WRITE_DOCS=1 to write docs/generate-waiting.png and docs/token-present.png")
	}
	fixed := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	h, gen := newGenerateHarness(t, nil, 0, func() time.Time { return fixed })
	fyne.CurrentApp().Settings().SetTheme(theme.LightTheme())
	// The defaults of a new connection, with a loopback redirect: what an
	// administrator sees. The token endpoint is never reached.
	c := connector.NewConnection()
	c.Name = "Contoso"
	c.RedirectURI = "http://localhost/callback"
	gen(h.request(c))
	g := h.shown(t)
	recvTB(t, h.opened, "browser start")
	recvStatus(t, g)
	writePNG(t, filepath.Join("..", "docs", "generate-waiting.png"), h.win)
	onUI(g.Cancel)

	d, w := testDialog(t, c, false, nil, nil, nil)
	fyne.CurrentApp().Settings().SetTheme(theme.LightTheme())
	w.Resize(fyne.NewSize(1024, 860)) // the whole dialog, down to the Refresh Token row
	d.Show()
	d.SetToken(&storage.TokenInfo{ObtainedAt: fixed, Account: "megan.bowen@contoso.onmicrosoft.com", DisplayName: "Megan Bowen", TenantID: "8f2d6c1e-3b7a-4f9e-a1d2-5c6b7e8f9a0b"})
	w.Canvas().Unfocus()
	writePNG(t, filepath.Join("..", "docs", "token-present.png"), w)
}

// onUI runs f as the sign-in's own updates run, so the test never touches
// widgets at the same time as a background result.
func onUI(f func()) {
	fyne.DoAndWait(func() {
		uiMu.Lock()
		defer uiMu.Unlock()
		f()
	})
}
