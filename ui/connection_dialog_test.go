package ui

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

func TestDialogNewHasDefaultsAndNeedsOnlyAName(t *testing.T) {
	var got *storage.Connection
	d, w := testDialog(t, connector.NewConnection(), true, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = &c })

	if top, ok := w.Canvas().Overlays().Top().(*widget.PopUp); !ok || top == nil {
		t.Fatal("the dialog is not shown")
	}
	wantText := map[*dialogEntry]string{
		d.tokenEndpoint:         "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		d.clientID:              "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		d.redirectURI:           "https://login.microsoftonline.com/common/oauth2/nativeclient",
		d.authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		d.graphEndpoint:         "https://graph.microsoft.com",
		d.name:                  "",
	}
	for e, want := range wantText {
		if e.Text != want {
			t.Errorf("entry shows %q, want %q", e.Text, want)
		}
	}
	if d.sourceTypeButton.Text != "Microsoft 365" || d.cloud.Selected != "Global" || d.authFlow.Selected != "Authorization Code" {
		t.Errorf("source %q, cloud %q, flow %q", d.sourceTypeButton.Text, d.cloud.Selected, d.authFlow.Selected)
	}
	if d.useProxy.Checked || !d.proxyServer.Disabled() || !d.proxyUser.Disabled() || !d.proxyPassword.Disabled() {
		t.Error("proxy fields should start off and disabled")
	}
	if !d.proxyPassword.Password || !d.clientSecret.Password {
		t.Error("password and client secret must be masked")
	}
	if !d.graphEndpoint.Disabled() {
		t.Error("Graph Endpoint must be read-only under the Global cloud")
	}
	if !d.rows[connector.FieldAuthorizationEndpoint].Visible() || !d.rows[fieldRefreshToken].Visible() || d.rows[connector.FieldClientSecret].Visible() {
		t.Error("Authorization Code shows Authorization Endpoint and Refresh Token, not Client Secret")
	}
	if d.tokenStatus.Text != "No token yet — click Generate..." {
		t.Errorf("token status %q", d.tokenStatus.Text)
	}
	if d.dlg == nil || !d.ok.Disabled() {
		t.Fatal("OK must be disabled while the name is empty")
	}
	// No red before anything was typed (issue 23 item 5): the dialog says
	// what OK waits for instead.
	for field := range d.errs {
		if d.errorText(field) != "" {
			t.Errorf("error on %s before anything was typed: %s", field, d.errorText(field))
		}
	}
	requireContains(t, "pending", d.pending.Text, "To enable OK, fill in: "+connector.FieldConnectionName)
	// Once typed in, the field says what is wrong, in space kept for it:
	// the fields below do not move.
	below := d.rows[connector.FieldSourceType].Position().Y
	test.Type(d.name, "x")
	d.name.SetText("")
	requireContains(t, "name error", d.errorText(connector.FieldConnectionName), "Enter a name")
	if d.pending.Text != "" {
		t.Errorf("pending %q once the error shows at its field", d.pending.Text)
	}
	if got := d.rows[connector.FieldSourceType].Position().Y; got != below {
		t.Errorf("the error moved the next field from y=%v to y=%v", below, got)
	}

	test.Tap(d.ok)
	if got != nil {
		t.Fatal("a disabled OK saved the connection")
	}
	test.Type(d.name, "Contoso Prod  ")
	if d.ok.Disabled() || d.errorText(connector.FieldConnectionName) != "" {
		t.Fatalf("a name should be enough; error %q", d.errorText(connector.FieldConnectionName))
	}
	test.Tap(d.ok)
	if got == nil {
		t.Fatal("OK did not hand over the connection")
	}
	if got.Name != "Contoso Prod" {
		t.Errorf("name %q: trailing spaces should be dropped", got.Name)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("OK did not close the dialog")
	}

	// Cancel closes without handing anything over.
	got = nil
	d, w = testDialog(t, connector.NewConnection(), true, nil, nil, func(c storage.Connection, _ []storage.SecretChange) { got = &c })
	test.Type(d.name, "Fabrikam")
	test.Tap(d.cancel)
	if got != nil || w.Canvas().Overlays().Top() != nil {
		t.Error("Cancel must close the dialog and save nothing")
	}
}

// Each rule shows its own message next to its own field and disables OK.
func TestDialogShowsEachRuleNextToItsField(t *testing.T) {
	others := []storage.Connection{{ID: "other", Name: "Fabrikam"}}
	cases := []struct {
		name  string
		setup func(d *ConnectionDialog)
		field string
		want  string
	}{
		{"name start", func(d *ConnectionDialog) { retype(d.name, "_x") }, connector.FieldConnectionName, "Start the name with a letter or a digit"},
		{"name chars", func(d *ConnectionDialog) { retype(d.name, "a/b") }, connector.FieldConnectionName, `"/" is not allowed`},
		{"name unique", func(d *ConnectionDialog) { retype(d.name, "FABRIKAM") }, connector.FieldConnectionName, "already exists"},
		{"proxy server", func(d *ConnectionDialog) { test.Tap(d.useProxy); test.Type(d.proxyServer, "proxy:8080") }, connector.FieldProxyServer, "give an IP address and port"},
		{"proxy port", func(d *ConnectionDialog) { test.Tap(d.useProxy); test.Type(d.proxyServer, "10.0.0.1:70000") }, connector.FieldProxyServer, "from 1 to 65535"},
		{"proxy password missing", func(d *ConnectionDialog) {
			test.Tap(d.useProxy)
			test.Type(d.proxyServer, "10.0.0.1:8080")
			test.Type(d.proxyUser, "alice")
		}, connector.FieldProxyPassword, "Enter the password"},
		{"proxy user missing", func(d *ConnectionDialog) {
			test.Tap(d.useProxy)
			test.Type(d.proxyServer, "10.0.0.1:8080")
			test.Type(d.proxyPassword, "pw")
		}, connector.FieldProxyUsername, "Enter the user name"},
		{"client id", func(d *ConnectionDialog) { retype(d.clientID, "not-a-guid") }, connector.FieldClientID, "not a GUID"},
		{"token endpoint http", func(d *ConnectionDialog) {
			retype(d.tokenEndpoint, "http://login.microsoftonline.com/common/oauth2/v2.0/token")
		}, connector.FieldTokenEndpoint, "plain http:// is allowed only"},
		{"token endpoint other host", func(d *ConnectionDialog) {
			retype(d.tokenEndpoint, "https://login.example.com/common/oauth2/v2.0/token")
		}, connector.FieldTokenEndpoint, "choose Cloud: Custom"},
		{"redirect", func(d *ConnectionDialog) { retype(d.redirectURI, "http://example.com/cb") }, connector.FieldRedirectURI, "plain http://"},
		{"redirect ipv6 loopback", func(d *ConnectionDialog) { retype(d.redirectURI, "http://[::1]:8400") }, connector.FieldRedirectURI, "does not accept [::1]"},
		{"authorization endpoint", func(d *ConnectionDialog) { retype(d.authorizationEndpoint, "") }, connector.FieldAuthorizationEndpoint, "Enter the address"},
		{"graph endpoint", func(d *ConnectionDialog) {
			d.cloud.SetSelected(connector.CloudCustom)
			retype(d.graphEndpoint, "ftp://graph")
		}, connector.FieldGraphEndpoint, "not ftp://"},
		{"client credentials on common", func(d *ConnectionDialog) {
			d.authFlow.SetSelected(string(storage.FlowClientCredentials))
			test.Type(d.clientSecret, "s3cret-value")
		}, connector.FieldTokenEndpoint, `instead of "common"`},
		{"client secret missing", func(d *ConnectionDialog) {
			retype(d.tokenEndpoint, "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token")
			d.authFlow.SetSelected(string(storage.FlowClientCredentials))
		}, connector.FieldClientSecret, "Enter the client secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := testDialog(t, newNamedConnection("Contoso"), true, others, nil, nil)
			if d.ok.Disabled() {
				t.Fatalf("a valid connection starts with OK disabled: %v", d.current)
			}
			tc.setup(d)
			d.touchAll() // as after the administrator went through every field
			requireContains(t, tc.field+" error", d.errorText(tc.field), tc.want)
			if !d.ok.Disabled() {
				t.Error("OK is enabled while a field is invalid")
			}
			for field := range d.errs {
				if field != tc.field && d.errorText(field) != "" {
					t.Errorf("error shown on %s too: %s", field, d.errorText(field))
				}
			}
		})
	}
}

func TestDialogCloudFillsEndpoints(t *testing.T) {
	d, _ := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, nil)
	d.cloud.SetSelected(connector.CloudDoD)
	if d.tokenEndpoint.Text != "https://login.microsoftonline.us/common/oauth2/v2.0/token" ||
		d.authorizationEndpoint.Text != "https://login.microsoftonline.us/common/oauth2/v2.0/authorize" ||
		d.redirectURI.Text != "https://login.microsoftonline.us/common/oauth2/nativeclient" ||
		d.graphEndpoint.Text != "https://dod-graph.microsoft.us" {
		t.Fatalf("US DoD endpoints: %q %q %q %q", d.tokenEndpoint.Text, d.authorizationEndpoint.Text, d.redirectURI.Text, d.graphEndpoint.Text)
	}
	if !d.graphEndpoint.Disabled() || d.tokenEndpoint.Disabled() {
		t.Error("under a named cloud the Graph Endpoint is read-only and the token endpoint editable (for the tenant)")
	}
	if d.ok.Disabled() {
		t.Errorf("cloud defaults are invalid: %v", d.current)
	}

	// The tenant typed for the token endpoint survives a change of cloud.
	retype(d.tokenEndpoint, "https://login.microsoftonline.us/contoso.us/oauth2/v2.0/token")
	d.cloud.SetSelected(connector.CloudChina)
	if d.tokenEndpoint.Text != "https://login.chinacloudapi.cn/contoso.us/oauth2/v2.0/token" ||
		d.graphEndpoint.Text != "https://microsoftgraph.chinacloudapi.cn" {
		t.Errorf("China endpoints: %q %q", d.tokenEndpoint.Text, d.graphEndpoint.Text)
	}

	// Custom makes every endpoint editable and accepts the local simulator.
	d.cloud.SetSelected(connector.CloudCustom)
	if d.graphEndpoint.Disabled() {
		t.Fatal("Custom must make the Graph Endpoint editable")
	}
	retype(d.tokenEndpoint, "http://127.0.0.1:9000/t1/oauth2/v2.0/token")
	retype(d.authorizationEndpoint, "http://127.0.0.1:9000/t1/oauth2/v2.0/authorize")
	retype(d.redirectURI, "http://localhost:8400/callback")
	retype(d.graphEndpoint, "http://127.0.0.1:9000")
	if d.ok.Disabled() {
		t.Fatalf("simulator endpoints under Custom are invalid: %v", d.current)
	}
	c := d.connection()
	if c.Cloud != connector.CloudCustom || c.GraphEndpoint != "http://127.0.0.1:9000" {
		t.Errorf("connection %+v", c)
	}
	// Back to Global: endpoints are filled again, the loopback redirect kept.
	d.cloud.SetSelected(connector.CloudGlobal)
	if d.graphEndpoint.Text != "https://graph.microsoft.com" || d.redirectURI.Text != "http://localhost:8400/callback" {
		t.Errorf("Global again: graph %q redirect %q", d.graphEndpoint.Text, d.redirectURI.Text)
	}
}

func TestDialogAuthFlowSwitchesFieldsAndSecretIsPending(t *testing.T) {
	var got storage.Connection
	var changes []storage.SecretChange
	d, _ := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, func(c storage.Connection, ch []storage.SecretChange) {
		got, changes = c, ch
	})
	d.authFlow.SetSelected(string(storage.FlowClientCredentials))
	if d.rows[connector.FieldAuthorizationEndpoint].Visible() || d.rows[fieldRefreshToken].Visible() || !d.rows[connector.FieldClientSecret].Visible() {
		t.Fatal("Client Credentials shows Client Secret only")
	}
	if !d.ok.Disabled() || !strings.Contains(d.pending.Text, connector.FieldClientSecret) || !strings.Contains(d.pending.Text, connector.FieldTokenEndpoint) {
		t.Fatalf("Client Credentials on common without a secret must be refused, saying why: %q", d.pending.Text)
	}
	d.touchAll()
	if d.errorText(connector.FieldClientSecret) == "" || d.errorText(connector.FieldTokenEndpoint) == "" {
		t.Fatal("the errors of Client Secret and Token Endpoint must show at their fields")
	}
	retype(d.tokenEndpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
	const secret = "Qw8~client-secret-value-123"
	test.Type(d.clientSecret, secret)
	if d.ok.Disabled() {
		t.Fatalf("valid client credentials refused: %v", d.current)
	}
	test.Tap(d.ok)
	if got.AuthFlow != storage.FlowClientCredentials || !got.HasClientSecret {
		t.Fatalf("connection %+v", got)
	}
	if len(changes) != 1 || changes[0] != (storage.SecretChange{ConnID: got.ID, Kind: storage.SecretClientSecret, Value: secret}) {
		t.Fatalf("secret changes %+v", changes)
	}

	// Switching back hides the secret and shows the code-flow fields again.
	d2, _ := testDialog(t, got, false, nil, nil, nil)
	if d2.clientSecret.Text != "" || d2.clientSecret.PlaceHolder != "Saved — type to replace" {
		t.Errorf("a saved secret must not be shown: text %q placeholder %q", d2.clientSecret.Text, d2.clientSecret.PlaceHolder)
	}
	if d2.dlg == nil || d2.ok.Disabled() {
		t.Errorf("a saved secret counts as present: %v", d2.current)
	}
	d2.authFlow.SetSelected(string(storage.FlowAuthorizationCode))
	if !d2.rows[connector.FieldAuthorizationEndpoint].Visible() || d2.rows[connector.FieldClientSecret].Visible() {
		t.Error("Authorization Code must show its own fields again")
	}
}

func TestDialogUseProxyEnablesAndValidatesProxyFields(t *testing.T) {
	var changes []storage.SecretChange
	var got storage.Connection
	d, _ := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, func(c storage.Connection, ch []storage.SecretChange) {
		got, changes = c, ch
	})
	test.Type(d.proxyServer, "typed while disabled")
	if d.proxyServer.Text != "" {
		t.Fatal("a disabled proxy field accepted typing")
	}
	test.Tap(d.useProxy)
	if d.proxyServer.Disabled() || d.proxyUser.Disabled() || d.proxyPassword.Disabled() {
		t.Fatal("Use Proxy must enable the proxy fields")
	}
	requireContains(t, "pending", d.pending.Text, connector.FieldProxyServer)
	d.touchAll()
	requireContains(t, "server error", d.errorText(connector.FieldProxyServer), "Enter the proxy address")
	test.Type(d.proxyServer, "http://[2001:db8::1]:3128")
	test.Type(d.proxyUser, "alice")
	if !d.ok.Disabled() {
		t.Fatal("a user without a password must be refused")
	}
	const pw = "proxy-password-1"
	test.Type(d.proxyPassword, pw)
	if d.ok.Disabled() {
		t.Fatalf("valid proxy refused: %v", d.current)
	}

	// Off again: fields disabled, not validated, their errors hidden.
	retype(d.proxyServer, "junk")
	test.Tap(d.useProxy)
	if !d.proxyServer.Disabled() || d.errorText(connector.FieldProxyServer) != "" || d.ok.Disabled() {
		t.Fatalf("proxy off must not validate: error %q", d.errorText(connector.FieldProxyServer))
	}
	test.Tap(d.useProxy)
	retype(d.proxyServer, "10.1.2.3:8080")
	test.Tap(d.ok)
	if !got.Proxy.Enabled || got.Proxy.Server != "10.1.2.3:8080" || got.Proxy.Username != "alice" || !got.Proxy.HasPassword {
		t.Fatalf("proxy %+v", got.Proxy)
	}
	if len(changes) != 1 || changes[0].Kind != storage.SecretProxyPassword || changes[0].Value != pw {
		t.Fatalf("changes %+v", changes)
	}

	// Clearing the user name of a saved password removes the password.
	d2, _ := testDialog(t, got, false, nil, nil, func(c storage.Connection, ch []storage.SecretChange) { got, changes = c, ch })
	if d2.proxyPassword.PlaceHolder != savedSecretHint {
		t.Errorf("placeholder %q", d2.proxyPassword.PlaceHolder)
	}
	retype(d2.proxyUser, "")
	if d2.ok.Disabled() {
		t.Fatalf("neither user nor password is valid: %v", d2.current)
	}
	test.Tap(d2.ok)
	if got.Proxy.HasPassword || len(changes) != 1 || !changes[0].Delete || changes[0].Kind != storage.SecretProxyPassword {
		t.Fatalf("proxy %+v changes %+v", got.Proxy, changes)
	}
}

func TestDialogSourceTypeListsDeprecatedDisabled(t *testing.T) {
	d, w := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, nil)
	before := len(w.Canvas().Overlays().List())
	test.Tap(d.sourceTypeButton)
	if len(w.Canvas().Overlays().List()) != before+1 {
		t.Fatal("tapping Source Type did not open its menu")
	}
	items := d.sourceTypeMenu.Items
	if len(items) != 2 || items[0].Label != "Microsoft 365" || items[0].Disabled ||
		items[1].Label != "Microsoft Office 365 (deprecated)" || !items[1].Disabled {
		t.Fatalf("menu items %+v %+v", items[0], items[1])
	}
	if !items[0].Checked {
		t.Error("the current source type should be checked")
	}
	items[0].Action()
	if d.sourceTypeButton.Text != "Microsoft 365" || d.ok.Disabled() {
		t.Errorf("source type %q", d.sourceTypeButton.Text)
	}
}

func TestDialogGenerate(t *testing.T) {
	// The sign-in gets the connection as typed; the token becomes a
	// pending change and its description shows, never the token.
	var req signInRequest
	calls := 0
	var changes []storage.SecretChange
	var got storage.Connection
	deps := signInFunc(func(r signInRequest) { req = r; calls++ })
	d, _ := testDialog(t, newNamedConnection("Contoso"), true, nil, deps, func(c storage.Connection, ch []storage.SecretChange) {
		got, changes = c, ch
	})
	retype(d.clientID, "bad")
	if !d.generate.Disabled() {
		t.Fatal("Generate... must wait for a valid client ID")
	}
	test.Tap(d.generate)
	if calls != 0 {
		t.Fatal("a disabled Generate... ran")
	}
	retype(d.clientID, "00000000-1111-2222-3333-444444444444")
	test.Tap(d.generate)
	if calls != 1 || req.Connection.ClientID != "00000000-1111-2222-3333-444444444444" || req.Parent == nil || req.Done == nil {
		t.Fatalf("request %+v", req)
	}
	const token = "0.AAAA-refresh-token-value-that-is-long"
	obtained := time.Date(2026, 11, 25, 14, 3, 0, 0, time.Local)
	req.Done(token, storage.TokenInfo{ObtainedAt: obtained, Account: "alice@contoso.com", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"})
	want := "Token present — obtained 2026-11-25 14:03\nfor alice@contoso.com\n(tenant 72f988bf-86f1-41af-91ab-2d7cd011db47)"
	if d.tokenStatus.Text != want {
		t.Fatalf("token status %q, want %q", d.tokenStatus.Text, want)
	}
	if strings.Contains(d.tokenStatus.Text, token) {
		t.Fatal("the token itself is shown")
	}
	test.Tap(d.ok)
	if got.Token == nil || got.Token.Account != "alice@contoso.com" {
		t.Fatalf("token info not kept: %+v", got.Token)
	}
	if len(changes) != 1 || changes[0] != (storage.SecretChange{ConnID: got.ID, Kind: storage.SecretRefreshToken, Value: token}) {
		t.Fatalf("changes %+v", changes)
	}
}

// At the smallest window the dialog fits inside it and its fields scroll.
func TestDialogFitsAndScrollsInSmallWindow(t *testing.T) {
	d, w := testDialog(t, newNamedConnection("Contoso"), true, nil, nil, nil)
	pop := w.Canvas().Overlays().Top()
	if pop == nil {
		t.Fatal("no dialog")
	}
	canvasSize := w.Canvas().Size()
	dlgSize := d.dlg.MinSize().Max(d.scroll.Size())
	if dlgSize.Width > canvasSize.Width || dlgSize.Height > canvasSize.Height {
		t.Fatalf("dialog %v does not fit the window %v", dlgSize, canvasSize)
	}
	if d.scroll.Size().Height <= 0 || d.scroll.Content.MinSize().Height <= d.scroll.Size().Height {
		t.Fatalf("the fields (%v high) should scroll inside %v", d.scroll.Content.MinSize().Height, d.scroll.Size())
	}
}

// The dialog with its defaults, compared with a golden image (test theme).
// The window is tall enough to show every field without scrolling.
func TestDialogGolden(t *testing.T) {
	d, w := testDialog(t, connector.NewConnection(), true, nil, nil, nil)
	w.Resize(fyne.NewSize(windowWidth, goldenHeight))
	d.Show()
	w.Canvas().Unfocus() // no blinking cursor in the image
	_ = d
	img := w.Canvas().Capture()
	if *update {
		if err := encodePNG(filepath.Join("testdata", "connection_dialog.png"), img); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertImageMatches(t, "connection_dialog.png", img)
}

// TestWriteDialogDocs writes docs/dialog.png with the default light theme
// when BEACON_WRITE_DOCS=1.
func TestWriteDialogDocs(t *testing.T) {
	if os.Getenv("BEACON_WRITE_DOCS") != "1" {
		t.Skip("set BEACON_WRITE_DOCS=1 to write docs/dialog.png")
	}
	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{})
	fyne.CurrentApp().Settings().SetTheme(theme.LightTheme())
	m.win.Resize(fyne.NewSize(windowWidth, goldenHeight))
	m.systems.create()
	m.win.Canvas().Unfocus()
	writePNG(t, filepath.Join("..", "docs", "dialog.png"), m.win)
}

// goldenHeight shows the whole dialog: the test painter does not clip
// entries nested in a scroll container, so a scrolled capture would show
// stray text below the dialog.
const goldenHeight = 1440

func encodePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// A token description long enough to need several lines must push the
// rows below it down instead of being drawn under them (seen in
// docs/token-present.png before the fix).
func TestTokenDescriptionIsNotClipped(t *testing.T) {
	c := newNamedConnection("Contoso")
	d, _ := testDialog(t, c, false, nil, nil, nil)
	d.SetToken(&storage.TokenInfo{
		ObtainedAt: time.Date(2026, 11, 25, 20, 0, 0, 0, time.Local),
		Account:    "megan.bowen.with.a.rather.long.name@contoso-international.onmicrosoft.com",
		TenantID:   "72f988bf-86f1-41af-91ab-2d7cd011db47",
	})
	tokenRow := d.rows[fieldRefreshToken]
	graphRow := d.rows[connector.FieldGraphEndpoint]
	if !tokenRow.Visible() || !graphRow.Visible() {
		t.Fatal("token or Graph Endpoint row hidden for Authorization Code")
	}
	if got, min := d.tokenStatus.Size().Height, d.tokenStatus.MinSize().Height; got < min {
		t.Errorf("token description is %v high, needs %v", got, min)
	}
	lines := strings.Count(d.tokenStatus.Text, "\n") + 1
	if lines < 2 {
		t.Errorf("token description is one line: %q", d.tokenStatus.Text)
	}
	tokenBottom := tokenRow.Position().Y + tokenRow.Size().Height
	if graphRow.Position().Y < tokenBottom {
		t.Errorf("Graph Endpoint row starts at y=%v, inside the token row that ends at y=%v", graphRow.Position().Y, tokenBottom)
	}
	for _, want := range []string{"Token present", "megan.bowen", "72f988bf-86f1-41af-91ab-2d7cd011db47", "2026-11-25 20:00"} {
		if !strings.Contains(d.tokenStatus.Text, want) {
			t.Errorf("token description %q lacks %q", d.tokenStatus.Text, want)
		}
	}
}
