package cli

// `beacon connection ...` against the real keyring (scripts/session.sh):
// the dialog's rules and messages, secrets from stdin or a file only, and
// export/import without secrets.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

const (
	testSecret   = "cs~Secret-Value-0123456789abcdef"
	testPassword = "proxy-Pa55word-for-bob"
	otherGUID    = "0b8f5a3c-1d2e-4f60-9a7b-c8d9e0f1a2b3"
	tenantToken  = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
)

type connEnv struct {
	t       *testing.T
	dir     string
	secrets storage.Secrets
}

// newConnEnv gives the command a configuration folder and a keyring
// service of the test's own.
func newConnEnv(t *testing.T) *connEnv {
	t.Helper()
	testenv.Keyring(t)
	e := &connEnv{t: t, dir: t.TempDir(), secrets: storage.NewKeyring("inventory-beacon-clitest-"+storage.NewID(), 10*time.Second)}
	old := connectionKeyring
	connectionKeyring = func() storage.Secrets { return e.secrets }
	t.Cleanup(func() {
		connectionKeyring = old
		if cfg, err := storage.NewConfigStore(e.dir).Load(); err == nil {
			for _, c := range cfg.Connections {
				_ = (&storage.Repository{Secrets: e.secrets}).DeleteConnectionSecrets(c.ID)
			}
		}
	})
	return e
}

func (e *connEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, ConfigDir: e.dir}, args)
	return code, out.String(), errb.String()
}

func (e *connEnv) must(stdin string, want int, args ...string) (string, string) {
	e.t.Helper()
	code, out, errs := e.run(stdin, args...)
	if code != want {
		e.t.Fatalf("beacon %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out, errs
}

func (e *connEnv) config() *storage.Config {
	e.t.Helper()
	cfg, err := storage.NewConfigStore(e.dir).Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

func (e *connEnv) conn(name string) storage.Connection {
	e.t.Helper()
	cfg := e.config()
	i := findConnectionIndex(cfg, name)
	if i < 0 {
		e.t.Fatalf("no connection %q in %+v", name, cfg.Connections)
	}
	return cfg.Connections[i]
}

func (e *connEnv) secret(id string, kind storage.SecretKind) string {
	e.t.Helper()
	v, err := e.secrets.Get(id, kind)
	if errors.Is(err, storage.ErrSecretNotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// noSecretInFiles fails when a secret value is in any file of the
// configuration folder.
func (e *connEnv) noSecretInFiles(values ...string) {
	e.t.Helper()
	_ = filepath.Walk(e.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, v := range values {
			if bytes.Contains(data, []byte(v)) {
				e.t.Errorf("%s contains a secret", p)
			}
		}
		return nil
	})
}

func TestConnectionAddShowSetRemove(t *testing.T) {
	e := newConnEnv(t)

	// The dialog's defaults: Global cloud, Authorization Code.
	out, _ := e.must("", ExitOK, "connection", "add", "Contoso")
	if !strings.Contains(out, `Connection "Contoso" created`) {
		t.Errorf("add says: %s", out)
	}
	def := connector.NewConnection()
	c := e.conn("contoso")
	if c.Cloud != connector.CloudGlobal || c.ClientID != def.ClientID || c.TokenEndpoint != def.TokenEndpoint ||
		c.AuthFlow != storage.FlowAuthorizationCode || c.GraphEndpoint != def.GraphEndpoint || !storage.ValidID(c.ID) {
		t.Errorf("not the dialog's defaults: %+v", c)
	}

	// The dialog's rules and messages.
	_, errs := e.must("", ExitFailed, "connection", "add", "contoso")
	if !strings.Contains(errs, `Connection Name (NAME / --name): A connection named "Contoso" already exists; choose another name.`) ||
		!strings.Contains(errs, "nothing was saved") {
		t.Errorf("duplicate name: %s", errs)
	}
	_, errs = e.must("", ExitFailed, "connection", "add", "Bad/Name", "--client-id", "not-a-guid")
	if !strings.Contains(errs, `"/" is not allowed`) || !strings.Contains(errs, "Application (client) ID (--client-id): "+connector.ValidateClientID("not-a-guid").Error()) {
		t.Errorf("bad name and client ID: %s", errs)
	}
	_, errs = e.must("", ExitFailed, "connection", "add", "App", "--auth-flow", "client-credentials", "--token-endpoint", tenantToken)
	if !strings.Contains(errs, "Client Secret (--client-secret-stdin or --client-secret-file): Enter the client secret") {
		t.Errorf("client credentials without a secret: %s", errs)
	}
	if len(e.config().Connections) != 1 {
		t.Fatal("a refused add saved something")
	}

	// A secret never comes from argv.
	if code, _, errs := e.run("", "connection", "add", "App", "--client-secret", testSecret); code != ExitUsage || !strings.Contains(errs, "flag provided but not defined") {
		t.Errorf("--client-secret VALUE: %d %s", code, errs)
	}
	e.must(testSecret+"\n", ExitOK, "connection", "add", "App", "--auth-flow", "Client Credentials", "--token-endpoint", tenantToken, "--client-secret-stdin")
	app := e.conn("App")
	if !app.HasClientSecret || e.secret(app.ID, storage.SecretClientSecret) != testSecret {
		t.Fatalf("the client secret is not in the keyring: %+v", app)
	}
	secretFile := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secretFile, []byte(testSecret+"-2\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.must("", ExitOK, "connection", "set", "App", "--client-secret-file", secretFile)
	if got := e.secret(app.ID, storage.SecretClientSecret); got != testSecret+"-2" {
		t.Errorf("client secret from a file: %q", got)
	}
	if _, errs := e.must(testSecret, ExitUsage, "connection", "set", "Contoso", "--client-secret-stdin"); !strings.Contains(errs, "only used with --auth-flow") {
		t.Errorf("a secret for Authorization Code: %s", errs)
	}

	// Proxy: the password goes with its user name.
	e.must(testPassword+"\n", ExitOK, "connection", "set", "Contoso", "--proxy-server", "http://proxy.example.com:8080", "--proxy-user", "bob", "--proxy-password-stdin")
	c = e.conn("Contoso")
	if !c.Proxy.Enabled || !c.Proxy.HasPassword || e.secret(c.ID, storage.SecretProxyPassword) != testPassword {
		t.Fatalf("proxy: %+v", c.Proxy)
	}
	out, _ = e.must("", ExitOK, "connection", "show", "Contoso")
	for _, want := range []string{"Use Proxy:", "on", "http://proxy.example.com:8080", "Proxy Password:", "stored in the keyring", "Refresh Token:", "none"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	e.noSecretInFiles(testSecret, testPassword)
	out, _ = e.must("", ExitOK, "connection", "set", "Contoso", "--proxy-user", "")
	if c = e.conn("Contoso"); c.Proxy.HasPassword || e.secret(c.ID, storage.SecretProxyPassword) != "" || !strings.Contains(out, "proxy password was removed") {
		t.Errorf("clearing the user name kept the password: %+v\n%s", c.Proxy, out)
	}
	_, errs = e.must("", ExitFailed, "connection", "set", "Contoso", "--proxy-server", "proxy with spaces")
	if !strings.Contains(errs, "Proxy Server (--proxy-server): ") {
		t.Errorf("bad proxy: %s", errs)
	}
	e.must("", ExitOK, "connection", "set", "Contoso", "--proxy", "off")

	// Cloud fills the endpoints in; an endpoint off the cloud is refused.
	e.must("", ExitOK, "connection", "set", "Contoso", "--cloud", "us government (gcc high)")
	if c = e.conn("Contoso"); c.Cloud != connector.CloudGCCHigh || !strings.HasPrefix(c.TokenEndpoint, "https://login.microsoftonline.us/") || c.GraphEndpoint != "https://graph.microsoft.us" {
		t.Errorf("cloud: %+v", c)
	}
	_, errs = e.must("", ExitFailed, "connection", "set", "Contoso", "--graph-endpoint", "https://graph.example.com")
	if !strings.Contains(errs, connector.ValidateEndpointOnCloud(connector.CloudGCCHigh, connector.FieldGraphEndpoint, "https://graph.example.com").Error()) {
		t.Errorf("endpoint off the cloud: %s", errs)
	}
	if code, _, errs := e.run("", "connection", "set", "Contoso", "--cloud", "Mars"); code != ExitUsage || !strings.Contains(errs, "is not a cloud") {
		t.Errorf("unknown cloud: %d %s", code, errs)
	}

	// A sign-in whose bound settings change is removed, as on the dialog's
	// Save; the client secret goes with its client ID.
	if err := storage.NewConfigStore(e.dir).Update(func(cfg *storage.Config) error {
		cfg.Connections[findConnectionIndex(cfg, "Contoso")].Token = &storage.TokenInfo{ObtainedAt: c.Created, Account: "admin@contoso.example"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.secrets.Set(c.ID, storage.SecretRefreshToken, "refresh-token-value-0123456789"); err != nil {
		t.Fatal(err)
	}
	out, _ = e.must("", ExitOK, "connection", "show", "Contoso", "--format", "json")
	var shownJSON map[string]any
	if err := json.Unmarshal([]byte(out), &shownJSON); err != nil || shownJSON["signIn"] == nil || shownJSON["name"] != "Contoso" {
		t.Errorf("show json: %v\n%s", err, out)
	}
	if strings.Contains(out, "refresh-token-value") {
		t.Error("show printed the token")
	}
	out, _ = e.must("", ExitOK, "connection", "set", "Contoso", "--redirect-uri", "http://localhost:8400")
	if c = e.conn("Contoso"); c.Token == nil || strings.Contains(out, "Changed since") {
		t.Errorf("a Redirect URI change dropped the sign-in: %s", out)
	}
	out, _ = e.must("", ExitOK, "connection", "set", "Contoso", "--client-id", otherGUID, "--name", "Contoso EU")
	if c = e.conn("Contoso EU"); c.Token != nil || e.secret(c.ID, storage.SecretRefreshToken) != "" ||
		!strings.Contains(out, "Changed since the sign-in: Application (client) ID") || !strings.Contains(out, `beacon generate "Contoso EU"`) {
		t.Errorf("a client ID change kept the sign-in: %+v\n%s", c, out)
	}
	// The saved secret belongs to the old app registration: the dialog
	// asks for a new one, and so does the command.
	if _, errs := e.must("", ExitFailed, "connection", "set", "App", "--client-id", otherGUID); !strings.Contains(errs, "Enter the client secret") {
		t.Errorf("a client ID change kept the client secret: %s", errs)
	}
	e.must("", ExitOK, "connection", "set", "App", "--client-id", otherGUID, "--auth-flow", "authorization-code")
	if app = e.conn("App"); app.HasClientSecret || e.secret(app.ID, storage.SecretClientSecret) != "" {
		t.Errorf("the stale client secret was kept: %+v", app)
	}

	// Remove asks for --yes, then deletes the secrets too.
	if err := e.secrets.Set(app.ID, storage.SecretClientSecret, testSecret); err != nil {
		t.Fatal(err)
	}
	if _, errs := e.must("", ExitUsage, "connection", "remove", "App"); !strings.Contains(errs, "--yes") {
		t.Errorf("remove without --yes: %s", errs)
	}
	e.must("", ExitOK, "connection", "remove", "app", "--yes")
	if findConnectionIndex(e.config(), "App") >= 0 || e.secret(app.ID, storage.SecretClientSecret) != "" {
		t.Error("remove left the connection or its secret")
	}
	e.must("", ExitFailed, "connection", "remove", "App", "--yes")
}

func TestConnectionUsage(t *testing.T) {
	e := newConnEnv(t)
	if _, errs := e.must("", ExitOK, "connection", "--help"); !strings.Contains(errs, "beacon connection import FILE|- [--replace]") {
		t.Errorf("--help: %s", errs)
	}
	if _, errs := e.must("", ExitOK, "connection", "add", "--help"); !strings.Contains(errs, "-client-secret-stdin") || !strings.Contains(errs, "-schedule") {
		t.Errorf("add --help: %s", errs)
	}
	e.must("", ExitUsage, "connection", "rename")
	e.must("", ExitUsage, "connection", "add")
	if _, errs := e.must("", ExitFailed, "connection", "set", "X", "--proxy", "on"); !strings.Contains(errs, `no connection named "X"`) {
		t.Errorf("set of a missing connection: %s", errs)
	}
	e.must("", ExitOK, "connection", "add", "X")
	if _, errs := e.must("", ExitUsage, "connection", "set", "X"); !strings.Contains(errs, "give at least one setting") {
		t.Errorf("set without settings: %s", errs)
	}
	if _, errs := e.must("a\n", ExitUsage, "connection", "set", "X", "--auth-flow", "client-credentials", "--client-secret-stdin", "--proxy-password-stdin", "--proxy-user", "u"); !strings.Contains(errs, "cannot both read stdin") {
		t.Errorf("two secrets on stdin: %s", errs)
	}
	if _, errs := e.must("", ExitUsage, "connection", "set", "X", "--auth-flow", "client-credentials", "--client-secret-stdin"); !strings.Contains(errs, "empty") {
		t.Errorf("empty secret: %s", errs)
	}
}

func TestConnectionSchedule(t *testing.T) {
	e := newConnEnv(t)
	nightly := schedule.New()
	nightly.Name = "Nightly"
	if err := storage.NewConfigStore(e.dir).Save(&storage.Config{Version: storage.ConfigVersion, Schedules: []storage.Schedule{nightly}}); err != nil {
		t.Fatal(err)
	}
	if _, errs := e.must("", ExitUsage, "connection", "add", "A", "--schedule", "Weekly"); !strings.Contains(errs, `no schedule named "Weekly"`) || !strings.Contains(errs, `"Nightly"`) {
		t.Errorf("unknown schedule: %s", errs)
	}
	// Never signed in: attached, with the window's warning.
	_, errs := e.must("", ExitWarnings, "connection", "add", "A", "--schedule", "nightly")
	if !strings.Contains(errs, "cannot import on a schedule yet") || !strings.Contains(errs, `beacon generate "A"`) {
		t.Errorf("warning: %s", errs)
	}
	if e.conn("A").ScheduleID != nightly.ID {
		t.Error("not attached")
	}
	e.must(testSecret, ExitOK, "connection", "add", "B", "--auth-flow", "client-credentials", "--token-endpoint", tenantToken, "--client-secret-stdin", "--schedule", "Nightly")
	e.must("", ExitOK, "connection", "set", "A", "--schedule", notScheduled)
	if e.conn("A").ScheduleID != "" {
		t.Error("not detached")
	}
}

func TestConnectionExportImport(t *testing.T) {
	src := newConnEnv(t)
	nightly := schedule.New()
	nightly.Name, nightly.Kind, nightly.Hour = "Nightly", schedule.Daily, 2
	if err := storage.NewConfigStore(src.dir).Save(&storage.Config{Version: storage.ConfigVersion, Schedules: []storage.Schedule{nightly}}); err != nil {
		t.Fatal(err)
	}
	src.must(testSecret, ExitOK, "connection", "add", "App", "--auth-flow", "client-credentials", "--token-endpoint", tenantToken, "--client-secret-stdin", "--schedule", "Nightly")
	src.must(testPassword, ExitOK, "connection", "add", "Contoso", "--proxy-server", "http://proxy.example.com:8080", "--proxy-user", "bob", "--proxy-password-stdin", "--redirect-uri", "http://localhost:8400")
	file := filepath.Join(t.TempDir(), "connections.json")
	src.must("", ExitOK, "connection", "export", "--output", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{testSecret, testPassword, "hasClientSecret", "hasPassword", `"token":`} {
		if bytes.Contains(data, []byte(bad)) {
			t.Errorf("the export contains %q:\n%s", bad, data)
		}
	}
	stdout, _ := src.must("", ExitOK, "connection", "export")
	if stdout != string(data) {
		t.Errorf("export to stdout differs from the file:\n%s\n%s", stdout, data)
	}

	// Another machine: the settings and the schedule arrive, the secrets
	// are asked for.
	dst := newConnEnv(t)
	out, errs := dst.must("", ExitWarnings, "connection", "import", file)
	if !strings.Contains(out, "Imported 2 connections (2 added, 0 replaced) and 1 schedules") ||
		!strings.Contains(out, `beacon connection set "Contoso" --proxy-password-stdin`) ||
		!strings.Contains(errs, `"App" cannot import on a schedule yet`) || !strings.Contains(errs, `beacon connection set "App" --client-secret-stdin`) {
		t.Errorf("import:\n%s\n%s", out, errs)
	}
	for _, name := range []string{"App", "Contoso"} {
		a, b := src.conn(name), dst.conn(name)
		if a.ID != b.ID || a.TokenEndpoint != b.TokenEndpoint || a.RedirectURI != b.RedirectURI || a.Proxy.Server != b.Proxy.Server || a.Proxy.Username != b.Proxy.Username {
			t.Errorf("%s differs:\n%+v\n%+v", name, a, b)
		}
		if b.HasClientSecret || b.Proxy.HasPassword || b.Token != nil {
			t.Errorf("%s claims a secret it does not have: %+v", name, b)
		}
	}
	if s, ok := findSchedule(dst.config(), "Nightly"); !ok || !sameTiming(s, nightly) || dst.conn("App").ScheduleID != s.ID {
		t.Errorf("schedule: %+v", dst.config().Schedules)
	}

	// Again: the names exist, so --replace is needed; nothing changes.
	rev := dst.config().Revision
	if _, errs := dst.must("", ExitFailed, "connection", "import", file); !strings.Contains(errs, `connection "App": one of this name exists; give --replace`) || !strings.Contains(errs, "nothing was imported") {
		t.Errorf("import twice: %s", errs)
	}
	if dst.config().Revision != rev {
		t.Error("a refused import wrote the configuration")
	}
	// --replace keeps the ID (data and secrets) and the secret while the
	// client ID is the same.
	dst.must(testSecret, ExitOK, "connection", "set", "App", "--client-secret-stdin")
	id := dst.conn("App").ID
	var f exportFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	f.Connections[0].GraphEndpoint = "https://graph.microsoft.com/"
	f.Connections[1].ID = "not an id"
	f.Connections[1].Name = "Fabrikam"
	f.Schedules[0].Hour = 3
	edited := filepath.Join(t.TempDir(), "edited.json")
	writeJSONFile(t, edited, f)
	if _, errs := dst.must("", ExitFailed, "connection", "import", edited); !strings.Contains(errs, `schedule "Nightly": one of this name exists with other times`) {
		t.Errorf("changed schedule without --replace: %s", errs)
	}
	dst.must("", ExitOK, "connection", "import", edited, "--replace")
	if app := dst.conn("App"); app.ID != id || !app.HasClientSecret || dst.secret(id, storage.SecretClientSecret) != testSecret {
		t.Errorf("--replace lost the ID or the secret: %+v", app)
	}
	if fab := dst.conn("Fabrikam"); !storage.ValidID(fab.ID) || fab.ID == dst.conn("Contoso").ID {
		t.Errorf("an invalid ID was kept: %+v", fab)
	}
	if s, _ := findSchedule(dst.config(), "Nightly"); s.Hour != 3 {
		t.Errorf("schedule not replaced: %+v", s)
	}

	// One bad entry: nothing of the file is written.
	f.Connections[0].Name = "New One"
	f.Connections[1].Name = "Other"
	f.Connections[1].ClientID = "not-a-guid"
	writeJSONFile(t, edited, f)
	rev = dst.config().Revision
	_, errs = dst.must("", ExitFailed, "connection", "import", edited)
	if !strings.Contains(errs, `connection "Other": Application (client) ID (--client-id): `) || dst.config().Revision != rev {
		t.Errorf("bad entry: %s", errs)
	}
	// Not an export; an unknown field.
	listFile := filepath.Join(t.TempDir(), "list.json")
	if err := os.WriteFile(listFile, []byte(`{"format":"something else","version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs := dst.must("", ExitFailed, "connection", "import", listFile); !strings.Contains(errs, "is not an export of connections") {
		t.Errorf("other format: %s", errs)
	}
	_, errs = dst.must(`{"format":"inventory-beacon-connections","version":1,"connections":[{"name":"X","clientSecret":"x"}]}`, ExitFailed, "connection", "import", "-")
	if !strings.Contains(errs, `unknown field "clientSecret"`) {
		t.Errorf("unknown field: %s", errs)
	}
	dst.noSecretInFiles(testSecret, testPassword)
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
