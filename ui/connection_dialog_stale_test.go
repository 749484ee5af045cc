package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// A refresh token is bound to the settings it was obtained with (client ID,
// token endpoint, Graph endpoint): editing one of them shows that the
// sign-in no longer applies, and Save removes the token from the keyring
// unless Generate... signs in again with the new settings.

const (
	staleOldToken = "0.AAAA-saved-refresh-token-value-old"
	staleNewToken = "0.AAAA-generated-refresh-token-value-new"
	otherClientID = "00000000-1111-2222-3333-444444444444"
)

// savedWithToken saves a connection with a refresh token in the real
// keyring and opens the main window on it, with the Edit dialog open.
// signIn stands for the sign-in; nil is the real one.
func savedWithToken(t *testing.T, signIn signInStarter) (*storage.Repository, *MainWindow, *ConnectionDialog, storage.Connection) {
	t.Helper()
	repo := testRepo(t)
	c := newNamedConnection("Contoso")
	c.Token = &storage.TokenInfo{ObtainedAt: time.Date(2026, 11, 25, 14, 3, 0, 0, time.Local), Account: "alice@contoso.com"}
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{c}}
	if err := repo.Commit(cfg, []storage.SecretChange{{ConnID: c.ID, Kind: storage.SecretRefreshToken, Value: staleOldToken}}); err != nil {
		t.Fatal(err)
	}
	m, _ := testMainWindow(t, repo, Deps{})
	if signIn != nil {
		m.systems.signIn = signIn
	}
	test.DoubleTap(cellAt(t, m, 0, colConnName))
	d := m.systems.dialog
	if d == nil || d.isNew {
		t.Fatal("double tap did not open Edit")
	}
	requireTokenValid(t, d, "alice@contoso.com")
	return repo, m, d, c
}

func requireTokenValid(t *testing.T, d *ConnectionDialog, account string) {
	t.Helper()
	if !strings.HasPrefix(d.tokenStatus.Text, "Token present") || !strings.Contains(d.tokenStatus.Text, account) {
		t.Fatalf("token status %q, want the token of %s", d.tokenStatus.Text, account)
	}
	if d.tokenStatus.Importance != widget.MediumImportance || d.help[fieldRefreshToken].Text != fieldHelp[fieldRefreshToken] {
		t.Fatalf("token row still warns: %q", d.help[fieldRefreshToken].Text)
	}
}

func requireTokenStale(t *testing.T, d *ConnectionDialog, field string) {
	t.Helper()
	if d.tokenStatus.Text != staleTokenText || d.tokenStatus.Importance != widget.WarningImportance {
		t.Fatalf("token status %q, want %q", d.tokenStatus.Text, staleTokenText)
	}
	help := d.help[fieldRefreshToken]
	requireContains(t, "token help", help.Text, "Changed since the sign-in")
	requireContains(t, "token help", help.Text, field)
	requireContains(t, "token help", help.Text, "Generate...")
	if !help.Visible() || help.Importance != widget.WarningImportance {
		t.Error("the reason must be shown, as a warning")
	}
	if c := d.connection(); c.Token != nil {
		t.Errorf("a stale token is still described in the connection: %+v", c.Token)
	}
}

func keyringValue(t *testing.T, repo *storage.Repository, id string, kind storage.SecretKind) (string, error) {
	t.Helper()
	return repo.Secrets.Get(id, kind)
}

func TestEditClientIDFlagsTokenStaleAndSaveRemovesIt(t *testing.T) {
	repo, m, d, c := savedWithToken(t, nil)
	retype(d.clientID, otherClientID)
	requireTokenStale(t, d, connector.FieldClientID)
	requireContains(t, "token help", d.help[fieldRefreshToken].Text, "Save removes it from the keyring")
	if d.ok.Disabled() {
		t.Fatalf("a new client ID is valid: %v", d.current)
	}
	test.Tap(d.ok)
	if got := m.cfg.Connections[0]; got.Token != nil || got.ClientID != otherClientID || !m.dirty {
		t.Fatalf("pending connection %+v", got)
	}
	// Nothing leaves the keyring before Save.
	if v, err := keyringValue(t, repo, c.ID, storage.SecretRefreshToken); err != nil || v != staleOldToken {
		t.Fatalf("token before Save: %q, %v", v, err)
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if _, err := keyringValue(t, repo, c.ID, storage.SecretRefreshToken); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("stale token still in the keyring after Save: %v", err)
	}
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connections[0]; got.Token != nil || got.ClientID != otherClientID {
		t.Fatalf("saved connection %+v", got)
	}
	// Opened again, it asks for a sign-in.
	test.DoubleTap(cellAt(t, m, 0, colConnName))
	if m.systems.dialog.tokenStatus.Text != noTokenText {
		t.Errorf("token status after Save %q", m.systems.dialog.tokenStatus.Text)
	}
}

func TestEditClientIDBackKeepsToken(t *testing.T) {
	repo, m, d, c := savedWithToken(t, nil)
	retype(d.clientID, otherClientID)
	requireTokenStale(t, d, connector.FieldClientID)
	retype(d.clientID, strings.ToUpper(c.ClientID)) // GUIDs ignore case
	requireTokenValid(t, d, "alice@contoso.com")
	test.Tap(d.ok)
	if got := m.cfg.Connections[0]; got.Token == nil || got.Token.Account != "alice@contoso.com" {
		t.Fatalf("token info lost: %+v", got.Token)
	}
	for _, ch := range m.pending {
		if ch.Kind == storage.SecretRefreshToken {
			t.Fatalf("a keyring change of the token is pending: %+v", ch)
		}
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if v, err := keyringValue(t, repo, c.ID, storage.SecretRefreshToken); err != nil || v != staleOldToken {
		t.Fatalf("token after Save: %q, %v", v, err)
	}
}

func TestEditNameOnlyKeepsToken(t *testing.T) {
	repo, m, d, c := savedWithToken(t, nil)
	retype(d.name, "Contoso Production")
	requireTokenValid(t, d, "alice@contoso.com")
	test.Tap(d.ok)
	if !m.dirty || m.cfg.Connections[0].Name != "Contoso Production" {
		t.Fatal("rename not pending")
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if v, err := keyringValue(t, repo, c.ID, storage.SecretRefreshToken); err != nil || v != staleOldToken {
		t.Fatalf("token after a rename: %q, %v", v, err)
	}
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connections[0]; got.Token == nil || got.Token.Account != "alice@contoso.com" {
		t.Fatalf("saved token info %+v", got.Token)
	}
}

func TestGenerateAfterClientIDChangeStoresNewToken(t *testing.T) {
	var req signInRequest
	deps := signInFunc(func(r signInRequest) { req = r })
	repo, m, d, c := savedWithToken(t, deps)
	retype(d.clientID, otherClientID)
	requireTokenStale(t, d, connector.FieldClientID)
	if d.generate.Disabled() {
		t.Fatal("Generate... must stay available to sign in again")
	}
	test.Tap(d.generate)
	if req.Done == nil || req.Connection.ClientID != otherClientID {
		t.Fatalf("Generate... got %+v", req.Connection)
	}
	req.Done(staleNewToken, storage.TokenInfo{ObtainedAt: time.Now(), Account: "bob@contoso.com"})
	requireTokenValid(t, d, "bob@contoso.com")
	test.Tap(d.ok)
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if v, err := keyringValue(t, repo, c.ID, storage.SecretRefreshToken); err != nil || v != staleNewToken {
		t.Fatalf("token after Save: %q, %v", v, err)
	}
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connections[0]; got.Token == nil || got.Token.Account != "bob@contoso.com" || got.ClientID != otherClientID {
		t.Fatalf("saved connection %+v", got)
	}
}

// Which edits make the saved token stale, in the dialog alone.
func TestDialogTokenStaleByField(t *testing.T) {
	base := newNamedConnection("Contoso")
	base.Token = &storage.TokenInfo{ObtainedAt: time.Now(), Account: "alice@contoso.com"}
	cases := []struct {
		name  string
		edit  func(d *ConnectionDialog)
		stale string // the field named in the help; "" when the token stays valid
	}{
		{"name", func(d *ConnectionDialog) { retype(d.name, "Fabrikam") }, ""},
		{"proxy", func(d *ConnectionDialog) {
			test.Tap(d.useProxy)
			test.Type(d.proxyServer, "10.0.0.1:8080")
		}, ""},
		{"redirect URI", func(d *ConnectionDialog) { retype(d.redirectURI, "http://localhost:8400") }, ""},
		{"client ID", func(d *ConnectionDialog) { retype(d.clientID, otherClientID) }, connector.FieldClientID},
		{"tenant", func(d *ConnectionDialog) {
			retype(d.tokenEndpoint, "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token")
		}, connector.FieldTokenEndpoint},
		{"cloud", func(d *ConnectionDialog) { d.cloud.SetSelected(connector.CloudGCCHigh) }, connector.FieldCloud},
		{"cloud and back", func(d *ConnectionDialog) {
			d.cloud.SetSelected(connector.CloudChina)
			d.cloud.SetSelected(connector.CloudGlobal)
		}, ""},
		{"graph endpoint", func(d *ConnectionDialog) {
			d.cloud.SetSelected(connector.CloudCustom)
			retype(d.graphEndpoint, "http://127.0.0.1:9000")
		}, connector.FieldGraphEndpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var changes []storage.SecretChange
			d, _ := testDialog(t, base, false, nil, nil, func(_ storage.Connection, ch []storage.SecretChange) { changes = ch })
			tc.edit(d)
			if tc.stale == "" {
				requireTokenValid(t, d, "alice@contoso.com")
			} else {
				requireTokenStale(t, d, tc.stale)
			}
			if d.ok.Disabled() {
				t.Fatalf("edit refused: %v", d.current)
			}
			test.Tap(d.ok)
			deleted := false
			for _, ch := range changes {
				deleted = deleted || (ch.Kind == storage.SecretRefreshToken && ch.Delete)
			}
			if deleted != (tc.stale != "") {
				t.Errorf("token deleted on Save: %v, changes %+v", deleted, changes)
			}
		})
	}
}

// A token from Generate... is bound to the settings it was obtained with,
// too: changed afterwards it is not stored, and going back to the saved
// token's settings brings the saved token back.
func TestDialogGeneratedTokenIsBoundToItsSettings(t *testing.T) {
	var req signInRequest
	var changes []storage.SecretChange
	base := newNamedConnection("Contoso")
	base.Token = &storage.TokenInfo{ObtainedAt: time.Now(), Account: "alice@contoso.com"}
	d, _ := testDialog(t, base, false, nil, signInFunc(func(r signInRequest) { req = r }),
		func(_ storage.Connection, ch []storage.SecretChange) { changes = ch })
	retype(d.clientID, otherClientID)
	test.Tap(d.generate)
	req.Done(staleNewToken, storage.TokenInfo{ObtainedAt: time.Now(), Account: "bob@contoso.com"})
	requireTokenValid(t, d, "bob@contoso.com")

	retype(d.tokenEndpoint, "https://login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token")
	requireTokenStale(t, d, connector.FieldTokenEndpoint)

	retype(d.tokenEndpoint, base.TokenEndpoint)
	retype(d.clientID, base.ClientID)
	requireTokenValid(t, d, "alice@contoso.com")
	test.Tap(d.ok)
	if len(changes) != 0 {
		t.Fatalf("the saved token applies again, yet changes %+v", changes)
	}
}

// A client secret belongs to its app registration: a new client ID asks
// for a new secret, and Save replaces (or removes) the saved one.
func TestEditClientIDNeedsNewClientSecret(t *testing.T) {
	repo := testRepo(t)
	c := newNamedConnection("Daemon")
	c.AuthFlow = storage.FlowClientCredentials
	c.TokenEndpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
	c.HasClientSecret = true
	const oldSecret, newSecret = "client-secret-value-old", "client-secret-value-new"
	if err := repo.Commit(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{c}},
		[]storage.SecretChange{{ConnID: c.ID, Kind: storage.SecretClientSecret, Value: oldSecret}}); err != nil {
		t.Fatal(err)
	}
	m, _ := testMainWindow(t, repo, Deps{})
	test.DoubleTap(cellAt(t, m, 0, colConnName))
	d := m.systems.dialog
	help := d.help[connector.FieldClientSecret]

	// A new tenant keeps the secret.
	retype(d.tokenEndpoint, "https://login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token")
	if d.ok.Disabled() || d.clientSecret.PlaceHolder != savedSecretHint {
		t.Fatalf("a new tenant must keep the secret: %v", d.current)
	}
	retype(d.clientID, otherClientID)
	if !d.ok.Disabled() || d.errorText(connector.FieldClientSecret) == "" || d.clientSecret.PlaceHolder != staleSecretHint {
		t.Fatalf("the old secret must not count for a new client ID: placeholder %q, %v", d.clientSecret.PlaceHolder, d.current)
	}
	requireContains(t, "secret help", help.Text, "previous client ID")
	if help.Importance != widget.WarningImportance {
		t.Error("the reason must be a warning")
	}
	retype(d.clientID, c.ClientID)
	if d.ok.Disabled() || d.clientSecret.PlaceHolder != savedSecretHint || help.Text != fieldHelp[connector.FieldClientSecret] {
		t.Fatalf("changing the ID back must restore the saved secret: %v", d.current)
	}
	retype(d.clientID, otherClientID)
	test.Type(d.clientSecret, newSecret)
	if d.ok.Disabled() {
		t.Fatalf("a new secret for the new ID refused: %v", d.current)
	}
	test.Tap(d.ok)
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if v, err := keyringValue(t, repo, c.ID, storage.SecretClientSecret); err != nil || v != newSecret {
		t.Fatalf("secret after Save: %q, %v", v, err)
	}

	// Switched to Authorization Code with yet another client ID, the
	// secret nothing can use any more is removed.
	test.DoubleTap(cellAt(t, m, 0, colConnName))
	d = m.systems.dialog
	d.authFlow.SetSelected(string(storage.FlowAuthorizationCode))
	retype(d.clientID, "11111111-2222-3333-4444-555555555555")
	test.Tap(d.ok)
	if m.cfg.Connections[0].HasClientSecret {
		t.Fatal("a stale secret is still recorded")
	}
	test.Tap(m.saveButton)
	if m.dirty {
		t.Fatalf("save failed: %s", m.prompt.message.Text)
	}
	if _, err := keyringValue(t, repo, c.ID, storage.SecretClientSecret); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("stale secret still in the keyring: %v", err)
	}
}

// With Client Credentials the Refresh Token row is hidden, but Save still
// removes a saved sign-in the new settings void: the Client Secret help,
// which is shown, says so, and stops saying it when the ID is changed back.
func TestClientCredentialsWarnsStaleTokenRemoved(t *testing.T) {
	_, _, d, c := savedWithToken(t, nil)
	d.authFlow.SetSelected(string(storage.FlowClientCredentials))
	if d.rows[fieldRefreshToken].Visible() || !d.rows[connector.FieldClientSecret].Visible() {
		t.Fatal("the test expects the Refresh Token row hidden and the Client Secret row shown with Client Credentials")
	}
	secretHelp := d.help[connector.FieldClientSecret]
	if strings.Contains(secretHelp.Text, "refresh token") {
		t.Fatalf("warns before any change: %q", secretHelp.Text)
	}
	retype(d.clientID, otherClientID)
	requireContains(t, "client secret help", secretHelp.Text, "Save removes it from the keyring")
	requireContains(t, "client secret help", secretHelp.Text, "refresh token")
	if !secretHelp.Visible() || secretHelp.Importance != widget.WarningImportance {
		t.Fatalf("the warning must be shown as one (visible %v, importance %v)", secretHelp.Visible(), secretHelp.Importance)
	}
	if d.connection().Token != nil {
		t.Fatal("the connection still describes the stale token")
	}
	retype(d.clientID, c.ClientID)
	if strings.Contains(secretHelp.Text, "refresh token") {
		t.Fatalf("still warns after changing the ID back: %q", secretHelp.Text)
	}
}
