// Package jwtclaims reads the permissions an access token says it was
// granted, without checking its signature: a hint for what to ask Graph,
// never a security decision (Graph's answer is the real test). Microsoft
// asks clients not to rely on its access tokens' content, and some are not
// readable JWTs at all: callers then behave as if nothing were known.
package jwtclaims

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Grants are a token's delegated scopes (scp) and application roles
// (roles), by short name (Directory.Read.All).
type Grants struct {
	Scopes []string
	Roles  []string
}

// Read returns the grants of a JWT access token; ok is false when the token
// is not a JWT whose payload is a JSON object.
func Read(accessToken string) (g Grants, ok bool) {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return g, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return g, false
	}
	var c struct {
		Scp   string   `json:"scp"`
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return g, false
	}
	return Grants{Scopes: strings.Fields(c.Scp), Roles: c.Roles}, true
}

// Has reports whether a scope or a role is named perm (case-insensitively).
func (g Grants) Has(perm string) bool {
	for _, l := range [2][]string{g.Scopes, g.Roles} {
		for _, p := range l {
			if strings.EqualFold(p, perm) {
				return true
			}
		}
	}
	return false
}
