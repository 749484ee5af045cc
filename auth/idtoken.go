package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// IDClaims are the id_token claims shown to the administrator: who signed
// in, and to which tenant.
type IDClaims struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	UPN               string `json:"upn"`
	Email             string `json:"email"`
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
}

// Account is the best sign-in name the token carries.
func (c IDClaims) Account() string {
	for _, s := range []string{c.PreferredUsername, c.UPN, c.Email} {
		if s != "" {
			return s
		}
	}
	return ""
}

// DecodeIDClaims reads the claims of a JWT without verifying it. That is
// enough here: the token came straight from the token endpoint over TLS
// (or loopback) in answer to our own request, and the claims only label the
// stored token for display; nothing is authorised on their strength.
func DecodeIDClaims(jwt string) (IDClaims, error) {
	var c IDClaims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, errors.New("id_token is not a JWT (expected three dot-separated parts)")
	}
	seg := strings.TrimRight(parts[1], "=")
	if len(seg) > 64<<10 {
		return c, errors.New("id_token payload is implausibly large")
	}
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return c, errors.New("id_token payload is not base64url")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, errors.New("id_token payload is not a JSON object")
	}
	return c, nil
}
