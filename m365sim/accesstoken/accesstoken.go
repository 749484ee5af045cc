// Package accesstoken mints and verifies the access tokens the simulator's
// identity platform issues and its Graph side accepts.
//
// Like Microsoft's, they are JWTs whose content clients must not rely on;
// here they are signed with HS256 under a per-server random key, so only the
// simulator that issued a token accepts it.
package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are the parts of a Microsoft Graph access token the simulator uses.
type Claims struct {
	Audience  string `json:"aud"` // the Graph resource, e.g. https://graph.microsoft.com
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expiry    int64  `json:"exp"`
	TenantID  string `json:"tid"`
	AppID     string `json:"appid"`
	// ObjectID is the signed-in user's id (delegated) or the client's
	// service principal id (application tokens).
	ObjectID string `json:"oid"`
	UPN      string `json:"upn,omitempty"`
	Name     string `json:"name,omitempty"`
	// Scopes are delegated permissions, space separated, short names
	// ("Directory.Read.All Reports.Read.All").
	Scopes string `json:"scp,omitempty"`
	// Roles are application permissions (client credentials).
	Roles []string `json:"roles,omitempty"`
	// ID makes every token unique (jti).
	ID string `json:"uti"`
}

// HasPermission reports whether the token carries a delegated scope or an
// application role of that name.
func (c Claims) HasPermission(name string) bool {
	for _, s := range strings.Fields(c.Scopes) {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	for _, r := range c.Roles {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

var (
	ErrMalformed = errors.New("access token is malformed")
	ErrSignature = errors.New("access token signature is invalid")
	ErrExpired   = errors.New("access token has expired or is not yet valid")
)

var header = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))

// Mint signs the claims with key.
func Mint(key []byte, c Claims) string {
	payload, _ := json.Marshal(c) // Claims always marshals
	signing := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + sign(key, signing)
}

// Verify checks the signature and the validity window at now.
func Verify(key []byte, token string, now time.Time) (Claims, error) {
	var c Claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, ErrMalformed
	}
	want := sign(key, parts[0]+"."+parts[1])
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return c, ErrSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, ErrMalformed
	}
	t := now.Unix()
	if t < c.NotBefore || t >= c.Expiry {
		return c, ErrExpired
	}
	return c, nil
}

func sign(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
