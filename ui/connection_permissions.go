package ui

import (
	"strings"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
)

// The Permissions part of the connection dialog (issue 22, item 2): the
// profile, the optional sign-in activity, the Custom scopes, and what each
// import stage needs, so the administrator knows before the first import
// which stages the choice leaves out.

// signInActivityLabel is the check box that adds AuditLog.Read.All.
const signInActivityLabel = "Also read sign-in activity (AuditLog.Read.All)"

func init() {
	fieldHelp[connector.FieldPermissions] = "What the sign-in asks Microsoft Graph for. Least privilege: User.Read.All,\n" +
		"LicenseAssignment.Read.All, Reports.Read.All and Application.Read.All. Directory.Read.All: what\n" +
		"connections made before this choice ask for. With Client Credentials, grant the same as\n" +
		"application permissions (the token's roles decide what is read). Sign-in activity also\n" +
		"needs Microsoft Entra ID P1 in the tenant."
	fieldHelp[connector.FieldIssuer] = "Cloud Custom only: an OpenID Connect issuer. Endpoints left empty come from its\n" +
		"discovery document, and its sign-ins are checked against its keys."
	fieldHelp[connector.FieldPrompt] = "Sent to the sign-in page. Microsoft: select_account. A provider that follows\n" +
		"OpenID Connect grants offline_access (the refresh token) only with consent."
	fieldHelp[connector.FieldCustomScopes] = "Graph permissions separated by spaces (e.g. User.Read.All Reports.Read.All);\n" +
		"one must let the users be read."
}

func (d *ConnectionDialog) buildPermissions(typed func(string) func(string)) {
	var labels []string
	for _, p := range graphperm.Profiles {
		labels = append(labels, graphperm.Label(p))
	}
	d.permissions = newDialogSelect(d.keys, labels, func(string) {
		d.updatePermissionRows()
		d.revalidate()
	})
	d.signInActivity = newDialogCheck(d.keys, signInActivityLabel, func(bool) { d.revalidate() })
	d.customScopes = newDialogEntry(d.keys)
	d.customScopes.SetPlaceHolder("User.Read.All Reports.Read.All")
	d.customScopes.OnChanged = typed(connector.FieldCustomScopes)
	d.stageNeeds = helpLabel("")
	d.issuer = newDialogEntry(d.keys)
	d.issuer.SetPlaceHolder("https://idp.example.com/")
	d.issuer.OnChanged = typed(connector.FieldIssuer)
	d.prompt = newDialogSelect(d.keys, promptChoices(), func(string) { d.revalidate() })
}

// promptChoices label the Prompt values; the first is the default.
func promptChoices() []string {
	return []string{"select_account (Microsoft)", "consent", "login", "none sent"}
}

func promptValue(label string) string {
	switch label {
	case "consent", "login":
		return label
	case "none sent":
		return "omit"
	}
	return ""
}

func promptLabel(v string) string {
	for _, l := range promptChoices() {
		if promptValue(l) == v {
			return l
		}
	}
	return promptChoices()[0]
}

// loadPermissions puts c's profile into the widgets; a connection saved
// before profiles shows Directory.Read.All, what it asks for.
func (d *ConnectionDialog) loadPermissions(c storage.Connection) {
	d.permissions.SetSelected(graphperm.Label(c.Permissions))
	d.signInActivity.SetChecked(c.SignInActivity)
	d.customScopes.SetText(c.CustomScopes)
	d.issuer.SetText(c.Issuer)
	d.prompt.SetSelected(promptLabel(c.Prompt))
	d.updatePermissionRows()
}

// readPermissions sets c's profile from the widgets.
func (d *ConnectionDialog) readPermissions(c *storage.Connection) {
	if p, ok := graphperm.FromLabel(d.permissions.Selected); ok {
		c.Permissions = p
	}
	c.SignInActivity = d.signInActivity.Checked
	c.CustomScopes = strings.Join(graphperm.ParseCustom(d.customScopes.Text), " ")
	c.Issuer = strings.TrimSpace(d.issuer.Text)
	if c.Cloud != connector.CloudCustom {
		c.Issuer = ""
	}
	c.Prompt = promptValue(d.prompt.Selected)
}

// updatePermissionRows shows the Custom scopes only for Custom, where the
// sign-in activity box has no meaning (AuditLog.Read.All is typed there).
func (d *ConnectionDialog) updatePermissionRows() {
	if d.cloud.Selected == connector.CloudCustom {
		d.rows[connector.FieldIssuer].Show()
	} else {
		d.rows[connector.FieldIssuer].Hide()
	}
	custom := d.permissions.Selected == graphperm.LabelCustom
	if custom {
		d.rows[connector.FieldCustomScopes].Show()
		d.signInActivity.Hide()
	} else {
		d.rows[connector.FieldCustomScopes].Hide()
		d.signInActivity.Show()
	}
}

// showPermissions lists what each import stage needs and whether the
// profile asks for it.
func (d *ConnectionDialog) showPermissions(c storage.Connection) {
	text := "What each import stage needs (any one of):\n" +
		strings.Join(graphperm.Needs(c.Permissions, c.CustomScopes, c.SignInActivity), "\n")
	if d.stageNeeds.Text != text {
		d.stageNeeds.SetText(text)
		d.stageNeeds.Refresh()
	}
}
