package identity

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// A redirect URI without a path comes back with a trailing slash, as
// Microsoft's does; the token endpoint still compares the original string.
func TestRedirectWithoutPath(t *testing.T) {
	e := newEnv(t)
	e.tenant.Lock()
	e.tenant.App(publicApp).RedirectURIs = append(e.tenant.App(publicApp).RedirectURIs, "http://localhost")
	e.tenant.Unlock()
	v := oauth2.GenerateVerifier()
	conf := e.oauth(publicApp, "http://localhost:40001", "common", "offline_access", "User.Read")
	b := e.browser(t)
	b.signIn(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), adminUPN, adminPW)
	_, loc := b.submit("action", "accept")
	if !strings.HasPrefix(loc, "http://localhost:40001/?code=") {
		t.Fatalf("redirect %s", loc)
	}
	if _, err := conf.Exchange(bg, codeFrom(t, loc, "s"), oauth2.VerifierOption(v)); err != nil {
		t.Fatal(err)
	}
}

// The generated tenant (another package) works with the identity
// platform: its demo accounts are offered and the product's app signs in.
func TestGeneratedTenant(t *testing.T) {
	tn := tenant.Generate(7, 300)
	ts := httptest.NewServer(nil)
	defer ts.Close()
	srv := New(Options{Tenant: tn, SigningKey: signingKey, IDTokenKey: idKey(t)})
	ts.Config.Handler = srv

	tn.RLock()
	var admin *tenant.User
	for _, u := range tn.Users {
		if u.HasRole(tenant.RoleGlobalAdministrator) {
			admin = u
			break
		}
	}
	app := tn.App(tenant.DefaultClientID)
	tn.RUnlock()
	if admin == nil || app == nil {
		t.Fatalf("generated tenant lacks an admin (%v) or the product's app (%v)", admin, app)
	}
	accounts := srv.pickerAccounts()
	if len(accounts) < 2 || len(accounts) > 12 {
		t.Errorf("picker accounts %v", accounts)
	}
	e := &env{srv: srv, ts: ts, tenant: tn}
	m := e.obtainVia(t, "http://localhost", admin.UserPrincipalName, admin.Password, productSc)
	if m["refresh_token"] == nil {
		t.Errorf("no refresh token: %v", m)
	}
}

// obtainVia is obtain with a chosen redirect URI.
func (e *env) obtainVia(t *testing.T, redirect, upn, password, scope string) map[string]any {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth(tenant.DefaultClientID, redirect, "common", strings.Fields(scope)...)
	b := e.browser(t)
	code, loc := b.signIn(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), upn, password)
	if code == http.StatusOK {
		b.expectPage("Permissions requested")
		code, loc = b.submit("action", "accept")
	}
	if code != http.StatusFound {
		t.Fatalf("sign-in ended with %d:\n%s", code, b.page)
	}
	s, m, raw := e.post(t, "/common/oauth2/v2.0/token", url.Values{
		"client_id": {tenant.DefaultClientID}, "grant_type": {"authorization_code"}, "code": {codeFrom(t, loc, "st")},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	if s != 200 {
		t.Fatalf("redemption: %d %s", s, raw)
	}
	return m
}

// Fuzz the parsers of client input: scopes and redirect URIs. They must
// never panic, and what they accept must be consistent.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{productSc, "User.Read", graph + "/.default", "openid", "a/b/c", "/", "https://graph.microsoft.com//User.Read", "00000003-0000-0000-c000-000000000000/User.Read"} {
		f.Add(s)
	}
	srv := &Server{o: Options{GraphResources: []string{graph}, Tenant: newTenant()}}
	f.Fuzz(func(t *testing.T, scope string) {
		q, e := srv.parseScopes(scope)
		if e != nil {
			return
		}
		if q.Resource == "" || len(q.Perms) == 0 && !q.Default {
			t.Fatalf("accepted %q without a resource permission: %+v", scope, q)
		}
	})
}

func FuzzRedirectMatches(f *testing.F) {
	f.Add("http://localhost/callback", "http://localhost:53682/callback")
	f.Add("http://127.0.0.1", "http://127.0.0.1:1/")
	f.Add(nativeURI, nativeURI+"?x")
	f.Fuzz(func(t *testing.T, registered, got string) {
		if redirectMatches(registered, got) {
			u, err := url.Parse(got)
			if registered != got && (err != nil || u.Scheme != "http") {
				t.Fatalf("%q matched %q", got, registered)
			}
		}
	})
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/common/oauth2/v2.0/token", http.StatusMethodNotAllowed},
		{"GET", "/common/nothing/here", http.StatusNotFound},
		{"GET", "/", http.StatusNotFound},
		{"GET", "/error?code=50011", http.StatusOK},
		{"GET", "/" + domain + "/discovery/v2.0/keys", http.StatusOK},
		{"GET", "/fabrikam.com/discovery/v2.0/keys", http.StatusBadRequest},
		{"POST", "/common/oauth2/v2.0/devicecode", http.StatusBadRequest}, // no client_id
		{"GET", "/common/oauth2/deviceauth", http.StatusOK},
	} {
		req, _ := http.NewRequest(c.method, e.url(c.path), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	// Device code requests are checked like token requests.
	for _, c := range []struct {
		seg, client, scope string
		code               float64
	}{
		{"common", singleApp, "User.Read", 50194},
		{"common", publicApp, "", 900144},
		{"common", publicApp, "Nope.Read", 70011},
		{"common", "11111111-2222-4333-8444-555555555555", "User.Read", 700016},
	} {
		_, m, raw := e.post(t, "/"+c.seg+"/oauth2/v2.0/devicecode", url.Values{"client_id": {c.client}, "scope": {c.scope}})
		if codes, _ := m["error_codes"].([]any); len(codes) != 1 || codes[0] != c.code {
			t.Errorf("devicecode %s: %s", c.client, raw)
		}
	}
}
