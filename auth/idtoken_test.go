package auth

import (
	"encoding/base64"
	"testing"
)

func jwtWith(payload string) string {
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestDecodeIDClaims(t *testing.T) {
	c, err := DecodeIDClaims(jwtWith(`{"name":"Adele Vance","preferred_username":"adele@contoso.com","upn":"x@y","tid":"t-1"}`))
	if err != nil || c.Account() != "adele@contoso.com" || c.Name != "Adele Vance" || c.TenantID != "t-1" {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = DecodeIDClaims(jwtWith(`{"upn":"u@contoso.com"}`))
	if c.Account() != "u@contoso.com" {
		t.Fatal(c)
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", jwtWith(`[1]`)} {
		if _, err := DecodeIDClaims(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecodeIDClaims(f *testing.F) {
	f.Add(jwtWith(`{"name":"n","tid":"t"}`))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeIDClaims(s) })
}
