package identity

// Certificate credentials: the token endpoint authenticates a confidential
// client by an RFC 7523 client assertion (private_key_jwt) as Entra does.
// The assertion names its certificate by x5t#S256 (SHA-256 of the DER) or
// x5t (SHA-1); the certificate must be one of the app's registered
// keyCredentials, its key must verify the signature (PS256 or RS256), aud
// must be this token endpoint, iss and sub the client ID, and the
// assertion must be inside its nbf/exp window and not seen before (jti).

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// assertionSkew is the clock difference tolerated on nbf and exp.
const assertionSkew = 5 * time.Minute

type assertionHeader struct {
	Alg     string `json:"alg"`
	X5t     string `json:"x5t"`
	X5tS256 string `json:"x5t#S256"`
}

type assertionClaims struct {
	Aud json.RawMessage `json:"aud"`
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Jti string          `json:"jti"`
	Nbf *int64          `json:"nbf"`
	Exp *int64          `json:"exp"`
}

func errBadAssertion(format string, args ...any) *aadError {
	return newErr(401, "invalid_client", 50027, "JWT token is invalid or malformed. "+format, args...)
}

// keyNotFoundMessage is Entra's AADSTS700027 text for a thumbprint the app
// does not have.
func keyNotFound(thumb, appID string) *aadError {
	return newErr(401, "invalid_client", 700027,
		"Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']",
		thumb, appID, appID)
}

// foundKey is how Entra prints a registered key in its errors.
func foundKey(k tenant.KeyCredential) string {
	const f = "01/02/2006 15:04:05"
	return fmt.Sprintf("Start=%s, End=%s", k.Cert.NotBefore.UTC().Format(f), k.Cert.NotAfter.UTC().Format(f))
}

// verifyAssertion authenticates app by the request's client assertion.
func (s *Server) verifyAssertion(r *http.Request, app appInfo) *aadError {
	if t := r.PostFormValue("client_assertion_type"); t != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return newErr(400, "invalid_request", 50027, "Invalid JWT token. The client_assertion_type '%s' is not supported. (?)", t)
	}
	parts := strings.Split(r.PostFormValue("client_assertion"), ".")
	if len(parts) != 3 {
		return errBadAssertion("The token does not have three parts.")
	}
	var h assertionHeader
	var c assertionClaims
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		return errBadAssertion("The token is not valid base64url JSON.")
	}
	// x5t#S256 names the certificate by SHA-256 (Microsoft's current
	// documentation), x5t by SHA-1 (the older one, still accepted).
	byName := func(named string, sum func([]byte) []byte) (*tenant.KeyCredential, string) {
		thumb := ""
		if b, err := base64.RawURLEncoding.DecodeString(named); err == nil {
			thumb = strings.ToUpper(fmt.Sprintf("%x", b))
		}
		for i, k := range app.Certificates {
			if base64.RawURLEncoding.EncodeToString(sum(k.Cert.Raw)) == named {
				return &app.Certificates[i], thumb
			}
		}
		return nil, thumb
	}
	var key *tenant.KeyCredential
	var thumb string
	switch {
	case h.X5tS256 != "":
		key, thumb = byName(h.X5tS256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] })
	case h.X5t != "":
		key, thumb = byName(h.X5t, func(b []byte) []byte { s := sha1.Sum(b); return s[:] })
	default:
		return newErr(401, "invalid_client", 50027, "Invalid JWT token. No certificate thumbprint specified in token header.")
	}
	if key == nil {
		return keyNotFound(thumb, app.AppID)
	}
	pub, ok := key.Cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return keyNotFound(thumb, app.AppID)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var verr error
	switch h.Alg {
	case "PS256":
		verr = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		verr = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		return errBadAssertion("The algorithm '%s' is not supported. (?)", h.Alg)
	}
	if verr != nil {
		return newErr(401, "invalid_client", 700027,
			"Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key '%s']",
			key.Thumbprint(), foundKey(*key))
	}
	now := s.now()
	if now.After(key.Cert.NotAfter) {
		return newErr(401, "invalid_client", 700027,
			"Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s', Found key '%s']",
			key.Thumbprint(), foundKey(*key))
	}
	if c.Exp == nil || c.Nbf == nil {
		return errBadAssertion("The assertion must carry 'nbf' and 'exp'. (?)")
	}
	nbf, exp := time.Unix(*c.Nbf, 0), time.Unix(*c.Exp, 0)
	if now.Add(assertionSkew).Before(nbf) || now.Add(-assertionSkew).After(exp) || now.Before(key.Cert.NotBefore) {
		return newErr(401, "invalid_client", 700024,
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
			msTime(now), msTime(nbf), msTime(exp))
	}
	if !strings.EqualFold(c.Iss, app.AppID) || !strings.EqualFold(c.Sub, app.AppID) {
		return errBadAssertion("The 'iss' and 'sub' claims must be the client ID '%s'. (?)", app.AppID)
	}
	var aud string
	if json.Unmarshal(c.Aud, &aud) != nil || !s.audienceIsTokenEndpoint(r, aud) {
		return newErr(401, "invalid_client", 700212,
			"The audience '%s' of the client assertion is not this token endpoint '%s'. (?)", string(c.Aud), baseURL(r)+r.URL.Path)
	}
	if c.Jti == "" {
		return errBadAssertion("The assertion must carry a 'jti'. (?)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, until := range s.assertions {
		if now.After(until) {
			delete(s.assertions, j)
		}
	}
	jk := strings.ToLower(app.AppID) + "|" + c.Jti
	if _, seen := s.assertions[jk]; seen {
		return newErr(401, "invalid_client", 50027, "Invalid JWT token. The client assertion with jti '%s' was already used. (?)", c.Jti)
	}
	s.assertions[jk] = exp.Add(assertionSkew)
	return nil
}

// audienceIsTokenEndpoint accepts the token endpoint the request came to,
// by host and path: the tenant may be named by id or domain, as Entra
// accepts either in aud.
func (s *Server) audienceIsTokenEndpoint(r *http.Request, aud string) bool {
	want := strings.TrimRight(baseURL(r)+r.URL.Path, "/")
	if strings.EqualFold(strings.TrimRight(aud, "/"), want) {
		return true
	}
	// The same endpoint named by the tenant's other name.
	tid, domain, _ := s.tenantIDs()
	for _, pair := range [][2]string{{tid, domain}, {domain, tid}} {
		if strings.EqualFold(strings.Replace(strings.ToLower(aud), "/"+strings.ToLower(pair[0])+"/", "/"+strings.ToLower(pair[1])+"/", 1), strings.ToLower(want)) {
			return true
		}
	}
	return false
}
