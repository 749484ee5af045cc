package jwtclaims

import (
	"encoding/base64"
	"testing"
)

func jwt(payload string) string {
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
}

func TestRead(t *testing.T) {
	for _, c := range []struct {
		name, token string
		ok          bool
		has, hasNot string
	}{
		{"delegated", jwt(`{"scp":"Directory.Read.All auditlog.read.all"}`), true, "AuditLog.Read.All", "Reports.Read.All"},
		{"application", jwt(`{"roles":["User.Read.All","AuditLog.Read.All"]}`), true, "auditlog.read.all", "Directory.Read.All"},
		{"no grants", jwt(`{"aud":"x"}`), true, "", "AuditLog.Read.All"},
		{"opaque", "EwBwA8l6BAAU", false, "", "AuditLog.Read.All"},
		{"not base64", "a.$$$.c", false, "", "AuditLog.Read.All"},
		{"not an object", jwt(`[1]`), false, "", "AuditLog.Read.All"},
	} {
		g, ok := Read(c.token)
		if ok != c.ok || (c.has != "" && !g.Has(c.has)) || g.Has(c.hasNot) {
			t.Errorf("%s: ok %v, grants %+v", c.name, ok, g)
		}
	}
}
