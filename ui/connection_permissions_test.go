package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
)

// A new connection starts on Least privilege and the dialog lists what
// each stage needs; Custom shows its validated scopes field; a connection
// saved before profiles shows (and keeps) Directory.Read.All.
func TestDialogPermissions(t *testing.T) {
	var got *storage.Connection
	d, _ := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = &c })
	if d.permissions.Selected != graphperm.LabelLeastPrivilege || d.rows[connector.FieldCustomScopes].Visible() || !d.signInActivity.Visible() {
		t.Fatalf("profile %q, custom row shown %v", d.permissions.Selected, d.rows[connector.FieldCustomScopes].Visible())
	}
	if !strings.Contains(d.stageNeeds.Text, "Usage reports: Reports.Read.All\n") ||
		!strings.Contains(d.stageNeeds.Text, "Licensing group names: GroupMember.Read.All or Group.Read.All or Directory.Read.All (not asked for") {
		t.Fatalf("stage needs:\n%s", d.stageNeeds.Text)
	}
	test.Tap(d.signInActivity)
	if !strings.Contains(d.stageNeeds.Text, "Sign-in activity: AuditLog.Read.All\n") && !strings.HasSuffix(d.stageNeeds.Text, "Sign-in activity: AuditLog.Read.All") {
		t.Fatalf("sign-ins ticked:\n%s", d.stageNeeds.Text)
	}

	d.permissions.SetSelected(graphperm.LabelCustom)
	if !d.rows[connector.FieldCustomScopes].Visible() || d.signInActivity.Visible() {
		t.Fatal("Custom shows its scopes, not the sign-in box")
	}
	d.touchAll()
	if !strings.Contains(d.errorText(connector.FieldCustomScopes), "Enter the Graph permissions") || !d.ok.Disabled() {
		t.Fatalf("empty custom scopes: %q", d.errorText(connector.FieldCustomScopes))
	}
	test.Type(d.customScopes, "User.Read.All, Reports.Read.All")
	if d.errorText(connector.FieldCustomScopes) != "" || d.ok.Disabled() {
		t.Fatalf("custom scopes: %q", d.errorText(connector.FieldCustomScopes))
	}
	test.Tap(d.ok)
	if got == nil || got.Permissions != graphperm.Custom || got.CustomScopes != "User.Read.All Reports.Read.All" {
		t.Fatalf("saved %+v", got)
	}

	old := newNamedConnection("Old")
	old.Permissions = ""
	got = nil
	d, _ = testDialog(t, old, false, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = &c })
	if d.permissions.Selected != graphperm.LabelDirectory {
		t.Fatalf("saved before profiles: %q", d.permissions.Selected)
	}
	test.Tap(d.ok)
	if got == nil || graphperm.Normalize(got.Permissions) != graphperm.Directory {
		t.Fatalf("saved %+v", got)
	}
}

// Cloud Custom shows the Issuer; with one, the endpoints may stay empty
// (its discovery document gives them) and the client ID need not be a
// GUID; the prompt is saved.
func TestDialogCustomIssuer(t *testing.T) {
	var got *storage.Connection
	d, _ := testDialog(t, newNamedConnection("Lab"), true, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = &c })
	if d.rows[connector.FieldIssuer].Visible() {
		t.Fatal("Issuer shown under Global")
	}
	d.cloud.SetSelected(connector.CloudCustom)
	if !d.rows[connector.FieldIssuer].Visible() {
		t.Fatal("Issuer hidden under Custom")
	}
	test.Type(d.issuer, "https://idp.example.com/")
	d.tokenEndpoint.SetText("")
	d.authorizationEndpoint.SetText("")
	d.clientID.SetText("beacon-native")
	d.prompt.SetSelected("consent")
	d.touchAll()
	if d.ok.Disabled() {
		t.Fatalf("errors: %v", d.current)
	}
	test.Tap(d.ok)
	if got == nil || got.Issuer != "https://idp.example.com/" || got.Prompt != "consent" || got.ClientID != "beacon-native" {
		t.Fatalf("saved %+v", got)
	}
}
