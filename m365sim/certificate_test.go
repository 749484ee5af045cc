package m365sim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// assertion is a client assertion a test can spoil one field of.
type assertion struct {
	cert          *testcert.Cert
	signer        *rsa.PrivateKey // nil: the certificate's key
	alg, aud, jti string
	sha1Thumb     bool
	nbf, exp      time.Time
}

func (a assertion) sign(t *testing.T) string {
	t.Helper()
	h := map[string]string{"alg": a.alg, "typ": "JWT"}
	if a.sha1Thumb {
		s := sha1.Sum(a.cert.Cert.Raw)
		h["x5t"] = base64.RawURLEncoding.EncodeToString(s[:])
	} else {
		s := sha256.Sum256(a.cert.Cert.Raw)
		h["x5t#S256"] = base64.RawURLEncoding.EncodeToString(s[:])
	}
	c := map[string]any{"aud": a.aud, "iss": tenant.ConfidentialClientID, "sub": tenant.ConfidentialClientID,
		"jti": a.jti, "nbf": a.nbf.Unix(), "exp": a.exp.Unix()}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	d := sha256.Sum256([]byte(in))
	key := a.signer
	if key == nil {
		key = a.cert.Key
	}
	var sig []byte
	var err error
	if a.alg == "RS256" {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	} else {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, d[:], nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

type tokenAnswer struct {
	status      int
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

func postAssertion(t *testing.T, s *Server, jwt string) tokenAnswer {
	t.Helper()
	form := url.Values{"client_id": {tenant.ConfidentialClientID}, "grant_type": {"client_credentials"},
		"scope": {"https://graph.microsoft.com/.default"}, "client_assertion": {jwt},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	resp, err := http.PostForm(s.TokenEndpoint(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a tokenAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	a.status = resp.StatusCode
	return a
}

// The token endpoint verifies certificate credentials as Entra does:
// registered certificates (several at once, for rotation), the signature,
// the time window, the audience and single use of each jti.
func TestCertificateCredentials(t *testing.T) {
	now := clock.Now()
	oldC := testcert.New("Beacon old", 0, now.AddDate(0, -11, 0), now.AddDate(0, 1, 0))
	newC := testcert.New("Beacon new", 1, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	s := start(t, Options{Certificates: [][]byte{oldC.CER()}})
	jti := 0
	ok := func(c *testcert.Cert) assertion {
		jti++
		return assertion{cert: c, alg: "PS256", aud: s.TokenEndpoint(), jti: fmt.Sprint("jti-", jti), nbf: now, exp: now.Add(10 * time.Minute)}
	}
	if a := postAssertion(t, s, ok(oldC).sign(t)); a.AccessToken == "" {
		t.Fatalf("registered certificate refused: %+v", a)
	}
	rs := ok(oldC)
	rs.alg, rs.sha1Thumb = "RS256", true
	if a := postAssertion(t, s, rs.sign(t)); a.AccessToken == "" {
		t.Errorf("RS256 with x5t (SHA-1), which Entra still accepts, refused: %+v", a)
	}
	// An unknown certificate: AADSTS700027 with Entra's wording.
	a := postAssertion(t, s, ok(newC).sign(t))
	// Named by x5t#S256, the key is reported by that (SHA-256) thumbprint.
	s256 := sha256.Sum256(newC.Cert.Raw)
	thumb := strings.ToUpper(fmt.Sprintf("%x", s256))
	if a.status != 401 || a.Error != "invalid_client" || len(a.Codes) != 1 || a.Codes[0] != 700027 ||
		!strings.HasPrefix(a.Description, "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '"+thumb+"'") ||
		!strings.Contains(a.Description, "\r\nTrace ID: ") {
		t.Errorf("unknown certificate: %+v", a)
	}
	// Rotation: both registered, both work; the old removed, only the new.
	if _, err := s.RegisterCertificate(newC.CER()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testcert.Cert{oldC, newC} {
		if a := postAssertion(t, s, ok(c).sign(t)); a.AccessToken == "" {
			t.Errorf("%s refused while both are registered: %+v", c.Cert.Subject, a)
		}
	}
	if !s.RemoveCertificate(tenant.KeyCredential{Cert: oldC.Cert}.Thumbprint()) {
		t.Fatal("old certificate not removed")
	}
	if a := postAssertion(t, s, ok(oldC).sign(t)); len(a.Codes) == 0 || a.Codes[0] != 700027 {
		t.Errorf("removed certificate accepted: %+v", a)
	}
	// Signed by another key than the certificate's: invalid signature.
	wrong := ok(newC)
	wrong.signer = oldC.Key
	if a := postAssertion(t, s, wrong.sign(t)); len(a.Codes) == 0 || a.Codes[0] != 700027 || !strings.Contains(a.Description, "did not match the expected signature value") {
		t.Errorf("wrong key: %+v", a)
	}
	// Outside its time window: AADSTS700024.
	late := ok(newC)
	late.nbf, late.exp = now.Add(-time.Hour), now.Add(-50*time.Minute)
	if a := postAssertion(t, s, late.sign(t)); len(a.Codes) == 0 || a.Codes[0] != 700024 || !strings.Contains(a.Description, "Client assertion is not within its valid time range. Current time: ") {
		t.Errorf("expired assertion: %+v", a)
	}
	// Replay of the same jti.
	once := ok(newC).sign(t)
	if a := postAssertion(t, s, once); a.AccessToken == "" {
		t.Fatalf("first use refused: %+v", a)
	}
	if a := postAssertion(t, s, once); a.AccessToken != "" || a.Error != "invalid_client" {
		t.Errorf("replayed assertion accepted: %+v", a)
	}
	// Another audience.
	aud := ok(newC)
	aud.aud = "https://login.microsoftonline.com/other/oauth2/v2.0/token"
	if a := postAssertion(t, s, aud.sign(t)); a.AccessToken != "" || a.Error != "invalid_client" {
		t.Errorf("assertion for another audience accepted: %+v", a)
	}
	// A registered certificate that expired: the key used is expired.
	expired := testcert.New("Beacon expired", 2, now.AddDate(-1, 0, 0), now.Add(-time.Hour))
	if _, err := s.RegisterCertificate(expired.CER()); err != nil {
		t.Fatal(err)
	}
	if a := postAssertion(t, s, ok(expired).sign(t)); len(a.Codes) == 0 || a.Codes[0] != 700027 || !strings.Contains(a.Description, "The key used is expired.") {
		t.Errorf("expired certificate: %+v", a)
	}
}

// GET /applications(appId='…') shows the registration's credentials with
// their end dates, and needs Application.Read.All (or a higher
// permission): without it Graph answers 403.
func TestApplicationCredentialsEndpoint(t *testing.T) {
	now := clock.Now()
	c := testcert.New("Beacon app", 0, now.Add(-time.Hour), now.AddDate(0, 6, 0))
	s := start(t, Options{Certificates: [][]byte{c.CER()}})
	u := s.GraphEndpoint() + "/v1.0/applications(appId='" + tenant.ConfidentialClientID + "')"
	resp, body, err := get(t, http.DefaultClient, u, s.MintAppToken("Application.Read.All"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %v %v: %s", resp, err, body)
	}
	var app struct {
		AppID          string `json:"appId"`
		KeyCredentials []struct {
			CustomKeyIdentifier, EndDateTime, Type, Usage string
		} `json:"keyCredentials"`
		PasswordCredentials []struct{ EndDateTime, Hint string } `json:"passwordCredentials"`
	}
	if err := json.Unmarshal(body, &app); err != nil {
		t.Fatal(err)
	}
	if app.AppID != tenant.ConfidentialClientID || len(app.KeyCredentials) != 1 || len(app.PasswordCredentials) != 1 {
		t.Fatalf("application %s", body)
	}
	k := app.KeyCredentials[0]
	if k.CustomKeyIdentifier != (tenant.KeyCredential{Cert: c.Cert}).Thumbprint() || k.Type != "AsymmetricX509Cert" || k.Usage != "Verify" ||
		k.EndDateTime != c.Cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("keyCredential %+v", k)
	}
	if end, err := time.Parse(time.RFC3339, app.PasswordCredentials[0].EndDateTime); err != nil || !end.After(now) {
		t.Errorf("passwordCredential end %q", app.PasswordCredentials[0].EndDateTime)
	}
	resp, body, _ = get(t, http.DefaultClient, u, s.MintAppToken("User.Read.All"))
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Authorization_RequestDenied") {
		t.Errorf("without Application.Read.All: %d %s", resp.StatusCode, body)
	}
}
