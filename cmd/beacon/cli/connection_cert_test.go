package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/storage"
)

// `beacon connection add|set` with a certificate: the PFX password from
// stdin goes to the keyring, --certificate-to-keyring keeps the key there
// instead of a file, a wrong password or an expired certificate is refused
// in plain words before anything is saved, and no key or password is in
// any file the command writes.
func TestConnectionCertificate(t *testing.T) {
	e := newConnEnv(t)
	now := clock.Now()
	tc := testcert.New("Beacon CLI", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	dir := t.TempDir()
	pfx := filepath.Join(dir, "daemon.pfx")
	pemFile := filepath.Join(dir, "daemon.pem")
	if err := os.WriteFile(pfx, tc.PFX("Pfx-Pa55"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemFile, tc.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"connection", "add", "Daemon", "--auth-flow", "client-credentials", "--token-endpoint", tenantToken}

	_, errs := e.must("wrong\n", ExitUsage, append(base, "--certificate-file", pfx, "--certificate-password-stdin")...)
	if !strings.Contains(errs, "password is wrong") || len(e.config().Connections) != 0 {
		t.Fatalf("wrong password: %s", errs)
	}
	_, errs = e.must("", ExitFailed, append(base, "--credential", "certificate")...)
	if !strings.Contains(errs, "Certificate (--certificate-file): Choose the certificate file") {
		t.Errorf("certificate credential without a file: %s", errs)
	}
	out, _ := e.must("Pfx-Pa55\n", ExitOK, append(base, "--certificate-file", pfx, "--certificate-password-stdin")...)
	c := e.conn("Daemon")
	if !c.UsesCertificate() || c.Certificate == nil || c.Certificate.File != pfx || !c.Certificate.HasPassword ||
		!c.Certificate.NotAfter.Equal(tc.Cert.NotAfter.UTC()) || !strings.Contains(out, c.Certificate.Thumbprint) {
		t.Fatalf("saved %+v %+v\n%s", c, c.Certificate, out)
	}
	if e.secret(c.ID, storage.SecretCertificatePassword) != "Pfx-Pa55" {
		t.Error("the PFX password is not in the keyring")
	}
	out, _ = e.must("", ExitOK, "connection", "show", "Daemon")
	if !strings.Contains(out, "Certificate:") || !strings.Contains(out, "password in the keyring") {
		t.Errorf("show:\n%s", out)
	}

	// The key kept in the keyring: no file needed, the password dropped.
	e.must("", ExitOK, "connection", "set", "Daemon", "--certificate-file", pemFile, "--certificate-to-keyring")
	c = e.conn("Daemon")
	if c.Certificate.File != "" || c.Certificate.HasPassword || e.secret(c.ID, storage.SecretCertificatePassword) != "" ||
		!strings.Contains(e.secret(c.ID, storage.SecretCertificateKey), "PRIVATE KEY") {
		t.Fatalf("key to the keyring: %+v", c.Certificate)
	}

	// An expired certificate is refused with its end date.
	old := testcert.New("Old", 0, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -2))
	oldFile := filepath.Join(dir, "old.pem")
	if err := os.WriteFile(oldFile, old.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs = e.must("", ExitUsage, "connection", "set", "Daemon", "--certificate-file", oldFile)
	if !strings.Contains(errs, "expired on "+old.Cert.NotAfter.UTC().Format("2 January 2006")) {
		t.Errorf("expired: %s", errs)
	}
	e.noSecretInFiles("Pfx-Pa55", "PRIVATE KEY")

	// Back to a client secret: the certificate's secrets go.
	e.must(testSecret+"\n", ExitOK, "connection", "set", "Daemon", "--credential", "client secret", "--client-secret-stdin")
	c = e.conn("Daemon")
	if c.UsesCertificate() || c.Certificate != nil || e.secret(c.ID, storage.SecretCertificateKey) != "" || !c.HasClientSecret {
		t.Errorf("back to a secret: %+v", c)
	}
}
