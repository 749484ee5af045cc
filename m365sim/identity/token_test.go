package identity

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
)

// The whole authorization-code flow with golang.org/x/oauth2 on the other
// side: PKCE, the loopback redirect on any port, the exchange, the claims.
func TestAuthorizationCodeWithOAuth2Client(t *testing.T) {
	e := newEnv(t)
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth(publicApp, "http://localhost:61000/callback", "common",
		"offline_access", "openid", "profile", graph+"/Directory.Read.All", graph+"/Reports.Read.All")
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "select_account"), oauth2.SetAuthURLParam("nonce", "n-1"))

	b := e.browser(t)
	if code, _ := b.signIn(authURL, adminUPN, adminPW); code != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", code, b.page)
	}
	b.expectPage("Permissions requested")
	for _, want := range []string{`data-scope="Directory.Read.All"`, `data-scope="Reports.Read.All"`, `data-scope="offline_access"`, `id="consent_org"`, "Read directory data", "Read all usage reports"} {
		b.expectPage(want)
	}
	code, loc := b.submit("action", "accept")
	if code != http.StatusFound || !strings.HasPrefix(loc, "http://localhost:61000/callback?") {
		t.Fatalf("accept: %d %q", code, loc)
	}
	c := codeFrom(t, loc, "state-1")

	tok, err := conf.Exchange(bg, c, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token: %+v", tok)
	}
	if d := time.Until(tok.Expiry); d < 3500*time.Second || d > 3600*time.Second {
		t.Errorf("expiry in %v, want about 3599 s", d)
	}
	claims, err := accesstoken.Verify(signingKey, tok.AccessToken, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if claims.Audience != graph || claims.TenantID != tenantID || claims.AppID != publicApp ||
		claims.UPN != adminUPN || claims.ObjectID != "a0000000-0000-4000-8000-000000000001" ||
		claims.Scopes != "Directory.Read.All Reports.Read.All" || claims.Name != "Adele Admin" {
		t.Errorf("claims: %+v", claims)
	}
	if claims.Expiry-claims.IssuedAt != 3599 {
		t.Errorf("lifetime %d s", claims.Expiry-claims.IssuedAt)
	}
	if got := tok.Extra("scope"); got != graph+"/Directory.Read.All "+graph+"/Reports.Read.All" {
		t.Errorf("scope %q", got)
	}
	idt, _ := tok.Extra("id_token").(string)
	id := verifyIDToken(t, e, idt)
	if id["aud"] != publicApp || id["nonce"] != "n-1" || id["preferred_username"] != adminUPN ||
		id["tid"] != tenantID || id["iss"] != e.url("/"+tenantID+"/v2.0") || id["name"] != "Adele Admin" {
		t.Errorf("id_token claims: %v", id)
	}

	// The refresh token works through x/oauth2's token source (which sends
	// no scope) and rotates.
	ts := conf.TokenSource(bg, &oauth2.Token{RefreshToken: tok.RefreshToken})
	tok2, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh did not rotate")
	}
	st := e.srv.Stats()
	if st.CodesIssued != 1 || st.CodesRedeemed != 1 || st.Refreshes != 1 || st.AccessTokensIssued != 2 {
		t.Errorf("stats %+v", st)
	}
}

// verifyIDToken checks the RS256 signature against the served JWKS.
func verifyIDToken(t *testing.T, e *env, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q", tok)
	}
	resp, err := http.Get(e.url("/common/discovery/v2.0/keys"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, jwks)
	}
	var hdr struct{ Alg, Kid string }
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(h, &hdr)
	if hdr.Alg != "RS256" || hdr.Kid != jwks.Keys[0].Kid {
		t.Fatalf("header %+v, key %s", hdr, jwks.Keys[0].Kid)
	}
	n, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	ex, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	var claims map[string]any
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(p, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// The success body's shape and field order, per microsoft-wire.md.
func TestTokenSuccessShape(t *testing.T) {
	e := newEnv(t)
	m := e.obtain(t, adminUPN, adminPW, productSc)
	raw, _ := json.Marshal(m)
	golden(t, "token_success.json", normalize(raw))

	// Field order on the wire, from a fresh redemption.
	rt := m["refresh_token"].(string)
	_, _, body := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
	want := []string{"token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token"}
	if got := orderedKeys(t, body); !reflect.DeepEqual(got, want) {
		t.Errorf("field order %v, want %v", got, want)
	}

	// No offline_access: no refresh token; no openid: no id_token.
	e2 := newEnv(t)
	m2 := e2.obtain(t, adminUPN, adminPW, graph+"/Directory.Read.All")
	if _, ok := m2["refresh_token"]; ok {
		t.Error("refresh_token without offline_access")
	}
	if _, ok := m2["id_token"]; ok {
		t.Error("id_token without openid")
	}
	if m2["expires_in"] != float64(3599) || m2["ext_expires_in"] != float64(3599) {
		t.Errorf("expires_in %v", m2["expires_in"])
	}
}

var descRE = regexp.MustCompile(`^AADSTS(\d+): [^\r\n]+\r\nTrace ID: ([0-9a-f-]{36})\r\nCorrelation ID: ([0-9a-f-]{36})\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// checkError asserts the error body's shape and returns it normalised.
func checkError(t *testing.T, status int, m map[string]any, raw []byte, wantStatus int, wantErr string, wantCode int) []byte {
	t.Helper()
	if status != wantStatus || m["error"] != wantErr {
		t.Fatalf("got %d %v, want %d %s: %s", status, m["error"], wantStatus, wantErr, raw)
	}
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(wantCode) {
		t.Fatalf("error_codes %v, want [%d]", m["error_codes"], wantCode)
	}
	d := descRE.FindStringSubmatch(m["error_description"].(string))
	if d == nil || d[1] != jsonNum(wantCode) {
		t.Fatalf("description %q", m["error_description"])
	}
	if d[2] != m["trace_id"] || d[3] != m["correlation_id"] {
		t.Errorf("ids in the description differ from the fields: %s", raw)
	}
	if !strings.HasSuffix(m["error_uri"].(string), "/error?code="+jsonNum(wantCode)) {
		t.Errorf("error_uri %v", m["error_uri"])
	}
	keys := orderedKeys(t, raw)
	want := []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
	if !reflect.DeepEqual(keys[:7], want) {
		t.Errorf("field order %v", keys)
	}
	return normalize(raw)
}

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }

// Every failure of the token endpoint, against one golden file.
func TestTokenErrors(t *testing.T) {
	// Strict rotation: the reuse of a redeemed refresh token is refused.
	e := newEnv(t, func(o *Options) { o.SingleUseRefreshTokens = true })
	tok := func(seg string, kv ...string) (int, map[string]any, []byte) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return e.post(t, "/"+seg+"/oauth2/v2.0/token", v, "client-request-id", "0f0e0d0c-0b0a-4908-8706-050403020100")
	}
	// A code and a refresh token to misuse.
	newCode := func() (string, string) {
		verifier := oauth2.GenerateVerifier()
		conf := e.oauth(publicApp, loopbackCB, "common", strings.Fields(productSc)...)
		b := e.browser(t)
		code, loc := b.signIn(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), adminUPN, adminPW)
		if code == http.StatusOK {
			_, loc = b.submit("action", "accept")
		}
		return codeFrom(t, loc, "s"), verifier
	}

	got := map[string]any{}
	add := func(name string, status int, m map[string]any, raw []byte, wantStatus int, wantErr string, wantCode int) {
		t.Helper()
		var v any
		_ = json.Unmarshal(checkError(t, status, m, raw, wantStatus, wantErr, wantCode), &v)
		got[name] = v
		if m["correlation_id"] != "0f0e0d0c-0b0a-4908-8706-050403020100" {
			t.Errorf("%s: correlation_id %v does not echo client-request-id", name, m["correlation_id"])
		}
	}

	s, m, raw := tok("common", "client_id", publicApp)
	add("missing grant_type", s, m, raw, 400, "invalid_request", 900144)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", "11111111-2222-4333-8444-555555555555", "code", "x")
	add("unknown client", s, m, raw, 400, "unauthorized_client", 700016)
	s, m, raw = tok("fabrikam.onmicrosoft.com", "grant_type", "authorization_code", "client_id", publicApp)
	add("unknown tenant", s, m, raw, 400, "invalid_request", 90002)
	s, m, raw = tok("common", "grant_type", "password", "client_id", publicApp)
	add("unsupported grant", s, m, raw, 400, "unsupported_grant_type", 70003)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", "nonsense", "redirect_uri", loopbackCB)
	add("unknown code", s, m, raw, 400, "invalid_grant", 9002313)

	c, v := newCode()
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", loopbackCB, "code_verifier", v, "client_secret", "s3")
	add("public client with secret", s, m, raw, 401, "invalid_client", 700025)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", loopbackCB, "code_verifier", oauth2.GenerateVerifier())
	add("PKCE mismatch", s, m, raw, 400, "invalid_grant", 501481)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", loopbackCB, "code_verifier", v)
	add("code reused", s, m, raw, 400, "invalid_grant", 54005)

	c, v = newCode()
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", "http://localhost:9/other", "code_verifier", v)
	add("redirect_uri differs", s, m, raw, 400, "invalid_grant", 50011)
	c, v = newCode()
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", loopbackCB)
	add("PKCE verifier missing", s, m, raw, 400, "invalid_grant", 501481)
	c, v = newCode()
	e.clock.Advance(10 * time.Minute)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", publicApp, "code", c, "redirect_uri", loopbackCB, "code_verifier", v)
	add("code expired", s, m, raw, 400, "invalid_grant", 70008)

	s, m, raw = tok(tenantID, "grant_type", "authorization_code", "client_id", webApp, "code", "x", "redirect_uri", "https://beacon.example/signin")
	add("web app without secret", s, m, raw, 401, "invalid_client", 7000218)
	s, m, raw = tok(tenantID, "grant_type", "client_credentials", "client_id", webApp, "client_secret", "wrong", "scope", graph+"/.default")
	add("wrong secret", s, m, raw, 401, "invalid_client", 7000215)
	s, m, raw = tok("common", "grant_type", "authorization_code", "client_id", spaApp, "code", "x", "redirect_uri", loopbackCB)
	add("SPA redeemed by a desktop app", s, m, raw, 400, "invalid_request", 9002327)
	s, m, raw = tok("common", "grant_type", "refresh_token", "client_id", singleApp, "refresh_token", "x")
	add("single-tenant app on common", s, m, raw, 400, "invalid_request", 50194)
	s, m, raw = tok("consumers", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", "x")
	add("work app on consumers", s, m, raw, 400, "unauthorized_client", 700016)

	for _, seg := range []string{"common", "organizations"} {
		s, m, raw = tok(seg, "grant_type", "client_credentials", "client_id", webApp, "client_secret", webSecret, "scope", graph+"/.default")
		add("client credentials on "+seg, s, m, raw, 400, "invalid_request", 50059)
	}
	s, m, raw = tok(tenantID, "grant_type", "client_credentials", "client_id", webApp, "client_secret", webSecret, "scope", graph+"/Directory.Read.All")
	add("client credentials without .default", s, m, raw, 400, "invalid_scope", 1002012)
	s, m, raw = tok(tenantID, "grant_type", "client_credentials", "client_id", webApp, "client_secret", webSecret, "scope", "https://management.azure.com/.default")
	add("unknown resource", s, m, raw, 400, "invalid_resource", 500011)
	s, m, raw = tok(tenantID, "grant_type", "client_credentials", "client_id", publicApp, "scope", graph+"/.default")
	add("client credentials for a public client", s, m, raw, 401, "invalid_client", 7000218)

	// Refresh failures.
	rt := func() string {
		r, err := e.srv.IssueRefreshToken(publicApp, userUPN, "User.Read openid")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := rt()
	s, m, raw = tok("common", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", r1, "scope", graph+"/Directory.Read.All offline_access")
	add("consent missing on refresh", s, m, raw, 400, "invalid_grant", 65001)
	if m["suberror"] != "consent_required" {
		t.Errorf("suberror %v", m["suberror"])
	}
	if s, _, _ := tok("common", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", r1); s != 200 {
		t.Fatalf("a failed consent check must not spend the refresh token: %d", s)
	}
	s, m, raw = tok("common", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", r1)
	add("refresh token reused", s, m, raw, 400, "invalid_grant", 70000)
	r2 := rt()
	e.srv.RevokeRefreshTokens(userUPN)
	s, m, raw = tok("common", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", r2)
	add("refresh token revoked", s, m, raw, 400, "invalid_grant", 50173)
	r3 := rt()
	e.srv.ExpireRefreshTokens()
	s, m, raw = tok("common", "grant_type", "refresh_token", "client_id", publicApp, "refresh_token", r3)
	add("refresh token expired", s, m, raw, 400, "invalid_grant", 700082)

	golden(t, "token_errors.json", pretty(got))

	st := e.srv.Stats()
	if st.Errors[700082] != 1 || st.Errors[50059] != 2 || st.Errors[501481] != 2 {
		t.Errorf("error stats %v", st.Errors)
	}
}

func TestCodeSingleUseAndLifetime(t *testing.T) {
	e := newEnv(t)
	conf := e.oauth(publicApp, loopbackCB, "common", "offline_access", "User.Read")
	run := func(wait time.Duration) error {
		v := oauth2.GenerateVerifier()
		b := e.browser(t)
		code, loc := b.signIn(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), userUPN, userPW)
		if code == http.StatusOK {
			_, loc = b.submit("action", "accept")
		}
		c := codeFrom(t, loc, "s")
		e.clock.Advance(wait)
		_, err := conf.Exchange(bg, c, oauth2.VerifierOption(v))
		if err == nil {
			// Second use of the same code.
			_, err2 := conf.Exchange(bg, c, oauth2.VerifierOption(v))
			if re, ok := err2.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "AADSTS54005") {
				t.Errorf("second redemption: %v", err2)
			}
		}
		return err
	}
	if err := run(10*time.Minute - time.Second); err != nil {
		t.Errorf("a code 1 s before its 10 min life ends: %v", err)
	}
	err := run(10 * time.Minute)
	if re, ok := err.(*oauth2.RetrieveError); !ok || !strings.Contains(re.ErrorDescription, "AADSTS70008") {
		t.Errorf("a 10 min old code: %v", err)
	}
}

// Rotation: strict by default; with a grace window a spent token may be
// redeemed once more, within the window only.
func TestRefreshRotation(t *testing.T) {
	redeem := func(t *testing.T, e *env, rt string) (string, string) {
		t.Helper()
		s, m, raw := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if s != 200 {
			return "", string(raw)
		}
		return m["refresh_token"].(string), ""
	}
	strict := func(o *Options) { o.SingleUseRefreshTokens = true }
	t.Run("entra", func(t *testing.T) {
		// The default, as Microsoft documents: every redemption rotates,
		// and a redeemed token keeps working until it expires or is
		// revoked.
		e := newEnv(t)
		rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
		chain := []string{rt}
		for i := 0; i < 5; i++ {
			next, failure := redeem(t, e, chain[len(chain)-1])
			if failure != "" || next == chain[len(chain)-1] {
				t.Fatalf("refresh %d: %q, same token %v", i, failure, next == chain[len(chain)-1])
			}
			chain = append(chain, next)
		}
		if st := e.srv.Stats(); st.Refreshes != 5 || st.RefreshReuses != 0 {
			t.Fatalf("a clean chain: %+v", st)
		}
		for i, old := range chain[:len(chain)-1] {
			next, failure := redeem(t, e, old)
			if failure != "" || next == "" {
				t.Errorf("redeemed token %d refused: %q", i, failure)
			}
		}
		if st := e.srv.Stats(); st.RefreshReuses != 5 {
			t.Errorf("%d reuses counted, want 5", st.RefreshReuses)
		}
		// A redeemed token still expires with its age and dies with a
		// revocation.
		e.clock.Advance(90 * 24 * time.Hour)
		if _, f := redeem(t, e, chain[1]); !strings.Contains(f, "AADSTS700082") {
			t.Errorf("a redeemed token past its lifetime: %q", f)
		}
		fresh, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
		next, _ := redeem(t, e, fresh)
		e.srv.RevokeRefreshTokens(adminUPN)
		for _, tok := range []string{fresh, next} {
			if _, f := redeem(t, e, tok); !strings.Contains(f, "AADSTS50173") {
				t.Errorf("revoked: %q", f)
			}
		}
	})
	t.Run("strict", func(t *testing.T) {
		e := newEnv(t, strict)
		rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
		chain := []string{rt}
		for i := 0; i < 10; i++ {
			next, failure := redeem(t, e, chain[len(chain)-1])
			if failure != "" {
				t.Fatalf("refresh %d: %s", i, failure)
			}
			chain = append(chain, next)
		}
		for i, old := range chain[:len(chain)-1] {
			if _, failure := redeem(t, e, old); !strings.Contains(failure, "AADSTS70000") {
				t.Errorf("old token %d reused: %q", i, failure)
			}
		}
		if _, failure := redeem(t, e, chain[len(chain)-1]); failure != "" {
			t.Errorf("newest token: %s", failure)
		}
	})
	t.Run("grace", func(t *testing.T) {
		e := newEnv(t, strict, func(o *Options) { o.RefreshGrace = 30 * time.Second })
		rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
		a, _ := redeem(t, e, rt)
		e.clock.Advance(29 * time.Second)
		// The client crashed before storing a: it redeems rt again.
		b, failure := redeem(t, e, rt)
		if failure != "" {
			t.Fatalf("reuse within the grace window: %s", failure)
		}
		if _, failure := redeem(t, e, rt); !strings.Contains(failure, "AADSTS70000") {
			t.Errorf("third redemption: %q", failure)
		}
		// Both children are valid.
		if _, f := redeem(t, e, a); f != "" {
			t.Errorf("first child: %s", f)
		}
		c, f := redeem(t, e, b)
		if f != "" {
			t.Fatalf("second child: %s", f)
		}
		// Past the window a spent token is dead.
		if _, f := redeem(t, e, c); f != "" {
			t.Fatal(f)
		}
		e.clock.Advance(30 * time.Second)
		if _, f := redeem(t, e, c); !strings.Contains(f, "AADSTS70000") {
			t.Errorf("reuse after the window: %q", f)
		}
	})
}

func TestRefreshExpiryAndRevocation(t *testing.T) {
	e := newEnv(t)
	redeem := func(rt string) (int, map[string]any) {
		s, m, _ := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
		return s, m
	}
	codeOf := func(m map[string]any) float64 { c, _ := m["error_codes"].([]any); return c[0].(float64) }

	rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
	e.clock.Advance(90*24*time.Hour - time.Second)
	s, m := redeem(rt)
	if s != 200 {
		t.Fatalf("89.99 days idle: %v", m)
	}
	rt = m["refresh_token"].(string)
	e.clock.Advance(90 * 24 * time.Hour)
	if s, m := redeem(rt); s != 400 || codeOf(m) != 700082 || !strings.Contains(m["error_description"].(string), "inactive for 90.00:00:00") {
		t.Errorf("90 days idle: %v", m)
	}

	// Revocation by app id kills tokens issued before it only.
	before, _ := e.srv.IssueRefreshToken(publicApp, userUPN, "User.Read")
	e.srv.RevokeRefreshTokens(publicApp)
	after, _ := e.srv.IssueRefreshToken(publicApp, userUPN, "User.Read")
	if s, m := redeem(before); s != 400 || codeOf(m) != 50173 {
		t.Errorf("revoked: %v", m)
	}
	if s, m := redeem(after); s != 200 {
		t.Errorf("issued after the revocation: %v", m)
	}

	// A disabled user's token stops working.
	rt, _ = e.srv.IssueRefreshToken(publicApp, userUPN, "User.Read")
	e.tenant.Lock()
	e.tenant.Users[1].AccountEnabled = false
	e.tenant.Unlock()
	if s, m := redeem(rt); s != 400 || codeOf(m) != 50057 {
		t.Errorf("disabled user: %v", m)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	for _, seg := range []string{tenantID, domain} {
		cc := clientcredentials.Config{
			ClientID: webApp, ClientSecret: webSecret, TokenURL: e.url("/" + seg + "/oauth2/v2.0/token"),
			Scopes: []string{graph + "/.default"}, AuthStyle: oauth2.AuthStyleInParams,
		}
		tok, err := cc.Token(bg)
		if err != nil {
			t.Fatalf("%s: %v", seg, err)
		}
		c, err := accesstoken.Verify(signingKey, tok.AccessToken, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c.Audience != graph || c.AppID != webApp || c.ObjectID != "5a000000-0000-4000-8000-000000000002" ||
			!reflect.DeepEqual(c.Roles, []string{"Directory.Read.All", "Reports.Read.All"}) || c.Scopes != "" || c.UPN != "" {
			t.Errorf("%s claims %+v", seg, c)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Errorf("client credentials gave a refresh or id token")
		}
	}
	// Client secret in HTTP Basic works too; the body's shape has no scope.
	req, _ := http.NewRequest(http.MethodPost, e.url("/"+tenantID+"/oauth2/v2.0/token"),
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {e.ts.URL + "/.default"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(webApp, url.QueryEscape(webSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != 200 {
		t.Fatalf("basic auth: %d %s", resp.StatusCode, raw)
	}
	if got, want := orderedKeys(t, raw), []string{"token_type", "expires_in", "ext_expires_in", "access_token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(raw, &body)
	// The simulator's own URL as resource: the token's audience is that URL.
	if c, _ := accesstoken.Verify(signingKey, body.AccessToken, e.clock.Now()); c.Audience != e.ts.URL {
		t.Errorf("aud %q, want %q", c.Audience, e.ts.URL)
	}
	if e.srv.Stats().ClientCredentials != 3 {
		t.Errorf("stats %+v", e.srv.Stats())
	}
}

func TestDiscoveryDocuments(t *testing.T) {
	e := newEnv(t)
	for _, seg := range []string{tenantID, "common"} {
		resp, err := http.Get(e.url("/" + seg + "/v2.0/.well-known/openid-configuration"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if doc["token_endpoint"] != e.url("/"+seg+"/oauth2/v2.0/token") || doc["jwks_uri"] != e.url("/"+seg+"/discovery/v2.0/keys") {
			t.Errorf("%s: %v", seg, doc)
		}
		wantIss := e.url("/" + tenantID + "/v2.0")
		if seg == "common" {
			wantIss = e.url("/{tenantid}/v2.0")
		}
		if doc["issuer"] != wantIss {
			t.Errorf("%s issuer %v", seg, doc["issuer"])
		}
	}
}
