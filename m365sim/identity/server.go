package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// Options configure a Server.
type Options struct {
	// Tenant is shared with the Graph side; read under t.RLock(). Tenant-wide
	// admin consent is written to its AppRegistration.AdminConsented under
	// t.Lock().
	Tenant *tenant.Tenant
	// SigningKey signs access tokens (accesstoken.Mint); Graph verifies with
	// the same key.
	SigningKey []byte
	// GraphResources are the accepted resource URIs of scopes, the first the
	// canonical one (used for unqualified scopes such as "User.Read"), e.g.
	// {"https://graph.microsoft.com", "http://127.0.0.1:PORT"}.
	GraphResources []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	CodeLifetime        time.Duration // default 10 minutes
	AccessTokenLifetime time.Duration // default 3599 s (expires_in 3599)
	RefreshTokenIdle    time.Duration // default 90 days
	// SingleUseRefreshTokens makes a redeemed refresh token dead: a second
	// redemption answers invalid_grant AADSTS70000. Entra does not do that
	// (a redeemed token keeps working until it expires or is revoked), so
	// it is off by default; tests turn it on to prove that a client always
	// stores and presents the newest token.
	SingleUseRefreshTokens bool
	// RefreshGrace, with SingleUseRefreshTokens, is how long a redeemed
	// refresh token may still be redeemed once more (see the package
	// documentation). Default 0: strictly single use.
	RefreshGrace       time.Duration
	DeviceCodeLifetime time.Duration // default 15 minutes (expires_in 900)
	DeviceCodeInterval time.Duration // default 5 s; whole seconds on the wire

	// IDTokenKey signs id_tokens (RS256). Nil generates a 2048-bit key; tests
	// that build many servers may share one to save the generation time.
	IDTokenKey *rsa.PrivateKey
	// PickerAccounts, if set, are the UPNs the "Pick an account" page offers
	// (after the browser's signed-in accounts) instead of the default choice.
	PickerAccounts []string
}

// Stats are counters of what the server did, for tests and the simulator's
// status output.
type Stats struct {
	CodesIssued   int
	CodesRedeemed int
	Refreshes     int // successful refresh_token redemptions
	// RefreshReuses counts the successful redemptions of a refresh token
	// that had been redeemed before: a client that stores every rotated
	// token never causes one, in either mode.
	RefreshReuses       int
	ClientCredentials   int // successful client_credentials grants
	DeviceCodesIssued   int
	DeviceCodesRedeemed int
	AccessTokensIssued  int
	// Errors counts error answers (token endpoint, authorize redirects and
	// error pages) by AADSTS code.
	Errors map[int]int
}

// Server is the identity platform. It is safe for concurrent use.
type Server struct {
	o      Options
	idKey  *rsa.PrivateKey
	keyID  string
	now    func() time.Time
	mu     sync.Mutex
	serial uint64

	flows     map[string]*flow
	sessions  map[string]*session
	codes     map[string]*authCode
	refresh   map[string]*refreshToken
	devices   map[string]*deviceAuth // by device_code
	userCodes map[string]*deviceAuth // by user_code
	consents  map[consentKey]map[string]bool

	revocations   map[string]revocation // by lower-case user id, UPN or app id
	expiredBefore uint64                // refresh tokens with a smaller serial are expired
	// assertions are the client assertions seen (app id|jti) until they
	// expire: a replayed one is refused.
	assertions map[string]time.Time

	stats Stats
}

type consentKey struct{ userID, appID string }

// revocation is a RevokeRefreshTokens call: grants with a smaller serial
// are dead. Serials, not times, order events so that an injected clock that
// stands still still revokes exactly the earlier grants.
type revocation struct {
	serial uint64
	at     time.Time
}

// New makes a Server. It panics if the RSA key cannot be generated, which
// only happens when the system's random source fails.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.CodeLifetime <= 0 {
		o.CodeLifetime = 10 * time.Minute
	}
	if o.AccessTokenLifetime <= 0 {
		o.AccessTokenLifetime = 3599 * time.Second
	}
	if o.RefreshTokenIdle <= 0 {
		o.RefreshTokenIdle = 90 * 24 * time.Hour
	}
	if o.DeviceCodeLifetime <= 0 {
		o.DeviceCodeLifetime = 15 * time.Minute
	}
	if o.DeviceCodeInterval <= 0 {
		o.DeviceCodeInterval = 5 * time.Second
	}
	if len(o.GraphResources) == 0 {
		o.GraphResources = []string{"https://graph.microsoft.com"}
	}
	// A copy: the caller's slice is not ours to rewrite.
	res := make([]string, len(o.GraphResources))
	for i, r := range o.GraphResources {
		res[i] = strings.TrimRight(r, "/")
	}
	o.GraphResources = res
	key := o.IDTokenKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(fmt.Sprintf("identity: generate the id_token key: %v", err))
		}
	}
	s := &Server{
		o: o, idKey: key, now: o.Now,
		flows: map[string]*flow{}, sessions: map[string]*session{},
		codes: map[string]*authCode{}, refresh: map[string]*refreshToken{},
		devices: map[string]*deviceAuth{}, userCodes: map[string]*deviceAuth{},
		consents:    map[consentKey]map[string]bool{},
		revocations: map[string]revocation{},
		assertions:  map[string]time.Time{},
		stats:       Stats{Errors: map[int]int{}},
	}
	s.keyID = keyID(&key.PublicKey)
	return s
}

// RevokeRefreshTokens revokes every refresh token issued so far to a user
// (object id or UPN) or for a client application (app id): their later
// redemption answers invalid_grant AADSTS50173, as after Microsoft's
// revokeSignInSessions. Tokens issued afterwards are valid.
func (s *Server) RevokeRefreshTokens(userOrAppID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial++
	s.revocations[strings.ToLower(userOrAppID)] = revocation{serial: s.serial, at: s.now()}
}

// ExpireRefreshTokens makes every refresh token issued so far behave as if
// unused for longer than RefreshTokenIdle: invalid_grant AADSTS700082.
func (s *Server) ExpireRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial++
	s.expiredBefore = s.serial
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Errors = make(map[int]int, len(s.stats.Errors))
	for k, v := range s.stats.Errors {
		st.Errors[k] = v
	}
	return st
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// ServeHTTP routes the identity platform's endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	if path == "error" {
		s.serveErrorInfo(w, r)
		return
	}
	seg, rest, _ := strings.Cut(path, "/")
	if seg == "" || rest == "" {
		http.NotFound(w, r)
		return
	}
	route := strings.ToLower(rest)
	type handler func(http.ResponseWriter, *http.Request, string)
	routes := map[string]struct {
		method string
		h      handler
	}{
		"oauth2/v2.0/authorize":                 {http.MethodGet, s.serveAuthorize},
		"oauth2/v2.0/token":                     {http.MethodPost, s.serveToken},
		"oauth2/v2.0/devicecode":                {http.MethodPost, s.serveDeviceCode},
		"oauth2/deviceauth":                     {"", s.serveDeviceAuth},
		"oauth2/nativeclient":                   {http.MethodGet, s.serveNativeClient},
		"login":                                 {"", s.serveLogin},
		"consent/set":                           {http.MethodPost, s.serveConsentSet},
		"consent/return":                        {http.MethodGet, s.serveConsentReturn},
		"v2.0/adminconsent":                     {http.MethodGet, s.serveAdminConsent},
		"discovery/v2.0/keys":                   {http.MethodGet, s.serveKeys},
		"v2.0/.well-known/openid-configuration": {http.MethodGet, s.serveOpenIDConfig},
	}
	rt, ok := routes[route]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rt.method != "" && r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rt.h(w, r, seg)
}

// segKind is what the tenant segment of a path names.
type segKind int

const (
	segUnknown segKind = iota
	segTenant
	segCommon
	segOrganizations
	segConsumers
)

// The Microsoft-account "tenant" behind /consumers; work-account apps are
// not found there.
const consumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

func (s *Server) resolve(seg string) segKind {
	switch strings.ToLower(seg) {
	case "common":
		return segCommon
	case "organizations":
		return segOrganizations
	case "consumers":
		return segConsumers
	}
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	if strings.EqualFold(seg, t.ID) || strings.EqualFold(seg, t.Domain) {
		return segTenant
	}
	return segUnknown
}

func (s *Server) tenantIDs() (id, domain, name string) {
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	return t.ID, t.Domain, t.DisplayName
}

// appInfo is a copy of an AppRegistration taken under the tenant's lock.
type appInfo struct {
	AppID, DisplayName string
	Kind               tenant.AppKind
	RedirectURIs       []string
	Secrets            []string
	Certificates       []tenant.KeyCredential
	MultiTenant        bool
	AdminConsented     map[string]bool // lower-case permission names
	AppRoles           []string
	SPID               string          // service principal object id, if the tenant has one
	IDTokenClaims      map[string]bool // optional id_token claims, lower case
}

func (s *Server) app(appID string) (appInfo, bool) {
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	a := t.App(appID)
	if a == nil {
		return appInfo{}, false
	}
	ai := appInfo{
		AppID: a.AppID, DisplayName: a.DisplayName, Kind: a.Kind,
		RedirectURIs: append([]string(nil), a.RedirectURIs...),
		Secrets:      append([]string(nil), a.Secrets...),
		Certificates: append([]tenant.KeyCredential(nil), a.Certificates...),
		MultiTenant:  a.MultiTenant, AppRoles: append([]string(nil), a.AppRoles...),
		AdminConsented: map[string]bool{}, IDTokenClaims: map[string]bool{},
	}
	for _, c := range a.IDTokenClaims {
		ai.IDTokenClaims[strings.ToLower(c)] = true
	}
	for _, p := range a.AdminConsented {
		ai.AdminConsented[strings.ToLower(p)] = true
	}
	for _, sp := range t.ServicePrincipals {
		if strings.EqualFold(sp.AppID, a.AppID) {
			ai.SPID = sp.ID
			break
		}
	}
	if ai.SPID == "" {
		// A stable stand-in so that application tokens always carry an oid.
		ai.SPID = stableGUID("sp:" + strings.ToLower(a.AppID))
	}
	return ai, true
}

// userInfo is a copy of a User taken under the tenant's lock.
type userInfo struct {
	ID, UPN, Name string
	Admin         bool
	Enabled       bool
	Password      string
}

func (s *Server) user(upn string) (userInfo, bool) {
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	u := t.UserByUPN(upn)
	if u == nil {
		// UserByUPN reads the generator's index; a tenant built by hand
		// (tests) has none, so fall back to a scan.
		for _, x := range t.Users {
			if strings.EqualFold(x.UserPrincipalName, upn) {
				u = x
				break
			}
		}
	}
	if u == nil {
		return userInfo{}, false
	}
	return userInfo{ID: u.ID, UPN: u.UserPrincipalName, Name: u.DisplayName,
		Admin: u.IsAdmin(), Enabled: u.AccountEnabled, Password: u.Password}, true
}

// pickerAccounts are the UPNs the account picker offers besides the
// session's accounts.
func (s *Server) pickerAccounts() []string {
	if len(s.o.PickerAccounts) > 0 {
		return s.o.PickerAccounts
	}
	const max = 12
	t := s.o.Tenant
	t.RLock()
	defer t.RUnlock()
	var out []string
	for _, u := range t.Users {
		if len(u.Roles) > 0 || u.Password != "" {
			out = append(out, u.UserPrincipalName)
			if len(out) == max {
				break
			}
		}
	}
	return out
}

// baseURL is the simulator's own authority, as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func newGUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) nextSerial() uint64 {
	s.serial++
	return s.serial
}
