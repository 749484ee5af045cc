package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCA makes a self-signed CA certificate, as a TLS-inspecting proxy
// has, and returns its DER with the PKIX DER of its public key and the
// PKCS#8 DER of its private key.
func TestCA(t testing.TB) (certDER, pubDER, keyDER []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Contoso TLS Inspection CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key); err != nil {
		t.Fatal(err)
	}
	if pubDER, err = x509.MarshalPKIXPublicKey(&key.PublicKey); err != nil {
		t.Fatal(err)
	}
	if keyDER, err = x509.MarshalPKCS8PrivateKey(key); err != nil {
		t.Fatal(err)
	}
	return certDER, pubDER, keyDER
}

// PEM encodes der as one PEM block of type typ.
func PEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// WriteTestCA writes a TestCA certificate to a PEM file in dir and
// returns its path.
func WriteTestCA(t testing.TB, dir string) string {
	t.Helper()
	der, _, _ := TestCA(t)
	path := filepath.Join(dir, "contoso-proxy-ca.pem")
	if err := os.WriteFile(path, []byte(PEM("CERTIFICATE", der)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
