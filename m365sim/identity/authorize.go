package identity

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

type flowKind int

const (
	flowAuthorize flowKind = iota
	flowAdminConsent
	flowDevice
)

// flowLifetime bounds how long a sign-in may sit on a page.
const flowLifetime = time.Hour

// flow is one interactive sign-in in progress, from the authorize (or
// adminconsent, or device code entry) request to the final redirect. Its id
// travels in the pages' hidden "flow" field.
type flow struct {
	id           string
	kind         flowKind
	seg          string // the tenant segment the client used
	appID        string
	redirectURI  string
	responseMode string
	state        string
	nonce        string
	scopes       scopeReq
	challenge    string
	method       string
	prompt       string
	loginHint    string
	created      time.Time
	upn          string // signed-in user, once signed in
	device       *deviceAuth
	done         bool
}

// session is the browser's sign-in state (Microsoft's ESTSAUTH cookie).
type session struct {
	id   string
	upns []string // most recent first
}

const sessionCookie = "ESTSAUTH"

// authCode is an issued authorization code.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	method      string
	scopes      scopeReq
	upn         string
	nonce       string
	issued      time.Time
	used        bool
}

func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request, seg string) {
	q := r.URL.Query()
	kind := s.resolve(seg)
	if kind == segUnknown {
		s.errorPage(w, r, errTenantNotFound(seg))
		return
	}
	app, ce := s.lookupClient(kind, q.Get("client_id"))
	if ce != nil {
		s.errorPage(w, r, ce)
		return
	}
	redirectURI, e := s.checkRedirect(app, q.Get("redirect_uri"))
	if e != nil {
		// Microsoft never redirects to an unregistered URI: it shows the
		// error on its own page.
		s.errorPage(w, r, e)
		return
	}
	f := &flow{
		kind: flowAuthorize, seg: seg, appID: app.AppID, redirectURI: redirectURI,
		responseMode: q.Get("response_mode"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
		prompt: q.Get("prompt"), loginHint: s.loginHintUPN(q.Get("login_hint")),
	}
	switch f.responseMode {
	case "":
		f.responseMode = "query"
	case "query", "form_post", "fragment":
	default:
		f.responseMode = "query"
		s.redirectError(w, r, f, newErr(400, "invalid_request", 900141, "The provided value for the input parameter 'response_mode' is not valid: '%s'. (?)", q.Get("response_mode")))
		return
	}
	if (kind == segCommon || kind == segOrganizations) && !app.MultiTenant {
		s.redirectError(w, r, f, errNotMultiTenant(app))
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		if rt == "" {
			s.redirectError(w, r, f, errMissingParam("response_type"))
			return
		}
		s.redirectError(w, r, f, newErr(400, "unsupported_response_type", 700054, "response_type '%s' is not enabled for the application.", rt))
		return
	}
	if q.Get("scope") == "" {
		s.redirectError(w, r, f, errMissingParam("scope"))
		return
	}
	scopes, e := s.parseScopes(q.Get("scope"))
	if e != nil {
		s.redirectError(w, r, f, e)
		return
	}
	f.scopes = scopes
	if e := checkChallenge(app, f); e != nil {
		s.redirectError(w, r, f, e)
		return
	}
	switch f.prompt {
	case "", "login", "none", "consent", "select_account":
	default:
		f.prompt = "" // Microsoft ignores values it does not know (?)
	}
	sess := s.session(r)

	if f.prompt == "none" {
		s.silent(w, r, f, sess)
		return
	}
	s.addFlow(f)
	if f.prompt != "select_account" {
		upn := ""
		if f.loginHint != "" {
			if _, ok := s.user(f.loginHint); ok {
				upn = f.loginHint
			}
		} else if sess != nil && len(sess.upns) == 1 {
			upn = sess.upns[0]
		}
		if upn != "" {
			s.signIn(w, r, f, upn, "", false)
			return
		}
	}
	s.renderPicker(w, r, f, "")
}

// checkRedirect matches redirect_uri against the app's registered URIs.
// Loopback addresses (localhost, 127.0.0.1) match whatever the port, as
// Microsoft does for native clients; everything else must be exact.
func (s *Server) checkRedirect(app appInfo, got string) (string, *aadError) {
	if got == "" {
		if len(app.RedirectURIs) == 1 {
			return app.RedirectURIs[0], nil // Microsoft uses the only one registered
		}
		return "", errMissingParam("redirect_uri")
	}
	for _, reg := range app.RedirectURIs {
		if redirectMatches(reg, got) {
			return got, nil
		}
	}
	return "", newErr(400, "invalid_request", 50011,
		"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
		got, app.AppID)
}

func redirectMatches(registered, got string) bool {
	if registered == got {
		return true
	}
	ru, err1 := url.Parse(registered)
	gu, err2 := url.Parse(got)
	if err1 != nil || err2 != nil || ru.Scheme != "http" || gu.Scheme != "http" {
		return false
	}
	host := ru.Hostname()
	if host != "localhost" && host != "127.0.0.1" {
		return false
	}
	if !strings.EqualFold(gu.Hostname(), host) || gu.RawQuery != ru.RawQuery || gu.Fragment != "" {
		return false
	}
	norm := func(p string) string {
		if p == "" {
			return "/"
		}
		return p
	}
	return norm(ru.Path) == norm(gu.Path)
}

func checkChallenge(app appInfo, f *flow) *aadError {
	switch f.method {
	case "", "plain", "S256":
	default:
		return newErr(400, "invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
	}
	if f.challenge == "" {
		if app.Kind == tenant.AppPublic || app.Kind == tenant.AppSPA {
			// Microsoft requires PKCE of SPAs; the product's design card
			// requires it of public clients too (?).
			return newErr(400, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
		}
		return nil
	}
	if f.method == "" {
		f.method = "plain" // RFC 7636's default
	}
	if n := len(f.challenge); n < 43 || n > 128 {
		return newErr(400, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
	}
	return nil
}

// silent handles prompt=none: a code without any page, or an error.
func (s *Server) silent(w http.ResponseWriter, r *http.Request, f *flow, sess *session) {
	if sess == nil || len(sess.upns) == 0 {
		s.redirectError(w, r, f, newErr(400, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
		return
	}
	upn := ""
	if f.loginHint != "" {
		for _, u := range sess.upns {
			if strings.EqualFold(u, f.loginHint) {
				upn = u
			}
		}
		if upn == "" {
			s.redirectError(w, r, f, newErr(400, "login_required", 50058, "A silent sign-in request was sent but the signed-in user does not match the login_hint. (?)"))
			return
		}
	} else if len(sess.upns) == 1 {
		upn = sess.upns[0]
	} else {
		s.redirectError(w, r, f, newErr(400, "interaction_required", 16000, "Multiple user identities are available for the current request. Select one. (?)"))
		return
	}
	u, ok := s.user(upn)
	app, _ := s.app(f.appID)
	if !ok || !u.Enabled {
		s.redirectError(w, r, f, newErr(400, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
		return
	}
	f.scopes = f.scopes.expandDefault(s.consented(u, app))
	if len(s.missingConsent(u, app, f.scopes)) > 0 {
		e := newErr(400, "interaction_required", 65001,
			"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", app.AppID, app.DisplayName)
		s.redirectError(w, r, f, e)
		return
	}
	f.upn = u.UPN
	s.issueCode(w, r, f, u)
}

func (s *Server) addFlow(f *flow) {
	f.id = randomString(24)
	f.created = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget abandoned sign-ins so a long-running demo does not grow.
	for id, old := range s.flows {
		if s.now().Sub(old.created) > flowLifetime {
			delete(s.flows, id)
		}
	}
	s.flows[f.id] = f
}

// formFlow finds the flow a page posted back.
func (s *Server) formFlow(w http.ResponseWriter, r *http.Request) *flow {
	id := r.FormValue("flow")
	s.mu.Lock()
	f := s.flows[id]
	s.mu.Unlock()
	if f == nil || f.done || s.now().Sub(f.created) > flowLifetime {
		s.errorPage(w, r, newErr(400, "invalid_request", 90056, "The sign-in request has expired or is not valid. Go back to the application and sign in again. (?)"))
		return nil
	}
	return f
}

func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.sessions[c.Value]; sess != nil {
		cp := *sess
		cp.upns = append([]string(nil), sess.upns...)
		return &cp
	}
	return nil
}

// remember adds a signed-in account to the browser's session.
func (s *Server) remember(w http.ResponseWriter, r *http.Request, upn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sess *session
	if c, err := r.Cookie(sessionCookie); err == nil {
		sess = s.sessions[c.Value]
	}
	if sess == nil {
		sess = &session{id: randomString(32)}
		s.sessions[sess.id] = sess
	}
	list := []string{upn}
	for _, u := range sess.upns {
		if !strings.EqualFold(u, upn) {
			list = append(list, u)
		}
	}
	sess.upns = list
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func (s *Server) renderPicker(w http.ResponseWriter, r *http.Request, f *flow, errMsg string) {
	var accounts []account
	seen := map[string]bool{}
	add := func(upn string, signedIn bool) {
		if seen[strings.ToLower(upn)] {
			return
		}
		if u, ok := s.user(upn); ok {
			seen[strings.ToLower(upn)] = true
			accounts = append(accounts, account{UPN: u.UPN, Name: u.Name, SignedIn: signedIn})
		}
	}
	if sess := s.session(r); sess != nil {
		for _, u := range sess.upns {
			add(u, true)
		}
	}
	for _, u := range s.pickerAccounts() {
		add(u, false)
	}
	app, _ := s.app(f.appID)
	renderPage(w, http.StatusOK, "picker", pageData{Title: "Pick an account", Flow: f.id, Seg: f.seg, AppName: app.DisplayName, Accounts: accounts, Error: errMsg})
}

// serveLogin takes the picker's and the password page's posts. GET (the
// "Have an admin account?" link) shows the picker again.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, seg string) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		_ = r.ParseForm()
	}
	f := s.formFlow(w, r)
	if f == nil {
		return
	}
	if r.Method != http.MethodPost {
		s.renderPicker(w, r, f, "")
		return
	}
	upn := strings.TrimSpace(r.PostFormValue("upn"))
	if upn == "" {
		s.renderSignIn(w, f, "", "")
		return
	}
	_, hasPassword := r.PostForm["password"]
	s.signIn(w, r, f, upn, r.PostFormValue("password"), hasPassword)
}

func (s *Server) renderSignIn(w http.ResponseWriter, f *flow, upn, errMsg string) {
	app, _ := s.app(f.appID)
	renderPage(w, http.StatusOK, "signin", pageData{Title: "Sign in", Flow: f.id, Seg: f.seg, AppName: app.DisplayName, UPN: upn, Error: errMsg})
}

func (s *Server) renderPassword(w http.ResponseWriter, f *flow, u userInfo, errMsg string) {
	renderPage(w, http.StatusOK, "password", pageData{Title: "Enter password", Flow: f.id, Seg: f.seg, UPN: u.UPN, Name: u.Name, Error: errMsg})
}

// signIn checks the account (and password, when the form carried one) and
// moves on to consent.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, f *flow, upn, password string, hasPassword bool) {
	u, ok := s.user(upn)
	if !ok {
		s.count(func(st *Stats) { st.Errors[50034]++ })
		s.renderSignIn(w, f, upn, "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.")
		return
	}
	if !u.Enabled {
		s.errorPage(w, r, newErr(400, "invalid_grant", 50057, "The user account is disabled."))
		return
	}
	if hasPassword {
		if u.Password != "" && subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
			s.count(func(st *Stats) { st.Errors[50126]++ })
			s.renderPassword(w, f, u, "Your account or password is incorrect. If you don't remember your password, reset it now.")
			return
		}
	} else if u.Password != "" {
		signedIn := false
		if sess := s.session(r); sess != nil && f.prompt != "login" {
			for _, x := range sess.upns {
				signedIn = signedIn || strings.EqualFold(x, u.UPN)
			}
		}
		if !signedIn {
			s.renderPassword(w, f, u, "")
			return
		}
	}
	s.remember(w, r, u.UPN)
	s.mu.Lock()
	f.upn = u.UPN
	s.mu.Unlock()
	s.afterSignIn(w, r, f, u)
}

// consented is the set of lower-case names the user (or an admin for the
// whole tenant) granted the app.
func (s *Server) consented(u userInfo, app appInfo) map[string]bool {
	out := map[string]bool{}
	for p := range app.AdminConsented {
		out[p] = true
	}
	s.mu.Lock()
	for p := range s.consents[consentKey{u.ID, strings.ToLower(app.AppID)}] {
		out[p] = true
	}
	s.mu.Unlock()
	return out
}

// missingConsent lists the requested names not yet consented.
func (s *Server) missingConsent(u userInfo, app appInfo, q scopeReq) []string {
	have := s.consented(u, app)
	anyPerm := false
	for _, p := range permissions {
		anyPerm = anyPerm || have[strings.ToLower(p.Name)]
	}
	var missing []string
	for _, p := range q.Perms {
		if !have[strings.ToLower(p)] {
			missing = append(missing, p)
		}
	}
	for _, o := range q.OIDC {
		if !have[o] && !anyPerm {
			missing = append(missing, o)
		}
	}
	return missing
}

func needsAdmin(names []string, app appInfo) bool {
	for _, n := range names {
		if p, ok := lookupPermission(n); ok && p.AdminOnly && !app.AdminConsented[strings.ToLower(p.Name)] {
			return true
		}
	}
	return false
}

func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request, f *flow, u userInfo) {
	app, ok := s.app(f.appID)
	if !ok {
		_, domain, _ := s.tenantIDs()
		s.errorPage(w, r, errUnknownClient(f.appID, domain))
		return
	}
	if f.kind == flowAdminConsent {
		if !u.Admin {
			s.renderAdminApproval(w, f, app)
			return
		}
		s.renderConsent(w, f, app, u, f.scopes.all())
		return
	}
	s.mu.Lock()
	f.scopes = f.scopes.expandDefault(s.consentedLocked(u, app))
	s.mu.Unlock()
	missing := s.missingConsent(u, app, f.scopes)
	if !u.Admin && needsAdmin(missing, app) {
		s.count(func(st *Stats) { st.Errors[90094]++ })
		s.renderAdminApproval(w, f, app)
		return
	}
	if len(missing) == 0 && f.prompt != "consent" && f.kind == flowAuthorize {
		s.issueCode(w, r, f, u)
		return
	}
	s.renderConsent(w, f, app, u, f.scopes.all())
}

func (s *Server) consentedLocked(u userInfo, app appInfo) map[string]bool {
	out := map[string]bool{}
	for p := range app.AdminConsented {
		out[p] = true
	}
	for p := range s.consents[consentKey{u.ID, strings.ToLower(app.AppID)}] {
		out[p] = true
	}
	return out
}

func (s *Server) renderConsent(w http.ResponseWriter, f *flow, app appInfo, u userInfo, names []string) {
	d := pageData{
		Title: "Permissions requested", Flow: f.id, Seg: f.seg, AppName: app.DisplayName,
		UPN: u.UPN, Perms: describe(names), ShowOrg: u.Admin && f.kind != flowAdminConsent,
		AdminConsent: f.kind == flowAdminConsent, Device: f.kind == flowDevice,
	}
	_, _, d.TenantName = s.tenantIDs()
	renderPage(w, http.StatusOK, "consent", d)
}

func (s *Server) renderAdminApproval(w http.ResponseWriter, f *flow, app appInfo) {
	renderPage(w, http.StatusOK, "adminapproval", pageData{
		Title: "Need admin approval", Flow: f.id, Seg: f.seg, AppName: app.DisplayName,
		AdminSignInURL: "/" + url.PathEscape(f.seg) + "/login?flow=" + url.QueryEscape(f.id),
		ReturnURL:      "/" + url.PathEscape(f.seg) + "/Consent/Return?flow=" + url.QueryEscape(f.id),
	})
}

// serveConsentSet takes Accept or Cancel from the Permissions requested page.
func (s *Server) serveConsentSet(w http.ResponseWriter, r *http.Request, seg string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	_ = r.ParseForm()
	f := s.formFlow(w, r)
	if f == nil {
		return
	}
	s.mu.Lock()
	upn := f.upn
	s.mu.Unlock()
	u, ok := s.user(upn)
	if !ok {
		s.errorPage(w, r, newErr(400, "invalid_request", 90056, "The sign-in request has expired or is not valid. Go back to the application and sign in again. (?)"))
		return
	}
	app, _ := s.app(f.appID)
	if r.PostFormValue("action") != "accept" {
		s.declined(w, r, f, &aadError{status: 400, err: "access_denied", code: 65004, msg: "User declined to consent to access the app.", subcode: "cancel"})
		return
	}
	if f.kind == flowAdminConsent && !u.Admin {
		s.renderAdminApproval(w, f, app)
		return
	}
	if !u.Admin && needsAdmin(f.scopes.Perms, app) {
		s.renderAdminApproval(w, f, app)
		return
	}
	s.mu.Lock()
	key := consentKey{u.ID, strings.ToLower(app.AppID)}
	if s.consents[key] == nil {
		s.consents[key] = map[string]bool{}
	}
	for _, n := range f.scopes.all() {
		s.consents[key][strings.ToLower(n)] = true
	}
	s.mu.Unlock()
	if f.kind == flowAdminConsent || (u.Admin && r.PostFormValue("consent_org") != "") {
		s.grantTenantWide(app.AppID, f.scopes.Perms)
	}
	switch f.kind {
	case flowAdminConsent:
		tid, _, _ := s.tenantIDs()
		s.finish(f)
		s.redirect(w, r, f, url.Values{"admin_consent": {"True"}, "tenant": {tid}, "scope": {f.scopes.fullScopes()}})
	case flowDevice:
		s.approveDevice(w, r, f, u)
	default:
		s.issueCode(w, r, f, u)
	}
}

// grantTenantWide records an administrator's consent for the organisation
// in the shared tenant, where the Graph side and later sign-ins see it.
func (s *Server) grantTenantWide(appID string, perms []string) {
	t := s.o.Tenant
	t.Lock()
	defer t.Unlock()
	a := t.App(appID)
	if a == nil {
		return
	}
	for _, p := range perms {
		have := false
		for _, x := range a.AdminConsented {
			have = have || strings.EqualFold(x, p)
		}
		if !have {
			a.AdminConsented = append(a.AdminConsented, p)
		}
	}
}

// serveConsentReturn is the "Return to the application without granting
// consent" link of the Need admin approval page.
func (s *Server) serveConsentReturn(w http.ResponseWriter, r *http.Request, seg string) {
	f := s.formFlow(w, r)
	if f == nil {
		return
	}
	// Microsoft's exact redirect here is not documented; the error carries
	// 90094 so the client can say an admin must approve (?).
	s.declined(w, r, f, newErr(400, "access_denied", 90094, "The grant requires admin permission."))
}

// declined ends a flow the user refused.
func (s *Server) declined(w http.ResponseWriter, r *http.Request, f *flow, e *aadError) {
	if f.kind == flowDevice {
		s.declineDevice(w, r, f, e)
		return
	}
	s.redirectError(w, r, f, e)
}

func (s *Server) finish(f *flow) {
	s.mu.Lock()
	f.done = true
	delete(s.flows, f.id)
	s.mu.Unlock()
}

// issueCode ends an authorize flow with a code.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, f *flow, u userInfo) {
	code := "1.A" + randomString(48)
	s.mu.Lock()
	s.codes[code] = &authCode{
		clientID: f.appID, redirectURI: f.redirectURI, challenge: f.challenge, method: f.method,
		scopes: f.scopes, upn: u.UPN, nonce: f.nonce, issued: s.now(),
	}
	// Drop codes long dead so the map does not grow in a long demo.
	for k, c := range s.codes {
		if s.now().Sub(c.issued) > 2*s.o.CodeLifetime+time.Hour {
			delete(s.codes, k)
		}
	}
	s.stats.CodesIssued++
	s.mu.Unlock()
	s.finish(f)
	s.redirect(w, r, f, url.Values{"code": {code}})
}

// redirectError sends the error parameters to the client's redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, f *flow, e *aadError) {
	s.count(func(st *Stats) { st.Errors[e.code]++ })
	ids := s.ids(r)
	v := url.Values{
		"error":             {e.err},
		"error_description": {e.description(ids)},
		"error_uri":         {baseURL(r) + "/error?code=" + strconv.Itoa(e.code)},
	}
	if e.subcode != "" {
		v.Set("error_subcode", e.subcode)
	}
	if f.id != "" {
		s.finish(f)
	}
	s.redirect(w, r, f, v)
}

// redirect answers the client as response_mode asks.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, f *flow, v url.Values) {
	if f.state != "" {
		v.Set("state", f.state)
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	target := f.redirectURI
	if u, err := url.Parse(target); err == nil && u.Path == "" && u.Opaque == "" && u.Host != "" {
		// Microsoft answers a redirect URI without a path with a trailing
		// slash.
		u.Path = "/"
		target = u.String()
	}
	switch f.responseMode {
	case "form_post":
		var fields []field
		for _, k := range sortedKeys(v) {
			fields = append(fields, field{Name: k, Value: v.Get(k)})
		}
		renderPage(w, http.StatusOK, "formpost", pageData{Title: "Working...", FormAction: target, Fields: fields})
	case "fragment":
		http.Redirect(w, r, target+"#"+v.Encode(), http.StatusFound)
	default:
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		http.Redirect(w, r, target+sep+v.Encode(), http.StatusFound)
	}
}

// errorPage is Microsoft's "Sorry, but we're having trouble signing you in"
// page, used when redirecting is not safe.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	s.count(func(st *Stats) { st.Errors[e.code]++ })
	ids := s.ids(r)
	// Microsoft answers these pages with 200 (?); 400 tells a non-browser
	// client the request failed.
	renderPage(w, http.StatusBadRequest, "error", pageData{
		Title: "Sign in", Code: e.code, Message: e.Error(),
		TraceID: ids.trace, CorrelationID: ids.correlation, Timestamp: ids.timestamp,
	})
}

// serveNativeClient is the landing page of the default native redirect URI:
// blank, so the address bar (with code and state) is all there is.
func (s *Server) serveNativeClient(w http.ResponseWriter, r *http.Request, seg string) {
	renderPage(w, http.StatusOK, "nativeclient", pageData{})
}

// serveAdminConsent is GET /{tenant}/v2.0/adminconsent.
func (s *Server) serveAdminConsent(w http.ResponseWriter, r *http.Request, seg string) {
	q := r.URL.Query()
	kind := s.resolve(seg)
	switch kind {
	case segUnknown:
		s.errorPage(w, r, errTenantNotFound(seg))
		return
	case segCommon:
		// The tenant must be named: Microsoft's docs say not to use common
		// here (?).
		s.errorPage(w, r, errNoTenantInfo())
		return
	}
	app, ce := s.lookupClient(kind, q.Get("client_id"))
	if ce != nil {
		s.errorPage(w, r, ce)
		return
	}
	redirectURI, e := s.checkRedirect(app, q.Get("redirect_uri"))
	if e != nil {
		s.errorPage(w, r, e)
		return
	}
	f := &flow{kind: flowAdminConsent, seg: seg, appID: app.AppID, redirectURI: redirectURI, responseMode: "query", state: q.Get("state"), prompt: "select_account"}
	scope := q.Get("scope")
	if scope == "" {
		scope = s.o.GraphResources[0] + "/.default"
	}
	scopes, e := s.parseScopes(scope)
	if e != nil {
		s.redirectError(w, r, f, e)
		return
	}
	scopes.OIDC = nil
	f.scopes = scopes.expandDefault(nil)
	s.addFlow(f)
	s.renderPicker(w, r, f, "")
}

// loginHintUPN turns a login_hint parameter into the UPN the pages match:
// the opaque login_hint claim of one of our id_tokens, which Microsoft
// recommends passing back as the hint, names its user by object id (a UPN
// may have changed since); anything else is taken as typed.
func (s *Server) loginHintUPN(hint string) string {
	oid, tid, _, ok := parseLoginHintClaim(hint)
	if !ok {
		return hint
	}
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	if u := t.UserByID(oid); u != nil && strings.EqualFold(tid, t.ID) {
		return u.UserPrincipalName
	}
	return hint
}
