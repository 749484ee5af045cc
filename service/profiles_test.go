package service

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// without is perms less drop.
func without(perms []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return p == drop })
}

// delegatedImport imports conn with a delegated token of the simulator's
// administrator granted exactly perms (as consent of those scopes gives).
func delegatedImport(t *testing.T, conn storage.Connection, perms []string) inventory.Run {
	t.Helper()
	e, base, sim := setupSim(t, m365sim.Options{Users: 60, Seed: 5})
	conn.ID, conn.TokenEndpoint, conn.GraphEndpoint, conn.ClientID = base.ID, base.TokenEndpoint, base.GraphEndpoint, base.ClientID
	conn.Name, conn.SourceType, conn.Cloud, conn.AuthFlow, conn.RedirectURI = base.Name, base.SourceType, base.Cloud, base.AuthFlow, base.RedirectURI
	tok := minted(sim.MintAccessToken(tenant.AdminLocalPart+"@"+sim.Tenant().Domain, perms...))
	e.Tokens = func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) { return tok, nil }
	run, err := e.Import(context.Background(), conn, ImportRequest{Trigger: inventory.TriggerManual})
	if err != nil && run.Status != inventory.StatusFailed {
		t.Fatal(err)
	}
	return run
}

// Each profile, granted what it asks for, imports everything it means to
// without a warning; a profile's optional permission left out is a
// warning naming it and the consent link, never a failed import.
func TestPermissionProfilesDelegated(t *testing.T) {
	least := graphperm.Permissions(graphperm.LeastPrivilege, "", false)
	for _, c := range []struct {
		name    string
		conn    storage.Connection
		granted []string
		// warn names the permission of the one warning expected; "" none.
		warn string
		// signIns is the run's sign-in notice (inventory.SignInsRead when read).
		signIns string
	}{
		{"least privilege", storage.Connection{Permissions: graphperm.LeastPrivilege}, least, "", "Sign-in activity was not read: the connection lacks"},
		{"least privilege with sign-ins", storage.Connection{Permissions: graphperm.LeastPrivilege, SignInActivity: true},
			append(slices.Clone(least), graphperm.AuditLogReadAll), "", inventory.SignInsRead},
		{"least privilege without reports", storage.Connection{Permissions: graphperm.LeastPrivilege}, without(least, graphperm.ReportsReadAll), graphperm.ReportsReadAll, ""},
		{"least privilege without applications", storage.Connection{Permissions: graphperm.LeastPrivilege}, without(least, graphperm.ApplicationReadAll), graphperm.ApplicationReadAll, ""},
		{"least privilege without licences", storage.Connection{Permissions: graphperm.LeastPrivilege}, without(least, graphperm.LicenseAssignmentReadAll), graphperm.LicenseAssignmentReadAll, ""},
		{"sign-ins asked, not granted", storage.Connection{Permissions: graphperm.LeastPrivilege, SignInActivity: true}, least, graphperm.AuditLogReadAll, ""},
		// A connection saved before profiles: Directory.Read.All, as before.
		{"saved before profiles", storage.Connection{}, []string{graphperm.DirectoryReadAll, graphperm.ReportsReadAll}, "", ""},
		{"directory without reports", storage.Connection{Permissions: graphperm.Directory}, []string{graphperm.DirectoryReadAll}, graphperm.ReportsReadAll, ""},
		{"custom", storage.Connection{Permissions: graphperm.Custom, CustomScopes: "User.Read.All Reports.Read.All"},
			[]string{graphperm.UserReadAll, graphperm.ReportsReadAll}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := delegatedImport(t, c.conn, c.granted)
			if run.Counts.Users < 60 {
				t.Fatalf("users %d: %+v", run.Counts.Users, run)
			}
			if c.warn == "" {
				if run.Status != inventory.StatusSucceeded || len(run.Warnings) != 0 {
					t.Fatalf("status %s, warnings %q", run.Status, run.Warnings)
				}
			} else {
				if run.Status != inventory.StatusWarnings || len(run.Warnings) != 1 {
					t.Fatalf("status %s, warnings %q", run.Status, run.Warnings)
				}
				w := run.Warnings[0]
				if !strings.Contains(w, "the connection lacks the delegated permission "+c.warn) || !strings.Contains(w, "/v2.0/adminconsent?client_id=") {
					t.Fatalf("warning %q", w)
				}
			}
			if c.signIns != "" && !strings.HasPrefix(run.SignIns, c.signIns) {
				t.Errorf("sign-ins %q, want %q", run.SignIns, c.signIns)
			}
		})
	}
}

// Without a permission to read users the import fails, and says which
// permission and where to grant it.
func TestPermissionProfileUsersRequired(t *testing.T) {
	run := delegatedImport(t, storage.Connection{Permissions: graphperm.LeastPrivilege},
		[]string{graphperm.LicenseAssignmentReadAll, graphperm.ReportsReadAll, graphperm.ApplicationReadAll})
	if run.Status != inventory.StatusFailed || !strings.Contains(run.Error, "delegated permission User.Read.All") || !strings.Contains(run.Error, "adminconsent") {
		t.Fatalf("status %s, error %q", run.Status, run.Error)
	}
}

// Client Credentials: the app's roles come from the token endpoint (the
// roles claim, scope .default); an application permission the registration
// lacks skips its stage with a warning and a .default consent link.
func TestPermissionProfilesClientCredentials(t *testing.T) {
	least := graphperm.Permissions(graphperm.LeastPrivilege, "", false)
	for _, c := range []struct {
		name  string
		roles []string
		warn  string
	}{
		{"least privilege", least, ""},
		{"without applications", without(least, graphperm.ApplicationReadAll), graphperm.ApplicationReadAll},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, conn, sim := setupSim(t, m365sim.Options{Users: 40, Seed: 9})
			sim.SetAppRoles(tenant.ConfidentialClientID, c.roles...)
			conn.AuthFlow, conn.RedirectURI = storage.FlowClientCredentials, ""
			conn.ClientID, conn.HasClientSecret = tenant.ConfidentialClientID, true
			conn.Permissions = graphperm.LeastPrivilege
			secrets := &memSecrets{}
			if err := secrets.Set(conn.ID, storage.SecretClientSecret, tenant.ConfidentialClientSecret); err != nil {
				t.Fatal(err)
			}
			e.Secrets, e.Tokens = secrets, nil
			run, err := e.Import(context.Background(), conn, ImportRequest{Trigger: inventory.TriggerManual})
			if err != nil {
				t.Fatal(err)
			}
			if run.Counts.Users < 40 {
				t.Fatalf("users %d: %+v", run.Counts.Users, run)
			}
			if c.warn == "" {
				if run.Status != inventory.StatusSucceeded || len(run.Warnings) != 0 {
					t.Fatalf("status %s, warnings %q", run.Status, run.Warnings)
				}
				return
			}
			if run.Status != inventory.StatusWarnings || len(run.Warnings) != 1 ||
				!strings.Contains(run.Warnings[0], "application permission "+c.warn) || !strings.Contains(run.Warnings[0], "%2F.default") {
				t.Fatalf("status %s, warnings %q", run.Status, run.Warnings)
			}
		})
	}
}
