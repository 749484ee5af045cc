package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// runSignIn starts the flow, opens the browser through $BROWSER (the
// driver plays script) and waits for the loopback redirect.
func runSignIn(t *testing.T, conn storage.Connection, opts FlowOptions, script string) (*Result, error, testenv.BrowserReport) {
	t.Helper()
	testenv.UseBrowser(t, script)
	f, err := Start(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := OpenBrowser(f.AuthURL()); err != nil {
		t.Fatal(err)
	}
	res, err := f.Wait(ctxTimeout(t, 90*time.Second))
	return res, err, testenv.WaitBrowserReport(t)
}

func httpClientFor(t *testing.T, conn storage.Connection) FlowOptions {
	t.Helper()
	c, err := simClient(conn, "")
	if err != nil {
		t.Fatal(err)
	}
	return FlowOptions{HTTPClient: c}
}

// The Generate flow as the administrator lives it: pick the account, sign
// in, Accept; the loopback redirect completes, and the refresh token is in
// the real keyring, its description in the configuration, and neither the
// token nor the code in the configuration file or the logs.
func TestE2ELoopbackSignInStoresToken(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	st := newStore(t, conn)
	var logs bytes.Buffer
	opts := httpClientFor(t, conn)
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	res, err, rep := runSignIn(t, conn, opts, testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "wait=#result"))
	if err != nil {
		t.Fatalf("sign-in: %v (browser: %s %s)", err, rep.Err, rep.Text)
	}
	if !strings.Contains(rep.Text, "Signed in") || !strings.Contains(rep.Text, sim.admin()) {
		t.Fatalf("result page: %q", rep.Text)
	}
	if res.Info.Account != sim.admin() || res.Info.TenantID != sim.Tenant.ID || res.Info.ObtainedAt.IsZero() {
		t.Fatalf("token info %+v", res.Info)
	}
	st.keep(t, conn.ID, res)
	got, err := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
	if err != nil || got != res.RefreshToken() {
		t.Fatalf("keyring holds %d bytes (err %v), want the new refresh token", len(got), err)
	}
	cfg, err := st.config.Load()
	if err != nil || cfg.Connections[0].Token == nil || cfg.Connections[0].Token.Account != sim.admin() {
		t.Fatalf("config token %+v (err %v)", cfg.Connections[0].Token, err)
	}
	raw, err := os.ReadFile(st.config.Path())
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"refresh token": res.RefreshToken(), "access token": res.AccessToken()} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the %s is in the configuration file", name)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the %s is in the logs", name)
		}
	}
	if strings.Contains(logs.String(), "code=") {
		t.Errorf("the logs carry a redirect query: %s", logs.String())
	}
	if strings.Contains(res.String(), res.RefreshToken()) || strings.Contains(res.GoString(), res.RefreshToken()) {
		t.Error("a Result prints its token")
	}
}

func TestE2ECancelOnConsentPage(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	_, err, rep := runSignIn(t, conn, httpClientFor(t, conn), testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#cancel", "wait=#result"))
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if !strings.Contains(rep.Text, "cancelled") {
		t.Fatalf("result page %q should say the sign-in was cancelled", rep.Text)
	}
}

// A user without an admin role meets "Need admin approval"; returning to
// the app gives AADSTS90094 and guidance with the admin-consent link.
func TestE2ENonAdminGetsAdminApprovalGuidance(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	_, err, _ := runSignIn(t, conn, httpClientFor(t, conn), testenv.SignInScript(sim.user(), tenant.UserPassword, "click=#returnToApp", "wait=#result"))
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind() != KindAdminApproval || len(ae.Codes) == 0 || ae.Codes[0] != 90094 {
		t.Fatalf("err %v, want admin approval (90094)", err)
	}
	u, perr := url.Parse(ae.AdminConsentURL)
	if perr != nil || u.Host != strings.TrimPrefix(sim.URL, "http://") || u.Path != "/organizations/v2.0/adminconsent" || u.Query().Get("client_id") != tenant.DefaultClientID {
		t.Fatalf("admin-consent URL %q", ae.AdminConsentURL)
	}
	if g := ae.Guidance(); !strings.Contains(g, "administrator") || !strings.Contains(g, ae.AdminConsentURL) {
		t.Fatalf("guidance %q", g)
	}
}

// A callback whose state is not ours (the driver forges it in the
// authorization request) is refused and no code is exchanged.
func TestE2EWrongStateFailsClosed(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	_, err, rep := runSignIn(t, conn, httpClientFor(t, conn), "state=forged-by-attacker;"+testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "wait=#result"))
	if !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("err %v, want state mismatch", err)
	}
	if !strings.Contains(rep.Text, "refused") {
		t.Fatalf("result page %q", rep.Text)
	}
	if st := sim.IdP.Stats(); st.CodesRedeemed != 0 {
		t.Fatalf("%d codes were redeemed after a forged state", st.CodesRedeemed)
	}
}

// The default nativeclient redirect: the browser ends on a page the app
// cannot reach; the administrator pastes its address (with stray
// whitespace) and the code in it is exchanged.
func TestE2ENativeClientPaste(t *testing.T) {
	sim := newSim(t, true)
	// A https redirect the app cannot listen on, served by the simulator
	// like Microsoft's blank nativeclient page.
	redirect := sim.URL + "/common/oauth2/nativeclient"
	sim.registerRedirect(redirect)
	conn := sim.conn(redirect)
	testenv.UseBrowser(t, testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "waiturl=code="))
	f, err := Start(conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.NeedsPaste() {
		t.Fatal("a https redirect must ask for the pasted address")
	}
	if err := OpenBrowser(f.AuthURL()); err != nil {
		t.Fatal(err)
	}
	rep := testenv.WaitBrowserReport(t)
	if rep.Err != "" {
		t.Fatalf("browser: %s", rep.Err)
	}
	res, err := f.CompleteFromPaste(ctxTimeout(t, 30*time.Second), "  \t"+rep.URL+" \r\n")
	if err != nil {
		t.Fatalf("paste: %v", err)
	}
	if res.Info.Account != sim.admin() || res.RefreshToken() == "" {
		t.Fatalf("result %v", res)
	}
	// The code works once: a second paste of the same address is refused.
	if _, err := f.CompleteFromPaste(ctxTimeout(t, 30*time.Second), rep.URL); err == nil {
		t.Fatal("the same sign-in completed twice")
	}
}

// A code taken from one sign-in and fed to another (with that one's state,
// as an attacker who read the state would) fails at Microsoft: the PKCE
// verifier does not match, and the guidance says so.
func TestE2ECodeFromAnotherSignInRefused(t *testing.T) {
	sim := newSim(t, true)
	redirect := sim.URL + "/common/oauth2/nativeclient"
	sim.registerRedirect(redirect)
	conn := sim.conn(redirect)
	testenv.UseBrowser(t, testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "waiturl=code="))
	victim, err := Start(conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	if err := OpenBrowser(victim.AuthURL()); err != nil {
		t.Fatal(err)
	}
	rep := testenv.WaitBrowserReport(t)
	if rep.Err != "" {
		t.Fatalf("browser: %s", rep.Err)
	}
	code := mustQuery(t, rep.URL).Get("code")
	other, err := Start(conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	forged := redirect + "?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(other.state)
	_, err = other.CompleteFromPaste(ctxTimeout(t, 30*time.Second), forged)
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind() != KindPKCE {
		t.Fatalf("err %v, want a PKCE refusal", err)
	}
	if !strings.Contains(ae.Guidance(), "proof key") || ae.TraceID == "" || ae.CorrelationID == "" {
		t.Fatalf("guidance %q", ae.Guidance())
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestE2ETimeout(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	testenv.UseBrowser(t, "wait=button.tile") // the administrator walks away
	f, err := Start(conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := OpenBrowser(f.AuthURL()); err != nil {
		t.Fatal(err)
	}
	if rep := testenv.WaitBrowserReport(t); rep.Err != "" {
		t.Fatalf("browser: %s", rep.Err)
	}
	if _, err := f.Wait(ctxTimeout(t, 300*time.Millisecond)); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("err %v, want time-out", err)
	}
}
