package ui

// The app's Generate... flow end to end: the hook the connection dialog
// calls, the simulator as Microsoft, and one real headless Chromium
// (testenv.UseBrowser).

import (
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// Generate... from the dialog's hook: the browser signs in, the dialog gets
// the refresh token and its description through req.Done.
func TestGenerateEndToEndInChromium(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 20, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() }) // Close waits for Chromium's idle connections
	admin := tenant.AdminLocalPart + "@" + sim.Tenant().Domain
	testenv.UseBrowser(t, testenv.SignInScript(admin, tenant.AdminPassword, "click=#accept", "wait=#result"))

	c := connector.NewConnection()
	c.Name, c.Cloud = "Sim", "Custom"
	c.TokenEndpoint = sim.URL() + "/common/oauth2/v2.0/token"
	c.AuthorizationEndpoint = sim.URL() + "/common/oauth2/v2.0/authorize"
	c.GraphEndpoint = sim.GraphEndpoint()
	c.RedirectURI = "http://localhost"
	h, _ := newGenerateHarness(t, nil, 0, nil)
	h.ctl.svc = authSignIn{} // the browser driver, through BROWSER
	tokens := make(chan string, 1)
	req := signInRequest{Parent: h.win, Connection: c, Done: func(rt string, info storage.TokenInfo) {
		tokens <- rt
		h.done <- info
	}}
	onUI(func() { h.ctl.start(req) })
	h.shown(t)
	if err := h.finished(t); err != nil {
		rep := testenv.WaitBrowserReport(t)
		t.Fatalf("sign-in: %v (browser: %s%s)", err, rep.Err, rep.Text)
	}
	info := recvTB(t, h.done, "token")
	if rt := recvTB(t, tokens, "refresh token"); rt == "" || info.Account != admin || info.TenantID != sim.Tenant().ID {
		t.Fatalf("token info %+v", info)
	}
	if rep := testenv.WaitBrowserReport(t); rep.Err != "" || !strings.Contains(rep.Text, "Signed in") {
		t.Fatalf("browser ended on %q (%s)", rep.Text, rep.Err)
	}
}
