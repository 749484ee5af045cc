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
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/service"
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
	win      fyne.Window
	shown    chan *GenerateDialog
	errShown chan *GenerateErrorDialog
	finished chan error
	opened   chan string
	done     chan storage.TokenInfo
}

func newGenerateHarness(t *testing.T, openErr error, timeout time.Duration, now func() time.Time) (*generateHarness, func(GenerateRequest)) {
	t.Helper()
	test.NewTempApp(t)
	h := &generateHarness{
		shown: make(chan *GenerateDialog, 1), errShown: make(chan *GenerateErrorDialog, 1),
		finished: make(chan error, 1), opened: make(chan string, 1), done: make(chan storage.TokenInfo, 1),
	}
	h.win = test.NewTempWindow(t, widget.NewLabel(""))
	h.win.Resize(fyne.NewSize(1024, 700))
	gen := NewGenerate(GenerateOptions{
		Timeout: timeout,
		Now:     now,
		OpenBrowser: func(u string) error {
			h.opened <- u
			return openErr
		},
		Shown:      func(g *GenerateDialog) { h.shown <- g },
		ErrorShown: func(e *GenerateErrorDialog) { h.errShown <- e },
		Finished:   func(err error) { h.finished <- err },
	})
	return h, gen
}

func (h *generateHarness) request(c storage.Connection) GenerateRequest {
	return GenerateRequest{Parent: h.win, Connection: c, Done: func(_ string, info storage.TokenInfo) { h.done <- info }}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second): // bounds a broken test only
		t.Fatalf("no %s", what)
		var zero T
		return zero
	}
}

func TestGenerateWaitingDialogCopyAndCancel(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	h, gen := newGenerateHarness(t, auth.ErrNoBrowser, 0, func() time.Time { return fixed })
	gen(h.request(generateConn("http://localhost/callback")))
	g := recv(t, h.shown, "waiting dialog")
	opened := recv(t, h.opened, "browser start")
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
	if err := recv(t, h.finished, "finish"); !errors.Is(err, auth.ErrCancelled) {
		t.Fatalf("finished with %v", err)
	}
	select {
	case e := <-h.errShown:
		t.Fatalf("a cancel by the user needs no error dialog: %q", e.DetailsText())
	default:
	}
	// The listener is closed: the browser can no longer complete it.
	if _, err := (&urlGetter{}).get(g.flow.RedirectURI()); err == nil {
		t.Fatal("listener still open after Cancel")
	}
}

const nativeClient = "https://login.microsoftonline.com/common/oauth2/nativeclient"

// recvStatus waits until the browser's outcome reached the status line.
func recvStatus(t *testing.T, g *GenerateDialog) {
	t.Helper()
	for recv(t, g.events, "browser status") != "browser" {
	}
}

func TestGenerateTimeoutShowsError(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 100*time.Millisecond, nil)
	gen(h.request(generateConn("http://localhost/callback")))
	recv(t, h.shown, "waiting dialog")
	err := recv(t, h.finished, "finish")
	if !errors.Is(err, auth.ErrTimedOut) {
		t.Fatalf("finished with %v", err)
	}
	e := recv(t, h.errShown, "error dialog")
	requireContains(t, "error text", e.Message.Text, "time-out")
	if e.CopyConsent != nil {
		t.Fatal("a time-out needs no admin-consent link")
	}
}

func TestGeneratePasteFlow(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	gen(h.request(generateConn(nativeClient)))
	g := recv(t, h.shown, "waiting dialog")
	if g.paste == nil {
		t.Fatal("the nativeclient redirect needs the paste field")
	}
	// A paste without a code may be retried.
	onUI(func() { g.Paste("https://login.microsoftonline.com/common/oauth2/nativeclient") })
	for recv(t, g.events, "paste rejection") != "paste-rejected" {
	}
	if !g.pasteErr.Visible() {
		t.Fatal("the paste error is not shown")
	}
	select {
	case err := <-h.finished:
		t.Fatalf("a paste without code ended the sign-in: %v", err)
	default:
	}
	// Microsoft's admin-approval answer becomes guidance with the link.
	state := mustState(t, g.URLText())
	onUI(func() {
		g.Paste(" https://login.microsoftonline.com/common/oauth2/nativeclient?error=access_denied&error_description=AADSTS90094%3a+Admin+approval+required.%0d%0aTrace+ID%3a+0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100%0d%0aCorrelation+ID%3a+7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d&state=" + state + "\n")
	})
	err := recv(t, h.finished, "finish")
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Kind() != auth.KindAdminApproval {
		t.Fatalf("finished with %v", err)
	}
	e := recv(t, h.errShown, "error dialog")
	for _, want := range []string{"administrator", "Trace ID: 0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100", "Correlation ID: 7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d", "/v2.0/adminconsent"} {
		requireContains(t, "error text", e.Message.Text, want)
	}
	if e.CopyConsent == nil {
		t.Fatal("no Copy admin-consent link button")
	}
	onUI(func() { test.Tap(e.CopyConsent) })
	if got := fyne.CurrentApp().Clipboard().Content(); !strings.Contains(got, "/organizations/v2.0/adminconsent?") {
		t.Fatalf("clipboard %q", got)
	}
}

func TestGeneratePasteWrongStateFailsClosed(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	gen(h.request(generateConn(nativeClient)))
	g := recv(t, h.shown, "waiting dialog")
	onUI(func() { g.Paste("https://login.microsoftonline.com/common/oauth2/nativeclient?code=abc&state=forged") })
	if err := recv(t, h.finished, "finish"); !errors.Is(err, auth.ErrStateMismatch) {
		t.Fatalf("finished with %v", err)
	}
	recv(t, h.errShown, "error dialog")
}

func TestGeneratePortInUseShowsError(t *testing.T) {
	h, gen := newGenerateHarness(t, nil, 0, nil)
	l, port := listenAny(t)
	defer l.Close()
	gen(h.request(generateConn("http://localhost:" + port + "/")))
	if err := recv(t, h.finished, "finish"); !errors.Is(err, auth.ErrPortInUse) {
		t.Fatalf("finished with %v", err)
	}
	e := recv(t, h.errShown, "error dialog")
	requireContains(t, "error text", e.Message.Text, port)
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
	g := recv(t, h.shown, "waiting dialog")
	recv(t, h.opened, "browser start")
	recvStatus(t, g)
	writePNG(t, filepath.Join("..", "docs", "generate-waiting.png"), h.win)
	onUI(g.Cancel)

	d, w := testDialog(t, c, false, nil, Deps{}, nil)
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

// testConnWindow is a window of the size the app opens with.
func testConnWindow(t *testing.T) fyne.Window {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1024, 700))
	return w
}

// testConnResult is what Test Connection reported and the dialog it showed.
type testConnResult struct {
	r *service.TestReport
	d *GenerateErrorDialog
}

// runTestConnectionHook runs the window's Test Connection on c and waits
// for its report.
func runTestConnectionHook(t *testing.T, repo *storage.Repository, w fyne.Window, c storage.Connection) testConnResult {
	t.Helper()
	done := make(chan testConnResult, 1)
	hook := NewTestConnection(TestConnectionOptions{Secrets: repo.Secrets, ConfigDir: repo.Config.Dir(),
		Finished: func(r *service.TestReport, d *GenerateErrorDialog) { done <- testConnResult{r, d} }})
	onUI(func() { hook(w, c) })
	return recv(t, done, "test report")
}

// Test Connection against the simulator with Client Credentials: the
// secret comes from the real keyring, the report says the connection works.
func TestTestConnectionClientCredentials(t *testing.T) {
	repo := testRepo(t)
	sim, err := m365sim.Start(m365sim.Options{Users: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c := connector.NewConnection()
	c.Name = "Daemon"
	c.Cloud = "Custom"
	c.AuthFlow = storage.FlowClientCredentials
	c.AuthorizationEndpoint, c.RedirectURI = "", ""
	c.TokenEndpoint = sim.TokenEndpoint()
	c.GraphEndpoint = sim.GraphEndpoint()
	c.ClientID, c.HasClientSecret = tenant.ConfidentialClientID, true
	if err := repo.Secrets.Set(c.ID, storage.SecretClientSecret, tenant.ConfidentialClientSecret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Secrets.Delete(c.ID, storage.SecretClientSecret) })
	got := runTestConnectionHook(t, repo, testConnWindow(t), c)
	if !got.r.TokenOK || !got.r.GraphOK || got.d == nil {
		t.Fatalf("report %+v", got.r)
	}
	requireContains(t, "report", got.d.Message.Text, "Connection works")
}

// Test Connection on a connection that never signed in answers at once
// with the reason and what to do, with or without a proxy (issue 23 item
// 1: it showed nothing, even after a minute).
func TestTestConnectionNeverSignedIn(t *testing.T) {
	repo := testRepo(t)
	sim, err := m365sim.Start(m365sim.Options{Users: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	w := testConnWindow(t)
	for _, proxy := range []bool{false, true} {
		c := connector.NewConnection()
		c.Name = "Never signed in"
		c.Cloud = "Custom"
		c.TokenEndpoint, c.AuthorizationEndpoint = sim.TokenEndpoint(), sim.AuthorizeEndpoint()
		c.GraphEndpoint = sim.GraphEndpoint()
		c.RedirectURI = "http://localhost"
		if proxy {
			c.Proxy = storage.Proxy{Enabled: true, Server: "http://127.0.0.1:9", Username: "u", HasPassword: true}
			if err := repo.Secrets.Set(c.ID, storage.SecretProxyPassword, "pw"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = repo.Secrets.Delete(c.ID, storage.SecretProxyPassword) })
		}
		start := time.Now()
		got := runTestConnectionHook(t, repo, w, c)
		if got.r.TokenOK || got.d == nil {
			t.Fatalf("proxy %v: report %+v", proxy, got.r)
		}
		requireContains(t, "report", got.d.Message.Text, "Generate...")
		requireContains(t, "report", got.d.Message.Text, "no sign-in")
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("proxy %v: the answer took %s", proxy, el)
		}
		onUI(func() { got.d.dlg.Hide() })
	}
}
