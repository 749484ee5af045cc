package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestRedirectMatching(t *testing.T) {
	for _, c := range []struct {
		registered, got string
		want            bool
	}{
		{"http://localhost/callback", "http://localhost:53682/callback", true},
		{"http://localhost/callback", "http://localhost/callback", true},
		{"http://localhost", "http://localhost:1234/", true},
		{"http://localhost", "http://localhost:1234", true},
		{"http://127.0.0.1/callback", "http://127.0.0.1:40000/callback", true},
		{"http://localhost/callback", "http://localhost:53682/other", false},
		{"http://localhost/callback", "http://127.0.0.1:53682/callback", false},
		{"http://localhost/callback", "http://[::1]:53682/callback", false},
		{"https://beacon.example/signin", "https://beacon.example:444/signin", false},
		{"https://beacon.example/signin", "https://beacon.example/signin/", false},
		{nativeURI, nativeURI, true},
	} {
		if got := redirectMatches(c.registered, c.got); got != c.want {
			t.Errorf("%s vs registered %s: %v, want %v", c.got, c.registered, got, c.want)
		}
	}
}

// authURL builds an authorize URL by hand, for requests x/oauth2 would not
// make.
func (e *env) authURL(seg string, kv ...string) string {
	v := url.Values{"response_type": {"code"}, "client_id": {publicApp}, "redirect_uri": {loopbackCB},
		"scope": {productSc}, "state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return e.url("/" + seg + "/oauth2/v2.0/authorize?" + v.Encode())
}

// Errors before the redirect URI is trusted show a page; after, they go to
// the client.
func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	pages := []struct {
		name string
		url  string
		code string
	}{
		{"redirect URI not registered", e.authURL("common", "redirect_uri", "http://localhost:1/elsewhere"), "50011"},
		{"redirect URI [::1]", e.authURL("common", "redirect_uri", "http://[::1]:53682/callback"), "50011"},
		{"unknown client", e.authURL("common", "client_id", "11111111-2222-4333-8444-555555555555"), "700016"},
		{"unknown tenant", e.authURL("fabrikam.com"), "90002"},
		{"consumers", e.authURL("consumers"), "700016"},
	}
	for _, p := range pages {
		b := e.browser(t)
		status, loc := b.get(p.url)
		if status != http.StatusBadRequest || loc != "" {
			t.Errorf("%s: %d %q, want the error page and no redirect", p.name, status, loc)
		}
		if !strings.Contains(b.page, `data-code="`+p.code+`"`) || !strings.Contains(b.page, "AADSTS"+p.code) || !strings.Contains(b.page, "Correlation Id:") {
			t.Errorf("%s: page lacks AADSTS%s:\n%s", p.name, p.code, b.page)
		}
	}
	redirects := []struct {
		name      string
		url       string
		err, code string
	}{
		{"single-tenant app on common", e.authURL("common", "client_id", singleApp), "invalid_request", "50194"},
		{"single-tenant app on organizations", e.authURL("organizations", "client_id", singleApp), "invalid_request", "50194"},
		{"implicit flow", e.authURL("common", "response_type", "token"), "unsupported_response_type", "700054"},
		{"no PKCE from a public client", e.authURL("common", "code_challenge", "", "code_challenge_method", ""), "invalid_request", "9002325"},
		{"short challenge", e.authURL("common", "code_challenge", "abc"), "invalid_request", "501491"},
		{"unknown permission", e.authURL("common", "scope", "Mail.Send"), "invalid_scope", "70011"},
		{"two resources", e.authURL("common", "scope", graph+"/User.Read https://outlook.office.com/Mail.Read"), "invalid_resource", "500011"},
		{"prompt=none without a session", e.authURL("common", "prompt", "none"), "login_required", "50058"},
	}
	for _, r := range redirects {
		b := e.browser(t)
		status, loc := b.get(r.url)
		u, _ := url.Parse(loc)
		q := u.Query()
		if status != http.StatusFound || !strings.HasPrefix(loc, loopbackCB+"?") || q.Get("error") != r.err ||
			!strings.HasPrefix(q.Get("error_description"), "AADSTS"+r.code+": ") || q.Get("state") != "st" ||
			!strings.Contains(q.Get("error_description"), "\r\nTrace ID: ") || q.Get("error_uri") == "" {
			t.Errorf("%s: %d %s", r.name, status, loc)
		}
	}
	// The single-tenant app works on its own tenant.
	b := e.browser(t)
	if status, _ := b.get(e.authURL(tenantID, "client_id", singleApp)); status != http.StatusOK {
		t.Errorf("single-tenant app on its tenant: %d %s", status, b.page)
	}
	b.expectPage("Pick an account")
}

func TestPickerAndSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get(e.authURL("common", "prompt", "select_account", "scope", "offline_access User.Read"))
	for _, upn := range []string{adminUPN, userUPN, quickUPN} {
		b.expectPage(`data-upn="` + upn + `"`)
	}
	if strings.Contains(b.page, "plain@") {
		t.Error("a user without role or password is listed")
	}
	// Use another account: a typed UPN and a wrong, then right, password.
	b.submit("upn", "")
	b.expectPage(`id="username"`)
	b.submit("upn", "nobody@"+domain, "password", "x")
	b.expectPage("This username may be incorrect")
	b.submit("upn", userUPN, "password", "wrong")
	b.expectPage("Your account or password is incorrect")
	if status, _ := b.submit("upn", userUPN, "password", userPW); status != http.StatusOK {
		t.Fatalf("right password: %d", status)
	}
	b.expectPage("Permissions requested")
	if strings.Contains(b.page, "consent_org") {
		t.Error("a non-admin sees the organisation checkbox")
	}
	// A disabled account gets AADSTS50057.
	b2 := e.browser(t)
	b2.get(e.authURL("common"))
	b2.submit("upn", offUPN, "password", "x")
	b2.expectPage(`data-code="50057"`)
	st := e.srv.Stats()
	if st.Errors[50034] != 1 || st.Errors[50126] != 1 || st.Errors[50057] != 1 {
		t.Errorf("stats %v", st.Errors)
	}
}

func TestCancelGivesAccessDenied(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.signIn(e.authURL("common"), adminUPN, adminPW)
	b.expectPage("Permissions requested")
	consentPage := b.page
	status, loc := b.submit("action", "cancel")
	u, _ := url.Parse(loc)
	q := u.Query()
	if status != http.StatusFound || q.Get("error") != "access_denied" || q.Get("error_subcode") != "cancel" ||
		!strings.HasPrefix(q.Get("error_description"), "AADSTS65004: User declined to consent to access the app.") || q.Get("state") != "st" {
		t.Errorf("cancel: %d %s", status, loc)
	}
	// The flow is over: a replayed Accept finds nothing to accept.
	b.page = consentPage
	if status, loc := b.submit("action", "accept"); status != http.StatusBadRequest || loc != "" {
		t.Errorf("replayed accept: %d %s", status, loc)
	}
}

// A user without an admin role asking for Directory.Read.All sees "Need
// admin approval"; an admin consenting for the organisation lifts it.
func TestAdminApproval(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.signIn(e.authURL("common"), userUPN, userPW)
	b.expectPage("Need admin approval")
	b.expectPage(`id="returnToApp"`)
	ret := b.e.url(strings.ReplaceAll(between(b.page, `id="returnToApp" href="`, `"`), "&amp;", "&"))
	status, loc := b.get(ret)
	u, _ := url.Parse(loc)
	q := u.Query()
	if status != http.StatusFound || q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS90094: ") || q.Get("state") != "st" {
		t.Fatalf("return without consent: %d %s", status, loc)
	}

	// "Have an admin account?" goes back to the picker of the same flow.
	b = e.browser(t)
	b.signIn(e.authURL("common"), userUPN, userPW)
	adm := b.e.url(strings.ReplaceAll(between(b.page, `id="adminSignIn" href="`, `"`), "&amp;", "&"))
	b.get(adm)
	b.expectPage("Pick an account")
	b.submit("upn", adminUPN)
	b.submit("upn", adminUPN, "password", adminPW)
	b.expectPage(`id="consent_org"`)
	status, loc = b.submit("action", "accept", "consent_org", "on")
	codeFrom(t, loc, "st")
	e.tenant.RLock()
	granted := strings.Join(e.tenant.App(publicApp).AdminConsented, " ")
	e.tenant.RUnlock()
	if granted != "Directory.Read.All Reports.Read.All" {
		t.Errorf("tenant-wide consent %q", granted)
	}
	// Now the plain user goes straight through: no consent page at all.
	b = e.browser(t)
	status, loc = b.signIn(e.authURL("common"), userUPN, userPW)
	if status != http.StatusFound {
		t.Fatalf("after admin consent: %d\n%s", status, b.page)
	}
	codeFrom(t, loc, "st")
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// The browser session: single sign-on, prompt=none, prompt=consent.
func TestSessionAndPrompts(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.signIn(e.authURL("common"), adminUPN, adminPW)
	_, loc := b.submit("action", "accept")
	codeFrom(t, loc, "st")

	// Same browser, no prompt: straight back with a code.
	if status, loc := b.get(e.authURL("common")); status != http.StatusFound {
		t.Fatalf("SSO: %d %s", status, b.page)
	} else {
		codeFrom(t, loc, "st")
	}
	// prompt=none works silently too.
	if status, loc := b.get(e.authURL("common", "prompt", "none")); status != http.StatusFound {
		t.Fatalf("prompt=none: %d", status)
	} else {
		codeFrom(t, loc, "st")
	}
	// prompt=none for a permission not consented: interaction_required.
	_, loc = b.get(e.authURL("common", "prompt", "none", "scope", "User.Read.All"))
	if u, _ := url.Parse(loc); u.Query().Get("error") != "interaction_required" || !strings.HasPrefix(u.Query().Get("error_description"), "AADSTS65001") {
		t.Errorf("prompt=none without consent: %s", loc)
	}
	// prompt=consent shows the page even though consent exists.
	b.get(e.authURL("common", "prompt", "consent"))
	b.expectPage("Permissions requested")
	// prompt=select_account shows the picker, the session's account first.
	b.get(e.authURL("common", "prompt", "select_account"))
	b.expectPage("Signed in")
	// prompt=login asks for the password again.
	b.get(e.authURL("common", "prompt", "login", "login_hint", adminUPN))
	b.expectPage("Enter password")
}

func TestFormPostAndFragment(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.signIn(e.authURL("common", "response_mode", "form_post"), adminUPN, adminPW)
	status, _ := b.submit("action", "accept")
	if status != http.StatusOK {
		t.Fatalf("form_post: %d", status)
	}
	for _, want := range []string{`action="` + loopbackCB + `"`, `name="code" value="1.A`, `name="state" value="st"`, "document.forms[0].submit()"} {
		b.expectPage(want)
	}
	// Consent exists now: the second sign-in redirects at once.
	b = e.browser(t)
	if _, loc := b.signIn(e.authURL("common", "response_mode", "fragment"), adminUPN, adminPW); !strings.HasPrefix(loc, loopbackCB+"#code=") {
		t.Errorf("fragment: %s", loc)
	}
}

// The default redirect URI lands on a blank page whose address keeps the
// code for the administrator to paste.
func TestNativeClientLanding(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.signIn(e.authURL("common", "redirect_uri", nativeURI), adminUPN, adminPW)
	_, loc := b.submit("action", "accept")
	if !strings.HasPrefix(loc, nativeURI+"?code=") {
		t.Fatalf("redirect %s", loc)
	}
	u, _ := url.Parse(loc)
	status, _ := b.get(e.url(u.Path + "?" + u.RawQuery))
	if status != http.StatusOK || !strings.Contains(b.page, "<body></body>") {
		t.Errorf("nativeclient page: %d %s", status, b.page)
	}
}

func TestAdminConsentEndpoint(t *testing.T) {
	e := newEnv(t)
	q := "?client_id=" + publicApp + "&state=ac&redirect_uri=" + url.QueryEscape(loopbackCB) + "&scope=" + url.QueryEscape(graph+"/.default")
	b := e.browser(t)
	if status, _ := b.get(e.url("/common/v2.0/adminconsent" + q)); status != http.StatusBadRequest {
		t.Errorf("adminconsent on common: %d", status)
	}
	b.expectPage(`data-code="50059"`)

	b.get(e.url("/" + domain + "/v2.0/adminconsent" + q))
	b.submit("upn", userUPN)
	b.submit("upn", userUPN, "password", userPW)
	b.expectPage("Need admin approval")

	b = e.browser(t)
	b.get(e.url("/" + tenantID + "/v2.0/adminconsent" + q))
	b.submit("upn", adminUPN)
	b.submit("upn", adminUPN, "password", adminPW)
	b.expectPage("Accept for your organization")
	status, loc := b.submit("action", "accept")
	u, _ := url.Parse(loc)
	v := u.Query()
	if status != http.StatusFound || v.Get("admin_consent") != "True" || v.Get("tenant") != tenantID || v.Get("state") != "ac" ||
		v.Get("scope") != graph+"/User.Read "+graph+"/Directory.Read.All "+graph+"/Reports.Read.All" {
		t.Errorf("admin consent redirect: %d %s", status, loc)
	}
	e.tenant.RLock()
	n := len(e.tenant.App(publicApp).AdminConsented)
	e.tenant.RUnlock()
	if n != 3 {
		t.Errorf("tenant-wide grants: %d", n)
	}
}
