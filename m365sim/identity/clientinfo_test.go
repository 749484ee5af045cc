package identity

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// decodeClientInfo reads client_info as MSAL does: base64url JSON.
func decodeClientInfo(t *testing.T, v any) map[string]string {
	t.Helper()
	s, _ := v.(string)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("client_info %q is not unpadded base64url: %v", s, err)
	}
	var ci map[string]string
	if err := json.Unmarshal(b, &ci); err != nil {
		t.Fatalf("client_info %s: %v", b, err)
	}
	return ci
}

// client_info comes with every delegated grant that asks for it
// (client_info=1, as MSAL sends), last in the body, and never otherwise.
func TestClientInfo(t *testing.T) {
	e := newEnv(t)
	adminOID := e.tenant.Users[0].ID
	rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
	refresh := func(extra url.Values) (map[string]any, []byte) {
		f := url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for k, v := range extra {
			f[k] = v
		}
		s, m, raw := e.post(t, "/common/oauth2/v2.0/token", f)
		if s != 200 {
			t.Fatalf("refresh: %d %s", s, raw)
		}
		rt = m["refresh_token"].(string)
		return m, raw
	}
	m, raw := refresh(url.Values{"client_info": {"1"}})
	want := []string{"token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token", "client_info"}
	if got := orderedKeys(t, raw); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	if ci := decodeClientInfo(t, m["client_info"]); !reflect.DeepEqual(ci, map[string]string{"uid": adminOID, "utid": tenantID}) {
		t.Errorf("client_info %v", ci)
	}
	for _, extra := range []url.Values{nil, {"client_info": {"0"}}} {
		if m, _ := refresh(extra); m["client_info"] != nil {
			t.Errorf("client_info with %v: %v", extra, m["client_info"])
		}
	}

	// The authorization code and device code grants too.
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth(publicApp, loopbackCB, "common", "openid", "profile", "offline_access", "User.Read")
	b := e.browser(t)
	code, loc := b.signIn(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), userUPN, userPW)
	if code == http.StatusOK {
		code, loc = b.submit("action", "accept")
	}
	if code != http.StatusFound {
		t.Fatalf("sign-in: %d %s", code, b.page)
	}
	s, m, raw := e.post(t, "/common/oauth2/v2.0/token", url.Values{
		"client_id": {publicApp}, "grant_type": {"authorization_code"}, "code": {codeFrom(t, loc, "st")},
		"redirect_uri": {loopbackCB}, "code_verifier": {verifier}, "client_info": {"1"},
	})
	if s != 200 {
		t.Fatalf("code: %d %s", s, raw)
	}
	if ci := decodeClientInfo(t, m["client_info"]); ci["uid"] != e.tenant.Users[1].ID || ci["utid"] != tenantID {
		t.Errorf("code grant client_info %v", ci)
	}
	dm, _ := e.deviceCode(t, tenantID)
	e.enterCode(t, dm["user_code"].(string), adminUPN, adminPW, "accept")
	s, m, raw = e.post(t, "/"+tenantID+"/oauth2/v2.0/token?client_info=1", url.Values{
		"client_id": {publicApp}, "grant_type": {"device_code"}, "device_code": {dm["device_code"].(string)}})
	if s != 200 {
		t.Fatalf("device code: %d %s", s, raw)
	}
	if ci := decodeClientInfo(t, m["client_info"]); ci["uid"] != adminOID {
		t.Errorf("device code client_info (asked in the query) %v", ci)
	}

	// An application token has no user: no client_info.
	s, m, raw = e.post(t, "/"+tenantID+"/oauth2/v2.0/token", url.Values{"client_id": {webApp}, "client_secret": {webSecret},
		"grant_type": {"client_credentials"}, "scope": {graph + "/.default"}, "client_info": {"1"}})
	if s != 200 || m["client_info"] != nil {
		t.Errorf("client credentials: %d %s", s, raw)
	}
}

// login_hint is an optional claim: in id_tokens only when the app
// registration asks for it, opaque, and good as the login_hint parameter
// of a later sign-in even after the user's UPN changed.
func TestLoginHintClaim(t *testing.T) {
	e := newEnv(t)
	rt, _ := e.srv.IssueRefreshToken(publicApp, adminUPN, productSc)
	idToken := func() map[string]any {
		t.Helper()
		s, m, raw := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if s != 200 {
			t.Fatalf("refresh: %d %s", s, raw)
		}
		rt = m["refresh_token"].(string)
		return verifyIDToken(t, e, m["id_token"].(string))
	}
	if c := idToken(); c["login_hint"] != nil {
		t.Errorf("login_hint without the optional claim: %v", c["login_hint"])
	}
	e.tenant.Lock()
	e.tenant.Apps[0].IDTokenClaims = []string{"login_hint"}
	e.tenant.Unlock()
	hint, _ := idToken()["login_hint"].(string)
	if hint == "" || strings.Contains(hint, adminUPN) {
		t.Fatalf("login_hint %q: want an opaque value", hint)
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hint, "O.")); err != nil {
		t.Errorf("login_hint %q is not base64: %v", hint, err)
	}
	if again, _ := idToken()["login_hint"].(string); again != hint {
		t.Errorf("login_hint changed between tokens: %q, %q", hint, again)
	}

	// The user's UPN changes; the hint still names them: the sign-in goes
	// straight to their password page.
	renamed := "adele@" + domain
	e.tenant.Lock()
	e.tenant.Users[0].UserPrincipalName = renamed
	e.tenant.Unlock()
	b := e.browser(t)
	conf := e.oauth(publicApp, loopbackCB, "common", strings.Fields(productSc)...)
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("login_hint", hint))
	if code, loc := b.get(authURL); code != http.StatusOK {
		t.Fatalf("authorize with the hint: %d %s", code, loc)
	}
	b.expectPage("Enter password")
	b.expectPage(renamed)
	// Anything else is still a typed UPN, as before.
	for _, h := range []string{"O.bm90IGEgaGludA==", "O.%%%", userUPN} {
		if got := e.srv.loginHintUPN(h); got != h {
			t.Errorf("loginHintUPN(%q) = %q", h, got)
		}
	}
}

func FuzzLoginHintClaim(f *testing.F) {
	f.Add("a0000000-0000-4000-8000-000000000001", tenantID, adminUPN)
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, oid, tid, upn string) {
		h := loginHintClaim(oid, tid, upn)
		o, ti, u, ok := parseLoginHintClaim(h)
		if !ok || o != oid || ti != tid || u != upn {
			t.Fatalf("round trip of %q %q %q: %q %q %q %v", oid, tid, upn, o, ti, u, ok)
		}
		_, _, _, _ = parseLoginHintClaim(h[:len(h)/2])
	})
}
