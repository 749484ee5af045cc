package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// The device code grant has two spellings on the wire: RFC 8628's URN,
// which Microsoft documents, and the short "device_code" that MSAL.NET
// and MSAL.js send (their GrantType DEVICE_CODE_GRANT), which Entra accepts
// as well. Refusing the short one would fail those clients with
// unsupported_grant_type.
const (
	deviceCodeGrant      = "urn:ietf:params:oauth:grant-type:device_code"
	deviceCodeGrantShort = "device_code"
)

// grant is what a user authorised a client to do; the refresh tokens of a
// chain share it.
type grant struct {
	serial   uint64
	userID   string
	upn      string
	name     string
	clientID string
	scopes   scopeReq
	issued   time.Time
}

// refreshToken is one link of a rotation chain.
type refreshToken struct {
	g           *grant
	serial      uint64
	issued      time.Time
	redeemedAt  time.Time
	redemptions int
}

// tokenBody is the token endpoint's success JSON, fields in Microsoft's
// order.
type tokenBody struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, seg string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeTokenError(w, r, newErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	kind := s.resolve(seg)
	if kind == segUnknown {
		s.writeTokenError(w, r, errTenantNotFound(seg))
		return
	}
	grantType := r.PostFormValue("grant_type")
	if grantType == "" {
		s.writeTokenError(w, r, errMissingParam("grant_type"))
		return
	}
	clientID, secret := r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		// client_secret_basic: RFC 6749 form-encodes the parts.
		if x, err := url.QueryUnescape(u); err == nil {
			u = x
		}
		if x, err := url.QueryUnescape(p); err == nil {
			p = x
		}
		clientID, secret = u, p
	}
	if grantType == "client_credentials" && kind != segTenant {
		s.writeTokenError(w, r, errNoTenantInfo())
		return
	}
	app, cerr := s.tokenClient(kind, clientID)
	if cerr != nil {
		s.writeTokenError(w, r, cerr)
		return
	}
	if e := s.authenticateClient(r, app, secret, grantType); e != nil {
		s.writeTokenError(w, r, e)
		return
	}
	var e *aadError
	switch grantType {
	case "authorization_code":
		e = s.redeemCode(w, r, app)
	case "refresh_token":
		e = s.redeemRefresh(w, r, app)
	case "client_credentials":
		e = s.clientCredentials(w, r, app)
	case deviceCodeGrant, deviceCodeGrantShort:
		e = s.redeemDeviceCode(w, r, app)
	default:
		e = newErr(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grantType)
	}
	if e != nil {
		s.writeTokenError(w, r, e)
	}
}

// authenticateClient applies the registration's client type: public
// clients must not send a secret, web apps must send a valid one, and SPA
// codes are only redeemed cross-origin from a browser.
func (s *Server) authenticateClient(r *http.Request, app appInfo, secret, grantType string) *aadError {
	assertion := r.PostFormValue("client_assertion") != ""
	switch app.Kind {
	case tenant.AppPublic:
		if secret != "" || assertion {
			return newErr(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		if grantType == "client_credentials" {
			return newErr(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		}
	case tenant.AppSPA:
		if grantType == "client_credentials" {
			return newErr(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		}
		if r.Header.Get("Origin") == "" {
			return newErr(400, "invalid_request", 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.")
		}
	default: // web, confidential
		if assertion {
			if secret != "" {
				return newErr(401, "invalid_client", 700025, "Client is confidential: send either 'client_assertion' or 'client_secret', not both. (?)")
			}
			return s.verifyAssertion(r, app)
		}
		if secret == "" {
			return newErr(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		}
		ok := false
		for _, sec := range app.Secrets {
			if subtle.ConstantTimeCompare([]byte(sec), []byte(secret)) == 1 {
				ok = true
			}
		}
		if !ok {
			return newErr(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.AppID)
		}
	}
	return nil
}

var errMalformedGrant = func() *aadError {
	return newErr(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
}

func (s *Server) redeemCode(w http.ResponseWriter, r *http.Request, app appInfo) *aadError {
	code := r.PostFormValue("code")
	if code == "" {
		return errMissingParam("code")
	}
	s.mu.Lock()
	c := s.codes[code]
	e := s.checkCodeLocked(c, app, r)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	u, ok := s.user(c.upn)
	if !ok || !u.Enabled {
		return newErr(400, "invalid_grant", 50057, "The user account is disabled or was deleted. (?)")
	}
	s.mu.Lock()
	g := &grant{serial: s.nextSerial(), userID: u.ID, upn: u.UPN, name: u.Name, clientID: app.AppID, scopes: c.scopes, issued: s.now()}
	rt := ""
	if c.scopes.has("offline_access") {
		rt = s.newRefreshTokenLocked(g)
	}
	s.stats.CodesRedeemed++
	s.mu.Unlock()
	s.respondTokens(w, r, app, g, c.scopes, rt, c.nonce)
	return nil
}

// checkCodeLocked validates a code redemption and burns the code: after
// any attempt that got this far the code is spent, so a wrong PKCE
// verifier cannot be retried (?).
func (s *Server) checkCodeLocked(c *authCode, app appInfo, r *http.Request) *aadError {
	if c == nil {
		return errMalformedGrant()
	}
	if !strings.EqualFold(c.clientID, app.AppID) {
		return newErr(400, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. The code was issued to a different client. (?)")
	}
	if c.used {
		return newErr(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	}
	if s.now().Sub(c.issued) >= s.o.CodeLifetime {
		return newErr(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	c.used = true
	redirectURI := r.PostFormValue("redirect_uri")
	if redirectURI == "" {
		return errMissingParam("redirect_uri")
	}
	if redirectURI != c.redirectURI {
		return newErr(400, "invalid_grant", 50011, "The redirect URI '%s' specified in the request does not match the redirect URI '%s' provided when requesting the authorization code. (?)", redirectURI, c.redirectURI)
	}
	if c.challenge != "" {
		v := r.PostFormValue("code_verifier")
		want := v
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if v == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
			return newErr(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	return nil
}

func (s *Server) newRefreshTokenLocked(g *grant) string {
	tok := "1.AQ" + randomString(96)
	s.refresh[tok] = &refreshToken{g: g, serial: s.nextSerial(), issued: s.now()}
	// Spent tokens stay to answer reuse precisely; now and then drop those
	// past the idle lifetime, which could only ever fail, so a long demo
	// does not grow without bound.
	if len(s.refresh)%1024 == 0 {
		for k, rt := range s.refresh {
			if s.now().Sub(rt.issued) >= s.o.RefreshTokenIdle {
				delete(s.refresh, k)
			}
		}
	}
	return tok
}

func (s *Server) redeemRefresh(w http.ResponseWriter, r *http.Request, app appInfo) *aadError {
	tok := r.PostFormValue("refresh_token")
	if tok == "" {
		return errMissingParam("refresh_token")
	}
	var asked *scopeReq
	if sc := r.PostFormValue("scope"); sc != "" {
		q, e := s.parseScopes(sc)
		if e != nil {
			return e
		}
		asked = &q
	}
	s.mu.Lock()
	rt := s.refresh[tok]
	if rt == nil {
		s.mu.Unlock()
		return errMalformedGrant()
	}
	g := rt.g
	s.mu.Unlock()
	// The user may have been disabled or deleted since (read outside our
	// lock: the tenant lock is never taken while holding it elsewhere).
	u, uok := s.user(g.upn)

	q, next, e := s.rotateLocked(rt, u, uok, app, asked)
	if e != nil {
		return e
	}
	s.respondTokens(w, r, app, g, q, next, "")
	return nil
}

// rotateLocked checks a refresh token and, if it may be redeemed, records
// the redemption and returns its successor. It takes the server's lock.
func (s *Server) rotateLocked(rt *refreshToken, u userInfo, uok bool, app appInfo, asked *scopeReq) (scopeReq, string, *aadError) {
	_, domain, _ := s.tenantIDs()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := rt.g
	now := s.now()
	if !strings.EqualFold(g.clientID, app.AppID) {
		return scopeReq{}, "", newErr(400, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. The refresh token was issued to a different client. (?)")
	}
	if rev, at := s.revokedLocked(g); rev {
		return scopeReq{}, "", newErr(400, "invalid_grant", 50173,
			"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
			msTime(g.issued), msTime(at))
	}
	if !uok {
		return scopeReq{}, "", newErr(400, "invalid_grant", 50034, "The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", g.upn, domain)
	}
	if !u.Enabled {
		return scopeReq{}, "", newErr(400, "invalid_grant", 50057, "The user account is disabled.")
	}
	if rt.serial < s.expiredBefore || now.Sub(rt.issued) >= s.o.RefreshTokenIdle {
		return scopeReq{}, "", newErr(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.",
			msTime(rt.issued), dotnetDuration(s.o.RefreshTokenIdle))
	}
	if rt.redemptions > 0 && s.o.SingleUseRefreshTokens {
		inGrace := s.o.RefreshGrace > 0 && rt.redemptions < 2 && now.Sub(rt.redeemedAt) < s.o.RefreshGrace
		if !inGrace {
			return scopeReq{}, "", newErr(400, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. The refresh token was already redeemed. (?)")
		}
	}
	q := g.scopes
	if asked != nil {
		consented := s.consentedLocked(u, app)
		q = asked.expandDefault(consented)
		for _, p := range q.Perms {
			if !consented[strings.ToLower(p)] {
				return scopeReq{}, "", errConsentRequired(app)
			}
		}
	}
	if rt.redemptions > 0 {
		s.stats.RefreshReuses++
	}
	rt.redemptions++
	if rt.redemptions == 1 {
		rt.redeemedAt = now
	}
	s.stats.Refreshes++
	return q, s.newRefreshTokenLocked(g), nil
}

// revokedLocked reports whether RevokeRefreshTokens named the grant's user
// or client after it was issued, and when.
func (s *Server) revokedLocked(g *grant) (bool, time.Time) {
	for _, k := range []string{g.userID, g.upn, g.clientID} {
		if rv, ok := s.revocations[strings.ToLower(k)]; ok && g.serial < rv.serial {
			return true, rv.at
		}
	}
	return false, time.Time{}
}

func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, app appInfo) *aadError {
	sc := r.PostFormValue("scope")
	if sc == "" {
		return errMissingParam("scope")
	}
	q, e := s.parseScopes(sc)
	if e != nil {
		return e
	}
	if !q.Default || len(q.Perms) > 0 || len(q.OIDC) > 0 {
		return newErr(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)
	}
	tid, _, _ := s.tenantIDs()
	now := s.now()
	c := accesstoken.Claims{
		Audience: q.Resource, Issuer: "https://sts.windows.net/" + tid + "/",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(s.o.AccessTokenLifetime).Unix(),
		TenantID: tid, AppID: app.AppID, ObjectID: app.SPID, Roles: app.AppRoles, ID: randomString(16),
	}
	secs := int(s.o.AccessTokenLifetime / time.Second)
	// Microsoft's client-credentials answer has no scope.
	body := tokenBody{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: accesstoken.Mint(s.o.SigningKey, c)}
	s.count(func(st *Stats) { st.ClientCredentials++; st.AccessTokensIssued++ })
	writeJSON(w, r, http.StatusOK, s.ids(r), body)
	return nil
}

// respondTokens writes the success JSON of a delegated grant.
func (s *Server) respondTokens(w http.ResponseWriter, r *http.Request, app appInfo, g *grant, q scopeReq, refresh, nonce string) {
	tid, _, _ := s.tenantIDs()
	now := s.now()
	c := accesstoken.Claims{
		Audience: q.Resource, Issuer: "https://sts.windows.net/" + tid + "/",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(s.o.AccessTokenLifetime).Unix(),
		TenantID: tid, AppID: app.AppID, ObjectID: g.userID, UPN: g.upn, Name: g.name,
		Scopes: strings.Join(q.Perms, " "), ID: randomString(16),
	}
	secs := int(s.o.AccessTokenLifetime / time.Second)
	body := tokenBody{
		TokenType: "Bearer", Scope: q.fullScopes(), ExpiresIn: secs, ExtExpiresIn: secs,
		AccessToken: accesstoken.Mint(s.o.SigningKey, c), RefreshToken: refresh,
	}
	if q.has("openid") || (len(q.OIDC) == 0 && g.scopes.has("openid")) {
		body.IDToken = s.mintIDToken(r, g, app, nonce, now)
	}
	// MSAL sends client_info=1 on every token request and builds its
	// account's home id (uid.utid) from the answer's client_info. The
	// request's form holds the query too, so either place counts.
	if r.Form.Get("client_info") == "1" {
		body.ClientInfo = clientInfo(g.userID, tid)
	}
	s.count(func(st *Stats) { st.AccessTokensIssued++ })
	writeJSON(w, r, http.StatusOK, s.ids(r), body)
}

// dotnetDuration formats like .NET's TimeSpan, which Microsoft's messages
// print ("90.00:00:00").
func dotnetDuration(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	return fmt.Sprintf("%d.%02d:%02d:%02d", days, h, m, sec)
}

// IssueRefreshToken signs a user in to a client without any page, as if
// they had accepted the consent for scope (space separated, as on the
// wire), and returns a refresh token. It is for tests and for seeding the
// demo; the consent is recorded like an Accept.
func (s *Server) IssueRefreshToken(clientID, upn, scope string) (string, error) {
	app, ok := s.app(clientID)
	if !ok {
		return "", fmt.Errorf("identity: no application %s in the tenant", clientID)
	}
	u, ok := s.user(upn)
	if !ok {
		return "", fmt.Errorf("identity: no user %s in the tenant", upn)
	}
	q, e := s.parseScopes(scope)
	if e != nil {
		return "", e
	}
	if !q.has("offline_access") {
		q.OIDC = append(q.OIDC, "offline_access")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q = q.expandDefault(s.consentedLocked(u, app))
	key := consentKey{u.ID, strings.ToLower(app.AppID)}
	if s.consents[key] == nil {
		s.consents[key] = map[string]bool{}
	}
	for _, n := range q.all() {
		s.consents[key][strings.ToLower(n)] = true
	}
	g := &grant{serial: s.nextSerial(), userID: u.ID, upn: u.UPN, name: u.Name, clientID: app.AppID, scopes: q, issued: s.now()}
	return s.newRefreshTokenLocked(g), nil
}

// tokenClient resolves the client of a token or device-code request as the
// token endpoint does: lookupClient's checks, and a single-tenant app
// cannot use /common or /organizations (AADSTS50194).
func (s *Server) tokenClient(kind segKind, clientID string) (appInfo, *aadError) {
	app, e := s.lookupClient(kind, clientID)
	if e != nil {
		return appInfo{}, e
	}
	if (kind == segCommon || kind == segOrganizations) && !app.MultiTenant {
		return appInfo{}, errNotMultiTenant(app)
	}
	return app, nil
}

// lookupClient finds the client_id of a request among the tenant's apps,
// as every endpoint does: it is required, and /consumers knows none of the
// tenant's apps.
func (s *Server) lookupClient(kind segKind, clientID string) (appInfo, *aadError) {
	if clientID == "" {
		return appInfo{}, errMissingParam("client_id")
	}
	if kind == segConsumers {
		return appInfo{}, errUnknownClient(clientID, consumersTenantID)
	}
	app, ok := s.app(clientID)
	if !ok {
		_, domain, _ := s.tenantIDs()
		return appInfo{}, errUnknownClient(clientID, domain)
	}
	return app, nil
}
