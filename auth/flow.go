// Package auth signs Inventory Beacon in to Microsoft's identity platform,
// and, for Cloud Custom, to any standard OAuth 2.0 / OpenID Connect
// provider (endpoints from its issuer's discovery document, id_tokens
// checked against its keys, oidc.go): the authorization-code flow with
// PKCE in the system browser (loopback or pasted redirect), the device
// authorization grant for terminals, client credentials (with a client
// secret, or with a PEM or PFX certificate whose key signs an RFC 7523
// client assertion: certificate.go), and a token source that keeps the
// rotating refresh token chain intact across goroutines and processes.
// The Graph permissions asked for are the connection's permission profile
// (internal/graphperm).
//
// It is OAuth 2.0 only and imports no other product package but storage
// (and leaf helpers: the settings' syntax rules come from
// internal/msendpoint, so auth does not import connector). The HTTP client
// of a connection, Test Connection and storing a sign-in are use cases of
// service, which builds on this package; the window, the CLI and the
// scheduler reach auth through service or with a client service built. It
// never imports Fyne and never logs a token, secret or password.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/storage"
)

// DefaultTimeout is how long a sign-in waits for the browser by default.
const DefaultTimeout = 5 * time.Minute

// DefaultGraphEndpoint is used when a connection names none.
const DefaultGraphEndpoint = "https://graph.microsoft.com"

// Scopes are the delegated scopes Generate... asks for: a refresh token
// (offline_access), the account's name for the dialog (openid profile), and
// the Graph permissions of the connection's permission profile
// (internal/graphperm), as full URIs of the connection's Graph resource (a
// sovereign cloud has its own).
func Scopes(conn storage.Connection) []string {
	return append([]string{"offline_access", "openid", "profile"}, GraphScopes(conn)...)
}

// GraphScopes are the Graph permissions of conn's profile as full URIs.
func GraphScopes(conn storage.Connection) []string {
	g := graphResource(conn.GraphEndpoint)
	var out []string
	for _, p := range graphperm.Permissions(conn.Permissions, conn.CustomScopes, conn.SignInActivity) {
		out = append(out, g+"/"+p)
	}
	return out
}

func graphResource(graphEndpoint string) string {
	g := strings.TrimRight(strings.TrimSpace(graphEndpoint), "/")
	if g == "" {
		g = DefaultGraphEndpoint
	}
	return g
}

// FlowOptions tune a sign-in.
type FlowOptions struct {
	// HTTPClient reaches the token endpoint: the connection's client
	// (service.HTTPClient), so the proxy settings apply. Nil means a
	// client without proxy.
	HTTPClient *http.Client
	// Logger gets progress and refusals, never tokens. Nil discards.
	Logger *slog.Logger
	// ReadHeaderTimeout bounds how long the loopback listener waits for a
	// request's headers (slowloris). Zero means 10 s.
	ReadHeaderTimeout time.Duration
	// Now is the clock for ObtainedAt; nil means time.Now.
	Now func() time.Time
}

// Flow is one authorization-code sign-in. Start it, show AuthURL (and open
// the browser), then either Wait for the loopback redirect or, when
// NeedsPaste, hand the pasted address to CompleteFromPaste. Close it when
// done; Wait closes it itself.
type Flow struct {
	conn     storage.Connection
	cfg      oauth2.Config
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	state    string
	verifier string
	authURL  string
	lb       *loopback // nil when the redirect is not a loopback address
	// provider is the connection's OpenID Connect issuer, when it names
	// one: its sign-ins are checked as OpenID Connect says.
	provider *Provider

	mu   sync.Mutex
	used bool // a code was exchanged (or the flow ended): a code works once
}

// Start prepares a sign-in for conn. With a loopback Redirect URI it starts
// listening at once, so a port in use is reported before any browser opens.
func Start(conn storage.Connection, opts FlowOptions) (*Flow, error) {
	if conn.AuthFlow != "" && conn.AuthFlow != storage.FlowAuthorizationCode {
		return nil, fmt.Errorf("connection %q uses %s; Generate... is only for Authorization Code", conn.Name, conn.AuthFlow)
	}
	provider, err := discoverFor(&conn, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{
		{"Authorization Endpoint", conn.AuthorizationEndpoint},
		{"Token Endpoint", conn.TokenEndpoint},
		{"Redirect URI", conn.RedirectURI},
	} {
		if err := msendpoint.ValidateEndpoint(f.v); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := validateClientID(conn); err != nil {
		return nil, fmt.Errorf("Application (client) ID: %w", err)
	}
	f := &Flow{conn: conn, client: opts.HTTPClient, log: opts.Logger, now: opts.Now, provider: provider}
	if f.client == nil {
		f.client = &http.Client{}
	}
	if f.log == nil {
		f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if f.now == nil {
		f.now = clock.Now
	}
	state, err := randomState()
	if err != nil {
		return nil, err
	}
	f.state = state
	f.verifier = oauth2.GenerateVerifier()

	redirect, err := url.Parse(strings.TrimSpace(conn.RedirectURI))
	if err != nil {
		return nil, fmt.Errorf("Redirect URI: %w", err)
	}
	if strings.EqualFold(redirect.Scheme, "http") && msendpoint.IsLoopbackURL(redirect.String()) {
		listeners, port, err := listenLoopback(redirect)
		if err != nil {
			return nil, err
		}
		path := redirect.Path
		if path == "" {
			path = "/"
		}
		// Microsoft ignores the port of a localhost redirect URI when
		// matching, so the chosen port travels in redirect_uri and must be
		// sent identically at the exchange.
		if redirect.Port() == "" {
			redirect.Host = redirect.Hostname() + fmt.Sprintf(":%d", port)
		}
		rht := opts.ReadHeaderTimeout
		if rht <= 0 {
			rht = 10 * time.Second
		}
		f.lb = newLoopback(listeners, port, path, state, rht, f.log)
	}
	f.cfg = oauth2.Config{
		ClientID: strings.TrimSpace(conn.ClientID),
		Endpoint: oauth2.Endpoint{
			AuthURL:       strings.TrimSpace(conn.AuthorizationEndpoint),
			TokenURL:      strings.TrimSpace(conn.TokenEndpoint),
			DeviceAuthURL: deviceAuthURL(conn, provider),
			// Microsoft's endpoint declares no auth style; a public client
			// sends its client_id in the form and no secret.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect.String(),
		Scopes:      Scopes(conn),
	}
	f.authURL = f.cfg.AuthCodeURL(state,
		oauth2.S256ChallengeOption(f.verifier),
		oauth2.SetAuthURLParam("response_mode", "query"),
	)
	if p := promptOf(conn); p != "" {
		f.authURL += "&prompt=" + url.QueryEscape(p)
	}
	f.log.Info("sign-in started", "connection", conn.Name, "loopback", f.lb != nil, "redirect", f.cfg.RedirectURL)
	return f, nil
}

// randomState returns 256 random bits, base64url encoded.
func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("no randomness for the sign-in state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthURL is the address to open in the browser. It holds the state and
// the PKCE challenge, never the verifier or any secret.
func (f *Flow) AuthURL() string { return f.authURL }

// RedirectURI is the redirect_uri sent (with the chosen port filled in).
func (f *Flow) RedirectURI() string { return f.cfg.RedirectURL }

// NeedsPaste reports whether the app cannot receive the redirect itself
// (the nativeclient URI) and must ask for the final address.
func (f *Flow) NeedsPaste() bool { return f.lb == nil }

// Close stops the loopback listener. It is safe to call more than once.
func (f *Flow) Close() {
	if f.lb != nil {
		f.lb.close()
	}
}

// Wait waits for the loopback redirect, exchanges the code and returns the
// result. ctx ends the wait: cancel it for Cancel, give it a deadline for
// the time-out (ErrCancelled and ErrTimedOut come back wrapped).
func (f *Flow) Wait(ctx context.Context) (*Result, error) {
	if f.lb == nil {
		return nil, errors.New("this sign-in's redirect goes to a page the app cannot reach: paste the final address instead")
	}
	defer f.Close()
	var cb callback
	select {
	case cb = <-f.lb.result:
	case <-ctx.Done():
		// A callback that raced with the cancel still gets its page.
		select {
		case late := <-f.lb.result:
			late.replyWith(outcome{title: "Sign-in cancelled", message: "The sign-in was cancelled in Inventory Beacon."})
		default:
		}
		return nil, ctxError(ctx)
	}
	if cb.err == nil {
		cb.err = f.provider.checkRedirectIssuer(cb.query)
	}
	if cb.err != nil {
		err := f.decorate(cb.err)
		cb.replyWith(outcome{title: "Sign-in failed", message: Guidance(err)})
		return nil, err
	}
	res, err := f.exchange(ctx, cb.code)
	if err != nil {
		cb.replyWith(outcome{title: "Sign-in failed", message: Guidance(err)})
		return nil, err
	}
	cb.replyWith(outcome{ok: true, title: "Signed in", message: "Inventory Beacon received a sign-in for " + res.Info.Account + "."})
	return res, nil
}

func (cb callback) replyWith(o outcome) {
	if cb.reply != nil {
		cb.reply <- o
	}
}

// CompleteFromPaste takes the address the administrator pasted, checks its
// state, and exchanges the code.
func (f *Flow) CompleteFromPaste(ctx context.Context, pasted string) (*Result, error) {
	code, err := ParseRedirect(pasted, f.state)
	if err == nil {
		err = f.provider.checkRedirectIssuer(redirectQuery(pasted))
	}
	if err != nil {
		return nil, f.decorate(err)
	}
	return f.exchange(ctx, code)
}

func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: the sign-in was not finished in the browser before the time-out; click Generate... to try again", ErrTimedOut)
	}
	return ErrCancelled
}

// decorate names the provider in its error and adds the admin-consent
// link to an admin-approval error.
func (f *Flow) decorate(err error) error { return decorate(f.conn, err, "") }

func decorate(conn storage.Connection, err error, tenant string) error {
	var ae *Error
	if errors.As(err, &ae) {
		ae.Provider = ProviderName(conn)
		if ae.Kind() == KindAdminApproval && ae.AdminConsentURL == "" {
			ae.AdminConsentURL = AdminConsentURL(conn, tenant)
		}
	}
	return err
}

func (f *Flow) exchange(ctx context.Context, code string) (*Result, error) {
	f.mu.Lock()
	if f.used {
		f.mu.Unlock()
		return nil, errors.New("this sign-in has already been completed; click Generate... to start a new one")
	}
	f.used = true
	f.mu.Unlock()

	hc := boundAnswers(f.client)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc.Client)
	tok, err := f.cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx)
		}
		// Logged after conversion: the raw oauth2 error quotes whatever
		// body the endpoint (or a proxy) sent.
		err = f.decorate(fromRetrieve(opExchange, f.cfg.Endpoint.TokenURL, hc.check(err)))
		f.log.Warn("code exchange failed", "error", err.Error())
		return nil, err
	}
	res, err := newResult(ctx, tok, f.conn, f.now(), f.provider)
	if err != nil {
		return nil, err
	}
	f.log.Info("sign-in completed", "connection", f.conn.Name, "account", res.Info.Account, "tenant", res.Info.TenantID)
	return res, nil
}

// discoverFor reads the discovery document of conn's Issuer, when it
// names one, and fills the endpoints conn leaves empty from it.
func discoverFor(conn *storage.Connection, hc *http.Client) (*Provider, error) {
	if strings.TrimSpace(conn.Issuer) == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
	defer cancel()
	p, err := Discover(ctx, hc, conn.Issuer)
	if err != nil {
		return nil, err
	}
	p.apply(conn)
	return p, nil
}

// deviceAuthURL is the device authorization endpoint: the issuer's, when
// discovered; otherwise derived from the Token Endpoint as Microsoft lays
// them out.
func deviceAuthURL(conn storage.Connection, p *Provider) string {
	if p != nil {
		return p.DeviceAuthorizationEndpoint
	}
	return deviceCodeURL(conn.TokenEndpoint)
}

// validateClientID: Microsoft's client IDs are GUIDs; another provider's
// (Cloud Custom) may be any name it gave the app.
func validateClientID(conn storage.Connection) error {
	if conn.Cloud == customCloud {
		if strings.TrimSpace(conn.ClientID) == "" {
			return errors.New("enter the client ID the identity provider gave the app")
		}
		return nil
	}
	return msendpoint.ValidateClientID(conn.ClientID)
}

// Prompt values of a connection (storage.Connection.Prompt).
const (
	PromptDefault = "select_account" // Microsoft's: lets the administrator pick the account
	PromptOmit    = "omit"           // send no prompt
)

// promptOf is the prompt to send, "" for none.
func promptOf(conn storage.Connection) string {
	switch p := strings.TrimSpace(conn.Prompt); p {
	case "":
		return PromptDefault
	case PromptOmit:
		return ""
	default:
		return p
	}
}

// deviceCodeURL derives /devicecode from the /token endpoint: both live
// under the same /{tenant}/oauth2/v2.0/.
func deviceCodeURL(tokenEndpoint string) string {
	t := strings.TrimSpace(tokenEndpoint)
	if strings.HasSuffix(t, "/token") {
		return strings.TrimSuffix(t, "/token") + "/devicecode"
	}
	return ""
}

// AdminConsentURL is the address an administrator opens to grant the app
// tenant-wide consent for the import's permissions: the profile's
// delegated scopes, or .default (the app's configured application
// permissions) for Client Credentials. tenant may be "" to take it from
// the endpoints; "common" is never used there (Microsoft refuses it),
// "organizations" lets any admin's own tenant be chosen. Only Microsoft's
// identity platform has this page: a Custom cloud gets one only when its
// endpoints are laid out as Microsoft's (/{tenant}/oauth2/v2.0/…, as the
// simulator's and a Microsoft authority typed by hand are), never for
// another OpenID Connect provider.
func AdminConsentURL(conn storage.Connection, tenant string) string {
	base := conn.AuthorizationEndpoint
	if base == "" {
		base = conn.TokenEndpoint
	}
	if conn.Cloud == customCloud && !microsoftLayout(base) {
		return ""
	}
	if tenant == "" {
		tenant = msendpoint.TenantFromEndpoint(base)
	}
	scopes := GraphScopes(conn)
	if conn.AuthFlow == storage.FlowClientCredentials {
		scopes = []string{graphResource(conn.GraphEndpoint) + "/.default"}
	}
	return graphperm.ConsentLink(base, tenant, conn.ClientID, conn.RedirectURI, scopes)
}

// microsoftLayout reports whether endpoint is /{tenant}/oauth2/v2.0/… on
// its host, the path of Microsoft's identity platform.
func microsoftLayout(endpoint string) bool {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil {
		return false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	return len(parts) == 4 && parts[0] != "" && strings.EqualFold(parts[1], "oauth2") && strings.EqualFold(parts[2], "v2.0")
}

// customCloud is connector.CloudCustom (auth does not import connector):
// endpoints typed by hand, of any OAuth 2.0 / OpenID Connect provider.
const customCloud = "Custom"
