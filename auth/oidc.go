package auth

// Standard OpenID Connect for Cloud "Custom" (issue 22, item 6): a
// connection that names an Issuer takes its endpoints from the issuer's
// discovery document, and its sign-ins are checked as OpenID Connect Core
// says a client checks them (the id_token's signature against the
// issuer's JWKS, its iss, aud and exp; RFC 9207's iss on the redirect),
// because a provider other than Microsoft's is only known by what it
// publishes. The account comes from userinfo when the id_token names only
// its subject.

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/storage"
)

// Provider is what an issuer's discovery document says.
type Provider struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	UserinfoEndpoint            string `json:"userinfo_endpoint"`
	JWKSURI                     string `json:"jwks_uri"`
	// AuthorizationResponseIssParameterSupported is RFC 9207's flag: the
	// provider puts iss on every authorization response.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`

	client *http.Client
}

// ErrIssuerMismatch means a redirect carried an iss other than the
// connection's issuer (RFC 9207): the answer came from another provider (a
// mix-up attack, or a second provider's stale tab), so it was refused.
var ErrIssuerMismatch = errors.New("the sign-in answer came from another identity provider than the connection's Issuer (its iss differs), so it was refused and nothing was exchanged; start Generate... again")

// discoveryTimeout bounds each request to the provider's metadata.
const discoveryTimeout = 30 * time.Second

// Discover reads issuer's /.well-known/openid-configuration and checks
// that it is the issuer's own (OpenID Connect Discovery §4.3: the issuer
// in the document equals the one asked for).
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Provider, error) {
	issuer = strings.TrimSpace(issuer)
	if err := msendpoint.ValidateEndpoint(issuer); err != nil {
		return nil, fmt.Errorf("Issuer: %w", err)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	p := &Provider{client: hc}
	wellKnown := strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, hc, wellKnown, "", p); err != nil {
		return nil, fmt.Errorf("the Issuer's discovery document %s could not be read: %w", wellKnown, err)
	}
	if strings.TrimRight(p.Issuer, "/") != strings.TrimRight(issuer, "/") {
		return nil, fmt.Errorf("the discovery document at %s names the issuer %q, not %q: check the Issuer address", wellKnown, p.Issuer, issuer)
	}
	for _, e := range []struct{ name, v string }{{"authorization_endpoint", p.AuthorizationEndpoint}, {"token_endpoint", p.TokenEndpoint}, {"jwks_uri", p.JWKSURI}} {
		if err := msendpoint.ValidateEndpoint(e.v); err != nil {
			return nil, fmt.Errorf("the discovery document of %s has no usable %s (%v)", issuer, e.name, err)
		}
	}
	return p, nil
}

// getJSON GETs u (with a bearer token when given) and decodes a JSON
// object of less than answer.Max bytes.
func getJSON(ctx context.Context, hc *http.Client, u, bearer string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return TransportError(u, err)
	}
	defer resp.Body.Close()
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("not a JSON document (%v)", err)
	}
	return nil
}

// apply puts the discovered endpoints into conn, where the connection's
// own are empty: a typed endpoint wins, so an administrator can route one
// through another address.
func (p *Provider) apply(conn *storage.Connection) {
	if strings.TrimSpace(conn.AuthorizationEndpoint) == "" {
		conn.AuthorizationEndpoint = p.AuthorizationEndpoint
	}
	if strings.TrimSpace(conn.TokenEndpoint) == "" {
		conn.TokenEndpoint = p.TokenEndpoint
	}
}

// checkRedirectIssuer applies RFC 9207: an iss on the redirect must be the
// issuer's; a provider that says it always sends one must have sent it.
func (p *Provider) checkRedirectIssuer(q url.Values) error {
	if p == nil {
		return nil
	}
	iss, present := q.Get("iss"), q.Has("iss")
	switch {
	case present && iss != p.Issuer:
		return ErrIssuerMismatch
	case !present && p.AuthorizationResponseIssParameterSupported:
		return ErrIssuerMismatch
	}
	return nil
}

// idTokenClaims are the claims an id_token is checked on.
type idTokenClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   json.Number     `json:"exp"`
}

// clockSkew is how far apart the provider's clock and ours may be.
const clockSkew = 5 * time.Minute

// verifyIDToken checks an id_token as OpenID Connect Core §3.1.3.7 asks
// of a client: the signature by one of the issuer's keys (RS256 or PS256,
// the algorithms a JWKS of RSA keys signs with), iss equal to the issuer,
// the client among the audiences, and not expired.
func (p *Provider) verifyIDToken(ctx context.Context, raw, clientID string, now time.Time) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("the id_token is not a signed JWT")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return fmt.Errorf("the id_token's header: %w", err)
	}
	if hdr.Alg != "RS256" && hdr.Alg != "PS256" {
		return fmt.Errorf("the id_token is signed with %q; Inventory Beacon checks RS256 and PS256 signatures", hdr.Alg)
	}
	keys, err := p.keys(ctx)
	if err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("the id_token's signature is not base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	verified := false
	for _, k := range keys {
		if hdr.Kid != "" && k.kid != "" && k.kid != hdr.Kid {
			continue
		}
		if hdr.Alg == "RS256" {
			verified = rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], sig) == nil
		} else {
			verified = rsa.VerifyPSS(k.pub, crypto.SHA256, digest[:], sig, nil) == nil
		}
		if verified {
			break
		}
	}
	if !verified {
		return fmt.Errorf("the id_token's signature does not verify with any key of %s", p.JWKSURI)
	}
	var c idTokenClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return fmt.Errorf("the id_token's claims: %w", err)
	}
	if c.Issuer != p.Issuer {
		return fmt.Errorf("the id_token was issued by %q, not by the connection's Issuer %q", c.Issuer, p.Issuer)
	}
	var auds []string
	if json.Unmarshal(c.Audience, &auds) != nil {
		var one string
		if json.Unmarshal(c.Audience, &one) == nil {
			auds = []string{one}
		}
	}
	if !slices.Contains(auds, clientID) {
		return fmt.Errorf("the id_token is meant for %v, not for the Application (client) ID %q", auds, clientID)
	}
	exp, err := c.Expiry.Int64()
	if err != nil {
		return errors.New("the id_token has no expiry (exp)")
	}
	if now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return fmt.Errorf("the id_token expired at %s: check this computer's clock", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

type jwk struct {
	kid string
	pub *rsa.PublicKey
}

// keys reads the issuer's RSA signing keys.
func (p *Provider) keys(ctx context.Context) ([]jwk, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := getJSON(ctx, p.client, p.JWKSURI, "", &set); err != nil {
		return nil, fmt.Errorf("the issuer's signing keys (%s) could not be read: %w", p.JWKSURI, err)
	}
	var out []jwk
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		out = append(out, jwk{kid: k.Kid, pub: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the issuer's key set %s has no RSA signing key", p.JWKSURI)
	}
	return out, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return errors.New("not base64url")
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// userinfo reads the account's name from the userinfo endpoint, for an
// id_token that names only its subject. "" when there is none to read.
func (p *Provider) userinfo(ctx context.Context, accessToken string) (account, name string) {
	if p == nil || p.UserinfoEndpoint == "" || accessToken == "" {
		return "", ""
	}
	var c IDClaims
	if err := getJSON(ctx, p.client, p.UserinfoEndpoint, accessToken, &c); err != nil {
		return "", ""
	}
	return c.Account(), c.Name
}

// ProviderName is how messages name conn's identity provider: Microsoft
// for the named clouds and for Custom endpoints laid out as Microsoft's,
// otherwise the host of its Issuer (or Token Endpoint).
func ProviderName(conn storage.Connection) string {
	if conn.Cloud != customCloud || (conn.Issuer == "" && microsoftLayout(conn.TokenEndpoint)) {
		return "Microsoft"
	}
	for _, raw := range []string{conn.Issuer, conn.TokenEndpoint} {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.Host != "" {
			return "the identity provider " + u.Host
		}
	}
	return "the identity provider"
}
