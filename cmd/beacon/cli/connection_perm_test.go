package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/graphperm"
)

// The permission profile as flags: new connections start on Least
// privilege, the dialog's rules and messages apply, show names what is
// asked for, and export/import keep the profile.
func TestConnectionPermissions(t *testing.T) {
	e := newConnEnv(t)
	e.must("", ExitOK, "connection", "add", "Contoso")
	if c := e.conn("Contoso"); c.Permissions != graphperm.LeastPrivilege || c.SignInActivity {
		t.Fatalf("new connection: %q %v", c.Permissions, c.SignInActivity)
	}
	_, errs := e.must("", ExitFailed, "connection", "set", "Contoso", "--permissions", "custom", "--custom-scopes", "Reports.Read.All")
	if !strings.Contains(errs, "Custom Scopes (--custom-scopes): Add User.Read.All") {
		t.Fatalf("custom without users: %s", errs)
	}
	if code, _, errs := e.run("", "connection", "set", "Contoso", "--permissions", "all"); code == ExitOK || !strings.Contains(errs, "--permissions takes") {
		t.Fatalf("unknown profile: %d %s", code, errs)
	}
	e.must("", ExitOK, "connection", "set", "Contoso", "--sign-in-activity", "on")
	out, _ := e.must("", ExitOK, "connection", "show", "Contoso")
	if !strings.Contains(out, "Least privilege, with sign-in activity (User.Read.All LicenseAssignment.Read.All Reports.Read.All Application.Read.All AuditLog.Read.All)") {
		t.Fatalf("show: %s", out)
	}
	e.must("", ExitOK, "connection", "set", "Contoso", "--permissions", "Custom scopes", "--custom-scopes", "User.Read.All,Reports.Read.All")
	if c := e.conn("Contoso"); c.Permissions != graphperm.Custom || c.CustomScopes != "User.Read.All Reports.Read.All" {
		t.Fatalf("custom: %q %q", c.Permissions, c.CustomScopes)
	}
	file := filepath.Join(t.TempDir(), "connections.json")
	e.must("", ExitOK, "connection", "export", "--output", file)
	dst := newConnEnv(t)
	dst.must("", ExitOK, "connection", "import", file)
	if c := dst.conn("Contoso"); c.Permissions != graphperm.Custom || c.CustomScopes != "User.Read.All Reports.Read.All" {
		t.Fatalf("imported: %q %q", c.Permissions, c.CustomScopes)
	}
	// An export of a version before profiles names none: Directory.Read.All.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.NewReplacer(`"permissions": "custom",`, "", `"customScopes": "User.Read.All Reports.Read.All",`, "").Replace(string(data))
	if old == string(data) {
		t.Fatalf("the export's layout changed:\n%s", data)
	}
	if err := os.WriteFile(file, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	older := newConnEnv(t)
	older.must("", ExitOK, "connection", "import", file)
	if c := older.conn("Contoso"); graphperm.Normalize(c.Permissions) != graphperm.Directory {
		t.Fatalf("imported from before profiles: %q", c.Permissions)
	}
}

// Cloud Custom with an Issuer: endpoints may be left to its discovery
// document, the client ID need not be a GUID, and the prompt is a setting.
func TestConnectionCustomIssuer(t *testing.T) {
	e := newConnEnv(t)
	e.must("", ExitOK, "connection", "add", "Lab", "--cloud", "Custom", "--issuer", "https://idp.example.com/",
		"--token-endpoint", "", "--authorization-endpoint", "", "--client-id", "beacon-native", "--prompt", "consent",
		"--graph-endpoint", "https://graph.microsoft.com")
	c := e.conn("Lab")
	if c.Issuer != "https://idp.example.com/" || c.ClientID != "beacon-native" || c.Prompt != "consent" || c.TokenEndpoint != "" {
		t.Fatalf("custom: %+v", c)
	}
	out, _ := e.must("", ExitOK, "connection", "show", "Lab")
	if !strings.Contains(out, "Issuer:") || !strings.Contains(out, "consent") {
		t.Fatalf("show: %s", out)
	}
	_, errs := e.must("", ExitFailed, "connection", "set", "Lab", "--cloud", "Global")
	if !strings.Contains(errs, "Issuer (--issuer): Only Cloud Custom takes an Issuer") {
		t.Fatalf("issuer on Global: %s", errs)
	}
	_, errs = e.must("", ExitFailed, "connection", "set", "Lab", "--prompt", "always")
	if !strings.Contains(errs, "Prompt (--prompt): Choose select_account") {
		t.Fatalf("prompt: %s", errs)
	}
}
