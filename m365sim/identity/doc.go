// Package identity is the simulator's Microsoft identity platform (v2.0
// endpoints of login.microsoftonline.com) as an http.Handler.
//
// It serves, under /{tenant}/ where tenant is the simulated tenant's GUID,
// its domain, common, organizations or consumers:
//
//	GET  oauth2/v2.0/authorize          sign-in and consent pages, then the redirect
//	POST oauth2/v2.0/token              authorization_code, refresh_token,
//	                                    client_credentials, device_code grants;
//	                                    a confidential client authenticates by
//	                                    secret or by a client assertion signed
//	                                    with a registered certificate (assertion.go)
//	POST oauth2/v2.0/devicecode         device authorization
//	GET  oauth2/deviceauth              the page where a device's user code is entered
//	GET  oauth2/nativeclient            the blank landing page of native clients
//	GET  v2.0/adminconsent              tenant-wide admin consent
//	GET  discovery/v2.0/keys            the id_token signing keys (JWKS)
//	GET  v2.0/.well-known/openid-configuration
//
// and GET /error?code=N, the page error_uri points to. The wire shapes follow
// ../shared/spec/microsoft-wire.md; comments marked (?) are behaviours that
// could not be confirmed against Microsoft's documentation or real responses.
//
// # Pages
//
// The HTML pages are self-contained (no external resources) and carry stable
// element ids so tests and the app's browser driver can click them:
//
//	Pick an account:        button.tile[data-upn] (name=upn), #otherTile
//	Sign in (typed UPN):    #username, #password, #signin
//	Enter password:         #password, #signin
//	Permissions requested:  li[data-scope], #consent_org (admins only), #accept, #cancel
//	Need admin approval:    #adminSignIn, #returnToApp
//	Device code entry:      #otc, #next
//	Error page:             #errorCode[data-code]
//
// The account picker lists the accounts signed in in this browser session,
// then the tenant's "demo" accounts: users holding a directory role or having
// a password set (Options.PickerAccounts overrides this), at most 12. A user
// whose Password is empty signs in without the password page.
//
// # Token responses
//
// The device code grant is accepted under both of its names: RFC 8628's
// urn:ietf:params:oauth:grant-type:device_code, which Microsoft documents,
// and the short device_code that MSAL.NET and MSAL.js send. Its polling
// errors (authorization_pending, slow_down, authorization_declined,
// expired_token, bad_verification_code) carry the same fields as every
// token error: error, error_description, error_codes, timestamp, trace_id,
// correlation_id and error_uri; the interval is the devicecode answer's.
//
// A request with client_info=1 (MSAL sends it) gets client_info in the
// answer: base64url JSON {"uid": user object id, "utid": tenant id}.
// An id_token carries the opaque login_hint claim when the app registration
// lists it among its optional claims (tenant.AppRegistration.IDTokenClaims),
// as Microsoft's optional claims do; passed back as the login_hint
// parameter, it names its user even after a UPN change.
//
// # Consent
//
// Delegated permissions are consented per user and app (Accept on the
// Permissions requested page) or tenant-wide (AppRegistration.AdminConsented,
// set by an administrator ticking "Consent on behalf of your organization" or
// through /adminconsent). When everything requested is already consented the
// consent page is skipped, as Microsoft does, unless prompt=consent. The
// OpenID scopes (openid, profile, email, offline_access) count as consented
// once any permission of the app is (?). A user without an admin role asking
// for an admin-only permission (Directory.Read.All, Reports.Read.All, ...)
// that is not consented tenant-wide gets the "Need admin approval" page
// (AADSTS90094).
//
// # Refresh token rotation
//
// Every refresh_token redemption returns a new refresh token, which the
// client should store and use from then on. By default the redeemed token
// keeps working, as Microsoft documents for its identity platform ("it
// doesn't revoke old refresh tokens when used to fetch new access
// tokens"): until it expires or is revoked, each redemption forks the
// chain. Stats.RefreshReuses counts such redemptions of an already
// redeemed token, so a test can prove a client never makes one.
//
// Options.SingleUseRefreshTokens is the strict mode: a redeemed token is
// dead, and a second redemption answers invalid_grant (AADSTS70000). With
// it, Options.RefreshGrace lets a token redeemed less than RefreshGrace ago
// be redeemed exactly once more (a client that crashed between receiving
// the rotated token and storing it), which returns another fresh refresh
// token (the chain forks; both children are valid).
//
// In both modes refresh tokens die after RefreshTokenIdle from their issue
// (AADSTS700082), when ExpireRefreshTokens is called (the same error), and
// when RevokeRefreshTokens names their user or client (AADSTS50173);
// tokens issued after a revocation are valid.
//
// # Redirect URIs
//
// A loopback redirect URI (http://localhost or http://127.0.0.1) matches a
// registered one whatever the port, but scheme, host and path must match:
// localhost and 127.0.0.1 do not stand for each other, and [::1] is not
// supported, as Microsoft documents. Any other URI must match exactly. A
// redirect URI without a path is answered with a trailing slash. A redirect
// URI that matches nothing gets an error page (AADSTS50011), never a
// redirect; later errors go to the redirect URI as error parameters.
//
// # For tests and the demo
//
// IssueRefreshToken signs a user in without pages (recording the consent),
// RevokeRefreshTokens and ExpireRefreshTokens play the "revoked" and
// "90 days idle" scenarios, and Stats counts what happened.
//
// x/oauth2 sends no scope when it redeems a code or a refresh token; the
// simulator then uses the scopes of the original authorization (?).
package identity
