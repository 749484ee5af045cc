package auth

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// The token exchange and refreshes go through a real tinyproxy with Basic
// authentication: the right password works (and the proxy logged the token
// request); a proxy that refuses the password (the connection's client,
// service.HTTPClient, reports it as ErrProxyAuth, which service's tests
// check against the real proxy) fails with a clear error and changes
// nothing.
func TestE2EProxyWithBasicAuth(t *testing.T) {
	// Microsoft is https (the proxy tunnels with CONNECT); the plain-http
	// simulator exercises the proxy forwarding requests itself.
	for _, tls := range []bool{true, false} {
		t.Run(map[bool]string{true: "https via CONNECT", false: "http forwarded"}[tls], func(t *testing.T) { testProxy(t, tls) })
	}
}

func testProxy(t *testing.T, tls bool) {
	const user, pass = "beacon", "ProxyPass2026"
	p := testenv.StartProxy(t, user, pass)
	sim := newSim(t, tls)
	conn := sim.conn("http://localhost")
	conn.Proxy = storage.Proxy{Enabled: true, Server: p.URL, Username: user, HasPassword: true}
	st := newStore(t, conn)
	client, err := simClient(conn, pass)
	if err != nil {
		t.Fatal(err)
	}
	signedIn(t, sim, conn, st, FlowOptions{HTTPClient: client})
	log, _ := os.ReadFile(p.LogFile)
	want := "/common/oauth2/v2.0/token"
	if tls {
		want = "CONNECT " + strings.TrimPrefix(sim.URL, "https://")
	}
	if !strings.Contains(string(log), want) {
		t.Fatalf("the token request did not go through the proxy; its log:\n%s", log)
	}
	if strings.Contains(string(log), pass) {
		t.Fatal("the proxy password appears in the proxy's log")
	}

	stored, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
	bad := &http.Client{Transport: refusingProxy{}}
	ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir, HTTPClient: bad})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.TokenContext(ctxTimeout(t, 30*time.Second))
	if !errors.Is(err, ErrProxyAuth) || !strings.Contains(err.Error(), "Proxy Settings") {
		t.Fatalf("wrong proxy password: %v", err)
	}
	if strings.Contains(err.Error(), pass) {
		t.Fatal("the error shows the proxy password")
	}
	if now, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken); now != stored {
		t.Fatal("a failed refresh changed the stored token")
	}
	// With the right password the same refresh works through the proxy.
	ts, _ = NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir, HTTPClient: client})
	if _, err := ts.TokenContext(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("refresh through the proxy: %v", err)
	}
}

// refusingProxy answers every request as the connection's client does
// when the proxy refuses the password.
type refusingProxy struct{}

func (refusingProxy) RoundTrip(*http.Request) (*http.Response, error) { return nil, ErrProxyAuth }

// The device authorization grant: the person enters the code on the
// verification page (in the real browser) and the sign-in completes.
func TestE2EDeviceCode(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost")
	d, err := StartDeviceCode(ctxTimeout(t, 30*time.Second), conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	if d.UserCode == "" || !strings.HasPrefix(d.VerificationURI, sim.URL) {
		t.Fatalf("device code %+v", d)
	}
	testenv.UseBrowser(t, strings.Join([]string{"type=#otc=" + d.UserCode, "click=#next", testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "wait=#message")}, ";"))
	if err := OpenBrowser(d.VerificationURI); err != nil {
		t.Fatal(err)
	}
	res, err := d.Wait(ctxTimeout(t, 60*time.Second))
	if err != nil {
		rep := testenv.WaitBrowserReport(t)
		t.Fatalf("device code: %v (browser %s: %s)", err, rep.Err, rep.Text)
	}
	if res.Info.Account != sim.admin() || res.RefreshToken() == "" {
		t.Fatalf("result %v", res)
	}
}
