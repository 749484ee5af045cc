package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// The Proxy CA Certificate of a TLS-inspecting proxy is set in the dialog:
// validated as it is typed, chosen with Browse..., saved as caCertFile.

func TestDialogCACertFileIsValidatedAndSaved(t *testing.T) {
	dir := t.TempDir()
	good := testenv.WriteTestCA(t, dir)
	notPEM := filepath.Join(dir, "readme.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{})
	m.systems.create()
	d := m.systems.dialog
	if d == nil {
		t.Fatal("New did not open the dialog")
	}
	test.Type(d.name, "Contoso")
	if d.caCertFile.Text != "" || d.errorText(connector.FieldCACertFile) != "" || d.ok.Disabled() {
		t.Fatalf("empty must be valid (the system's certificates): %q", d.errorText(connector.FieldCACertFile))
	}
	if d.caCertFile.Disabled() || d.caCertBrowse.Disabled() || d.useProxy.Checked {
		t.Fatal("the CA certificate must be editable without Use Proxy (a transparent proxy inspects HTTPS too)")
	}
	requireContains(t, "help", d.help[connector.FieldCACertFile].Text, "Leave empty")

	missing := filepath.Join(dir, "missing.pem")
	test.Type(d.caCertFile, missing)
	requireContains(t, "missing file error", d.errorText(connector.FieldCACertFile), "There is no file at "+missing)
	requireContains(t, "missing file error", d.errorText(connector.FieldCACertFile), "Browse...")
	if !d.ok.Disabled() || !d.generate.Disabled() {
		t.Fatal("OK and Generate... must wait for a usable CA certificate file")
	}
	test.Tap(d.ok)
	if m.systems.dialog.dlg == nil || len(m.cfg.Connections) != 0 {
		t.Fatal("a disabled OK saved the connection")
	}
	retype(d.caCertFile, notPEM)
	requireContains(t, "not PEM error", d.errorText(connector.FieldCACertFile), "no PEM certificate")
	if !d.ok.Disabled() {
		t.Fatal("OK must stay disabled for a file without a certificate")
	}
	for field := range d.errs {
		if field != connector.FieldCACertFile && d.errorText(field) != "" {
			t.Errorf("unexpected error on %s: %s", field, d.errorText(field))
		}
	}

	// A path pasted from Windows' "Copy as path" comes in quotes.
	retype(d.caCertFile, `"`+good+`"`)
	if e := d.errorText(connector.FieldCACertFile); e != "" || d.ok.Disabled() || d.generate.Disabled() {
		t.Fatalf("a valid CA certificate refused: %q", e)
	}
	test.Tap(d.ok)
	if len(m.cfg.Connections) != 1 || m.cfg.Connections[0].CACertFile != good {
		t.Fatalf("pending connections %+v", m.cfg.Connections)
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	raw, err := os.ReadFile(repo.Config.Path())
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Connections []map[string]any `json:"connections"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Connections) != 1 || file.Connections[0]["caCertFile"] != good {
		t.Fatalf("config.json connections: %v", file.Connections)
	}

	// Edit shows the saved path; clearing it goes back to the system's
	// certificates and leaves caCertFile out of the file.
	var got storage.Connection
	d2, _ := testDialog(t, m.cfg.Connections[0], false, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = c })
	if d2.caCertFile.Text != good {
		t.Fatalf("Edit shows %q, want %q", d2.caCertFile.Text, good)
	}
	retype(d2.caCertFile, "")
	test.Tap(d2.ok)
	if got.ID == "" || got.CACertFile != "" {
		t.Fatalf("cleared CA certificate: %+v", got)
	}
}

// Browse... opens a file-open dialog; the file chosen there lands in the
// field and is validated; cancelling changes nothing.
func TestDialogCACertBrowse(t *testing.T) {
	dir := t.TempDir()
	good := testenv.WriteTestCA(t, dir)
	d, w := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, nil)
	before := len(w.Canvas().Overlays().List())
	test.Tap(d.caCertBrowse)
	if len(w.Canvas().Overlays().List()) != before+1 || d.caCertFileDialog == nil {
		t.Fatal("Browse... did not open a file dialog")
	}
	// The test driver cannot pick a file in the dialog's list: hand the
	// choice to its callback as the dialog does.
	d.onCACertChosen(nil, nil) // Cancel
	if d.caCertFile.Text != "" {
		t.Fatalf("cancel set %q", d.caCertFile.Text)
	}
	r, err := fynestorage.Reader(fynestorage.NewFileURI(good))
	if err != nil {
		t.Fatal(err)
	}
	d.onCACertChosen(r, nil)
	if d.caCertFile.Text != good || d.errorText(connector.FieldCACertFile) != "" || d.ok.Disabled() {
		t.Fatalf("chosen file: field %q, error %q", d.caCertFile.Text, d.errorText(connector.FieldCACertFile))
	}
	// Browse... again starts in the folder of the file given.
	test.Tap(d.caCertBrowse)
	if d.caCertFileDialog == nil {
		t.Fatal("Browse... did not open a file dialog again")
	}
	d.caCertFileDialog.Hide()
}

// A connection set up in the dialog with the simulator's CA (the
// simulator serves HTTPS with a certificate of a CA it generates, as a
// TLS-inspecting proxy does) keeps it: Generate... gets it and prepares
// its sign-in through the CA, and OK hands it on with its secret.
func TestDialogCACertFileTrustsSimulatorCA(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 5, Seed: 3, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() })

	var req signInRequest
	var conn storage.Connection
	var changes []storage.SecretChange
	deps := signInFunc(func(r signInRequest) { req = r })
	d, _ := testDialog(t, newNamedConnection("Sim TLS"), true, nil, deps, func(c storage.Connection, ch []storage.SecretChange) {
		conn, changes = c, ch
	})
	d.cloud.SetSelected(connector.CloudCustom)
	retype(d.tokenEndpoint, sim.URL()+"/"+sim.Tenant().ID+"/oauth2/v2.0/token")
	retype(d.authorizationEndpoint, sim.URL()+"/"+sim.Tenant().ID+"/oauth2/v2.0/authorize")
	retype(d.graphEndpoint, sim.GraphEndpoint())
	retype(d.redirectURI, "http://localhost")
	test.Type(d.caCertFile, sim.CAFile())
	test.Tap(d.generate)
	if req.Connection.CACertFile != sim.CAFile() {
		t.Fatalf("Generate... got CA certificate %q, want %q", req.Connection.CACertFile, sim.CAFile())
	}
	flow, err := authSignIn{}.Start(req.Connection, req.ProxyPassword)
	if err != nil {
		t.Fatalf("sign-in preparation with the CA: %v", err)
	}
	flow.Close()
	d.authFlow.SetSelected(string(storage.FlowClientCredentials))
	retype(d.clientID, tenant.ConfidentialClientID)
	test.Type(d.clientSecret, tenant.ConfidentialClientSecret)
	if d.ok.Disabled() {
		t.Fatalf("dialog refused: %v", d.current)
	}
	test.Tap(d.ok)
	if conn.CACertFile != sim.CAFile() {
		t.Fatalf("saved CA certificate %q, want %q", conn.CACertFile, sim.CAFile())
	}
	// Test Connection gets the same connection with its secret; that
	// the CA makes it work is tested with Test Connection itself
	// (cmd/beacon, TestTesterCACertFile).
	if len(changes) != 1 || changes[0].Kind != storage.SecretClientSecret || changes[0].Value != tenant.ConfidentialClientSecret {
		t.Fatalf("changes %+v", changes)
	}
}
