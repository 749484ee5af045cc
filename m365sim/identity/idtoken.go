package identity

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// idClaims are the id_token's claims, in the order Microsoft's v2.0 tokens
// list them.
type idClaims struct {
	Audience          string `json:"aud"`
	Issuer            string `json:"iss"`
	IssuedAt          int64  `json:"iat"`
	NotBefore         int64  `json:"nbf"`
	Expiry            int64  `json:"exp"`
	Name              string `json:"name"`
	Nonce             string `json:"nonce,omitempty"`
	ObjectID          string `json:"oid"`
	PreferredUsername string `json:"preferred_username"`
	Subject           string `json:"sub"`
	TenantID          string `json:"tid"`
	Version           string `json:"ver"`
	// LoginHint is the optional login_hint claim: opaque to clients, who
	// pass it back as the login_hint parameter.
	LoginHint string `json:"login_hint,omitempty"`
}

// clientInfo is the token response's client_info: base64url (no padding)
// JSON with the user's object id and home tenant id, from which MSAL makes
// the account's home account id "uid.utid".
func clientInfo(oid, tid string) string {
	b, _ := json.Marshal(struct {
		UID  string `json:"uid"`
		UTID string `json:"utid"`
	}{oid, tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginHintClaim is the opaque login_hint claim: "O." and base64 of the
// user's object id, home tenant id and UPN as protobuf-style
// length-delimited fields. Microsoft documents the claim as opaque and
// base64 encoded; the "O." prefix and the fields follow values seen in
// real tokens (?). Clients must not look inside, and only this server
// reads it back (parseLoginHintClaim), so its shape is free.
func loginHintClaim(oid, tid, upn string) string {
	var b []byte
	for i, f := range []string{oid, tid, upn} {
		b = append(b, byte(i+1)<<3|2)
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return "O." + base64.StdEncoding.EncodeToString(b)
}

// parseLoginHintClaim reads back what loginHintClaim made.
func parseLoginHintClaim(h string) (oid, tid, upn string, ok bool) {
	rest, found := strings.CutPrefix(h, "O.")
	if !found {
		return "", "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", "", "", false
	}
	var f [3]string
	for i := range f {
		if len(b) < 2 || b[0] != byte(i+1)<<3|2 {
			return "", "", "", false
		}
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || n > uint64(len(b)-1-k) {
			return "", "", "", false
		}
		f[i] = string(b[1+k : 1+k+int(n)])
		b = b[1+k+int(n):]
	}
	return f[0], f[1], f[2], len(b) == 0
}

func keyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(pub.N.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

func issuer(r *http.Request, tid string) string { return baseURL(r) + "/" + tid + "/v2.0" }

// mintIDToken signs an OpenID Connect id_token with the server's RSA key.
func (s *Server) mintIDToken(r *http.Request, g *grant, app appInfo, nonce string, now time.Time) string {
	tid, _, _ := s.tenantIDs()
	clientID := app.AppID
	c := idClaims{
		Audience: clientID, Issuer: issuer(r, tid),
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		Name: g.name, Nonce: nonce, ObjectID: g.userID, PreferredUsername: g.upn,
		// sub is pairwise: per user and application.
		Subject:  base64.RawURLEncoding.EncodeToString([]byte(stableGUID(g.userID + "|" + clientID)))[:43],
		TenantID: tid, Version: "2.0",
	}
	if app.IDTokenClaims["login_hint"] {
		c.LoginHint = loginHintClaim(g.userID, tid, g.upn)
	}
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.keyID})
	payload, _ := json.Marshal(c)
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.idKey, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only on a broken key or random source
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// serveKeys is the JWKS that verifies id_tokens.
func (s *Server) serveKeys(w http.ResponseWriter, r *http.Request, seg string) {
	if s.resolve(seg) == segUnknown {
		s.writeTokenError(w, r, errTenantNotFound(seg))
		return
	}
	tid, _, _ := s.tenantIDs()
	pub := s.idKey.PublicKey
	key := map[string]any{
		"kty": "RSA", "use": "sig", "kid": s.keyID,
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": issuer(r, tid),
	}
	writeJSON(w, r, http.StatusOK, s.ids(r), map[string]any{"keys": []any{key}})
}

// serveOpenIDConfig is the discovery document. Like Microsoft's, the
// issuer of common/organizations carries the placeholder {tenantid}.
func (s *Server) serveOpenIDConfig(w http.ResponseWriter, r *http.Request, seg string) {
	kind := s.resolve(seg)
	if kind == segUnknown {
		s.writeTokenError(w, r, errTenantNotFound(seg))
		return
	}
	tid, _, _ := s.tenantIDs()
	iss := issuer(r, tid)
	if kind != segTenant {
		iss = baseURL(r) + "/{tenantid}/v2.0"
	}
	b := baseURL(r) + "/" + seg
	doc := map[string]any{
		"token_endpoint":                        b + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              b + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                iss,
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                b + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         b + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  b + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "preferred_username", "tid", "ver"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   r.Host,
		"msgraph_host":                          s.o.GraphResources[0],
	}
	writeJSON(w, r, http.StatusOK, s.ids(r), doc)
}
