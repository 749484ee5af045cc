package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// testConnWindow is a window of the size the app opens with.
func testConnWindow(t *testing.T) fyne.Window {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1024, 700))
	return w
}

// testConnResult is what Test Connection reported and the dialog it showed.
type testConnResult struct {
	r *auth.TestReport
	d *reportDialog
}

// runTestConnectionHook runs the window's Test Connection on c and waits
// for its report.
func runTestConnectionHook(t *testing.T, repo *storage.Repository, w fyne.Window, c storage.Connection) testConnResult {
	t.Helper()
	ctl := newTestConnectionController(authTester{secrets: repo.Secrets, lockDir: repo.Config.Dir()})
	onUI(func() { ctl.run(w, c) })
	waitUI(t, "test report", func() bool { return ctl.ended > 0 })
	var got testConnResult
	onUI(func() { got = testConnResult{ctl.last, ctl.report} })
	return got
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
	requireContains(t, "report", got.d.message.Text, "Connection works")
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
		requireContains(t, "report", got.d.message.Text, "Generate...")
		requireContains(t, "report", got.d.message.Text, "no sign-in")
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("proxy %v: the answer took %s", proxy, el)
		}
		onUI(func() { got.d.dlg.Hide() })
	}
}
