package msendpoint

import (
	"strings"
	"testing"
)

// expect checks that err is nil when want is "", else that it says want.
func expect(t *testing.T, input string, err error, want string) {
	t.Helper()
	if got := ""; err != nil {
		got = err.Error()
		if want == "" || !strings.Contains(got, want) {
			t.Errorf("%q: error %q, want one containing %q", input, got, want)
		}
	} else if want != "" {
		t.Errorf("%q: accepted, want an error containing %q", input, want)
	}
}

func TestParseProxyServer(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://proxy.example.com:8080", ""},
		{"https://proxy.example.com:443", ""},
		{"HTTP://Proxy:3128/", ""},
		{"10.0.0.5:8080", ""},
		{"[2001:db8::1]:3128", ""},
		{"http://[::1]:8080", ""},
		{"127.0.0.1:1", ""},
		{"127.0.0.1:65535", ""},
		{"", "Enter the proxy address"},
		{"proxy.example.com:8080", "give an IP address and port"},
		{"http://proxy.example.com", "Add the port"},
		{"10.0.0.5", "Add the port"},
		{"10.0.0.5:0", "from 1 to 65535"},
		{"10.0.0.5:65536", "from 1 to 65535"},
		{"10.0.0.5:080", "from 1 to 65535"},
		{"10.0.0.5:+80", "from 1 to 65535"},
		{"10.0.0.5:http", "from 1 to 65535"},
		{"2001:db8::1:8080", "in brackets"},
		{"[10.0.0.5]:8080", "Only an IPv6 address goes in brackets"},
		{"[fe80::1%eth0]:8080", "Only an IPv6 address goes in brackets"},
		{"socks5://10.0.0.5:1080", "Only http:// and https://"},
		{"http://user:pw@proxy:8080", "Username and Password fields"},
		{"http://proxy:8080/path", "has no path"},
		{"http://proxy:8080?x=1", "has no path"},
		{"http://:8080", "host is missing"},
		{"http://bad_host:8080", "not a valid host name"},
		{"http://-bad:8080", "not a valid host name"},
	}
	for _, tc := range cases {
		_, err := ParseProxyServer(tc.in)
		expect(t, tc.in, err, tc.want)
	}
	u, err := ParseProxyServer("10.0.0.5:8080")
	if err != nil || u.String() != "http://10.0.0.5:8080" {
		t.Errorf("bare address parses to %v, %v; want http://10.0.0.5:8080", u, err)
	}
}

func TestValidateClientID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"5bb1a5a2-0d97-4335-9448-119f7b27aff9", ""},
		{"5BB1A5A2-0D97-4335-9448-119F7B27AFF9", ""},
		{" 5bb1a5a2-0d97-4335-9448-119f7b27aff9 ", ""},
		{"", "Enter the application"},
		{"{5bb1a5a2-0d97-4335-9448-119f7b27aff9}", "not a GUID"},
		{"5bb1a5a20d9743359448119f7b27aff9", "not a GUID"},
		{"5bb1a5a2-0d97-4335-9448-119f7b27aff", "not a GUID"},
		{"zbb1a5a2-0d97-4335-9448-119f7b27aff9", "not a GUID"},
	}
	for _, tc := range cases {
		expect(t, tc.in, ValidateClientID(tc.in), tc.want)
	}
}

func TestValidateEndpoint(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://login.microsoftonline.com/common/oauth2/v2.0/token", ""},
		{"https://graph.microsoft.com", ""},
		{"https://10.1.2.3:8443/x", ""},
		{"http://localhost:8080/tenant/oauth2/v2.0/token", ""},
		{"http://LOCALHOST/x", ""},
		{"http://127.0.0.1:9999", ""},
		{"http://127.5.6.7", ""},
		{"http://[::1]:9999/x", ""},
		{"", "Enter the address"},
		{"login.microsoftonline.com/common", "Start the address with https://"},
		{"http://login.microsoftonline.com/common", "plain http:// is allowed only for this computer"},
		{"http://10.0.0.1/x", "plain http:// is allowed only"},
		{"http://localhost.evil.com/x", "plain http:// is allowed only"},
		{"ftp://host/x", "not ftp://"},
		{"https://", "host name is missing"},
		{"https://user:pw@host/x", "Remove the user name"},
		{"https://host/x#frag", "after #"},
		{"https://host:99999/x", "from 1 to 65535"},
		{"https://bad_host/x", "not a valid host name"},
		{"https://host name/x", "not a valid"},
	}
	for _, tc := range cases {
		expect(t, tc.in, ValidateEndpoint(tc.in), tc.want)
	}
}

func TestIsLoopbackURLAndTenant(t *testing.T) {
	loop := map[string]bool{
		"http://localhost:1/x": true, "http://127.0.0.1": true, "http://127.255.0.1/": true,
		"http://[::1]:80": true, "https://localhost": true,
		"http://128.0.0.1": false, "http://localhost.example.com": false, "not a url": false,
		"": false, "http://[fe80::1]": false,
	}
	for in, want := range loop {
		if got := IsLoopbackURL(in); got != want {
			t.Errorf("IsLoopbackURL(%q) = %v, want %v", in, got, want)
		}
	}
	tenants := map[string]string{
		"https://login.microsoftonline.com/common/oauth2/v2.0/token":                   "common",
		"https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token":  "contoso.onmicrosoft.com",
		"http://127.0.0.1:9000/0d8e6a1c-1111-2222-3333-444455556666/oauth2/v2.0/token": "0d8e6a1c-1111-2222-3333-444455556666",
		"https://login.microsoftonline.com":                                            "",
		"%zz":                                                                          "",
	}
	for in, want := range tenants {
		if got := TenantFromEndpoint(in); got != want {
			t.Errorf("TenantFromEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateTenantTokenEndpoint(t *testing.T) {
	const base = "https://login.microsoftonline.com/"
	for ep, want := range map[string]string{
		base + "contoso.onmicrosoft.com/oauth2/v2.0/token":              "",
		base + "0d8e6a1c-1111-2222-3333-444455556666/oauth2/v2.0/token": "",
		base + "common/oauth2/v2.0/token":                               `instead of "common"`,
		base + "Organizations/oauth2/v2.0/token":                        `instead of "Organizations"`,
		base:                                                            `instead of "no tenant"`,
	} {
		expect(t, ep, ValidateTenantTokenEndpoint(ep), want)
	}
	for tenant, want := range map[string]bool{"contoso.onmicrosoft.com": true, "0d8e6a1c-1111-2222-3333-444455556666": true,
		"common": true, "": false, "-x": false, "a/b": false} {
		if got := ValidTenant(tenant); got != want {
			t.Errorf("ValidTenant(%q) = %v, want %v", tenant, got, want)
		}
	}
}
