package connector

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
)

func TestNewConnectionDefaults(t *testing.T) {
	c := NewConnection()
	want := map[string]string{
		"SourceType":            storage.SourceMicrosoft365,
		"Cloud":                 CloudGlobal,
		"ClientID":              "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		"AuthFlow":              string(storage.FlowAuthorizationCode),
		"TokenEndpoint":         "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		"AuthorizationEndpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		"RedirectURI":           "https://login.microsoftonline.com/common/oauth2/nativeclient",
		"GraphEndpoint":         "https://graph.microsoft.com",
	}
	got := map[string]string{
		"SourceType": c.SourceType, "Cloud": c.Cloud, "ClientID": c.ClientID,
		"AuthFlow": string(c.AuthFlow), "TokenEndpoint": c.TokenEndpoint,
		"AuthorizationEndpoint": c.AuthorizationEndpoint, "RedirectURI": c.RedirectURI,
		"GraphEndpoint": c.GraphEndpoint,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if c.RedirectURI != DefaultRedirectURI {
		t.Errorf("RedirectURI %q differs from DefaultRedirectURI", c.RedirectURI)
	}
	if !storage.ValidID(c.ID) {
		t.Errorf("ID %q is not 32 hex characters", c.ID)
	}
	if c2 := NewConnection(); c2.ID == c.ID {
		t.Errorf("two new connections share the ID %q", c.ID)
	}
	if c.Proxy.Enabled || c.Name != "" || c.Created.IsZero() {
		t.Errorf("unexpected defaults: %+v", c)
	}
	// Defaults minus the name are all valid: a new dialog needs only a name.
	errs := Validate(c, nil, "", false)
	if len(errs) != 1 || errs[FieldConnectionName] == nil {
		t.Errorf("a new connection should fail only on its empty name, got %v", errs)
	}
	c.Name = "Contoso"
	if errs := Validate(c, nil, "", false); len(errs) != 0 {
		t.Errorf("defaults with a name should be valid, got %v", errs)
	}
}

func TestApplyCloud(t *testing.T) {
	cases := []struct {
		cloud, login, graph string
	}{
		{CloudGlobal, "login.microsoftonline.com", "graph.microsoft.com"},
		{CloudGCCHigh, "login.microsoftonline.us", "graph.microsoft.us"},
		{CloudDoD, "login.microsoftonline.us", "dod-graph.microsoft.us"},
		{CloudChina, "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"},
	}
	for _, tc := range cases {
		t.Run(tc.cloud, func(t *testing.T) {
			c := NewConnection()
			if err := ApplyCloud(&c, tc.cloud); err != nil {
				t.Fatal(err)
			}
			if c.Cloud != tc.cloud {
				t.Errorf("Cloud = %q", c.Cloud)
			}
			checks := map[string]string{
				c.TokenEndpoint:         "https://" + tc.login + "/common/oauth2/v2.0/token",
				c.AuthorizationEndpoint: "https://" + tc.login + "/common/oauth2/v2.0/authorize",
				c.RedirectURI:           "https://" + tc.login + "/common/oauth2/nativeclient",
				c.GraphEndpoint:         "https://" + tc.graph,
			}
			for got, want := range checks {
				if got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			}
			c.Name = "x"
			if errs := Validate(c, nil, "", false); len(errs) != 0 {
				t.Errorf("cloud defaults invalid: %v", errs)
			}
		})
	}

	// The tenant typed by the administrator and a loopback redirect survive
	// a change of cloud.
	c := NewConnection()
	c.TokenEndpoint = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
	c.RedirectURI = "http://localhost:8400/callback"
	if err := ApplyCloud(&c, CloudGCCHigh); err != nil {
		t.Fatal(err)
	}
	if c.TokenEndpoint != "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token" {
		t.Errorf("tenant lost: %q", c.TokenEndpoint)
	}
	if c.RedirectURI != "http://localhost:8400/callback" {
		t.Errorf("loopback redirect replaced: %q", c.RedirectURI)
	}

	// Custom keeps whatever was there.
	before := c
	if err := ApplyCloud(&c, CloudCustom); err != nil {
		t.Fatal(err)
	}
	if c.Cloud != CloudCustom || c.TokenEndpoint != before.TokenEndpoint || c.GraphEndpoint != before.GraphEndpoint {
		t.Errorf("Custom changed endpoints: %+v", c)
	}
	if err := ApplyCloud(&c, "Mars"); err == nil || !strings.Contains(err.Error(), "Global") {
		t.Errorf("unknown cloud: %v", err)
	}
}

// wantErr describes an expected validation outcome: "" means accepted, any
// other text must appear in the error message.
func check(t *testing.T, input string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%q: unexpected error %v", input, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%q: accepted, want an error containing %q", input, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%q: error %q does not contain %q", input, err, want)
	}
}

func TestValidateConnectionName(t *testing.T) {
	others := []storage.Connection{{ID: "a", Name: "Contoso Prod"}, {ID: "b", Name: "Fabrikam_1"}}
	cases := []struct {
		name, self, want string
	}{
		{"Contoso", "", ""},
		{"Contoso Test 2", "", ""},
		{"9lives", "", ""},
		{"a_b c", "", ""},
		{"Trailing  ", "", ""}, // trailing spaces are dropped, not refused
		{"", "", "Enter a name"},
		{"   ", "", "Enter a name"},
		{" Leading", "", "Start the name with a letter or a digit"},
		{"_under", "", "Start the name with a letter or a digit"},
		{"a-b", "", `"-" is not allowed`},
		{"Contoso.com", "", `"." is not allowed`},
		{"tab\there", "", "A tab is not allowed"},
		{"nb\u00a0sp", "", "invisible character U+00A0"},
		{"Müller", "", `"ü" is not allowed`},
		{"Cоntoso", "", "is not allowed"}, // Cyrillic о
		{strings.Repeat("a", MaxConnectionNameLen), "", ""},
		{strings.Repeat("a", MaxConnectionNameLen+1), "", "at most 100"},
		{"contoso prod", "", "already exists"},
		{"CONTOSO PROD ", "", "already exists"},
		{"Contoso Prod", "a", ""}, // editing itself
		{"fabrikam_1", "a", "already exists"},
	}
	for _, tc := range cases {
		check(t, tc.name, ValidateConnectionName(tc.name, others, tc.self), tc.want)
	}
}

func TestValidateProxyCredentials(t *testing.T) {
	check(t, "neither", ValidateProxyCredentials("", ""), "")
	check(t, "both", ValidateProxyCredentials("alice", "s3cret"), "")
	check(t, "user only", ValidateProxyCredentials("alice", ""), "Enter the password")
	check(t, "password only", ValidateProxyCredentials("  ", "s3cret"), "Enter the user name")
}

func TestValidateRedirectURI(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://login.microsoftonline.com/common/oauth2/nativeclient", ""},
		{"http://localhost", ""},
		{"http://localhost:8400/callback", ""},
		{"http://127.0.0.1:8400", ""},
		{"http://[::1]:8400", "does not accept [::1]"},
		{"http://example.com/cb", "plain http:// is allowed only"},
		{"", "Enter the address"},
	}
	for _, tc := range cases {
		check(t, tc.in, ValidateRedirectURI(tc.in), tc.want)
	}
}

func TestValidateTokenEndpointForFlow(t *testing.T) {
	const base = "https://login.microsoftonline.com/"
	cases := []struct {
		ep   string
		flow storage.AuthFlow
		want string
	}{
		{base + "common/oauth2/v2.0/token", storage.FlowAuthorizationCode, ""},
		{base + "contoso.onmicrosoft.com/oauth2/v2.0/token", storage.FlowClientCredentials, ""},
		{base + "0d8e6a1c-1111-2222-3333-444455556666/oauth2/v2.0/token", storage.FlowClientCredentials, ""},
		{base + "common/oauth2/v2.0/token", storage.FlowClientCredentials, `instead of "common"`},
		{base + "Organizations/oauth2/v2.0/token", storage.FlowClientCredentials, `instead of "Organizations"`},
		{base + "consumers/oauth2/v2.0/token", storage.FlowClientCredentials, "needs your tenant"},
		{base, storage.FlowClientCredentials, `instead of "no tenant"`},
	}
	for _, tc := range cases {
		check(t, tc.ep, ValidateTokenEndpointForFlow(tc.ep, tc.flow), tc.want)
	}
}

func TestValidateKeysByField(t *testing.T) {
	valid := NewConnection()
	valid.Name = "Contoso"
	others := []storage.Connection{{ID: "other", Name: "Taken"}}
	cases := []struct {
		name      string
		edit      func(c *storage.Connection)
		proxyPw   string
		hasSecret bool
		want      []string // fields with errors
	}{
		{"valid", func(c *storage.Connection) {}, "", false, nil},
		{"duplicate name", func(c *storage.Connection) { c.Name = "taken" }, "", false, []string{FieldConnectionName}},
		{"deprecated source", func(c *storage.Connection) { c.SourceType = SourceOffice365Deprecated }, "", false, []string{FieldSourceType}},
		{"proxy off is not validated", func(c *storage.Connection) { c.Proxy.Server = "junk"; c.Proxy.Username = "u" }, "", false, nil},
		{"proxy on, bad server", func(c *storage.Connection) { c.Proxy = storage.Proxy{Enabled: true, Server: "junk"} }, "", false, []string{FieldProxyServer}},
		{"proxy user without password", func(c *storage.Connection) {
			c.Proxy = storage.Proxy{Enabled: true, Server: "10.0.0.1:80", Username: "u"}
		}, "", false, []string{FieldProxyPassword}},
		{"proxy password without user", func(c *storage.Connection) {
			c.Proxy = storage.Proxy{Enabled: true, Server: "10.0.0.1:80"}
		}, "pw", false, []string{FieldProxyUsername}},
		{"proxy user with stored password", func(c *storage.Connection) {
			c.Proxy = storage.Proxy{Enabled: true, Server: "10.0.0.1:80", Username: "u", HasPassword: true}
		}, "", false, nil},
		{"bad client id", func(c *storage.Connection) { c.ClientID = "x" }, "", false, []string{FieldClientID}},
		{"bad redirect", func(c *storage.Connection) { c.RedirectURI = "http://example.com" }, "", false, []string{FieldRedirectURI}},
		{"other host on Global", func(c *storage.Connection) {
			c.TokenEndpoint = "https://login.example.com/common/oauth2/v2.0/token"
			c.GraphEndpoint = "https://graph.example.com"
		}, "", false, []string{FieldTokenEndpoint, FieldGraphEndpoint}},
		{"other host on Custom", func(c *storage.Connection) {
			c.Cloud = CloudCustom
			c.TokenEndpoint = "http://127.0.0.1:9000/t/oauth2/v2.0/token"
			c.AuthorizationEndpoint = "http://127.0.0.1:9000/t/oauth2/v2.0/authorize"
			c.GraphEndpoint = "http://127.0.0.1:9000"
		}, "", false, nil},
		{"unknown cloud", func(c *storage.Connection) { c.Cloud = "Mars" }, "", false, []string{FieldCloud}},
		{"bad authorize endpoint", func(c *storage.Connection) { c.AuthorizationEndpoint = "" }, "", false, []string{FieldAuthorizationEndpoint}},
		{"client credentials on common without secret", func(c *storage.Connection) {
			c.AuthFlow = storage.FlowClientCredentials
		}, "", false, []string{FieldTokenEndpoint, FieldClientSecret}},
		{"client credentials ignore authorize endpoint", func(c *storage.Connection) {
			c.AuthFlow = storage.FlowClientCredentials
			c.AuthorizationEndpoint = ""
			c.TokenEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
		}, "", true, nil},
		{"unknown flow", func(c *storage.Connection) { c.AuthFlow = "Device Code" }, "", false, []string{FieldAuthFlow}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.edit(&c)
			errs := Validate(c, others, tc.proxyPw, tc.hasSecret)
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %v, want fields %v", errs, tc.want)
			}
			for _, f := range tc.want {
				if errs[f] == nil {
					t.Errorf("no error for %q; got %v", f, errs)
				}
			}
		})
	}
}

func FuzzValidateConnectionName(f *testing.F) {
	for _, s := range []string{"Contoso", " x", "a_b c ", "", "Müller", "a\x00", "Z9", "\xff", strings.Repeat("b", 101), "taken"} {
		f.Add(s)
	}
	others := []storage.Connection{{ID: "o", Name: "Taken"}}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateConnectionName(name, others, "self")
		if err == nil {
			clean := CleanConnectionName(name)
			if !ConnectionNamePattern.MatchString(clean) {
				t.Fatalf("accepted %q, which does not match %s", clean, ConnectionNamePattern)
			}
			if len(clean) > MaxConnectionNameLen {
				t.Fatalf("accepted %d characters", len(clean))
			}
			if strings.EqualFold(clean, "taken") {
				t.Fatalf("accepted a duplicate %q", clean)
			}
			return
		}
		if err.Error() == "" || strings.ContainsAny(err.Error(), "\x00\xff") {
			t.Fatalf("message %q is not fit to show", err.Error())
		}
		// Whatever is refused is refused for a reason the pattern also sees,
		// except duplicates and length.
		clean := CleanConnectionName(name)
		if ConnectionNamePattern.MatchString(clean) && len(clean) <= MaxConnectionNameLen && !strings.EqualFold(clean, "taken") {
			t.Fatalf("refused %q (%v) although it matches the pattern", name, err)
		}
	})
}

func FuzzValidateProxyServer(f *testing.F) {
	for _, s := range []string{"http://proxy:8080", "10.0.0.5:8080", "[::1]:1", "https://h:65535/", "h:0", "http://[::1", "[fe80::1%25en0]:80", "http://a:b@c:1", ":80", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseProxyServer(s)
		if (err == nil) != (ValidateProxyServer(s) == nil) {
			t.Fatal("ParseProxyServer and ValidateProxyServer disagree")
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty message")
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("accepted scheme %q from %q", u.Scheme, s)
		}
		host, port, perr := net.SplitHostPort(u.Host)
		if perr != nil || host == "" {
			t.Fatalf("accepted %q gives host %q: %v", s, u.Host, perr)
		}
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			t.Fatalf("accepted %q with port %q", s, port)
		}
		if u.User != nil || u.Path != "" {
			t.Fatalf("accepted %q carries credentials or a path", s)
		}
	})
}

func TestRefreshTokenBindingChanges(t *testing.T) {
	base := NewConnection()
	base.Name = "Contoso"
	cases := []struct {
		name string
		edit func(c *storage.Connection)
		want []string
	}{
		{"unchanged", func(*storage.Connection) {}, nil},
		{"name, proxy, schedule", func(c *storage.Connection) {
			c.Name = "Renamed"
			c.Proxy = storage.Proxy{Enabled: true, Server: "10.0.0.1:8080", Username: "u", HasPassword: true}
			c.ScheduleID = "s1"
		}, nil},
		{"redirect and authorization endpoint", func(c *storage.Connection) {
			c.RedirectURI = "http://localhost:8400"
			c.AuthorizationEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize"
		}, nil},
		{"client ID case and spaces", func(c *storage.Connection) { c.ClientID = " " + strings.ToUpper(c.ClientID) + " " }, nil},
		{"token endpoint case and slash", func(c *storage.Connection) {
			c.TokenEndpoint = "https://LOGIN.microsoftonline.com/Common/oauth2/v2.0/token/"
		}, nil},
		{"Custom with the same endpoints", func(c *storage.Connection) { c.Cloud = CloudCustom }, nil},
		{"client ID", func(c *storage.Connection) { c.ClientID = "00000000-1111-2222-3333-444444444444" }, []string{FieldClientID}},
		{"tenant", func(c *storage.Connection) {
			c.TokenEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
		}, []string{FieldTokenEndpoint}},
		{"graph endpoint", func(c *storage.Connection) {
			c.Cloud = CloudCustom
			c.GraphEndpoint = "http://127.0.0.1:9000"
		}, []string{FieldCloud, FieldGraphEndpoint}},
		{"cloud", func(c *storage.Connection) {
			if err := ApplyCloud(c, CloudGCCHigh); err != nil {
				t.Fatal(err)
			}
		}, []string{FieldCloud, FieldTokenEndpoint, FieldGraphEndpoint}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := base
			tc.edit(&now)
			if got := RefreshTokenBindingChanges(base, now); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientSecretBindingChanges(t *testing.T) {
	base := NewConnection()
	base.AuthFlow = storage.FlowClientCredentials
	base.TokenEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
	now := base
	now.TokenEndpoint = "https://login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token"
	now.Name = "Other"
	if got := ClientSecretBindingChanges(base, now); got != nil {
		t.Errorf("a new tenant or name must keep the secret: %q", got)
	}
	now.ClientID = "00000000-1111-2222-3333-444444444444"
	if got := ClientSecretBindingChanges(base, now); len(got) != 1 || got[0] != FieldClientID {
		t.Errorf("a new client ID must make the secret stale: %q", got)
	}
}

func TestUnattendedProblem(t *testing.T) {
	c := NewConnection()
	if p := UnattendedProblem(c); !strings.Contains(p, "never signed in") {
		t.Errorf("never signed in: %q", p)
	}
	c.Token = &storage.TokenInfo{Account: "admin@contoso.example"}
	if p := UnattendedProblem(c); p != "" {
		t.Errorf("signed in: %q", p)
	}
	c.Token, c.AuthFlow = nil, storage.FlowClientCredentials
	if p := UnattendedProblem(c); !strings.Contains(p, "client secret") {
		t.Errorf("no client secret: %q", p)
	}
	c.HasClientSecret = true
	if p := UnattendedProblem(c); p != "" {
		t.Errorf("client secret saved: %q", p)
	}
}

// New connections ask for the least privilege; the profile and its custom
// scopes are validated; asking for other permissions makes a refresh token
// stale (a refresh may ask for nothing beyond what was consented).
func TestPermissionSettings(t *testing.T) {
	c := NewConnection()
	c.Name = "Contoso"
	if c.Permissions != graphperm.LeastPrivilege {
		t.Fatalf("new connection's profile %q", c.Permissions)
	}
	if errs := Validate(c, nil, "", false); len(errs) != 0 {
		t.Fatalf("defaults: %v", errs)
	}
	c.Permissions = graphperm.Custom
	c.CustomScopes = "Reports.Read.All"
	if err := Validate(c, nil, "", false)[FieldCustomScopes]; err == nil || !strings.Contains(err.Error(), "User.Read.All") {
		t.Fatalf("custom without users: %v", err)
	}
	c.CustomScopes = "User.Read.All Reports.Read.All"
	if errs := Validate(c, nil, "", false); len(errs) != 0 {
		t.Fatalf("custom: %v", errs)
	}
	c.Permissions = "everything"
	if err := Validate(c, nil, "", false)[FieldPermissions]; err == nil {
		t.Fatal("unknown profile accepted")
	}

	old := NewConnection()
	old.Permissions = "" // saved before profiles: Directory.Read.All
	same := old
	same.Permissions = graphperm.Directory
	if got := RefreshTokenBindingChanges(old, same); got != nil {
		t.Fatalf("no profile and Directory are one: %q", got)
	}
	least := old
	least.Permissions = graphperm.LeastPrivilege
	if got := RefreshTokenBindingChanges(old, least); len(got) != 1 || got[0] != FieldPermissions {
		t.Fatalf("profile change: %q", got)
	}
	signIns := least
	signIns.SignInActivity = true
	if got := RefreshTokenBindingChanges(least, signIns); len(got) != 1 || got[0] != FieldPermissions {
		t.Fatalf("sign-in activity added: %q", got)
	}
}
