package auth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func validCert() *testcert.Cert {
	now := clock.Now()
	return testcert.New("Beacon Test", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
}

func TestLoadCertificatePEMAndPFX(t *testing.T) {
	tc := validCert()
	for name, path := range map[string]string{
		"pem": writeFile(t, "c.pem", tc.PEM()),
		"pfx": writeFile(t, "c.pfx", tc.PFX("pa55 word")),
	} {
		c, err := LoadCertificateFile(path, "pa55 word")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Thumbprint() != sha1Hex(tc.Cert.Raw) || !c.Key.Equal(tc.Key) {
			t.Errorf("%s: loaded another certificate or key", name)
		}
		if err := c.CheckValidAt(clock.Now()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every failure says in plain words what is wrong with the file.
func TestLoadCertificatePlainErrors(t *testing.T) {
	tc := validCert()
	other := testcert.New("Other", 1, clock.Now().Add(-time.Hour), clock.Now().AddDate(1, 0, 0))
	mismatch := append(append([]byte{}, tc.PEM()[:strings.Index(string(tc.PEM()), "-----BEGIN CERTIFICATE")]...), other.CER()...)
	cases := []struct {
		name, path, password, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope.pfx"), "", "there is no certificate file at"},
		{"wrong password", writeFile(t, "c.pfx", tc.PFX("right")), "wrong", "password is wrong"},
		{"no password", writeFile(t, "c.pfx", tc.PFX("right")), "", "password is wrong"},
		{"cer only", writeFile(t, "c.cer", tc.Cert.Raw), "", "without its private key"},
		{"pem cert only", writeFile(t, "c.pem", tc.CER()), "", "not its private key"},
		{"mismatch", writeFile(t, "m.pem", mismatch), "", "does not belong to the certificate"},
		{"empty", writeFile(t, "e.pem", nil), "", "empty"},
		{"text", writeFile(t, "x.pem", []byte("hello")), "", "neither PEM"},
	}
	for _, c := range cases {
		_, err := LoadCertificateFile(c.path, c.password)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want it to say %q", c.name, err, c.want)
		}
	}
	if _, err := LoadCertificateFile(writeFile(t, "c.pfx", tc.PFX("right")), "wrong"); !errors.Is(err, ErrCertificatePassword) {
		t.Errorf("a wrong password is not ErrCertificatePassword: %v", err)
	}
}

func TestCertificateValidityWindow(t *testing.T) {
	now := clock.Now()
	expired := testcert.New("Old", 0, now.AddDate(-2, 0, 0), now.AddDate(0, 0, -3))
	c, err := ParseCertificate(expired.PEM(), "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckValidAt(now)
	if err == nil || !strings.Contains(err.Error(), "expired on "+expired.Cert.NotAfter.UTC().Format("2 January 2006")) {
		t.Errorf("expired: %v", err)
	}
	future := testcert.New("Future", 0, now.AddDate(0, 0, 2), now.AddDate(1, 0, 0))
	c, _ = ParseCertificate(future.PEM(), "")
	if err := c.CheckValidAt(now); err == nil || !strings.Contains(err.Error(), "not valid before") {
		t.Errorf("not yet valid: %v", err)
	}
}

// The assertion is what Microsoft documents: PS256 with x5t#S256, aud the
// token endpoint, iss = sub = client ID, a unique jti, a 10-minute window.
func TestClientAssertionShape(t *testing.T) {
	tc := validCert()
	c, _ := ParseCertificate(tc.PEM(), "")
	now := clock.Now()
	const ep = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
	a1, err := ClientAssertion(c, "11111111-2222-3333-4444-555555555555", ep, now)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := ClientAssertion(c, "11111111-2222-3333-4444-555555555555", ep, now)
	parts := strings.Split(a1, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", a1)
	}
	var h map[string]string
	var cl map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &cl) != nil {
		t.Fatal("header or claims are not JSON")
	}
	sum := sha256.Sum256(tc.Cert.Raw)
	if h["alg"] != "PS256" || h["typ"] != "JWT" || h["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("header %v", h)
	}
	if cl["aud"] != ep || cl["iss"] != cl["sub"] || cl["iss"] != "11111111-2222-3333-4444-555555555555" {
		t.Errorf("claims %v", cl)
	}
	if int64(cl["exp"].(float64))-int64(cl["nbf"].(float64)) != 600 || int64(cl["nbf"].(float64)) != now.Unix() {
		t.Errorf("lifetime: nbf %v exp %v, want now and now+600", cl["nbf"], cl["exp"])
	}
	var cl2 map[string]any
	cb2, _ := base64.RawURLEncoding.DecodeString(strings.Split(a2, ".")[1])
	_ = json.Unmarshal(cb2, &cl2)
	if cl["jti"] == cl2["jti"] || cl["jti"] == "" {
		t.Errorf("jti not unique: %v and %v", cl["jti"], cl2["jti"])
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPSS(&tc.Key.PublicKey, crypto.SHA256, d[:], sig, nil); err != nil {
		t.Errorf("signature: %v", err)
	}
}
