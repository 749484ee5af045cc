package auth

import (
	"context"
	"encoding/json"
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
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/storage"
)

// expiryMargin is how long before its expiry a cached access token is
// replaced: a Graph call started just before expiry must not fail with 401.
const expiryMargin = 2 * time.Minute

// TokenSourceOptions configure a TokenSource.
type TokenSourceOptions struct {
	Conn    storage.Connection
	Secrets storage.Secrets
	// LockDir holds the per-connection lock file; use the configuration
	// directory so every process of that configuration shares it.
	LockDir string
	// HTTPClient is the connection's client (service.HTTPClient); nil
	// means no proxy.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// LockTimeout bounds the wait for another process's refresh; zero
	// means one minute.
	LockTimeout time.Duration
	// ClientSecret, when set, is used instead of the keyring's (Test
	// Connection on a dialog whose secret is typed but not yet saved).
	ClientSecret string
	// Certificate, when set, is used instead of loading the connection's
	// (Test Connection on a dialog whose certificate is not saved yet).
	Certificate *Certificate
	// OnToken, when set, is called after each token the identity platform
	// issued (not for a cached one), with the program's time: the caller
	// records it as the connection's last refresh, which the expiry
	// warnings count from.
	OnToken func(at time.Time)
}

// TokenSource hands out Graph access tokens for a connection. For
// Authorization Code it redeems the stored refresh token; Microsoft rotates
// refresh tokens on every use, so the new one is written to the keyring
// before the access token is returned, and refreshes are serialised within
// the process (a channel) and across processes (a lock file), re-reading
// the keyring under the lock because another process may have rotated it.
// For Client Credentials it signs in with the client secret, or with a
// client assertion signed by the connection's certificate.
type TokenSource struct {
	opts TokenSourceOptions
	log  *slog.Logger
	now  func() time.Time
	sem  chan struct{} // one refresh at a time in this process

	cached *oauth2.Token // guarded by sem
}

// pendingTokens holds, per connection ID, a rotated refresh token the
// keyring refused to store. It is the only valid link of the chain, so it
// is kept in memory and stored before anything else happens. It lives as
// long as the process, not the token source: every import makes a token
// source of its own, so in `beacon scheduler` or the window a token kept
// by the token source that received it died with that import, and a
// keyring that was down for that moment (restarted, replaced, locked) left
// the chain with only the spent token (issue 20).
var pendingTokens = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func pendingToken(connID string) string {
	pendingTokens.Lock()
	defer pendingTokens.Unlock()
	return pendingTokens.m[connID]
}

// setPending keeps rt as connID's pending token or, with rt "", forgets
// the kept one if it is still was (another token source of the process
// may have kept a newer one meanwhile).
func setPending(connID, rt, was string) {
	pendingTokens.Lock()
	defer pendingTokens.Unlock()
	switch {
	case rt != "":
		pendingTokens.m[connID] = rt
	case pendingTokens.m[connID] == was:
		delete(pendingTokens.m, connID)
	}
}

// NewTokenSource checks the connection and returns its token source.
func NewTokenSource(opts TokenSourceOptions) (*TokenSource, error) {
	if !storage.ValidID(opts.Conn.ID) {
		return nil, fmt.Errorf("connection %q has no valid ID; save it first", opts.Conn.Name)
	}
	if opts.Secrets == nil {
		return nil, errors.New("no keyring given to the token source")
	}
	// A Custom connection with an Issuer may leave the Token Endpoint to
	// its discovery document, read at the first refresh.
	if opts.Conn.Issuer == "" || strings.TrimSpace(opts.Conn.TokenEndpoint) != "" {
		if err := msendpoint.ValidateEndpoint(opts.Conn.TokenEndpoint); err != nil {
			return nil, fmt.Errorf("Token Endpoint: %w", err)
		}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Minute
	}
	ts := &TokenSource{opts: opts, log: opts.Logger, now: opts.Now, sem: make(chan struct{}, 1)}
	if ts.log == nil {
		ts.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if ts.now == nil {
		ts.now = clock.Now
	}
	return ts, nil
}

// Token implements oauth2.TokenSource.
func (ts *TokenSource) Token() (*oauth2.Token, error) { return ts.TokenContext(context.Background()) }

// TokenContext returns a valid access token, refreshing when the cached
// one is missing or about to expire.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-ts.sem }()
	if ts.cached != nil && ts.cached.Expiry.After(ts.now().Add(expiryMargin)) {
		return ts.cached, nil
	}
	var tok *oauth2.Token
	var err error
	if ts.opts.Conn.AuthFlow == storage.FlowClientCredentials {
		tok, err = ts.clientCredentials(ctx)
	} else {
		tok, err = ts.refresh(ctx)
	}
	if err != nil {
		return nil, err
	}
	ts.cached = tok
	if ts.opts.OnToken != nil {
		ts.opts.OnToken(ts.now())
	}
	return tok, nil
}

// Invalidate drops the cached access token (after Graph answered 401).
func (ts *TokenSource) Invalidate() {
	ts.sem <- struct{}{}
	ts.cached = nil
	<-ts.sem
}

func (ts *TokenSource) refresh(ctx context.Context) (*oauth2.Token, error) {
	c := ts.opts.Conn
	unlockFn, err := lockFile(ctx, lockPath(ts.opts.LockDir, c.ID), ts.opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlockFn()

	if p := pendingToken(c.ID); p != "" {
		if err := ts.opts.Secrets.Set(c.ID, storage.SecretRefreshToken, p); err != nil {
			return nil, fmt.Errorf("the renewed refresh token is still not stored in the keyring: %w. Unlock the keyring and try again (the renewed token is kept in memory until then)", err)
		}
		setPending(c.ID, "", p)
	}
	// Read under the lock: another process may have rotated it since.
	rt, err := ts.opts.Secrets.Get(c.ID, storage.SecretRefreshToken)
	if err != nil {
		if errors.Is(err, storage.ErrSecretNotFound) {
			if c.Token == nil {
				return nil, fmt.Errorf("connection %q: %w", c.Name, ErrNotSignedIn)
			}
			return nil, fmt.Errorf("no refresh token is stored for connection %q: %w", c.Name, ErrReauthRequired)
		}
		return nil, fmt.Errorf("read the refresh token of connection %q: %w", c.Name, err)
	}
	if strings.TrimSpace(c.TokenEndpoint) == "" {
		p, err := Discover(ctx, ts.opts.HTTPClient, c.Issuer)
		if err != nil {
			return nil, err
		}
		p.apply(&c)
	}
	form := url.Values{
		"client_id":     {strings.TrimSpace(c.ClientID)},
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt},
	}
	if scope := refreshScope(c); scope != "" {
		form.Set("scope", scope)
	}
	start := ts.now()
	tok, err := postToken(ctx, ts.opts.HTTPClient, opRefresh, c.TokenEndpoint, form, start)
	if err != nil {
		err = decorate(c, err, tenantOf(c))
		ts.log.Warn("token refresh failed", "connection", c.Name, "error", err.Error())
		return nil, err
	}
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		if err := ts.opts.Secrets.Set(c.ID, storage.SecretRefreshToken, tok.RefreshToken); err != nil {
			// The old token is spent: keep the new one in memory, and do
			// not hand out the access token before the chain is safe.
			setPending(c.ID, tok.RefreshToken, "")
			return nil, fmt.Errorf("Microsoft renewed the refresh token but the keyring did not store it: %w. Unlock the keyring and try again (the renewed token is kept in memory until then)", err)
		}
	}
	ts.log.Debug("token refreshed", "connection", c.Name, "expires", tok.Expiry.Format(time.RFC3339))
	return tok, nil
}

// refreshScope is the scope a refresh asks for: never beyond what was
// granted (RFC 6749 §6). The sign-in's granted scopes, when recorded, keep
// of what the connection asks for only those granted (and the OpenID
// scopes asked with them); with none recorded Microsoft gets what the
// sign-in asked for (its refresh documents scope as required) and another
// provider no scope at all, which means the grant as it was.
func refreshScope(c storage.Connection) string {
	asked := Scopes(c)
	if c.Token == nil || strings.TrimSpace(c.Token.Scopes) == "" {
		if c.Cloud == customCloud && !microsoftLayout(c.TokenEndpoint) {
			return ""
		}
		return strings.Join(asked, " ")
	}
	granted := map[string]bool{}
	for _, g := range strings.Fields(c.Token.Scopes) {
		granted[strings.ToLower(graphperm.ShortName(g))] = true
	}
	var keep []string
	for _, a := range asked {
		short := strings.ToLower(graphperm.ShortName(a))
		if granted[short] || short == "offline_access" || short == "openid" || short == "profile" {
			keep = append(keep, a)
		}
	}
	return strings.Join(keep, " ")
}

func tenantOf(c storage.Connection) string {
	if c.Token != nil && c.Token.TenantID != "" {
		return c.Token.TenantID
	}
	return ""
}

func (ts *TokenSource) clientCredentials(ctx context.Context) (*oauth2.Token, error) {
	c := ts.opts.Conn
	if err := msendpoint.ValidateTenantTokenEndpoint(c.TokenEndpoint); err != nil {
		return nil, fmt.Errorf("Token Endpoint: %w", err)
	}
	if c.UsesCertificate() {
		return ts.certificateCredentials(ctx)
	}
	secret := ts.opts.ClientSecret
	if secret == "" {
		var err error
		secret, err = ts.opts.Secrets.Get(c.ID, storage.SecretClientSecret)
		if errors.Is(err, storage.ErrSecretNotFound) {
			return nil, fmt.Errorf("no client secret is stored for connection %q: enter it in the connection's Client Secret field and save", c.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("read the client secret of connection %q: %w", c.Name, err)
		}
	}
	cc := clientcredentials.Config{
		ClientID:     strings.TrimSpace(c.ClientID),
		ClientSecret: secret,
		TokenURL:     strings.TrimSpace(c.TokenEndpoint),
		Scopes:       []string{graphResource(c.GraphEndpoint) + "/.default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	hc := boundAnswers(ts.opts.HTTPClient)
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, hc.Client))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = fromRetrieve(opClient, c.TokenEndpoint, hc.check(err))
		var ae *Error
		if errors.As(err, &ae) && ae.Kind() == KindAdminApproval {
			ae.AdminConsentURL = AdminConsentURL(c, "")
		}
		return nil, err
	}
	// golang.org/x/oauth2 dates the expiry on the real clock; the cache
	// compares it with the program's (which a test may move): restate it
	// on the program's clock, or a moved clock finds every token expired
	// and signs in again for each request (found by the +45-day suite).
	if !tok.Expiry.IsZero() {
		tok.Expiry = ts.now().Add(time.Until(tok.Expiry))
	}
	return tok, nil
}

// certificateCredentials is the client-credentials grant authenticated by
// a signed client assertion (RFC 7523) instead of a secret. The
// certificate is read at every token request, not once: a certificate
// rotated on disk (or in the keyring) is used from the next token on,
// without restarting the scheduler.
func (ts *TokenSource) certificateCredentials(ctx context.Context) (*oauth2.Token, error) {
	c := ts.opts.Conn
	cert := ts.opts.Certificate
	if cert == nil {
		var err error
		if cert, err = loadConnectionCertificate(c, ts.opts.Secrets); err != nil {
			return nil, fmt.Errorf("the certificate of connection %q cannot be used: %w", c.Name, err)
		}
	}
	now := ts.now()
	if err := cert.CheckValidAt(now); err != nil {
		return nil, fmt.Errorf("connection %q: %w", c.Name, err)
	}
	assertion, err := ClientAssertion(cert, strings.TrimSpace(c.ClientID), c.TokenEndpoint, now)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"client_id":             {strings.TrimSpace(c.ClientID)},
		"grant_type":            {"client_credentials"},
		"scope":                 {graphResource(c.GraphEndpoint) + "/.default"},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
	}
	tok, err := postToken(ctx, ts.opts.HTTPClient, opClient, c.TokenEndpoint, form, now)
	if err != nil {
		ts.log.Warn("certificate sign-in failed", "connection", c.Name, "thumbprint", cert.Thumbprint(), "error", err.Error())
		var ae *Error
		if errors.As(err, &ae) && ae.Kind() == KindAdminApproval {
			ae.AdminConsentURL = AdminConsentURL(c, "")
		}
		return nil, err
	}
	return tok, nil
}

// postToken sends a token request and reads Microsoft's answer. It is used
// for refreshes because Microsoft documents `scope` as part of the refresh
// request and golang.org/x/oauth2 cannot add it there.
func postToken(ctx context.Context, client *http.Client, op, endpoint string, form url.Values, start time.Time) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSpace(endpoint), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("Token Endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, TransportError(endpoint, err)
	}
	defer resp.Body.Close()
	body, err := readAnswer(resp)
	if err != nil {
		return nil, TransportError(endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		if e := ParseErrorBody(op, resp.StatusCode, body); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("the token endpoint %s answered HTTP %d, not a token: check the Token Endpoint address and the proxy settings", endpoint, resp.StatusCode)
	}
	var j struct {
		AccessToken  string          `json:"access_token"`
		TokenType    string          `json:"token_type"`
		RefreshToken string          `json:"refresh_token"`
		ExpiresIn    json.Number     `json:"expires_in"`
		IDToken      string          `json:"id_token"`
		Scope        string          `json:"scope"`
		Error        json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &j); err != nil || j.AccessToken == "" {
		if e := ParseErrorBody(op, resp.StatusCode, body); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("the token endpoint %s answered without an access token: check the Token Endpoint address", endpoint)
	}
	tok := &oauth2.Token{AccessToken: j.AccessToken, TokenType: j.TokenType, RefreshToken: j.RefreshToken}
	if n, err := j.ExpiresIn.Int64(); err == nil && n > 0 {
		tok.ExpiresIn = n
		tok.Expiry = start.Add(time.Duration(n) * time.Second)
	}
	extra := map[string]any{"scope": j.Scope}
	if j.IDToken != "" {
		extra["id_token"] = j.IDToken
	}
	return tok.WithExtra(extra), nil
}
