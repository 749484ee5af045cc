package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inventorybeacon/beacon/internal/clock"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// Dialog titles.
const (
	titleCreateConnection = "Create PowerShell Source Connection"
	titleEditConnection   = "Edit PowerShell Source Connection"
)

// Texts of the Refresh Token field and the saved-secret placeholder.
const (
	noTokenText       = "No token yet — click Generate..."
	staleTokenText    = "Sign-in no longer applies — sign in again with Generate..."
	savedSecretHint   = "Saved — type to replace"
	staleSecretHint   = "Enter a secret of this app registration"
	dialogWidth       = 760
	dialogMarginSides = 40
	dialogMarginTopBo = 60
)

// ConnectionDialog is "Create / Edit PowerShell Source Connection". It edits
// a copy of a connection; OK hands the result and the secrets typed (as
// pending keyring changes) to onOK. Secrets never enter the connection.
//
// Endpoints under a named cloud stay editable, because the tenant in them
// must be editable (Client Credentials needs a tenant, and a single-tenant
// app must not use common); validation keeps their host on that cloud and
// points to Custom for any other host. The Graph Endpoint has nothing to
// edit but the host, so it is read-only unless the cloud is Custom.
type ConnectionDialog struct {
	// touched are the fields the administrator typed in (new connections
	// show errors only there); pending says which fields OK still waits
	// for.
	touched map[string]bool
	pending *widget.Label
	parent  fyne.Window
	signIn  signInStarter
	others  []storage.Connection
	orig    storage.Connection
	isNew   bool
	onOK    func(c storage.Connection, changes []storage.SecretChange)

	// savedToken describes the refresh token in the keyring when the
	// dialog opened (bound to the settings of orig); generated is the one
	// from Generate..., pending until Save (bound to the settings it was
	// obtained with). Which one, if any, applies depends on the settings as
	// typed: see tokenFor.
	savedToken *storage.TokenInfo
	generated  *generatedToken
	sourceType string

	name                  *dialogEntry
	sourceTypeButton      *dialogButton
	sourceTypeMenu        *fyne.Menu
	useProxy              *dialogCheck
	proxyServer           *dialogEntry
	proxyUser             *dialogEntry
	proxyPassword         *dialogEntry
	caCertFile            *dialogEntry
	caCertBrowse          *dialogButton
	cloud                 *dialogSelect
	tokenEndpoint         *dialogEntry
	clientID              *dialogEntry
	redirectURI           *dialogEntry
	authFlow              *dialogRadio
	authorizationEndpoint *dialogEntry
	tokenStatus           *widget.Label
	generate              *dialogButton
	clientSecret          *dialogEntry
	graphEndpoint         *dialogEntry
	ok, cancel            *dialogButton

	// The Credential choice of Client Credentials and the certificate
	// (connection_dialog_cert.go).
	cert certificateFields
	// expiry says how old the sign-in is and what expires soon.
	expiry *widget.Label
	// The permission profile: what the sign-in asks Graph for, and what
	// each import stage needs of it (stageNeeds, updated as it changes).
	permissions    *dialogSelect
	signInActivity *dialogCheck
	customScopes   *dialogEntry
	stageNeeds     *widget.Label

	// Standard OpenID Connect for Cloud Custom: the issuer whose
	// discovery document gives the endpoints, and the prompt to send.
	issuer *dialogEntry
	prompt *dialogSelect

	errs    map[string]*widget.Label   // each field's error, by field label
	help    map[string]*widget.Label   // the help under a Microsoft 365 field, by field label
	rows    map[string]*fyne.Container // each field's row, by field label
	current map[string]error           // the last validation result
	scroll  *container.Scroll
	keys    *dialogKeys // Esc, Enter, Tab and the wheel (issue 23 item 6)
	// rolesHelp says which permissions and roles the sign-in needs.
	rolesHelp *widget.Label
	dlg       *dialog.CustomDialog
	// caCertFileDialog is the open Browse... dialog (tests).
	caCertFileDialog *dialog.FileDialog
	built            bool // set once every widget exists, so early callbacks are ignored
}

// newConnectionDialog builds the dialog for c (a new connection when isNew);
// others are the other connections, for the unique-name rule.
func newConnectionDialog(parent fyne.Window, signIn signInStarter, c storage.Connection, isNew bool, others []storage.Connection,
	onOK func(storage.Connection, []storage.SecretChange)) *ConnectionDialog {
	d := &ConnectionDialog{
		parent: parent, signIn: signIn, others: others, orig: c, isNew: isNew, onOK: onOK,
		savedToken: c.Token, sourceType: c.SourceType,
		errs: map[string]*widget.Label{}, rows: map[string]*fyne.Container{}, help: map[string]*widget.Label{},
		touched: map[string]bool{}, pending: widget.NewLabel(""),
	}
	d.pending.Wrapping = fyne.TextWrapWord
	d.build()
	d.load(c)
	d.built = true
	d.revalidate()
	return d
}

func (d *ConnectionDialog) build() {
	// typed marks a field as one the administrator has typed in: its
	// errors show from then on, not while the form is still blank
	// (issue 23 item 5).
	typed := func(field string) func(string) {
		return func(string) {
			if d.built {
				d.touched[field] = true
			}
			d.revalidate()
		}
	}

	d.keys = &dialogKeys{}
	d.name = newDialogEntry(d.keys)
	d.name.OnChanged = typed(connector.FieldConnectionName)

	d.sourceTypeButton = newDialogButtonWithIcon(d.keys, "", theme.MenuDropDownIcon(), d.showSourceTypeMenu)
	d.sourceTypeButton.Alignment = widget.ButtonAlignLeading
	d.sourceTypeButton.IconPlacement = widget.ButtonIconTrailingText
	d.sourceTypeMenu = fyne.NewMenu("",
		fyne.NewMenuItem(storage.SourceMicrosoft365, func() { d.setSourceType(storage.SourceMicrosoft365) }),
		// Listed because administrators of the reference product look for
		// it; disabled because it is retired and not implemented.
		&fyne.MenuItem{Label: connector.SourceOffice365Deprecated, Disabled: true},
	)

	d.useProxy = newDialogCheck(d.keys, "Use Proxy", func(bool) { d.updateProxyEnabled(); d.revalidate() })
	d.proxyServer = newDialogEntry(d.keys)
	d.proxyServer.SetPlaceHolder("http://proxy.example.com:8080")
	d.proxyServer.OnChanged = typed(connector.FieldProxyServer)
	d.proxyUser = newDialogEntry(d.keys)
	d.proxyUser.OnChanged = typed(connector.FieldProxyUsername)
	d.proxyPassword = newDialogPasswordEntry(d.keys)
	d.proxyPassword.OnChanged = typed(connector.FieldProxyPassword)
	// Not disabled with Use Proxy: a transparent proxy inspects HTTPS
	// without being configured here.
	d.caCertFile = newDialogEntry(d.keys)
	d.caCertFile.SetPlaceHolder("Empty: the certificates this computer trusts")
	d.caCertFile.OnChanged = typed(connector.FieldCACertFile)
	d.caCertBrowse = newDialogButton(d.keys, "Browse...", d.onBrowseCACert)

	d.cloud = newDialogSelect(d.keys, connector.CloudNames(), d.onCloudChanged)
	d.tokenEndpoint = newDialogEntry(d.keys)
	d.tokenEndpoint.OnChanged = typed(connector.FieldTokenEndpoint)
	d.clientID = newDialogEntry(d.keys)
	d.clientID.OnChanged = typed(connector.FieldClientID)
	d.redirectURI = newDialogEntry(d.keys)
	d.redirectURI.OnChanged = typed(connector.FieldRedirectURI)
	d.authFlow = newDialogRadio(d.keys, []string{string(storage.FlowAuthorizationCode), string(storage.FlowClientCredentials)}, true,
		func(string) { d.updateFlowRows(); d.revalidate() })
	d.authorizationEndpoint = newDialogEntry(d.keys)
	d.authorizationEndpoint.OnChanged = typed(connector.FieldAuthorizationEndpoint)
	d.tokenStatus = widget.NewLabel(noTokenText)
	// Explicit lines rather than word wrapping: a wrapped label reports a
	// one-line minimum height, so the row would not grow and the rows
	// below would cover the text. An over-long line ends in an ellipsis.
	d.tokenStatus.Truncation = fyne.TextTruncateEllipsis
	d.generate = newDialogButton(d.keys, "Generate...", d.onGenerate)
	d.clientSecret = newDialogPasswordEntry(d.keys)
	d.clientSecret.OnChanged = typed(connector.FieldClientSecret)
	d.graphEndpoint = newDialogEntry(d.keys)
	d.graphEndpoint.OnChanged = typed(connector.FieldGraphEndpoint)
	d.buildCertificate(typed)
	d.expiry = widget.NewLabel("")
	d.expiry.Importance = widget.WarningImportance
	d.expiry.Wrapping = fyne.TextWrapWord
	d.buildPermissions(typed)

	labelW := float32(0)
	for _, l := range []string{connector.FieldClientID, connector.FieldAuthorizationEndpoint, connector.FieldAuthFlow} {
		labelW = max(labelW, widget.NewLabel(l).MinSize().Width)
	}
	row := func(label string, field fyne.CanvasObject) fyne.CanvasObject {
		// Always there, blank without an error: a message appearing and
		// going while typing must not move the fields below (a click
		// meant for Username landed in Password, issue 23 item 5).
		e := widget.NewLabel("")
		e.Importance = widget.DangerImportance
		e.Wrapping = fyne.TextWrapWord
		e.SizeName = theme.SizeNameCaptionText // a smaller reserved line
		d.errs[label] = e
		col := container.NewVBox(field, e)
		if text := fieldHelp[label]; text != "" {
			h := helpLabel(text)
			d.help[label] = h
			col.Add(h)
		}
		r := container.New(&rowLayout{labelWidth: labelW}, widget.NewLabel(label), col)
		d.rows[label] = r
		return r
	}

	// Cards for all three parts keep the label column aligned.
	general := widget.NewCard("", "", container.NewVBox(
		row(connector.FieldConnectionName, d.name),
		row(connector.FieldSourceType, d.sourceTypeButton),
	))
	proxy := widget.NewCard("", "Proxy Settings", container.NewVBox(
		d.useProxy,
		row(connector.FieldProxyServer, d.proxyServer),
		row(connector.FieldProxyUsername, d.proxyUser),
		row(connector.FieldProxyPassword, d.proxyPassword),
		row(connector.FieldCACertFile, container.NewBorder(nil, nil, nil, d.caCertBrowse, d.caCertFile)),
	))
	d.rolesHelp = helpLabel(rolesHelp)
	m365 := widget.NewCard("", "Microsoft 365", container.NewVBox(
		d.rolesHelp,
		row(connector.FieldCloud, d.cloud),
		row(connector.FieldTokenEndpoint, d.tokenEndpoint),
		row(connector.FieldClientID, d.clientID),
		row(connector.FieldRedirectURI, d.redirectURI),
		row(connector.FieldAuthFlow, d.authFlow),
		row(connector.FieldAuthorizationEndpoint, d.authorizationEndpoint),
		row(fieldRefreshToken, container.NewBorder(nil, nil, nil, d.generate, d.tokenStatus)),
		row(connector.FieldCredential, d.cert.credential),
		row(connector.FieldClientSecret, d.clientSecret),
		row(connector.FieldCertificate, d.cert.box),
		row(connector.FieldGraphEndpoint, d.graphEndpoint),
		row(connector.FieldPermissions, container.NewVBox(d.permissions, d.signInActivity)),
		row(connector.FieldCustomScopes, d.customScopes),
		d.stageNeeds,
		row(connector.FieldIssuer, d.issuer),
		row(connector.FieldPrompt, d.prompt),
		d.expiry,
	))
	content := d.keys.scrolling(container.NewVBox(general, proxy, m365, d.pending))
	d.scroll = d.keys.scroll

	title := titleEditConnection
	if d.isNew {
		title = titleCreateConnection
	}
	d.dlg = dialog.NewCustomWithoutButtons(title, content, d.parent)
	d.ok = newDialogButtonWithIcon(d.keys, "OK", theme.ConfirmIcon(), d.onOKTapped)
	d.ok.Importance = widget.HighImportance
	d.cancel = newDialogButtonWithIcon(d.keys, "Cancel", theme.CancelIcon(), d.dlg.Hide)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.ok})
	d.keys.esc, d.keys.enter = []*dialogButton{d.cancel}, []*dialogButton{d.ok}
}

// rolesHelp heads the Microsoft 365 group: what the administrator who
// signs in needs, whichever field they look at.
const rolesHelp = "The app reads the tenant with the Microsoft Graph permissions chosen under Permissions\n" +
	"(Least privilege, or Directory.Read.All and Reports.Read.All). They need admin consent,\n" +
	"given once by a Global Administrator (or a Cloud Application Administrator). With\n" +
	"Authorization Code, the admin who signs in also needs the Reports Reader or\n" +
	"Global Reader role to read the usage reports."

// fieldHelp explains the Proxy CA Certificate and each Microsoft 365 field
// under it. Explicit lines, as for the token description: a wrapped label
// would not make its row grow.
var fieldHelp = map[string]string{
	connector.FieldCACertFile: "Only if your network inspects HTTPS and re-signs it with its own CA, so that\n" +
		"sign-in fails with certificate errors: that CA's certificate as a PEM file.\n" +
		"Leave empty to use only the certificates this computer trusts.",
	connector.FieldCloud: "The Microsoft cloud your tenant is in; most organisations use Global.\n" +
		"Choosing one fills in the endpoints; Custom lets you type them all.",
	connector.FieldTokenEndpoint: "Where tokens are obtained. For an app registered in one tenant only, replace\n" +
		"common with your tenant ID or domain (e.g. contoso.onmicrosoft.com).",
	connector.FieldClientID: "The app registration that signs in: the default one, or your own app\n" +
		"(a public client in Microsoft Entra ID → App registrations).",
	connector.FieldRedirectURI: "Where the browser returns after sign-in; it must be registered on the app.\n" +
		"With http://localhost, Inventory Beacon receives the sign-in itself.",
	connector.FieldAuthFlow: "Authorization Code: an administrator signs in with Generate...\n" +
		"Client Credentials: the app signs in with its own secret, without a user.",
	connector.FieldAuthorizationEndpoint: "Where your browser signs in; filled in from the cloud.",
	fieldRefreshToken: "Generate... opens your browser to sign in and consent; the token is kept\n" +
		"in the system keyring, never in a file.",
	connector.FieldClientSecret: "A client secret of the app registration, kept in the system keyring. The app\n" +
		"needs the application permissions chosen under Permissions, granted with admin consent.",
	connector.FieldGraphEndpoint: "The Microsoft Graph address of the cloud, where the data is read.",
	connector.FieldCredential: "How the app proves who it is: a client secret, or a certificate whose .cer\n" +
		"is uploaded to the app registration (Microsoft recommends certificates).",
}

// helpLabel is the small text of a help note. Smaller rather than grey:
// the theme's grey (LowImportance) is too faint to read on the dark theme.
func helpLabel(text string) *widget.Label {
	h := widget.NewLabel(text)
	h.SizeName = theme.SizeNameCaptionText
	h.Truncation = fyne.TextTruncateEllipsis
	return h
}

// fieldRefreshToken is the label of the read-only token row; it has no
// rule of its own, so connector has no constant for it.
const fieldRefreshToken = "Refresh Token"

// load puts c into the widgets.
func (d *ConnectionDialog) load(c storage.Connection) {
	d.name.SetText(c.Name)
	d.setSourceType(c.SourceType)
	d.useProxy.SetChecked(c.Proxy.Enabled)
	d.proxyServer.SetText(c.Proxy.Server)
	d.proxyUser.SetText(c.Proxy.Username)
	d.caCertFile.SetText(c.CACertFile)
	if c.Proxy.HasPassword {
		d.proxyPassword.SetPlaceHolder(savedSecretHint)
	}
	d.tokenEndpoint.SetText(c.TokenEndpoint)
	d.clientID.SetText(c.ClientID)
	d.redirectURI.SetText(c.RedirectURI)
	d.authorizationEndpoint.SetText(c.AuthorizationEndpoint)
	d.graphEndpoint.SetText(c.GraphEndpoint)
	if c.HasClientSecret {
		d.clientSecret.SetPlaceHolder(savedSecretHint)
	}
	// The cloud is set after the endpoints: setting it must not overwrite
	// endpoints the connection already has, so the callback is bypassed.
	d.cloud.OnChanged = nil
	d.cloud.SetSelected(c.Cloud)
	d.cloud.OnChanged = d.onCloudChanged
	d.authFlow.SetSelected(string(c.AuthFlow))
	d.loadCertificate(c)
	d.showExpiry(storage.ConnectionState{})
	d.loadPermissions(c)
	d.updateProxyEnabled()
	d.updateFlowRows()
	d.updateCloudEditable()
}

// Show shows the dialog, sized to fit the window: the fields scroll when
// the window is small.
func (d *ConnectionDialog) Show() {
	d.keys.show(d.dlg, d.parent)
	size := d.parent.Canvas().Size()
	w := min(float32(dialogWidth), size.Width-dialogMarginSides)
	h := size.Height - dialogMarginTopBo
	d.dlg.Resize(fyne.NewSize(w, h))
	if d.isNew {
		d.parent.Canvas().Focus(d.name)
	}
}

// Hide closes the dialog without saving.
func (d *ConnectionDialog) Hide() { d.dlg.Hide() }

// SetToken records info as the description of the refresh token saved for
// the connection as it was opened, and shows it (never the token).
func (d *ConnectionDialog) SetToken(info *storage.TokenInfo) {
	d.savedToken = info
	d.revalidate()
}

// generatedToken is a refresh token from Generate..., not saved yet, with
// the connection as typed when it was obtained.
type generatedToken struct {
	refreshToken string
	info         storage.TokenInfo
	obtainedWith storage.Connection
}

// tokenFor says which refresh token applies to c, the settings as typed:
// the one from Generate... if c still has the settings it was obtained
// with, else the saved one on the same condition, else none. A token whose
// settings were changed is refused by Microsoft (a later import would fail
// with an AADSTS error), so it does not count: stale lists the fields that
// changed since the newest such token was obtained. pending is the token
// to store on Save ("" when the keyring needs no new value).
func (d *ConnectionDialog) tokenFor(c storage.Connection) (info *storage.TokenInfo, pending string, stale []string) {
	if g := d.generated; g != nil {
		changed := connector.RefreshTokenBindingChanges(g.obtainedWith, c)
		if len(changed) == 0 {
			return &g.info, g.refreshToken, nil
		}
		stale = changed
	}
	if d.savedToken != nil {
		changed := connector.RefreshTokenBindingChanges(d.orig, c)
		if len(changed) == 0 {
			return d.savedToken, "", nil
		}
		if stale == nil {
			stale = changed
		}
	}
	return nil, "", stale
}

// staleSecret lists the fields whose change makes the saved client secret
// useless; nil when there is none saved or it still applies.
//
// The rule follows the refresh token's, but narrower: a client secret is a
// credential of one app registration, so only a new Application (client)
// ID makes it stale (see connector.ClientSecretBindingChanges). A stale
// secret no longer counts as present, so Client Credentials asks for a new
// one, and it is removed from the keyring on Save whichever flow is chosen,
// since nothing could use it. Changing the client ID back restores it.
func (d *ConnectionDialog) staleSecret(c storage.Connection) []string {
	if !d.orig.HasClientSecret {
		return nil
	}
	return connector.ClientSecretBindingChanges(d.orig, c)
}

// showCredentials updates the Refresh Token and Client Secret rows for c:
// the token's description, or, when the settings changed since the sign-in,
// that the administrator must sign in again, and why.
func (d *ConnectionDialog) showCredentials(c storage.Connection) {
	info, _, stale := d.tokenFor(c)
	text, help, imp := tokenText(info), fieldHelp[fieldRefreshToken], widget.MediumImportance
	if info == nil && stale != nil {
		text, help, imp = staleTokenText, d.staleTokenHelp(stale), widget.WarningImportance
	}
	relayout := setLabel(d.tokenStatus, text, imp)
	relayout = setLabel(d.help[fieldRefreshToken], help, imp) || relayout

	help, imp, hint := fieldHelp[connector.FieldClientSecret], widget.MediumImportance, ""
	if d.orig.HasClientSecret {
		hint = savedSecretHint
	}
	if d.staleSecret(c) != nil {
		help, imp, hint = staleSecretHelp, widget.WarningImportance, staleSecretHint
	}
	if c.AuthFlow == storage.FlowClientCredentials && info == nil && d.savedToken != nil {
		// The Refresh Token row is hidden with this flow, yet Save removes
		// the saved sign-in: say so where the administrator looks.
		help, imp = help+"\n"+staleTokenUnderSecret, widget.WarningImportance
	}
	relayout = setLabel(d.help[connector.FieldClientSecret], help, imp) || relayout
	if d.clientSecret.PlaceHolder != hint {
		d.clientSecret.SetPlaceHolder(hint)
	}
	// The texts' line counts change their rows' heights: lay the form out
	// again.
	if relayout && d.scroll != nil {
		d.scroll.Content.Refresh()
	}
}

// setLabel sets a label's text and importance, and reports whether they
// changed.
func setLabel(l *widget.Label, text string, imp widget.Importance) bool {
	if l.Text == text && l.Importance == imp {
		return false
	}
	l.Importance = imp
	l.SetText(text)
	return true
}

// staleTokenHelp says why the token no longer applies and what Save will do.
// Explicit lines, as for the other help notes.
func (d *ConnectionDialog) staleTokenHelp(changed []string) string {
	first := "Changed since the sign-in: " + strings.Join(changed, ", ") + "."
	if len(first) > 78 {
		first = "Changed since the sign-in:\n" + strings.Join(changed, ", ") + "."
	}
	save := "so Save does not keep it."
	if d.savedToken != nil {
		save = "so Save removes it from the keyring."
	}
	return first + "\n" +
		"Microsoft refuses the token with them, " + save + "\n" +
		"Click Generate... to sign in again, or change them back to keep the token."
}

// staleTokenUnderSecret is added to the Client Secret help when the saved
// refresh token no longer applies while Client Credentials hides its row.
const staleTokenUnderSecret = "The saved sign-in (refresh token) does not work with the changed settings\n" +
	"either, so Save removes it from the keyring; change them back to keep it."

// staleSecretHelp says why the saved client secret no longer applies.
const staleSecretHelp = "The saved secret belongs to the app registration of the previous client ID;\n" +
	"it does not work with this one, so Save removes it from the keyring.\n" +
	"Enter a secret of this app, or change the ID back to keep the saved one."

// tokenText describes a refresh token for the read-only Refresh Token field.
func tokenText(info *storage.TokenInfo) string {
	if info == nil {
		return noTokenText
	}
	who := info.Account
	if who == "" {
		who = info.DisplayName
	}
	if who == "" {
		who = "an unknown account"
	}
	s := fmt.Sprintf("Token present — obtained %s\nfor %s", info.ObtainedAt.Local().Format("2006-01-02 15:04"), who)
	if info.TenantID != "" {
		s += fmt.Sprintf("\n(tenant %s)", info.TenantID)
	}
	return s
}

func (d *ConnectionDialog) showSourceTypeMenu() {
	for _, it := range d.sourceTypeMenu.Items {
		it.Checked = it.Label == d.sourceType
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(d.sourceTypeButton)
	if c == nil {
		return
	}
	widget.ShowPopUpMenuAtRelativePosition(d.sourceTypeMenu, c, fyne.NewPos(0, d.sourceTypeButton.Size().Height), d.sourceTypeButton)
}

func (d *ConnectionDialog) setSourceType(s string) {
	d.sourceType = s
	d.sourceTypeButton.SetText(s)
	d.revalidate()
}

func (d *ConnectionDialog) onCloudChanged(name string) {
	c := d.connection()
	if err := connector.ApplyCloud(&c, name); err != nil {
		return // the Select offers only known clouds
	}
	d.tokenEndpoint.SetText(c.TokenEndpoint)
	d.authorizationEndpoint.SetText(c.AuthorizationEndpoint)
	d.redirectURI.SetText(c.RedirectURI)
	d.graphEndpoint.SetText(c.GraphEndpoint)
	d.updateCloudEditable()
	d.updatePermissionRows()
	d.revalidate()
}

func (d *ConnectionDialog) updateCloudEditable() {
	if d.cloud.Selected == connector.CloudCustom {
		d.graphEndpoint.Enable()
	} else {
		d.graphEndpoint.Disable()
	}
}

func (d *ConnectionDialog) updateProxyEnabled() {
	for _, e := range []*dialogEntry{d.proxyServer, d.proxyUser, d.proxyPassword} {
		if d.useProxy.Checked {
			e.Enable()
		} else {
			e.Disable()
		}
	}
}

func (d *ConnectionDialog) updateFlowRows() {
	code := d.authFlow.Selected != string(storage.FlowClientCredentials)
	show := func(label string, on bool) {
		if on {
			d.rows[label].Show()
		} else {
			d.rows[label].Hide()
		}
	}
	show(connector.FieldAuthorizationEndpoint, code)
	show(fieldRefreshToken, code)
	useCert := d.cert.credential.Selected == credentialCertificate
	show(connector.FieldCredential, !code)
	show(connector.FieldClientSecret, !code && !useCert)
	show(connector.FieldCertificate, !code && useCert)
}

// connection is the connection as currently typed.
func (d *ConnectionDialog) connection() storage.Connection {
	c := d.orig
	c.Name = connector.CleanConnectionName(d.name.Text)
	c.SourceType = d.sourceType
	c.Proxy.Enabled = d.useProxy.Checked
	c.Proxy.Server = strings.TrimSpace(d.proxyServer.Text)
	c.Proxy.Username = strings.TrimSpace(d.proxyUser.Text)
	// A saved password belongs to its user name: clearing the user name
	// clears the password too (it is removed from the keyring on Save).
	c.Proxy.HasPassword = d.proxyPassword.Text != "" || (d.orig.Proxy.HasPassword && c.Proxy.Username != "")
	c.CACertFile = connector.CleanCACertFile(d.caCertFile.Text)
	c.Cloud = d.cloud.Selected
	c.TokenEndpoint = strings.TrimSpace(d.tokenEndpoint.Text)
	c.ClientID = strings.TrimSpace(d.clientID.Text)
	c.RedirectURI = strings.TrimSpace(d.redirectURI.Text)
	c.AuthFlow = storage.AuthFlow(d.authFlow.Selected)
	c.AuthorizationEndpoint = strings.TrimSpace(d.authorizationEndpoint.Text)
	c.GraphEndpoint = strings.TrimSpace(d.graphEndpoint.Text)
	d.readPermissions(&c)
	c.Token, _, _ = d.tokenFor(c)
	if d.staleSecret(c) != nil {
		c.HasClientSecret = false
	}
	if c.AuthFlow == storage.FlowClientCredentials && d.clientSecret.Text != "" && !d.usesCertificate() {
		c.HasClientSecret = true
	}
	d.certificateInto(&c)
	return c
}

// secretChanges are the keyring changes the typed secrets make for c.
func (d *ConnectionDialog) secretChanges(c storage.Connection) []storage.SecretChange {
	var ch []storage.SecretChange
	if d.proxyPassword.Text != "" {
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretProxyPassword, Value: d.proxyPassword.Text})
	} else if d.orig.Proxy.HasPassword && !c.Proxy.HasPassword {
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretProxyPassword, Delete: true})
	}
	// A secret typed and then hidden by switching to Authorization Code is
	// not kept: the administrator no longer sees it.
	ch = append(ch, d.certificateChanges(c)...)
	if c.AuthFlow == storage.FlowClientCredentials && d.clientSecret.Text != "" && !d.usesCertificate() {
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretClientSecret, Value: d.clientSecret.Text})
	} else if d.orig.HasClientSecret && !c.HasClientSecret {
		// The saved secret belongs to another client ID (staleSecret).
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretClientSecret, Delete: true})
	}
	// A refresh token the settings as typed no longer allow is removed, so
	// the keyring and c.Token agree and the next import asks for a sign-in
	// instead of failing with an AADSTS error. Commit makes the keyring
	// change first and undoes it if the configuration cannot be written.
	switch info, pending, _ := d.tokenFor(c); {
	case pending != "":
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretRefreshToken, Value: pending})
	case info == nil && d.savedToken != nil:
		ch = append(ch, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretRefreshToken, Delete: true})
	}
	return ch
}

// revalidate runs every rule and puts each error next to its field; OK is
// enabled only when there is none. Errors of disabled or hidden fields are
// not shown, because the rules skip those fields.
func (d *ConnectionDialog) revalidate() {
	if !d.built {
		return
	}
	c := d.connection()
	d.showCredentials(c)
	d.showPermissions(c)
	d.current = connector.Validate(c, d.others, d.proxyPassword.Text, c.HasClientSecret)
	if err := d.certificateError(c); err != nil {
		d.current[connector.FieldCertificate] = err
	}
	var untouched []string
	for field, l := range d.errs {
		err := d.current[field]
		switch {
		case err != nil && (d.touched[field] || !d.isNew):
			l.SetText(err.Error())
		case err != nil:
			untouched = append(untouched, field)
			l.SetText("")
		default:
			l.SetText("")
		}
	}
	if len(d.current) == 0 {
		d.ok.Enable()
	} else {
		d.ok.Disable()
	}
	// Why OK is not available yet, without red before anything was typed.
	sort.Strings(untouched)
	pending := ""
	if len(untouched) > 0 {
		pending = "To enable OK, fill in: " + strings.Join(untouched, ", ") + "."
	}
	if d.pending.Text != pending {
		d.pending.SetText(pending)
	}
	// Generate... needs only the fields the sign-in uses.
	generateOK := true
	for _, f := range []string{connector.FieldProxyServer, connector.FieldProxyUsername, connector.FieldProxyPassword,
		connector.FieldCACertFile, connector.FieldCloud, connector.FieldTokenEndpoint, connector.FieldClientID, connector.FieldRedirectURI,
		connector.FieldAuthorizationEndpoint, connector.FieldGraphEndpoint} {
		if d.current[f] != nil {
			generateOK = false
		}
	}
	if generateOK {
		d.generate.Enable()
	} else {
		d.generate.Disable()
	}
}

// errorText is the error shown next to field, "" when none (for tests and
// the lead's smoke test).
func (d *ConnectionDialog) errorText(field string) string {
	if l := d.errs[field]; l != nil && l.Visible() {
		return l.Text
	}
	return ""
}

// touchAll shows every field's errors, as after typing in each (tests).
func (d *ConnectionDialog) touchAll() {
	for f := range d.errs {
		d.touched[f] = true
	}
	d.revalidate()
}

func (d *ConnectionDialog) onGenerate() {
	c := d.connection()
	d.signIn.start(signInRequest{
		Parent:        d.parent,
		Connection:    c,
		ProxyPassword: d.proxyPassword.Text,
		// The token is bound to the settings it was obtained with: c.
		Done: func(refreshToken string, info storage.TokenInfo) {
			d.generated = &generatedToken{refreshToken: refreshToken, info: info, obtainedWith: c}
			d.revalidate()
		},
	})
}

// onBrowseCACert opens the file-open dialog for the Proxy CA Certificate,
// showing certificate files, in the folder of the file already given.
func (d *ConnectionDialog) onBrowseCACert() {
	fd := dialog.NewFileOpen(d.onCACertChosen, d.parent)
	fd.SetFilter(fynestorage.NewExtensionFileFilter([]string{".pem", ".crt", ".cer"}))
	if p := connector.CleanCACertFile(d.caCertFile.Text); p != "" {
		if fi, err := os.Stat(filepath.Dir(p)); err == nil && fi.IsDir() {
			if l, err := fynestorage.ListerForURI(fynestorage.NewFileURI(filepath.Dir(p))); err == nil {
				fd.SetLocation(l)
			}
		}
	}
	// As large as the window allows: the file list needs the room.
	size := d.parent.Canvas().Size()
	fd.Resize(fyne.NewSize(min(size.Width-dialogMarginSides, 800), min(size.Height-dialogMarginTopBo, 600)))
	d.caCertFileDialog = fd
	showFileDialog(fd, d.parent)
}

// onCACertChosen puts the file chosen with Browse... into the field, which
// validates it; nothing changes when the choice was cancelled.
func (d *ConnectionDialog) onCACertChosen(r fyne.URIReadCloser, err error) {
	d.caCertFileDialog = nil
	if err != nil || r == nil {
		return
	}
	path := r.URI().Path()
	_ = r.Close()
	d.caCertFile.SetText(filepath.FromSlash(path))
}

func (d *ConnectionDialog) onOKTapped() {
	d.revalidate()
	if len(d.current) != 0 {
		return // OK is disabled then; a keyboard shortcut must not bypass it
	}
	c := d.connection()
	c.Modified = clock.Now()
	changes := d.secretChanges(c)
	d.dlg.Hide()
	if d.onOK != nil {
		d.onOK(c, changes)
	}
}

// rowLayout places a field's label in a column of fixed width and the field
// (with its error under it) in the rest, like a form whose rows can be
// hidden and whose fields may be containers.
type rowLayout struct{ labelWidth float32 }

func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 2 {
		return
	}
	pad := theme.Padding()
	label, field := objs[0], objs[1]
	label.Move(fyne.NewPos(0, 0))
	label.Resize(fyne.NewSize(l.labelWidth, label.MinSize().Height))
	field.Move(fyne.NewPos(l.labelWidth+pad, 0))
	field.Resize(fyne.NewSize(size.Width-l.labelWidth-pad, size.Height))
}

func (l *rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 2 {
		return fyne.Size{}
	}
	lm, fm := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(l.labelWidth+theme.Padding()+fm.Width, max(lm.Height, fm.Height))
}
