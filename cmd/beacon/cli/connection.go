package cli

// `beacon connection add|set|show|remove|export|import`: the connection
// dialog for scripts (issue 22, item 3), so a server can be provisioned
// without a window. Every field of the dialog is a flag; the rules and
// their messages are connector's (Validate, ApplyCloud, NewConnection), the
// same the dialog shows; secrets come from stdin or a file, never from the
// command line (other users see a process's argv), and are saved with the
// configuration through storage.Repository.Commit, which puts the keyring
// back as it was when the save fails. Export and import carry settings and
// schedules, never a secret.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

func init() {
	registerVerbs("connection", "create, change, show, remove, export and import connections from a script", []verb{
		{name: "add", usage: "NAME [FLAGS]", summary: "create a connection with the dialog's defaults and the given settings", run: runConnectionAdd},
		{name: "set", usage: "NAME [FLAGS]", summary: "change settings of a connection (only the flags given)", run: runConnectionSet},
		{name: "show", usage: "NAME [--format text|json]", summary: "print a connection's settings and which secrets it has (never their values)", run: runConnectionShow},
		{name: "remove", usage: "NAME --yes [--delete-history]", summary: "delete a connection and its secrets in the keyring (and with --delete-history its imported data and licence history)", run: runConnectionRemove},
		{name: "export", usage: "[--output FILE]", summary: "write every connection and schedule as JSON, without secrets", run: runConnectionExport},
		{name: "import", usage: "FILE|- [--replace]", summary: "add the connections and schedules of an export, checked before anything is written", run: runConnectionImport},
	})
}

// connectionKeyring is where the command stores secrets; tests point it
// at a keyring service of their own.
var connectionKeyring = func() storage.Secrets {
	return storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
}

// notScheduled is how --schedule and show name the absence of a schedule,
// as the window's Schedule choice does.
const notScheduled = "Not scheduled"

// maxSecretSize bounds a secret read from stdin or a file: a client secret
// is 40 characters, a password rarely more than 100.
const maxSecretSize = 64 << 10

// fieldFlags names the flag of each field of the dialog, in the dialog's
// order, so a validation error says which flag to fix.
var fieldFlags = []struct{ field, flag string }{
	{connector.FieldConnectionName, "NAME / --name"},
	{connector.FieldSourceType, ""},
	{connector.FieldProxyServer, "--proxy-server"},
	{connector.FieldProxyUsername, "--proxy-user"},
	{connector.FieldProxyPassword, "--proxy-password-stdin"},
	{connector.FieldCACertFile, "--ca-cert-file"},
	{connector.FieldCloud, "--cloud"},
	{connector.FieldTokenEndpoint, "--token-endpoint"},
	{connector.FieldClientID, "--client-id"},
	{connector.FieldRedirectURI, "--redirect-uri"},
	{connector.FieldAuthFlow, "--auth-flow"},
	{connector.FieldAuthorizationEndpoint, "--authorization-endpoint"},
	{connector.FieldClientSecret, "--client-secret-stdin or --client-secret-file"},
	{connector.FieldCredential, "--credential"},
	{connector.FieldCertificate, "--certificate-file"},
	{connector.FieldGraphEndpoint, "--graph-endpoint"},
	{connector.FieldPermissions, "--permissions"},
	{connector.FieldCustomScopes, "--custom-scopes"},
	{connector.FieldIssuer, "--issuer"},
	{connector.FieldPrompt, "--prompt"},
}

// printFieldErrors writes Validate's errors in the dialog's order, each
// with its field label and flag.
func printFieldErrors(w io.Writer, prefix string, errs map[string]error) {
	for _, f := range fieldFlags {
		err := errs[f.field]
		if err == nil {
			continue
		}
		if f.flag != "" {
			fmt.Fprintf(w, "%s%s (%s): %v\n", prefix, f.field, f.flag, err)
		} else {
			fmt.Fprintf(w, "%s%s: %v\n", prefix, f.field, err)
		}
	}
}

// settingFlags are the dialog's fields as flags; add and set share them.
type settingFlags struct {
	fs                    *flag.FlagSet
	name                  *string
	proxy                 *string
	proxyServer           *string
	proxyUser             *string
	proxyPasswordStdin    *bool
	caCertFile            *string
	cloud                 *string
	tokenEndpoint         *string
	clientID              *string
	redirectURI           *string
	authFlow              *string
	authorizationEndpoint *string
	graphEndpoint         *string
	clientSecretStdin     *bool
	clientSecretFile      *string
	schedule              *string
	credential            *string
	certificateFile       *string
	certPasswordStdin     *bool
	certPasswordFile      *string
	certificateToKeyring  *bool
	permissions           *string
	customScopes          *string
	signInActivity        *string
	issuer                *string
	prompt                *string
}

func defineSettingFlags(fs *flag.FlagSet, rename bool) *settingFlags {
	s := &settingFlags{fs: fs}
	if rename {
		s.name = fs.String("name", "", "rename the connection")
	}
	s.proxy = fs.String("proxy", "", "Use Proxy: on or off (--proxy-server alone turns it on)")
	s.proxyServer = fs.String("proxy-server", "", "Proxy Server, e.g. http://proxy.example.com:8080")
	s.proxyUser = fs.String("proxy-user", "", "proxy Username (empty: none, which also removes a saved proxy password)")
	s.proxyPasswordStdin = fs.Bool("proxy-password-stdin", false, "read the proxy Password from stdin (never give it as an argument)")
	s.caCertFile = fs.String("ca-cert-file", "", "Proxy CA Certificate: a PEM file of extra root certificates (empty: none)")
	s.cloud = fs.String("cloud", "", "Cloud: "+strings.Join(connector.CloudNames(), ", ")+" (fills in the endpoints, as the dialog does)")
	s.tokenEndpoint = fs.String("token-endpoint", "", "Token Endpoint")
	s.clientID = fs.String("client-id", "", "Application (client) ID")
	s.redirectURI = fs.String("redirect-uri", "", "Redirect URI")
	s.authFlow = fs.String("auth-flow", "", "Authentication Flow: \"Authorization Code\" (authorization-code) or \"Client Credentials\" (client-credentials)")
	s.authorizationEndpoint = fs.String("authorization-endpoint", "", "Authorization Endpoint")
	s.graphEndpoint = fs.String("graph-endpoint", "", "Graph Endpoint")
	s.clientSecretStdin = fs.Bool("client-secret-stdin", false, "read the Client Secret from stdin (never give it as an argument)")
	s.clientSecretFile = fs.String("client-secret-file", "", "read the Client Secret from this file")
	s.credential = fs.String("credential", "", "Credential of Client Credentials: \"Client Secret\" (secret) or \"Certificate\" (certificate)")
	s.certificateFile = fs.String("certificate-file", "", "Certificate: a .pfx or .pem file holding the private key and the certificate (implies --credential certificate)")
	s.certPasswordStdin = fs.Bool("certificate-password-stdin", false, "read the .pfx file's password from stdin (kept in the keyring; never give it as an argument)")
	s.certPasswordFile = fs.String("certificate-password-file", "", "read the .pfx file's password from this file")
	s.certificateToKeyring = fs.Bool("certificate-to-keyring", false, "keep the private key and certificate in the keyring instead of reading the file at every run (the file may then be deleted)")
	s.permissions = fs.String("permissions", "", "Permissions: least-privilege (new connections), directory (Directory.Read.All) or custom")
	s.customScopes = fs.String("custom-scopes", "", "Custom Scopes: Graph permissions separated by spaces, with --permissions custom")
	s.signInActivity = fs.String("sign-in-activity", "", "also ask for AuditLog.Read.All to read sign-in activity: on or off")
	s.issuer = fs.String("issuer", "", "Issuer (Cloud Custom): an OpenID Connect issuer whose discovery document gives the endpoints left empty")
	s.prompt = fs.String("prompt", "", "Prompt sent to the sign-in page: select_account (empty: the default), consent, login or omit")
	s.schedule = fs.String("schedule", "", "attach the connection to the schedule of this name (\""+notScheduled+"\" or none: detach)")
	return s
}

// applyPermissions puts the permission flags given into c, as the
// dialog's Permissions part does.
func (s *settingFlags) applyPermissions(c *storage.Connection, set map[string]bool) error {
	if set["permissions"] {
		p, ok := graphperm.FromLabel(*s.permissions)
		if !ok {
			return fmt.Errorf("--permissions takes %s, %s or %s, not %q", graphperm.LeastPrivilege, graphperm.Directory, graphperm.Custom, *s.permissions)
		}
		c.Permissions = p
	}
	if set["issuer"] {
		c.Issuer = strings.TrimSpace(*s.issuer)
	}
	if set["prompt"] {
		c.Prompt = strings.TrimSpace(*s.prompt)
		if c.Prompt == "select_account" {
			c.Prompt = ""
		}
	}
	if set["custom-scopes"] {
		c.CustomScopes = strings.Join(graphperm.ParseCustom(*s.customScopes), " ")
	}
	if set["sign-in-activity"] {
		switch strings.ToLower(strings.TrimSpace(*s.signInActivity)) {
		case "on", "yes", "true":
			c.SignInActivity = true
		case "off", "no", "false":
			c.SignInActivity = false
		default:
			return fmt.Errorf("--sign-in-activity takes on or off, not %q", *s.signInActivity)
		}
	}
	return nil
}

// given reports which flags were on the command line: a flag given empty
// ("--ca-cert-file ”") clears its field, one not given leaves it.
func (s *settingFlags) given() map[string]bool {
	set := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// secrets are the secrets given for a connection, read from stdin or a
// file.
type secrets struct {
	proxyPassword string
	clientSecret  string
	certPassword  string
}

// readSecrets reads the secrets the flags ask for. Only one of them can
// come from stdin.
func (s *settingFlags) readSecrets(env *Env) (secrets, error) {
	var out secrets
	if *s.proxyPasswordStdin && *s.clientSecretStdin {
		return out, errors.New("--proxy-password-stdin and --client-secret-stdin cannot both read stdin: give the client secret with --client-secret-file")
	}
	if *s.clientSecretStdin && *s.clientSecretFile != "" {
		return out, errors.New("give the client secret with either --client-secret-stdin or --client-secret-file, not both")
	}
	if *s.certPasswordStdin && (*s.proxyPasswordStdin || *s.clientSecretStdin) {
		return out, errors.New("only one secret can come from stdin: give the certificate password with --certificate-password-file")
	}
	if *s.certPasswordStdin && *s.certPasswordFile != "" {
		return out, errors.New("give the certificate password with either --certificate-password-stdin or --certificate-password-file, not both")
	}
	// Each secret from stdin or from its file, as its flags say.
	for _, r := range []struct {
		stdin bool
		file  string
		what  string
		dst   *string
	}{
		{*s.proxyPasswordStdin, "", "the proxy password", &out.proxyPassword},
		{*s.clientSecretStdin, *s.clientSecretFile, "the client secret", &out.clientSecret},
		{*s.certPasswordStdin, *s.certPasswordFile, "the certificate password", &out.certPassword},
	} {
		var err error
		switch {
		case r.stdin:
			*r.dst, err = readSecret(env.Stdin, r.what+" on stdin")
		case r.file != "":
			*r.dst, err = readSecretFile(r.file, r.what)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// readSecretFile reads one secret from the file at p.
func readSecretFile(p, what string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	defer f.Close()
	return readSecret(f, what+" in "+p)
}

// readSecret reads one secret: everything up to the end, without the line
// break `echo` or a file's last line adds.
func readSecret(r io.Reader, what string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%s is empty", what)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSecretSize+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	if len(data) > maxSecretSize {
		return "", fmt.Errorf("%s is longer than %d KB; is it the right input?", what, maxSecretSize>>10)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if v == "" {
		return "", fmt.Errorf("%s is empty", what)
	}
	if strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("%s has more than one line; give the secret alone", what)
	}
	return v, nil
}

// parseAuthFlow accepts the dialog's names and their kebab-case forms.
func parseAuthFlow(s string) (storage.AuthFlow, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(s, "-", " ")), " ")) {
	case "authorization code", "code":
		return storage.FlowAuthorizationCode, true
	case "client credentials":
		return storage.FlowClientCredentials, true
	}
	return storage.AuthFlow(s), false
}

// canonicalCloud returns the cloud's name as connector spells it, ignoring
// case; an unknown name is returned as it is, for ApplyCloud to refuse.
func canonicalCloud(name string) string {
	for _, n := range connector.CloudNames() {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return n
		}
	}
	return name
}

// findSchedule finds a schedule by name, ignoring case and spaces around.
func findSchedule(cfg *storage.Config, name string) (storage.Schedule, bool) {
	for _, s := range cfg.Schedules {
		if strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(name)) {
			return s, true
		}
	}
	return storage.Schedule{}, false
}

// scheduleByName resolves --schedule: "" or Not scheduled detach.
func scheduleByName(cfg *storage.Config, name string) (string, error) {
	if n := strings.TrimSpace(name); n == "" || strings.EqualFold(n, notScheduled) || strings.EqualFold(n, "none") {
		return "", nil
	}
	if s, ok := findSchedule(cfg, name); ok {
		return s.ID, nil
	}
	names := make([]string, len(cfg.Schedules))
	for i, s := range cfg.Schedules {
		names[i] = fmt.Sprintf("%q", s.Name)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("there is no schedule named %q, and no schedule at all: create one on the Scheduling page or import one (beacon connection import)", name)
	}
	return "", fmt.Errorf("there is no schedule named %q; the schedules are %s", name, strings.Join(names, ", "))
}

// edit is a connection being changed by add or set: the saved one (orig,
// zero for add) and the new settings with their keyring changes.
type edit struct {
	orig    storage.Connection
	c       storage.Connection
	changes []storage.SecretChange
	// notes tell what the change did besides the settings (a sign-in
	// that no longer applies, a secret removed).
	notes []string
}

// apply puts the flags given into e.c, in the dialog's order: the cloud
// first, since choosing it fills in the endpoints that the endpoint flags
// may then change. It mirrors ConnectionDialog.connection and
// secretChanges.
func (s *settingFlags) apply(e *edit, cfg *storage.Config, sec secrets) error {
	set := s.given()
	c := &e.c
	if s.name != nil && set["name"] {
		c.Name = connector.CleanConnectionName(*s.name)
	}
	if set["proxy"] {
		switch strings.ToLower(strings.TrimSpace(*s.proxy)) {
		case "on", "yes", "true":
			c.Proxy.Enabled = true
		case "off", "no", "false":
			c.Proxy.Enabled = false
		default:
			return fmt.Errorf("--proxy takes on or off, not %q", *s.proxy)
		}
	} else if set["proxy-server"] && strings.TrimSpace(*s.proxyServer) != "" {
		c.Proxy.Enabled = true
	}
	if set["proxy-server"] {
		c.Proxy.Server = strings.TrimSpace(*s.proxyServer)
	}
	if set["proxy-user"] {
		c.Proxy.Username = strings.TrimSpace(*s.proxyUser)
	}
	if set["ca-cert-file"] {
		c.CACertFile = connector.CleanCACertFile(*s.caCertFile)
	}
	if set["cloud"] {
		if err := connector.ApplyCloud(c, canonicalCloud(*s.cloud)); err != nil {
			return fmt.Errorf("--cloud: %v", err)
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{
		{"token-endpoint", s.tokenEndpoint, &c.TokenEndpoint},
		{"client-id", s.clientID, &c.ClientID},
		{"redirect-uri", s.redirectURI, &c.RedirectURI},
		{"authorization-endpoint", s.authorizationEndpoint, &c.AuthorizationEndpoint},
		{"graph-endpoint", s.graphEndpoint, &c.GraphEndpoint},
	} {
		if set[f.name] {
			*f.dst = strings.TrimSpace(*f.v)
		}
	}
	if err := s.applyPermissions(c, set); err != nil {
		return err
	}
	if set["auth-flow"] {
		flow, ok := parseAuthFlow(*s.authFlow)
		if !ok {
			return fmt.Errorf("--auth-flow takes \"%s\" or \"%s\", not %q", storage.FlowAuthorizationCode, storage.FlowClientCredentials, *s.authFlow)
		}
		c.AuthFlow = flow
	}
	if set["schedule"] {
		id, err := scheduleByName(cfg, *s.schedule)
		if err != nil {
			return fmt.Errorf("--schedule: %v", err)
		}
		c.ScheduleID = id
	}
	if err := s.applyCredential(e, sec); err != nil {
		return err
	}
	if sec.clientSecret != "" && c.AuthFlow != storage.FlowClientCredentials {
		return fmt.Errorf("a client secret is only used with --auth-flow %q; this connection uses %s", storage.FlowClientCredentials, c.AuthFlow)
	}
	if sec.proxyPassword != "" && c.Proxy.Username == "" {
		return errors.New("a proxy password needs its user name: give --proxy-user too")
	}
	e.secretRules(sec)
	return nil
}

// parseCredential accepts the dialog's names and short forms.
func parseCredential(s string) (storage.Credential, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(s, "-", " ")), " ")) {
	case "client secret", "secret":
		return storage.CredentialSecret, true
	case "certificate", "cert":
		return storage.CredentialCertificate, true
	}
	return storage.Credential(s), false
}

// applyCredential handles --credential and the certificate flags: the
// file is opened as the token source will open it (service.OpenCertificate),
// so a wrong password, a key that does not match or an expired certificate
// is refused before anything is saved.
func (s *settingFlags) applyCredential(e *edit, sec secrets) error {
	set := s.given()
	c := &e.c
	want := c.Credential
	if set["credential"] {
		cr, ok := parseCredential(*s.credential)
		if !ok {
			return fmt.Errorf("--credential takes \"Client Secret\" or \"Certificate\", not %q", *s.credential)
		}
		want = cr
	}
	certFlags := set["certificate-file"] || set["certificate-to-keyring"] || sec.certPassword != ""
	if certFlags && !set["credential"] {
		want = storage.CredentialCertificate
	}
	if want == storage.CredentialCertificate && c.AuthFlow != storage.FlowClientCredentials {
		return fmt.Errorf("a certificate is only used with --auth-flow %q; this connection uses %s", storage.FlowClientCredentials, c.AuthFlow)
	}
	if want != storage.CredentialCertificate {
		if certFlags {
			return errors.New("the certificate flags go with --credential certificate")
		}
		if c.Credential == storage.CredentialCertificate {
			e.changes = append(e.changes, service.DropCertificate(c)...)
		}
		return nil
	}
	c.Credential = storage.CredentialCertificate
	path := strings.TrimSpace(*s.certificateFile)
	if path == "" && c.Certificate != nil {
		path = c.Certificate.File
	}
	if path == "" {
		// Kept in the keyring already, or none yet: connector.Validate
		// says so next to the field, as the dialog does.
		return nil
	}
	if !set["certificate-file"] && !set["certificate-to-keyring"] && sec.certPassword == "" {
		return nil // the saved file stays as it is
	}
	password := sec.certPassword
	if password == "" && !set["certificate-file"] && c.Certificate != nil && c.Certificate.HasPassword {
		if p, err := connectionKeyring().Get(c.ID, storage.SecretCertificatePassword); err == nil {
			password = p
		}
	}
	cc, err := service.OpenCertificate(path, password)
	if err != nil {
		return fmt.Errorf("--certificate-file: %v", err)
	}
	changes, err := cc.Apply(c, *s.certificateToKeyring)
	if err != nil {
		return err
	}
	e.changes = append(e.changes, changes...)
	e.notes = append(e.notes, fmt.Sprintf("Certificate %s (thumbprint %s) valid until %s: upload its .cer to the app registration (Certificates & secrets) if it is not there yet.",
		c.Certificate.Subject, cc.Thumbprint(), cc.NotAfter().UTC().Format("2 January 2006")))
	return nil
}

// secretRules sets what the connection records of its secrets and the
// keyring changes, as the dialog does on OK: a proxy password goes with
// its user name; a client secret belongs to its client ID; a refresh token
// to the client ID, token endpoint and Graph endpoint it was obtained with.
func (e *edit) secretRules(sec secrets) {
	c := &e.c
	id := c.ID
	c.Proxy.HasPassword = sec.proxyPassword != "" || (e.orig.Proxy.HasPassword && c.Proxy.Username != "")
	if sec.proxyPassword != "" {
		e.changes = append(e.changes, storage.SecretChange{ConnID: id, Kind: storage.SecretProxyPassword, Value: sec.proxyPassword})
	} else if e.orig.Proxy.HasPassword && !c.Proxy.HasPassword {
		e.changes = append(e.changes, storage.SecretChange{ConnID: id, Kind: storage.SecretProxyPassword, Delete: true})
		e.notes = append(e.notes, "The saved proxy password was removed with its user name.")
	}
	if e.orig.HasClientSecret && connector.ClientSecretBindingChanges(e.orig, *c) != nil {
		c.HasClientSecret = false
	}
	if sec.clientSecret != "" {
		c.HasClientSecret = true
		e.changes = append(e.changes, storage.SecretChange{ConnID: id, Kind: storage.SecretClientSecret, Value: sec.clientSecret})
	} else if e.orig.HasClientSecret && !c.HasClientSecret {
		e.changes = append(e.changes, storage.SecretChange{ConnID: id, Kind: storage.SecretClientSecret, Delete: true})
		e.notes = append(e.notes, "The saved client secret belongs to the previous Application (client) ID, so it was removed from the keyring.")
	}
	if e.orig.Token != nil {
		if changed := connector.RefreshTokenBindingChanges(e.orig, *c); changed != nil {
			c.Token = nil
			e.changes = append(e.changes, storage.SecretChange{ConnID: id, Kind: storage.SecretRefreshToken, Delete: true})
			e.notes = append(e.notes, fmt.Sprintf("Changed since the sign-in: %s. Microsoft refuses the stored token with them, so it was removed; run `beacon generate %q` to sign in again.",
				strings.Join(changed, ", "), c.Name))
		}
	}
}

// saveEdit validates e.c as the dialog does and commits it with its
// secrets. It returns the exit code.
func saveEdit(env *Env, cmd string, cfg *storage.Config, e *edit) int {
	errs := connector.Validate(e.c, cfg.Connections, "", e.c.HasClientSecret)
	if len(errs) > 0 {
		printFieldErrors(env.Stderr, "beacon "+cmd+": ", errs)
		fmt.Fprintf(env.Stderr, "beacon %s: nothing was saved\n", cmd)
		return ExitFailed
	}
	e.c.Modified = clock.Now()
	replaced := false
	for i := range cfg.Connections {
		if cfg.Connections[i].ID == e.c.ID {
			cfg.Connections[i], replaced = e.c, true
		}
	}
	if !replaced {
		cfg.Connections = append(cfg.Connections, e.c)
	}
	repo := &storage.Repository{Config: storage.NewConfigStore(env.ConfigDir), Secrets: connectionKeyring()}
	if err := repo.Commit(cfg, e.changes); err != nil {
		fmt.Fprintf(env.Stderr, "beacon %s: %v\n", cmd, err)
		return ExitFailed
	}
	for _, n := range e.notes {
		fmt.Fprintln(env.Stdout, n)
	}
	// A schedule attached to a connection that cannot run unattended fails
	// at every run: the window asks first, the command warns.
	if e.c.ScheduleID != "" {
		if problem := connector.UnattendedProblem(e.c); problem != "" {
			fmt.Fprintf(env.Stderr, "beacon %s: warning: %q cannot import on a schedule yet: %s (or run %s). Until then every scheduled run fails.\n",
				cmd, e.c.Name, problem, unattendedFix(e.c))
			return ExitWarnings
		}
	}
	return ExitOK
}

// unattendedFix is the command that fixes connector.UnattendedProblem.
func unattendedFix(c storage.Connection) string {
	if c.UsesCertificate() {
		return fmt.Sprintf("`beacon connection set %q --certificate-file FILE`", c.Name)
	}
	if c.AuthFlow == storage.FlowClientCredentials {
		return fmt.Sprintf("`beacon connection set %q --client-secret-stdin`", c.Name)
	}
	return fmt.Sprintf("`beacon generate %q`", c.Name)
}

// loadNamed parses a verb's one NAME argument, loads the configuration
// and finds that connection; a non-zero code stops the verb.
func loadNamed(env *Env, fs *verbFlags, args []string) (*storage.Config, int, int) {
	if code, ok := fs.parse(args, 1, 1); !ok {
		return nil, -1, code
	}
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", fs.Name(), err)
		return nil, -1, ExitFailed
	}
	i := findConnectionIndex(cfg, fs.Arg(0))
	if i < 0 {
		fmt.Fprintf(env.Stderr, "%s: no connection named %q; `beacon list` shows the connections\n", fs.Name(), fs.Arg(0))
		return nil, -1, ExitFailed
	}
	return cfg, i, 0
}

// findConnectionIndex finds a connection by name (ignoring case and
// trailing spaces), or -1.
func findConnectionIndex(cfg *storage.Config, name string) int {
	name = connector.CleanConnectionName(strings.TrimSpace(name))
	for i, c := range cfg.Connections {
		if strings.EqualFold(connector.CleanConnectionName(c.Name), name) {
			return i
		}
	}
	return -1
}

func runConnectionAdd(_ context.Context, env *Env, fs *verbFlags, args []string) int {
	return editConnection(env, fs, args, "add", func(cfg *storage.Config, name string, _ map[string]bool) (*edit, int) {
		e := &edit{c: connector.NewConnection()}
		e.c.Name = connector.CleanConnectionName(name)
		return e, 0
	}, func(c storage.Connection) string { return fmt.Sprintf("Connection %q created (ID %s).", c.Name, c.ID) })
}

func runConnectionSet(_ context.Context, env *Env, fs *verbFlags, args []string) int {
	return editConnection(env, fs, args, "set", func(cfg *storage.Config, name string, given map[string]bool) (*edit, int) {
		i := findConnectionIndex(cfg, name)
		if i < 0 {
			fmt.Fprintf(env.Stderr, "beacon connection set: no connection named %q; `beacon list` shows the connections\n", name)
			return nil, ExitFailed
		}
		if len(given) == 0 {
			fmt.Fprintln(env.Stderr, "beacon connection set: give at least one setting to change")
			fs.Usage()
			return nil, ExitUsage
		}
		return &edit{orig: cfg.Connections[i], c: cfg.Connections[i]}, 0
	}, func(c storage.Connection) string { return fmt.Sprintf("Connection %q saved.", c.Name) })
}

// editConnection is add and set: parse the setting flags, start the edit
// (a new connection or the saved one; a non-zero code stops), apply the
// flags and the secrets, validate and save, and say what was done.
func editConnection(env *Env, fs *verbFlags, args []string, verb string,
	start func(cfg *storage.Config, name string, given map[string]bool) (*edit, int), done func(storage.Connection) string) int {
	cmd := "connection " + verb
	flags := defineSettingFlags(fs.FlagSet, verb == "set")
	if code, ok := fs.parse(args, 1, 1); !ok {
		return code
	}
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon %s: %v\n", cmd, err)
		return ExitFailed
	}
	e, code := start(cfg, fs.Arg(0), flags.given())
	if e == nil {
		return code
	}
	sec, err := flags.readSecrets(env)
	if err == nil {
		err = flags.apply(e, cfg, sec)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon %s: %v\n", cmd, err)
		return ExitUsage
	}
	code = saveEdit(env, cmd, cfg, e)
	if code != ExitFailed {
		fmt.Fprintln(env.Stdout, done(e.c))
	}
	return code
}

// describeCertificate says where a connection's certificate is and what it
// is, for `connection show`.
func describeCertificate(ci *storage.CertificateInfo) string {
	if ci == nil || ci.Thumbprint == "" {
		return "none (give one with --certificate-file)"
	}
	where := "kept in the keyring"
	if ci.File != "" {
		where = ci.File
		if ci.HasPassword {
			where += " (password in the keyring)"
		}
	}
	return fmt.Sprintf("%s; %s, thumbprint %s, valid until %s", where, ci.Subject, ci.Thumbprint, ci.NotAfter.UTC().Format("2006-01-02"))
}

// shown is a connection as `connection show --format json` prints it: its
// settings as exported, and what it holds in the keyring (never a value).
type shown struct {
	exportedConnection
	SignIn           *signIn `json:"signIn,omitempty"`
	HasClientSecret  bool    `json:"hasClientSecret"`
	HasProxyPassword bool    `json:"hasProxyPassword"`
	Created          string  `json:"created"`
	Modified         string  `json:"modified"`
	Unattended       string  `json:"unattendedProblem,omitempty"`
}

// signIn describes a stored refresh token.
type signIn struct {
	ObtainedAt string `json:"obtainedAt"`
	Account    string `json:"account,omitempty"`
	TenantID   string `json:"tenantId,omitempty"`
}

func runConnectionShow(_ context.Context, env *Env, fs *verbFlags, args []string) int {
	format := fs.String("format", "text", "text or json")
	cfg, i, code := loadNamed(env, fs, args)
	if code != 0 {
		return code
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.Stderr, "beacon connection show: --format takes text or json, not %q\n", *format)
		return ExitUsage
	}
	c := cfg.Connections[i]
	s := shown{exportedConnection: exportConnection(cfg, c), HasClientSecret: c.HasClientSecret,
		HasProxyPassword: c.Proxy.HasPassword, Created: c.Created.Format(time.RFC3339), Modified: c.Modified.Format(time.RFC3339),
		Unattended: connector.UnattendedProblem(c)}
	if c.Token != nil {
		s.SignIn = &signIn{ObtainedAt: c.Token.ObtainedAt.Format(time.RFC3339), Account: c.Token.Account, TenantID: c.Token.TenantID}
	}
	if *format == "json" {
		return writeJSON(env, "connection show", s)
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	onOff := map[bool]string{true: "on", false: "off"}
	stored := map[bool]string{true: "stored in the keyring", false: "none"}
	row(connector.FieldConnectionName, c.Name)
	row("ID", c.ID)
	row(connector.FieldSourceType, c.SourceType)
	row("Use Proxy", onOff[c.Proxy.Enabled])
	row(connector.FieldProxyServer, c.Proxy.Server)
	row("Proxy "+connector.FieldProxyUsername, c.Proxy.Username)
	row("Proxy "+connector.FieldProxyPassword, stored[c.Proxy.HasPassword])
	row(connector.FieldCACertFile, c.CACertFile)
	row(connector.FieldCloud, c.Cloud)
	if c.Issuer != "" {
		row(connector.FieldIssuer, c.Issuer)
	}
	row(connector.FieldTokenEndpoint, c.TokenEndpoint)
	row(connector.FieldClientID, c.ClientID)
	row(connector.FieldRedirectURI, c.RedirectURI)
	row(connector.FieldAuthFlow, string(c.AuthFlow))
	switch {
	case c.UsesCertificate():
		row(connector.FieldCredential, "Certificate")
		row(connector.FieldCertificate, describeCertificate(c.Certificate))
	case c.AuthFlow == storage.FlowClientCredentials:
		row(connector.FieldClientSecret, stored[c.HasClientSecret])
	default:
		row(connector.FieldAuthorizationEndpoint, c.AuthorizationEndpoint)
		token := "none (run `beacon generate` to sign in)"
		if c.Token != nil {
			token = fmt.Sprintf("present, obtained %s for %s", c.Token.ObtainedAt.Local().Format("2006-01-02 15:04"), orUnknown(c.Token.Account))
			if c.Token.TenantID != "" {
				token += " (tenant " + c.Token.TenantID + ")"
			}
		}
		row("Refresh Token", token)
	}
	row(connector.FieldGraphEndpoint, c.GraphEndpoint)
	perms := graphperm.Label(c.Permissions)
	if c.SignInActivity && graphperm.Normalize(c.Permissions) != graphperm.Custom {
		perms += ", with sign-in activity"
	}
	if c.Prompt != "" {
		row(connector.FieldPrompt, c.Prompt)
	}
	row(connector.FieldPermissions, perms+" ("+strings.Join(graphperm.Permissions(c.Permissions, c.CustomScopes, c.SignInActivity), " ")+")")
	sched := s.Schedule
	if sched == "" {
		sched = notScheduled
	}
	row("Schedule", sched)
	tw.Flush()
	if s.Unattended != "" && c.ScheduleID != "" {
		fmt.Fprintf(env.Stdout, "Warning: scheduled imports fail: %s (or run %s).\n", s.Unattended, unattendedFix(c))
	}
	return ExitOK
}

func runConnectionRemove(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	yes := fs.Bool("yes", false, "confirm: the connection and its secrets are deleted for good")
	deleteData := fs.Bool("delete-history", false, "also delete the connection's imported data and its licence history (kept by default)")
	cfg, i, code := loadNamed(env, fs, args)
	if code != 0 {
		return code
	}
	c := cfg.Connections[i]
	if !*yes {
		fmt.Fprintf(env.Stderr, "beacon connection remove: this deletes %q and its sign-in, client secret and proxy password in the keyring; give --yes to confirm\n", c.Name)
		return ExitUsage
	}
	cfg.Connections = append(cfg.Connections[:i], cfg.Connections[i+1:]...)
	// The configuration first: if the keyring then fails, what is left
	// is secrets nothing refers to, not a connection without its secrets.
	repo := &storage.Repository{Config: storage.NewConfigStore(env.ConfigDir), Secrets: connectionKeyring()}
	if err := repo.Commit(cfg, nil); err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection remove: %v\n", err)
		return ExitFailed
	}
	if err := repo.DeleteConnectionSecrets(c.ID); err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection remove: %q was removed, but its secrets could not all be deleted from the keyring: %v\n", c.Name, err)
		return ExitWarnings
	}
	if *deleteData {
		store, err := openStoreIfAny(ctx, env)
		if err == nil && store != nil {
			err = service.ForgetConnection(ctx, store, c.ID, false)
			store.Close()
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "beacon connection remove: %q was removed, but its imported data and history could not be deleted: %v\n", c.Name, err)
			return ExitWarnings
		}
		fmt.Fprintf(env.Stdout, "Connection %q removed, with its secrets, imported data and licence history.\n", c.Name)
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "Connection %q removed, with its secrets; its imported data and licence history are kept.\n", c.Name)
	return ExitOK
}

// writeJSON prints v indented, as `beacon list --format json` does.
func writeJSON(env *Env, cmd string, v any) int {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(env.Stderr, "beacon %s: %v\n", cmd, err)
		return ExitFailed
	}
	return ExitOK
}
