package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	tenantID   = "6c3b0e9f-1d2a-4b7e-9c41-2f5e8a7d9b10"
	domain     = "contoso.onmicrosoft.com"
	publicApp  = tenant.DefaultClientID
	singleApp  = "0a1b2c3d-0000-4000-8000-000000000001" // public, single tenant
	webApp     = "0a1b2c3d-0000-4000-8000-000000000002" // confidential
	spaApp     = "0a1b2c3d-0000-4000-8000-000000000003"
	webSecret  = "web~secret.value"
	adminUPN   = "admin@" + domain
	userUPN    = "user@" + domain
	quickUPN   = "quick@" + domain // no password: signs in from the picker
	offUPN     = "disabled@" + domain
	adminPW    = "Admin-pw-1"
	userPW     = "User-pw-1"
	nativeURI  = "https://login.microsoftonline.com/common/oauth2/nativeclient"
	graph      = "https://graph.microsoft.com"
	productSc  = "offline_access openid profile https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/Reports.Read.All"
	loopbackCB = "http://localhost:53682/callback"
)

var signingKey = []byte("test-signing-key-0123456789abcdef")

// One RSA key for all test servers: generating one per test would cost
// seconds under -race.
var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func idKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		testKey = k
	})
	return testKey
}

// newTenant builds a small tenant by hand.
func newTenant() *tenant.Tenant {
	return &tenant.Tenant{
		ID: tenantID, Domain: domain, DisplayName: "Contoso",
		Users: []*tenant.User{
			{ID: "a0000000-0000-4000-8000-000000000001", UserPrincipalName: adminUPN, DisplayName: "Adele Admin", AccountEnabled: true, Roles: []string{tenant.RoleGlobalAdministrator}, Password: adminPW},
			{ID: "a0000000-0000-4000-8000-000000000002", UserPrincipalName: userUPN, DisplayName: "Uma User", AccountEnabled: true, Password: userPW},
			{ID: "a0000000-0000-4000-8000-000000000003", UserPrincipalName: quickUPN, DisplayName: "Quinn Quick", AccountEnabled: true, Roles: []string{tenant.RoleGlobalReader}},
			{ID: "a0000000-0000-4000-8000-000000000004", UserPrincipalName: offUPN, DisplayName: "Dora Disabled", AccountEnabled: false, Password: "x"},
			{ID: "a0000000-0000-4000-8000-000000000005", UserPrincipalName: "plain@" + domain, DisplayName: "Not Listed", AccountEnabled: true},
		},
		ServicePrincipals: []*tenant.ServicePrincipal{{ID: "5a000000-0000-4000-8000-000000000002", AppID: webApp, DisplayName: "Beacon Daemon"}},
		Apps: []*tenant.AppRegistration{
			{AppID: publicApp, DisplayName: "Inventory Beacon", Kind: tenant.AppPublic, MultiTenant: true,
				RedirectURIs: []string{"http://localhost/callback", "http://127.0.0.1/callback", nativeURI}},
			{AppID: singleApp, DisplayName: "Single Tenant Tool", Kind: tenant.AppPublic, RedirectURIs: []string{"http://localhost/callback"}},
			{AppID: webApp, DisplayName: "Beacon Daemon", Kind: tenant.AppWeb, Secrets: []string{webSecret},
				RedirectURIs: []string{"https://beacon.example/signin"}, AppRoles: []string{"Directory.Read.All", "Reports.Read.All"}},
			{AppID: spaApp, DisplayName: "Beacon SPA", Kind: tenant.AppSPA, MultiTenant: true, RedirectURIs: []string{"http://localhost/callback"}},
		},
	}
}

// fakeClock is the injected clock; tests move it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	srv    *Server
	ts     *httptest.Server
	clock  *fakeClock
	tenant *tenant.Tenant
}

func newEnv(t *testing.T, configure ...func(*Options)) *env {
	t.Helper()
	e := &env{clock: &fakeClock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}, tenant: newTenant()}
	var h http.Handler
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.ts.Close)
	o := Options{
		Tenant: e.tenant, SigningKey: signingKey, GraphResources: []string{graph, e.ts.URL},
		Now: e.clock.Now, IDTokenKey: idKey(t),
	}
	for _, c := range configure {
		c(&o)
	}
	e.srv = New(o)
	h = e.srv
	return e
}

func (e *env) url(p string) string { return e.ts.URL + p }

func (e *env) oauth(clientID, redirect, seg string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:       e.url("/" + seg + "/oauth2/v2.0/authorize"),
			TokenURL:      e.url("/" + seg + "/oauth2/v2.0/token"),
			DeviceAuthURL: e.url("/" + seg + "/oauth2/v2.0/devicecode"),
			// Microsoft's endpoint advertises no auth style.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// post sends a form to the token endpoint and decodes the JSON answer.
func (e *env) post(t *testing.T, path string, form url.Values, header ...string) (int, map[string]any, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m, raw
}

// browser walks the sign-in pages with plain HTTP, keeping cookies and
// stopping at redirects so the final one can be inspected.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	page string // body of the last page
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do returns the status and, for a redirect, its Location.
func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.page = string(raw)
	return resp.StatusCode, resp.Header.Get("Location")
}

func (b *browser) get(u string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

var (
	flowRE   = regexp.MustCompile(`name="flow" value="([^"]+)"`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// submit posts the page's form with the given fields added.
func (b *browser) submit(fields ...string) (int, string) {
	b.t.Helper()
	a := actionRE.FindStringSubmatch(b.page)
	if a == nil {
		b.t.Fatalf("no form on the page:\n%s", b.page)
	}
	v := url.Values{}
	if m := flowRE.FindStringSubmatch(b.page); m != nil {
		v.Set("flow", html.UnescapeString(m[1]))
	}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.url(html.UnescapeString(a[1])), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) expectPage(marker string) {
	b.t.Helper()
	if !strings.Contains(b.page, marker) {
		b.t.Fatalf("page does not contain %q:\n%s", marker, b.page)
	}
}

// signIn goes from an authorize URL through the picker and the password
// page to the consent page (or the redirect, when consent exists).
func (b *browser) signIn(authURL, upn, password string) (int, string) {
	b.t.Helper()
	if code, loc := b.get(authURL); code != http.StatusOK {
		return code, loc
	}
	b.expectPage("Pick an account")
	code, loc := b.submit("upn", upn)
	if code != http.StatusOK || !strings.Contains(b.page, "Enter password") {
		return code, loc
	}
	return b.submit("upn", upn, "password", password)
}

// codeFrom reads the code after a successful authorize redirect, checking
// the state.
func codeFrom(t *testing.T, loc, state string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("error") != "" {
		t.Fatalf("redirect carries an error: %s", loc)
	}
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("redirect %s: want a code and state %q", loc, state)
	}
	return q.Get("code")
}

// obtain runs the whole authorization-code flow for the public app and
// returns the raw token response.
func (e *env) obtain(t *testing.T, upn, password, scope string) map[string]any {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth(publicApp, loopbackCB, "common", strings.Fields(scope)...)
	b := e.browser(t)
	code, loc := b.signIn(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), upn, password)
	if code == http.StatusOK {
		b.expectPage("Permissions requested")
		code, loc = b.submit("action", "accept")
	}
	if code != http.StatusFound {
		t.Fatalf("sign-in ended with %d:\n%s", code, b.page)
	}
	c := codeFrom(t, loc, "st")
	status, m, raw := e.post(t, "/common/oauth2/v2.0/token", url.Values{
		"client_id": {publicApp}, "grant_type": {"authorization_code"}, "code": {c},
		"redirect_uri": {loopbackCB}, "code_verifier": {verifier}, "scope": {scope},
	})
	if status != 200 {
		t.Fatalf("code redemption: %d %s", status, raw)
	}
	return m
}

// normalize replaces what changes from run to run so shapes can be
// compared with golden files.
var (
	guidPat  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	tsPat    = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)
	portPat  = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	jwtPat   = regexp.MustCompile(`"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"`)
	rtPat    = regexp.MustCompile(`"1\.AQ[A-Za-z0-9_\-]+"`)
	dcodePat = regexp.MustCompile(`"DAQABAAEAAA[A-Za-z0-9_\-]+"`)
	ucodePat = regexp.MustCompile(`\b[A-Z2-9]{9}\b`)
)

func normalize(raw []byte) []byte {
	keep := map[string]bool{tenantID: true, publicApp: true, singleApp: true, webApp: true, spaApp: true}
	s := guidPat.ReplaceAllStringFunc(string(raw), func(g string) string {
		if keep[g] {
			return g
		}
		return "<guid>"
	})
	s = tsPat.ReplaceAllString(s, "<timestamp>")
	s = portPat.ReplaceAllString(s, "http://sim")
	s = jwtPat.ReplaceAllString(s, `"<jwt>"`)
	s = rtPat.ReplaceAllString(s, `"<refresh_token>"`)
	s = dcodePat.ReplaceAllString(s, `"<device_code>"`)
	s = ucodePat.ReplaceAllString(s, "<user_code>")
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return []byte(s)
	}
	return pretty(v)
}

// pretty indents JSON without escaping <, > and &, so golden files stay
// readable.
func pretty(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// orderedKeys returns a JSON object's keys in document order: Microsoft's
// field order is part of the shape.
func orderedKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

var bg = context.Background()
