package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/storage"
)

// Client Credentials with Credential: Certificate. A wrong password shows
// next to the field and keeps OK disabled; the right one saves the
// certificate's description and puts the password (never into the
// connection) in the keyring changes; keeping the key in the keyring
// stores key and certificate there instead.
func TestConnectionDialogCertificate(t *testing.T) {
	now := clock.Now()
	tc := testcert.New("Beacon UI", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	pfx := filepath.Join(t.TempDir(), "daemon.pfx")
	if err := os.WriteFile(pfx, tc.PFX("Ui-Pa55"), 0o600); err != nil {
		t.Fatal(err)
	}
	var conn storage.Connection
	var changes []storage.SecretChange
	d, _ := testDialog(t, newNamedConnection("Daemon"), true, nil, nil, func(c storage.Connection, ch []storage.SecretChange) {
		conn, changes = c, ch
	})
	d.authFlow.SetSelected(string(storage.FlowClientCredentials))
	retype(d.tokenEndpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
	if d.rows[connector.FieldCertificate].Visible() || !d.rows[connector.FieldClientSecret].Visible() {
		t.Fatal("Client Secret is the default credential")
	}
	d.cert.credential.SetSelected(credentialCertificate)
	if !d.rows[connector.FieldCertificate].Visible() || d.rows[connector.FieldClientSecret].Visible() {
		t.Fatal("Certificate chosen: its row replaces Client Secret's")
	}
	test.Type(d.cert.file, pfx)
	test.Type(d.cert.password, "wrong")
	if !d.ok.Disabled() || !strings.Contains(d.errorText(connector.FieldCertificate), "password is wrong") {
		t.Fatalf("wrong password: OK enabled %v, error %q", !d.ok.Disabled(), d.errorText(connector.FieldCertificate))
	}
	retype(d.cert.password, "Ui-Pa55")
	if d.ok.Disabled() {
		t.Fatalf("refused: %v", d.current)
	}
	test.Tap(d.ok)
	if !conn.UsesCertificate() || conn.Certificate == nil || conn.Certificate.File != pfx || !conn.Certificate.HasPassword || conn.Certificate.Thumbprint == "" {
		t.Fatalf("saved %+v", conn.Certificate)
	}
	if len(changes) != 1 || changes[0].Kind != storage.SecretCertificatePassword || changes[0].Value != "Ui-Pa55" {
		t.Fatalf("changes %+v", changes)
	}

	// Edit: keep the key in the keyring instead of the file.
	d2, _ := testDialog(t, conn, false, nil, nil, func(c storage.Connection, ch []storage.SecretChange) { conn, changes = c, ch })
	if d2.cert.credential.Selected != credentialCertificate || d2.cert.file.Text != pfx {
		t.Fatal("the saved certificate is not shown")
	}
	test.Tap(d2.cert.toKeyring)
	retype(d2.cert.password, "Ui-Pa55")
	test.Tap(d2.ok)
	kinds := map[storage.SecretKind]storage.SecretChange{}
	for _, c := range changes {
		kinds[c.Kind] = c
	}
	if conn.Certificate.File != "" || !strings.Contains(kinds[storage.SecretCertificateKey].Value, "PRIVATE KEY") || !kinds[storage.SecretCertificatePassword].Delete {
		t.Fatalf("to the keyring: %+v, changes %+v", conn.Certificate, changes)
	}

	// Back to a client secret: the certificate and its keyring entry go.
	d3, _ := testDialog(t, conn, false, nil, nil, func(c storage.Connection, ch []storage.SecretChange) { conn, changes = c, ch })
	d3.cert.credential.SetSelected(credentialSecret)
	test.Type(d3.clientSecret, "cs~new-secret")
	test.Tap(d3.ok)
	if conn.UsesCertificate() || conn.Certificate != nil || !conn.HasClientSecret {
		t.Fatalf("back to a secret: %+v", conn)
	}
	deleted := false
	for _, c := range changes {
		deleted = deleted || (c.Kind == storage.SecretCertificateKey && c.Delete)
	}
	if !deleted {
		t.Errorf("the key kept in the keyring is not deleted: %+v", changes)
	}
}

// The dialog and the Inventory Systems page say how old a sign-in is and
// warn before it expires.
func TestExpiryTextInTheWindow(t *testing.T) {
	now := clock.Now()
	c := newNamedConnection("Contoso")
	c.Token = &storage.TokenInfo{ObtainedAt: now.Add(-70 * 24 * time.Hour), Account: "admin@contoso.com"}
	text := expiryText(c, storage.ConnectionState{}, now)
	if !strings.Contains(text, "Sign-in: signed in 70 days ago") || !strings.Contains(text, "in 20 days") {
		t.Errorf("expiry text %q", text)
	}
	d, _ := testDialog(t, c, false, nil, nil, nil)
	if !d.expiry.Visible() || d.expiry.Text != text {
		t.Errorf("dialog shows %q", d.expiry.Text)
	}
}
