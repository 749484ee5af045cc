// Package testcert makes self-signed RSA certificates for tests of
// certificate credentials: dated relative to the time a test gives (the
// program clock, so the suite passes on any date and under
// BEACON_CLOCK_SHIFT), as PEM (key and certificate), PFX with a password,
// or the certificate alone (the .cer uploaded to an app registration).
package testcert

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Cert is a generated key and certificate.
type Cert struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// keys are generated once per process: RSA generation is slow under
// -race and tests need only a few distinct keys.
var (
	keysMu sync.Mutex
	keys   []*rsa.PrivateKey
)

// key returns the n-th cached key, generating it on first use.
func key(n int) *rsa.PrivateKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	for len(keys) <= n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys = append(keys, k)
	}
	return keys[n]
}

// New is a certificate for CN=name valid from notBefore to notAfter, with
// the keyIndex-th key of the process (two calls with the same index share
// a key; different indexes never do).
func New(name string, keyIndex int, notBefore, notAfter time.Time) *Cert {
	k := key(keyIndex)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &Cert{Key: k, Cert: c}
}

// PEM is the private key (PKCS#8) followed by the certificate.
func (c *Cert) PEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b.Write(c.CER())
	return b.Bytes()
}

// CER is the certificate alone, PEM encoded.
func (c *Cert) CER() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// PFX is a PKCS#12 file of the key and certificate under password.
func (c *Cert) PFX(password string) []byte {
	b, err := pkcs12.Modern.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		panic(err)
	}
	return b
}
