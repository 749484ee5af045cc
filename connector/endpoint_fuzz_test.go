package connector

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzValidateEndpoint (issue 8): the endpoint URLs of a connection (token,
// authorization, Graph, redirect). Whatever is accepted is https://, or
// http:// to this computer only, with a host and no user info or fragment;
// a refusal always says why.
func FuzzValidateEndpoint(f *testing.F) {
	for _, s := range []string{
		"https://login.microsoftonline.com/common/oauth2/v2.0/token", "https://graph.microsoft.com", "http://localhost:8080/x",
		"http://127.0.0.1", "http://[::1]:1/", "http://evil.example/", "https://u:p@h/", "https://h/#f", "https://h:0/",
		"https://h:99999/", "ftp://h/", "//h/x", "https://", "https://[fe80::1%25eth0]/", "  https://h/  ", "mailto:a@b",
		"http://localhost.evil.example/", "http://127.0.0.1.nip.io/", "https://xn--bcher-kva.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateEndpoint(raw)
		rerr := ValidateRedirectURI(raw)
		_ = TenantFromEndpoint(raw)
		for _, field := range []string{FieldTokenEndpoint, FieldAuthorizationEndpoint, FieldGraphEndpoint} {
			_ = ValidateEndpointOnCloud("Global", field, raw)
		}
		if rerr == nil && err != nil {
			t.Fatalf("redirect %q accepted, endpoint refused: %v", raw, err)
		}
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("%q refused without a reason", raw)
			}
			return
		}
		u, perr := url.Parse(strings.TrimSpace(raw))
		if perr != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, perr)
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !IsLoopbackURL(raw) {
				t.Fatalf("accepted plain http to %q", u.Hostname())
			}
		default:
			t.Fatalf("accepted scheme %q", u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("accepted %q (host %q, user %v, fragment %q)", raw, u.Hostname(), u.User, u.Fragment)
		}
	})
}
