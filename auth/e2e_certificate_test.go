package auth

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// certConn is a Client Credentials connection of the simulator's daemon
// app that signs in with a certificate.
func (s *simEnv) certConn(ci storage.CertificateInfo) storage.Connection {
	return storage.Connection{
		ID: storage.NewID(), Name: "Cert " + storage.NewID()[:6], SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: s.Server.TokenEndpoint(), ClientID: tenant.ConfidentialClientID,
		AuthFlow: storage.FlowClientCredentials, Credential: storage.CredentialCertificate, Certificate: &ci,
		GraphEndpoint: s.URL, CACertFile: s.CAFile,
	}
}

func certTokenSource(t *testing.T, st *store, conn storage.Connection) *TokenSource {
	t.Helper()
	ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// Each way of keeping the certificate signs in against the simulator: a
// PEM file, a PFX file whose password is in the keyring, and the key kept
// in the keyring itself.
func TestE2ECertificateCredentialKinds(t *testing.T) {
	sim := newSim(t, false)
	now := clock.Now()
	tc := testcert.New("Beacon daemon", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if _, err := sim.Server.RegisterCertificate(tc.CER()); err != nil {
		t.Fatal(err)
	}
	pemConn := sim.certConn(storage.CertificateInfo{File: writeFile(t, "daemon.pem", tc.PEM())})
	pfxConn := sim.certConn(storage.CertificateInfo{File: writeFile(t, "daemon.pfx", tc.PFX("Secr3t!")), HasPassword: true})
	keyConn := sim.certConn(storage.CertificateInfo{})
	st := newStore(t, pemConn, pfxConn, keyConn)
	if err := st.secrets.Set(pfxConn.ID, storage.SecretCertificatePassword, "Secr3t!"); err != nil {
		t.Fatal(err)
	}
	c, _ := ParseCertificate(tc.PEM(), "")
	text, _ := c.PEM()
	if err := st.secrets.Set(keyConn.ID, storage.SecretCertificateKey, text); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []storage.Connection{pemConn, pfxConn, keyConn} {
		var got time.Time
		ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir, OnToken: func(at time.Time) { got = at }})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.TokenContext(ctxTimeout(t, 30*time.Second))
		if err != nil {
			t.Errorf("file %q: %v", conn.Certificate.File, err)
			continue
		}
		if tok.AccessToken == "" || got.IsZero() {
			t.Errorf("file %q: no token, or OnToken not called", conn.Certificate.File)
		}
	}
	if n := sim.IdP.Stats().ClientCredentials; n != 3 {
		t.Errorf("%d client-credentials grants, want 3", n)
	}
}

// A certificate the app registration does not have, and a wrong PFX
// password, fail with what to do in plain words.
func TestE2ECertificateRefusedInPlainWords(t *testing.T) {
	sim := newSim(t, false)
	now := clock.Now()
	registered := testcert.New("Registered", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	unknown := testcert.New("Not uploaded", 1, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if _, err := sim.Server.RegisterCertificate(registered.CER()); err != nil {
		t.Fatal(err)
	}
	conn := sim.certConn(storage.CertificateInfo{File: writeFile(t, "unknown.pem", unknown.PEM())})
	pfx := sim.certConn(storage.CertificateInfo{File: writeFile(t, "r.pfx", registered.PFX("right")), HasPassword: true})
	st := newStore(t, conn, pfx)
	_, err := certTokenSource(t, st, conn).TokenContext(ctxTimeout(t, 30*time.Second))
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind() != KindCertificate {
		t.Fatalf("unknown certificate: %v", err)
	}
	if g := Guidance(err); !strings.Contains(g, "Certificates & secrets") || !strings.Contains(g, "AADSTS700027") {
		t.Errorf("guidance: %s", g)
	}
	if err := st.secrets.Set(pfx.ID, storage.SecretCertificatePassword, "wrong"); err != nil {
		t.Fatal(err)
	}
	_, err = certTokenSource(t, st, pfx).TokenContext(ctxTimeout(t, 30*time.Second))
	if !errors.Is(err, ErrCertificatePassword) || !strings.Contains(err.Error(), pfx.Name) {
		t.Errorf("wrong password: %v", err)
	}
	// An expired certificate is not even sent: the message gives its date.
	old := testcert.New("Expired", 0, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1))
	exp := sim.certConn(storage.CertificateInfo{File: writeFile(t, "old.pem", old.PEM())})
	before := sim.IdP.Stats()
	_, err = certTokenSource(t, st, exp).TokenContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "expired on "+old.Cert.NotAfter.UTC().Format("2 January 2006")) {
		t.Errorf("expired certificate: %v", err)
	}
	if after := sim.IdP.Stats(); after.ClientCredentials != before.ClientCredentials || len(after.Errors) != len(before.Errors) {
		t.Errorf("an expired certificate was sent to the token endpoint")
	}
}

// Rotation without a failed token: the new certificate is registered
// beside the old, the connection's file is replaced by the new one, then
// the old is removed; every token request in between succeeds.
func TestE2ECertificateRotation(t *testing.T) {
	sim := newSim(t, false)
	now := clock.Now()
	oldC := testcert.New("Old", 0, now.AddDate(0, -11, 0), now.AddDate(0, 0, 20))
	newC := testcert.New("New", 1, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if _, err := sim.Server.RegisterCertificate(oldC.CER()); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "daemon.pem", oldC.PEM())
	conn := sim.certConn(storage.CertificateInfo{File: path})
	st := newStore(t, conn)
	get := func(step string) {
		t.Helper()
		// A fresh source per step: each scheduled run builds its own.
		if _, err := certTokenSource(t, st, conn).TokenContext(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	get("old only")
	if _, err := sim.Server.RegisterCertificate(newC.CER()); err != nil {
		t.Fatal(err)
	}
	get("both registered, old in use")
	if err := os.WriteFile(path, newC.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	get("both registered, new in use")
	if !sim.Server.RemoveCertificate(tenant.KeyCredential{Cert: oldC.Cert}.Thumbprint()) {
		t.Fatal("old certificate not registered")
	}
	get("new only")
	if n := sim.IdP.Stats().Errors[700027]; n != 0 {
		t.Errorf("%d refusals during the rotation", n)
	}
}
