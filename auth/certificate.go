package auth

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/inventorybeacon/beacon/storage"
)

// AssertionLifetime is how long a client assertion is valid. Microsoft
// asks for a short one, "5-10 minutes after nbf".
const AssertionLifetime = 10 * time.Minute

// ClientAssertionType is RFC 7523's client_assertion_type for a JWT.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxCertificateFileSize bounds a PEM or PFX file: a key and a short chain
// are a few KB; anything far larger is the wrong file.
const MaxCertificateFileSize = 1 << 20

// ErrCertificatePassword means a PFX file did not open with the password
// given (or with none).
var ErrCertificatePassword = errors.New("the certificate file's password is wrong: enter the password the file was exported with")

// Certificate is an application's certificate credential: its RSA private
// key and the X.509 certificate uploaded to the app registration.
type Certificate struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// LoadCertificateFile reads a PEM file (private key and certificate) or a
// PFX / PKCS#12 file (opened with password) and checks that the key and
// the certificate belong together. Its errors are plain sentences naming
// the file.
func LoadCertificateFile(path, password string) (*Certificate, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("there is no certificate file at %s: check the path", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("Inventory Beacon may not read the certificate file %s (permission denied): give this account read access to it", path)
	case err != nil:
		return nil, fmt.Errorf("the certificate file %s cannot be read: %v", path, unwrapPath(err))
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a certificate file: choose the .pem or .pfx file itself", path)
	case fi.Size() > MaxCertificateFileSize:
		return nil, fmt.Errorf("%s is %d KB, far too large for a certificate file: check that you chose the right file", path, fi.Size()>>10)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the certificate file %s cannot be read: %v", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCertificateFileSize))
	if err != nil {
		return nil, fmt.Errorf("the certificate file %s cannot be read: %v", path, unwrapPath(err))
	}
	c, err := ParseCertificate(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseCertificate reads a certificate credential from PEM (a PRIVATE KEY
// or RSA PRIVATE KEY block and a CERTIFICATE block, in any order) or from
// PFX / PKCS#12 bytes opened with password.
func ParseCertificate(data []byte, password string) (*Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the certificate file is empty")
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return parsePEM(data)
	}
	if data[0] != 0x30 {
		return nil, errors.New("the file is neither PEM (-----BEGIN ...) nor PFX / PKCS#12: export the certificate with its private key as .pfx, or as PEM")
	}
	key, cert, _, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, ErrCertificatePassword
		}
		// A DER certificate alone (.cer) is also an ASN.1 SEQUENCE.
		if _, cerr := x509.ParseCertificate(data); cerr == nil {
			return nil, errors.New("the file holds only a certificate (.cer), without its private key: choose the .pfx or .pem that holds the private key; the .cer is what you upload to the app registration")
		}
		return nil, fmt.Errorf("the PFX file cannot be opened (%v): export it again with its private key", err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the certificate's key is %T; Microsoft Entra accepts RSA keys only: create an RSA certificate (2048 bits or more)", key)
	}
	return newCertificate(rk, cert)
}

func parsePEM(data []byte) (*Certificate, error) {
	var key *rsa.PrivateKey
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the certificate in the file is damaged (%v)", err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			k, err := parsePrivateKey(b)
			if err != nil {
				return nil, err
			}
			key = k
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key in the PEM file is encrypted: export it unencrypted into a file only this account can read, or use a PFX file with a password")
		}
	}
	switch {
	case key == nil && len(certs) == 0:
		return nil, errors.New("the file holds no PEM private key or certificate")
	case key == nil:
		return nil, errors.New("the file holds a certificate but not its private key: choose the file with both (-----BEGIN PRIVATE KEY----- and -----BEGIN CERTIFICATE-----)")
	case len(certs) == 0:
		return nil, errors.New("the file holds a private key but no certificate: add the certificate (-----BEGIN CERTIFICATE-----) to the same file")
	}
	// The leaf is the certificate of this key; a chain may follow it.
	for _, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&key.PublicKey) {
			return newCertificate(key, c)
		}
	}
	return newCertificate(key, certs[0])
}

func parsePrivateKey(b *pem.Block) (*rsa.PrivateKey, error) {
	if b.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the private key in the file is damaged (%v)", err)
		}
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the private key in the file is damaged (%v)", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T; Microsoft Entra accepts RSA keys only: create an RSA certificate (2048 bits or more)", k)
	}
	return rk, nil
}

func newCertificate(key *rsa.PrivateKey, cert *x509.Certificate) (*Certificate, error) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("the private key does not belong to the certificate (%s, thumbprint %s): export the certificate together with its own private key", cert.Subject, sha1Hex(cert.Raw))
	}
	return &Certificate{Key: key, Cert: cert}, nil
}

// CheckValidAt reports, in plain words, a certificate that is expired or
// not yet valid at now: Microsoft refuses its assertions.
func (c *Certificate) CheckValidAt(now time.Time) error {
	if now.After(c.Cert.NotAfter) {
		return fmt.Errorf("the certificate (%s, thumbprint %s) expired on %s: create a new certificate, upload its .cer to the app registration and choose the new file",
			c.Cert.Subject, c.Thumbprint(), c.Cert.NotAfter.UTC().Format("2 January 2006 15:04 UTC"))
	}
	if now.Before(c.Cert.NotBefore) {
		return fmt.Errorf("the certificate (%s, thumbprint %s) is not valid before %s: check this computer's clock, or wait until then",
			c.Cert.Subject, c.Thumbprint(), c.Cert.NotBefore.UTC().Format("2 January 2006 15:04 UTC"))
	}
	return nil
}

// Thumbprint is the SHA-1 thumbprint in upper-case hex, as the Azure
// portal lists it under Certificates & secrets.
func (c *Certificate) Thumbprint() string { return sha1Hex(c.Cert.Raw) }

func sha1Hex(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Info is the public description stored in the configuration.
func (c *Certificate) Info(file string) storage.CertificateInfo {
	return storage.CertificateInfo{File: file, Thumbprint: c.Thumbprint(), Subject: c.Cert.Subject.String(),
		NotBefore: c.Cert.NotBefore.UTC(), NotAfter: c.Cert.NotAfter.UTC()}
}

// PEM is the key and certificate as one PEM text: what "keep the key in
// the keyring" stores under storage.SecretCertificateKey.
func (c *Certificate) PEM() (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	return b.String(), nil
}

// CER is the certificate alone, PEM encoded: the file to upload to the app
// registration. It holds no private key.
func (c *Certificate) CER() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// ClientAssertion signs the RFC 7523 client assertion Microsoft documents
// for certificate credentials: header alg PS256, typ JWT and x5t#S256 (the
// base64url SHA-256 of the certificate's DER); claims aud = the token
// endpoint, iss = sub = the client ID, a random jti, and nbf, iat and exp
// giving a 10-minute lifetime from now.
func ClientAssertion(c *Certificate, clientID, tokenEndpoint string, now time.Time) (string, error) {
	s256 := sha256.Sum256(c.Cert.Raw)
	header, err := json.Marshal(map[string]string{
		"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:]),
	})
	if err != nil {
		return "", err
	}
	jti, err := randomGUID()
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"aud": strings.TrimSpace(tokenEndpoint), "iss": clientID, "sub": clientID, "jti": jti,
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(AssertionLifetime).Unix(),
	})
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPSS(rand.Reader, c.Key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return "", fmt.Errorf("sign the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func randomGUID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("no randomness for the assertion's jti: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// loadConnectionCertificate reads the certificate of a Certificate
// connection: from its file (with the PFX password from the keyring) or
// from the keyring itself.
func loadConnectionCertificate(c storage.Connection, secrets storage.Secrets) (*Certificate, error) {
	ci := c.Certificate
	if ci == nil {
		return nil, fmt.Errorf("connection %q has no certificate: choose its certificate file in the connection and save", c.Name)
	}
	if ci.File == "" {
		text, err := secrets.Get(c.ID, storage.SecretCertificateKey)
		if errors.Is(err, storage.ErrSecretNotFound) {
			return nil, fmt.Errorf("the certificate of connection %q is not in the keyring: choose its certificate file again and save", c.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("read the certificate of connection %q from the keyring: %w", c.Name, err)
		}
		return ParseCertificate([]byte(text), "")
	}
	password := ""
	if ci.HasPassword {
		p, err := secrets.Get(c.ID, storage.SecretCertificatePassword)
		if err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
			return nil, fmt.Errorf("read the certificate password of connection %q: %w", c.Name, err)
		}
		password = p
	}
	return LoadCertificateFile(ci.File, password)
}
