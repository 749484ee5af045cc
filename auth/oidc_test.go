package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"

	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"

	"net/url"
	"strings"
	"testing"
	"time"
)

// The id_token checks of OpenID Connect Core §3.1.3.7: signature by the
// issuer's key, iss, aud and exp; and RFC 9207's iss on the redirect.
func TestVerifyIDToken(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "use": "sig", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	}))
	defer srv.Close()
	const iss = "https://idp.example/"
	p := &Provider{Issuer: iss, JWKSURI: srv.URL, client: srv.Client()}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	sign := func(k *rsa.PrivateKey, claims map[string]any) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`))
		b, _ := json.Marshal(claims)
		in := h + "." + base64.RawURLEncoding.EncodeToString(b)
		d := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	good := map[string]any{"iss": iss, "sub": "u1", "aud": "beacon", "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range good {
			c[a] = b
		}
		c[k] = v
		return c
	}
	ctx := context.Background()
	if err := p.verifyIDToken(ctx, sign(key, good), "beacon", now); err != nil {
		t.Fatalf("good: %v", err)
	}
	if err := p.verifyIDToken(ctx, sign(key, with("aud", []string{"x", "beacon"})), "beacon", now); err != nil {
		t.Fatalf("audience list: %v", err)
	}
	for name, c := range map[string]struct {
		tok, want string
	}{
		"signature": {sign(other, good), "does not verify"},
		"issuer":    {sign(key, with("iss", "https://evil.example/")), "issued by"},
		"audience":  {sign(key, with("aud", "someone-else")), "meant for"},
		"expired":   {sign(key, with("exp", now.Add(-time.Hour).Unix())), "expired"},
		"not a JWT": {"abc", "not a signed JWT"},
	} {
		if err := p.verifyIDToken(ctx, c.tok, "beacon", now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	if err := p.checkRedirectIssuer(url.Values{"iss": {iss}}); err != nil {
		t.Errorf("own iss: %v", err)
	}
	if err := p.checkRedirectIssuer(url.Values{"iss": {"https://evil.example/"}}); err != ErrIssuerMismatch {
		t.Errorf("other iss: %v", err)
	}
	if err := p.checkRedirectIssuer(url.Values{}); err != nil {
		t.Errorf("no iss from a provider that does not promise one: %v", err)
	}
	p.AuthorizationResponseIssParameterSupported = true
	if err := p.checkRedirectIssuer(url.Values{}); err != ErrIssuerMismatch {
		t.Errorf("no iss from a provider that promises one: %v", err)
	}
}
