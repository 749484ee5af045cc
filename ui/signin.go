package ui

import (
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// SignIn is the interactive sign-in behind Generate... in the connection
// dialog; cmd/beacon implements it with service.StartSignIn.
type SignIn interface {
	// Start prepares the sign-in of c as typed in the dialog (not
	// necessarily saved): its HTTP client (proxy, CA file) and the
	// redirect listener. proxyPassword is a proxy password typed and not
	// saved yet; "" means the keyring's. It may block on the keyring.
	Start(c storage.Connection, proxyPassword string) (*service.SignInFlow, error)
	// OpenBrowser shows the sign-in address in the administrator's
	// browser.
	OpenBrowser(url string) error
}

// signInRequest is what the connection dialog asks of the sign-in.
type signInRequest struct {
	Parent fyne.Window
	// Connection is the connection as currently typed in the dialog, not
	// necessarily saved.
	Connection storage.Connection
	// ProxyPassword is a proxy password typed in the dialog and not saved
	// yet; empty means use the keyring's, if Connection.Proxy.HasPassword.
	ProxyPassword string
	// Done records the result in the dialog as a pending change (the token
	// reaches the keyring on Save). Called on the Fyne goroutine.
	Done func(refreshToken string, info storage.TokenInfo)
}

// signInStarter is what the connection dialog needs of the sign-in
// controller.
type signInStarter interface {
	start(req signInRequest)
}

// signInController runs Generate...: the waiting dialog, the countdown and
// the report of a failure. The token it gets goes to the connection
// dialog, which keeps it pending until Save.
type signInController struct {
	svc SignIn
	// timeout is how long a sign-in waits; now and tick drive the
	// countdown.
	timeout time.Duration
	now     func() time.Time
	tick    time.Duration

	// The latest sign-in as shown (Fyne goroutine): its waiting dialog,
	// the report of its failure, and how many sign-ins have ended, with
	// the last one's error.
	dialog *signInDialog
	report *reportDialog
	ended  int
	err    error
}

func newSignInController(svc SignIn) *signInController {
	return &signInController{svc: svc, timeout: service.SignInTimeout, now: clock.Now, tick: time.Second}
}

// start runs the sign-in of the connection as typed. Reading the saved
// proxy password and binding the port may block (keyring prompt), so that
// happens off the Fyne goroutine.
func (s *signInController) start(req signInRequest) {
	go func() {
		flow, err := s.svc.Start(req.Connection, req.ProxyPassword)
		doUI(func() {
			if err != nil {
				s.finished(req, err)
				return
			}
			s.dialog = newSignInDialog(s, req, flow)
			s.dialog.start()
		})
	}()
}

// finished records how a sign-in ended and explains a failure; a cancel by
// the administrator needs no explanation (Fyne goroutine).
func (s *signInController) finished(req signInRequest, err error) {
	if err != nil && (!isCancel(err) || isMicrosoftError(err)) {
		s.report = showReport(req.Parent, signInReport(req.Connection, err))
	}
	s.ended++
	s.err = err
}

// uiMu serialises the background results' updates of widgets. The real
// driver runs every fyne.Do on the main goroutine anyway; Fyne's test
// driver runs them on the caller's goroutine, where two background results
// arriving at once would otherwise race.
var uiMu sync.Mutex

func doUI(f func()) {
	fyne.Do(func() {
		uiMu.Lock()
		defer uiMu.Unlock()
		f()
	})
}
