// Package connector is the Microsoft 365 connector: the connection settings
// and their rules (this file), the Graph client and the import pipeline. It
// never imports Fyne, so the window, the command line and the tests share
// exactly the same rules. The syntax rules the sign-in shares (endpoint
// URLs, tenant, client ID, loopback and proxy addresses) live in the leaf
// internal/msendpoint, so auth applies them without importing connector.
package connector

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/internal/msendpoint"

	"github.com/inventorybeacon/beacon/storage"
)

// The error messages of this file are shown as they are next to a field, so
// they are whole sentences (capitalised, with a full stop) saying what to do.

// Field labels, exactly as the dialog shows them. Validate keys its result
// by these, so the dialog can put each error next to its own field.
const (
	FieldConnectionName        = "Connection Name"
	FieldSourceType            = "Source Type"
	FieldProxyServer           = "Proxy Server"
	FieldProxyUsername         = "Username"
	FieldProxyPassword         = "Password"
	FieldCACertFile            = "Proxy CA Certificate"
	FieldCloud                 = "Cloud"
	FieldTokenEndpoint         = "Token Endpoint"
	FieldClientID              = "Application (client) ID"
	FieldRedirectURI           = "Redirect URI"
	FieldAuthFlow              = "Authentication Flow"
	FieldAuthorizationEndpoint = "Authorization Endpoint"
	FieldClientSecret          = "Client Secret"
	FieldCredential            = "Credential"
	FieldCertificate           = "Certificate"
	FieldGraphEndpoint         = "Graph Endpoint"
	FieldPermissions           = "Permissions"
	FieldIssuer                = "Issuer"
	FieldPrompt                = "Prompt"
	FieldCustomScopes          = "Custom Scopes"
)

// DefaultClientID is the application (client) ID a new connection starts
// with, as the reference product ships it.
const DefaultClientID = "5bb1a5a2-0d97-4335-9448-119f7b27aff9"

// DefaultRedirectURI is the Redirect URI of a new connection on the Global
// cloud: Microsoft's page for native clients, which the app cannot reach, so
// the administrator pastes its address back (see Generate... in the spec).
const DefaultRedirectURI = "https://login.microsoftonline.com/common/oauth2/nativeclient"

// SourceOffice365Deprecated is listed in the Source Type choice, disabled,
// because administrators coming from the reference product look for it.
const SourceOffice365Deprecated = "Microsoft Office 365 (deprecated)"

// Cloud names.
const (
	CloudGlobal  = "Global"
	CloudGCCHigh = "US Government (GCC High)"
	CloudDoD     = "US DoD"
	CloudChina   = "China (21Vianet)"
	CloudCustom  = "Custom"
)

// Cloud is one Microsoft national cloud: where users sign in and where Graph
// answers.
type Cloud struct {
	Name      string
	LoginHost string // empty for Custom
	GraphHost string // empty for Custom
}

// Clouds lists the clouds in the order the Cloud choice shows them. Custom
// comes last and has no hosts: every endpoint is typed by the administrator.
var Clouds = []Cloud{
	{Name: CloudGlobal, LoginHost: "login.microsoftonline.com", GraphHost: "graph.microsoft.com"},
	{Name: CloudGCCHigh, LoginHost: "login.microsoftonline.us", GraphHost: "graph.microsoft.us"},
	{Name: CloudDoD, LoginHost: "login.microsoftonline.us", GraphHost: "dod-graph.microsoft.us"},
	{Name: CloudChina, LoginHost: "login.chinacloudapi.cn", GraphHost: "microsoftgraph.chinacloudapi.cn"},
	{Name: CloudCustom},
}

// CloudNames returns the names of Clouds, in order.
func CloudNames() []string {
	names := make([]string, len(Clouds))
	for i, c := range Clouds {
		names[i] = c.Name
	}
	return names
}

// LookupCloud finds a cloud by name.
func LookupCloud(name string) (Cloud, bool) {
	for _, c := range Clouds {
		if c.Name == name {
			return c, true
		}
	}
	return Cloud{}, false
}

// ApplyCloud fills the endpoints of c for the named cloud and records the
// choice in c.Cloud. For Custom it changes nothing but the name: the
// administrator types every endpoint.
//
// The tenant already in the token endpoint (say a tenant ID typed for
// Client Credentials) is kept, so switching clouds does not silently throw
// it away. A loopback Redirect URI is kept too: it works with every cloud,
// and the administrator chose it on purpose.
func ApplyCloud(c *storage.Connection, name string) error {
	cl, ok := LookupCloud(name)
	if !ok {
		return fmt.Errorf("%q is not a cloud this version knows; choose one of %s", name, strings.Join(CloudNames(), ", "))
	}
	c.Cloud = cl.Name
	if cl.LoginHost == "" {
		return nil
	}
	tenant := TenantFromEndpoint(c.TokenEndpoint)
	if !msendpoint.ValidTenant(tenant) {
		tenant = "common"
	}
	login := "https://" + cl.LoginHost + "/"
	c.TokenEndpoint = login + tenant + "/oauth2/v2.0/token"
	c.AuthorizationEndpoint = login + tenant + "/oauth2/v2.0/authorize"
	if c.RedirectURI == "" || !IsLoopbackURL(c.RedirectURI) {
		c.RedirectURI = login + "common/oauth2/nativeclient"
	}
	c.GraphEndpoint = "https://" + cl.GraphHost
	return nil
}

// NewConnection returns a connection with every default of the product
// specification filled in, and a fresh ID.
func NewConnection() storage.Connection {
	now := clock.Now()
	c := storage.Connection{
		ID:         storage.NewID(),
		SourceType: storage.SourceMicrosoft365,
		ClientID:   DefaultClientID,
		AuthFlow:   storage.FlowAuthorizationCode,
		// New connections ask for the least that the import needs; one
		// saved before profiles existed keeps Directory.Read.All (no
		// profile saved means that), so nobody has to consent again.
		Permissions: graphperm.LeastPrivilege,
		Created:     now,
		Modified:    now,
	}
	// Global is in Clouds, so ApplyCloud cannot fail here.
	_ = ApplyCloud(&c, CloudGlobal)
	return c
}

// MaxConnectionNameLen bounds a connection name. It becomes the import
// task's name and shows in tables and log lines; 100 characters is far more
// than a readable name needs.
const MaxConnectionNameLen = 100

// CleanConnectionName is what is kept of a typed name: trailing spaces are
// dropped, because they are invisible and would make "Contoso" and
// "Contoso " look like one name but be two. Leading spaces are not dropped:
// the rule says a name starts with a letter or digit, and the field says so.
func CleanConnectionName(name string) string { return strings.TrimRight(name, " ") }

// ConnectionNamePattern is what an accepted (cleaned) name matches.
//
// Letters are the ASCII letters A–Z and a–z. Unicode letters are refused on
// purpose: the name becomes the import task's name and a command-line
// argument (`beacon execute NAME`), and Unicode brings look-alike names
// (a Cyrillic "о" in "Contoso") and names that differ only in their
// normalisation, which a case-insensitive uniqueness check cannot catch.
var ConnectionNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_ ]*$`)

// ValidateConnectionName checks the name rule: required; letters, digits,
// underscores and spaces; starts with a letter or digit; unique among the
// other connections, ignoring case. selfID is the ID of the connection being
// edited, so it does not clash with itself. The name is cleaned
// (CleanConnectionName) before the checks.
func ValidateConnectionName(name string, others []storage.Connection, selfID string) error {
	name = CleanConnectionName(name)
	if name == "" {
		return errors.New("Enter a name for the connection.")
	}
	if utf8.RuneCountInString(name) > MaxConnectionNameLen {
		return fmt.Errorf("Use at most %d characters.", MaxConnectionNameLen)
	}
	first, _ := utf8.DecodeRuneInString(name)
	if !isASCIIAlnum(first) {
		return errors.New("Start the name with a letter or a digit.")
	}
	for _, r := range name {
		if !isASCIIAlnum(r) && r != '_' && r != ' ' {
			return fmt.Errorf("%s is not allowed: use only letters A–Z, digits, underscores and spaces.", describeRune(r))
		}
	}
	for _, o := range others {
		if o.ID != selfID && strings.EqualFold(CleanConnectionName(o.Name), name) {
			return fmt.Errorf("A connection named %q already exists; choose another name.", o.Name)
		}
	}
	return nil
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// describeRune names a character so that an invisible or confusing one (a
// tab, a non-breaking space) is still recognisable in the message.
func describeRune(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "An invalid character"
	case r == '\t':
		return "A tab"
	case r < ' ' || r == 0x7f || r == 0xa0 || (r >= 0x2000 && r <= 0x200f) || r == 0xfeff:
		return fmt.Sprintf("The invisible character U+%04X", r)
	default:
		return fmt.Sprintf("%q", string(r))
	}
}

// The syntax rules that the sign-in applies too (endpoint URLs, tenant,
// client ID, loopback and proxy addresses) are written once in
// internal/msendpoint, which auth uses without importing connector; the
// names below keep them in the settings API the dialog and the CLI call.

// ParseProxyServer parses a proxy address (see msendpoint.ParseProxyServer).
func ParseProxyServer(s string) (*url.URL, error) { return msendpoint.ParseProxyServer(s) }

// ValidateProxyServer checks the Proxy Server field (see ParseProxyServer).
func ValidateProxyServer(s string) error {
	_, err := ParseProxyServer(s)
	return err
}

// ValidateProxyCredentials checks that the proxy user name and password are
// given together or not at all. A password kept in the keyring counts as
// given: Validate passes a stand-in for it, since the real one is never read
// just to validate.
func ValidateProxyCredentials(user, password string) error {
	user = strings.TrimSpace(user)
	hasPassword := password != ""
	switch {
	case user == "" && hasPassword:
		return errors.New("Enter the user name that goes with the password, or clear the password.")
	case user != "" && !hasPassword:
		return errors.New("Enter the password for this user name, or clear the user name.")
	}
	return nil
}

// MaxCACertFileSize bounds the CA certificate file. A PEM bundle of every
// public root is about 200 KB; anything far larger is not a certificate
// file, and reading it on every keystroke of the dialog would be slow.
const MaxCACertFileSize = 4 << 20

// CleanCACertFile is what is kept of a typed or pasted CA certificate path:
// spaces around it are dropped, and so are the double quotes Windows adds
// with "Copy as path".
func CleanCACertFile(path string) string {
	path = strings.TrimSpace(path)
	if len(path) >= 2 && path[0] == '"' && path[len(path)-1] == '"' {
		path = strings.TrimSpace(path[1 : len(path)-1])
	}
	return path
}

// ValidateCACertFile checks the Proxy CA Certificate setting (the
// connection's CACertFile): empty means the system's trusted certificates
// only; otherwise the file must exist, be readable and hold at least one
// PEM certificate that parses — exactly what service.HTTPClient adds to the
// trusted roots (x509.CertPool.AppendCertsFromPEM), so a file accepted here
// is one the connection can use. The path is cleaned (CleanCACertFile)
// first.
func ValidateCACertFile(path string) error {
	path = CleanCACertFile(path)
	if path == "" {
		return nil
	}
	const export = "Export your proxy's root CA certificate in Base-64 (PEM) format, or ask your network team for it, and choose that file."
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("There is no file at %s. Check the path, or click Browse... to choose the certificate file.", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("Inventory Beacon may not open %s (permission denied). Copy the certificate to a folder your account can read, or ask for read access.", path)
	case err != nil:
		return fmt.Errorf("The file %s cannot be opened (%v). Check the path, or click Browse... to choose the certificate file.", path, unwrapPathError(err))
	case fi.IsDir():
		return fmt.Errorf("%s is a folder. Choose the certificate file in it (usually ending in .pem, .crt or .cer).", path)
	case !fi.Mode().IsRegular():
		// A pipe or device would block or never end: never read it.
		return fmt.Errorf("%s is not an ordinary file. Choose the certificate file itself (usually ending in .pem, .crt or .cer).", path)
	case fi.Size() == 0:
		return errors.New("The file is empty. " + export)
	case fi.Size() > MaxCACertFileSize:
		return fmt.Errorf("The file is %d MB, far too large for a certificate file; check that you chose the right file. %s", fi.Size()>>20, export)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("Inventory Beacon may not read %s (permission denied). Copy the certificate to a folder your account can read, or ask for read access.", path)
		}
		return fmt.Errorf("The file %s cannot be read (%v). Check the path, or click Browse... to choose the certificate file.", path, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCACertFileSize+1))
	if err != nil {
		return fmt.Errorf("The file %s cannot be read (%v). Check that the disk or network share is available, then try again.", path, unwrapPathError(err))
	}
	return checkCACertPEM(data, export)
}

// checkCACertPEM reports why data has no certificate that
// x509.CertPool.AppendCertsFromPEM would take, or nil when it has one.
func checkCACertPEM(data []byte, export string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("The file is empty. " + export)
	}
	var others []string
	var parseErr error
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			others = append(others, b.Type)
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			parseErr = err
			continue
		}
		return nil
	}
	switch {
	case parseErr != nil:
		return fmt.Errorf("The certificate in the file is damaged and cannot be read (%v). %s", parseErr, export)
	case len(others) > 0:
		for _, o := range others {
			if strings.Contains(o, "PRIVATE KEY") {
				return fmt.Errorf("The file holds a private key (%s), not a certificate. Choose the CA's certificate file (-----BEGIN CERTIFICATE-----); the key is not needed and should stay private.", o)
			}
		}
		return fmt.Errorf("The file holds a %s block but no certificate (-----BEGIN CERTIFICATE-----). %s", others[0], export)
	case data[0] == 0x30:
		// A DER certificate starts with an ASN.1 SEQUENCE; .cer files
		// from Windows often are DER.
		return errors.New("The file holds a binary (DER) certificate; Inventory Beacon needs PEM. In Windows' certificate export choose \"Base-64 encoded X.509 (.CER)\", or convert it: openssl x509 -inform der -in FILE -out proxy-ca.pem")
	default:
		return errors.New("The file holds no PEM certificate (no -----BEGIN CERTIFICATE----- line). " + export)
	}
}

// unwrapPathError drops the operation and path of an *fs.PathError: the
// message already names the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ValidateClientID checks that the Application (client) ID is a GUID
// (see msendpoint.ValidateClientID).
func ValidateClientID(id string) error { return msendpoint.ValidateClientID(id) }

// IsLoopbackURL reports whether raw is a URL whose host is this machine.
func IsLoopbackURL(raw string) bool { return msendpoint.IsLoopbackURL(raw) }

// ValidateEndpoint checks an endpoint URL: https://, or http:// on a
// loopback address (see msendpoint.ValidateEndpoint).
func ValidateEndpoint(raw string) error { return msendpoint.ValidateEndpoint(raw) }

// ValidateRedirectURI checks the Redirect URI: https://, or http:// on
// localhost or 127.0.0.1, where the app listens for the one redirect.
// [::1] is refused because Microsoft does not accept it as a redirect URI.
func ValidateRedirectURI(raw string) error {
	u, err := msendpoint.ParseEndpoint(raw)
	if err != nil {
		return err
	}
	if strings.EqualFold(u.Scheme, "http") {
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && a.Is6() {
			return errors.New("Microsoft does not accept [::1] as a redirect address; use http://localhost or http://127.0.0.1.")
		}
	}
	return nil
}

// ValidateEndpointOnCloud checks that an endpoint of a named cloud stays on
// that cloud's host: the tenant part may be edited (a tenant ID for Client
// Credentials) but a different host means a different cloud, which is what
// Custom is for. field is FieldTokenEndpoint, FieldAuthorizationEndpoint or
// FieldGraphEndpoint. Custom and unknown clouds accept any host.
func ValidateEndpointOnCloud(cloud, field, raw string) error {
	cl, ok := LookupCloud(cloud)
	if !ok || cl.LoginHost == "" {
		return nil
	}
	u, err := msendpoint.ParseEndpoint(raw)
	if err != nil {
		return nil // reported by ValidateEndpoint
	}
	want := cl.LoginHost
	if field == FieldGraphEndpoint {
		want = cl.GraphHost
	}
	if !strings.EqualFold(u.Hostname(), want) || u.Port() != "" || !strings.EqualFold(u.Scheme, "https") {
		return fmt.Errorf("The %s cloud uses https://%s; choose Cloud: Custom to use another address.", cl.Name, want)
	}
	return nil
}

// TenantFromEndpoint returns the tenant named in an identity platform
// endpoint, or "" (see msendpoint.TenantFromEndpoint).
func TenantFromEndpoint(raw string) string { return msendpoint.TenantFromEndpoint(raw) }

// IsTenantIndependent reports whether tenant stands for "any tenant".
func IsTenantIndependent(tenant string) bool { return msendpoint.IsTenantIndependent(tenant) }

// ValidateTokenEndpointForFlow checks what the flow needs of the token
// endpoint: Client Credentials needs one tenant named in it
// (msendpoint.ValidateTenantTokenEndpoint); the other flows need nothing
// more.
func ValidateTokenEndpointForFlow(tokenEndpoint string, flow storage.AuthFlow) error {
	if flow != storage.FlowClientCredentials {
		return nil
	}
	return msendpoint.ValidateTenantTokenEndpoint(tokenEndpoint)
}

// Validate checks every field of c and returns the errors keyed by field
// label (the Field... constants); an empty map means c can be saved.
// others are the other connections (for the unique name). proxyPassword is
// a password typed in the dialog and not saved yet; c.Proxy.HasPassword says
// one is stored. hasSecret says a client secret was typed or is stored.
// Proxy fields are not checked while Use Proxy is off (the Proxy CA
// Certificate always is), and flow-specific fields only for their flow.
func Validate(c storage.Connection, others []storage.Connection, proxyPassword string, hasSecret bool) map[string]error {
	errs := map[string]error{}
	add := func(field string, err error) {
		if err != nil && errs[field] == nil {
			errs[field] = err
		}
	}
	add(FieldConnectionName, ValidateConnectionName(c.Name, others, c.ID))
	if c.SourceType != storage.SourceMicrosoft365 {
		add(FieldSourceType, fmt.Errorf("Only %s is supported; choose it as the source type.", storage.SourceMicrosoft365))
	}
	if c.Proxy.Enabled {
		add(FieldProxyServer, ValidateProxyServer(c.Proxy.Server))
		pw := proxyPassword
		if pw == "" && c.Proxy.HasPassword {
			pw = "(stored)"
		}
		if err := ValidateProxyCredentials(c.Proxy.Username, pw); err != nil {
			if strings.TrimSpace(c.Proxy.Username) == "" {
				add(FieldProxyUsername, err)
			} else {
				add(FieldProxyPassword, err)
			}
		}
	}
	// Not tied to Use Proxy: a transparent proxy inspects HTTPS without
	// being configured, and service.HTTPClient uses the file either way.
	add(FieldCACertFile, ValidateCACertFile(c.CACertFile))
	if _, ok := LookupCloud(c.Cloud); !ok {
		add(FieldCloud, fmt.Errorf("Choose a cloud: %s.", strings.Join(CloudNames(), ", ")))
	}
	// With an Issuer (Custom only), an endpoint left empty comes from its
	// discovery document.
	discovered := func(endpoint string) bool {
		return c.Cloud == CloudCustom && strings.TrimSpace(c.Issuer) != "" && strings.TrimSpace(endpoint) == ""
	}
	if !discovered(c.TokenEndpoint) {
		add(FieldTokenEndpoint, ValidateEndpoint(c.TokenEndpoint))
		add(FieldTokenEndpoint, ValidateEndpointOnCloud(c.Cloud, FieldTokenEndpoint, c.TokenEndpoint))
	}
	add(FieldIssuer, ValidateIssuer(c.Cloud, c.Issuer))
	add(FieldPrompt, ValidatePrompt(c.Prompt))
	if c.Cloud == CloudCustom {
		add(FieldClientID, ValidateCustomClientID(c.ClientID))
	} else {
		add(FieldClientID, ValidateClientID(c.ClientID))
	}
	add(FieldRedirectURI, ValidateRedirectURI(c.RedirectURI))
	switch c.AuthFlow {
	case storage.FlowAuthorizationCode:
		if !discovered(c.AuthorizationEndpoint) {
			add(FieldAuthorizationEndpoint, ValidateEndpoint(c.AuthorizationEndpoint))
			add(FieldAuthorizationEndpoint, ValidateEndpointOnCloud(c.Cloud, FieldAuthorizationEndpoint, c.AuthorizationEndpoint))
		}
	case storage.FlowClientCredentials:
		add(FieldTokenEndpoint, ValidateTokenEndpointForFlow(c.TokenEndpoint, c.AuthFlow))
		switch c.Credential {
		case "", storage.CredentialSecret:
			if !hasSecret {
				add(FieldClientSecret, errors.New("Enter the client secret of the app registration (its Value, not its Secret ID)."))
			}
		case storage.CredentialCertificate:
			add(FieldCertificate, ValidateCertificateSetting(c))
		default:
			add(FieldCredential, errors.New("Choose Client Secret or Certificate."))
		}
	default:
		add(FieldAuthFlow, errors.New("Choose Authorization Code or Client Credentials."))
	}
	add(FieldGraphEndpoint, ValidateEndpoint(c.GraphEndpoint))
	add(FieldGraphEndpoint, ValidateEndpointOnCloud(c.Cloud, FieldGraphEndpoint, c.GraphEndpoint))
	switch graphperm.Normalize(c.Permissions) {
	case graphperm.LeastPrivilege, graphperm.Directory:
	case graphperm.Custom:
		add(FieldCustomScopes, ValidateCustomScopes(c.CustomScopes))
	default:
		add(FieldPermissions, fmt.Errorf("Choose %s, %s or %s.", graphperm.LabelLeastPrivilege, graphperm.LabelDirectory, graphperm.LabelCustom))
	}
	return errs
}

// ValidateCertificateSetting checks that a Certificate connection has its
// certificate: one chosen and read (its thumbprint is recorded when the
// dialog or `beacon connection` opens the file; reading it needs the key's
// password, which this package never sees). A file that is gone is
// reported here too, since every run would fail on it.
func ValidateCertificateSetting(c storage.Connection) error {
	ci := c.Certificate
	if ci == nil || ci.Thumbprint == "" {
		return errors.New("Choose the certificate file (.pfx or .pem with its private key) whose .cer is uploaded to the app registration.")
	}
	if ci.File != "" {
		if _, err := os.Stat(ci.File); err != nil {
			return fmt.Errorf("The certificate file %s cannot be read (%v). Choose it again.", ci.File, unwrapPathError(err))
		}
	}
	return nil
}

// ValidateIssuer checks the Issuer: only Cloud Custom has one (the named
// clouds are Microsoft's, whose endpoints are known), and it is an
// endpoint address like the others; empty means the endpoints are typed.
func ValidateIssuer(cloud, issuer string) error {
	issuer = strings.TrimSpace(issuer)
	switch {
	case issuer == "":
		return nil
	case cloud != CloudCustom:
		return errors.New("Only Cloud Custom takes an Issuer; choose Custom to use another identity provider.")
	}
	return ValidateEndpoint(issuer)
}

// Prompts are the values of the Prompt setting: "" is Microsoft's
// select_account; consent makes a provider that follows OpenID Connect
// Core §11 grant offline_access; omit sends none.
var Prompts = []string{"", "select_account", "consent", "login", "omit"}

// ValidatePrompt checks the Prompt setting.
func ValidatePrompt(p string) error {
	for _, ok := range Prompts {
		if strings.TrimSpace(p) == ok {
			return nil
		}
	}
	return fmt.Errorf("Choose select_account, consent, login or omit (send none), not %q.", p)
}

// ValidateCustomClientID checks the client ID of a Custom connection:
// another provider's client IDs need not be GUIDs, but are one word.
func ValidateCustomClientID(id string) error {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return errors.New("Enter the client ID the identity provider gave the app.")
	case strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return errors.New("A client ID has no spaces or invisible characters; copy it again from the identity provider.")
	case len(id) > 255:
		return errors.New("Use at most 255 characters.")
	}
	return nil
}

// ValidateCustomScopes checks the Custom scopes field: Graph permission
// names separated by spaces, one of them letting the users be read.
func ValidateCustomScopes(s string) error { return graphperm.ValidateCustom(s) }

// RefreshTokenBindingChanges lists, by field label, the settings of now
// that differ from those a refresh token was obtained with (obtainedWith),
// in a way that makes Microsoft refuse the token; nil means it still
// applies.
//
// A refresh token is redeemed at the token endpoint with the client ID and
// the scopes (see microsoft-wire.md: client_id, grant_type, refresh_token,
// scope), so it is bound to:
//   - the Application (client) ID: Microsoft issued it to that app;
//   - the Token Endpoint: its host is the cloud's authority and its first
//     path segment the tenant (a token of one tenant or cloud is not
//     redeemed by another);
//   - the Graph Endpoint: the scopes asked for on refresh are full URIs of
//     that Graph resource, and a different resource needs its own consent;
//   - the Issuer (Custom): its provider issued the token;
//   - the Graph permissions asked for (the Permissions profile, its Custom
//     scopes and the sign-in activity choice): a refresh may ask for no
//     scope beyond those the sign-in asked for, so new permissions need a
//     new sign-in (and their consent).
//
// It is not bound to the Redirect URI or the Authorization Endpoint: the
// refresh request sends neither. The Cloud's name alone does not count
// either (Global and Custom with the same endpoints are the same thing);
// when a bound field changed with it, Cloud is listed first, because that
// is usually the edit the administrator made.
func RefreshTokenBindingChanges(obtainedWith, now storage.Connection) []string {
	var changed []string
	if !sameClientID(obtainedWith.ClientID, now.ClientID) {
		changed = append(changed, FieldClientID)
	}
	if !sameEndpoint(obtainedWith.TokenEndpoint, now.TokenEndpoint) {
		changed = append(changed, FieldTokenEndpoint)
	}
	if !sameEndpoint(obtainedWith.GraphEndpoint, now.GraphEndpoint) {
		changed = append(changed, FieldGraphEndpoint)
	}
	if !sameEndpoint(obtainedWith.Issuer, now.Issuer) {
		changed = append(changed, FieldIssuer)
	}
	if !samePermissions(obtainedWith, now) {
		changed = append(changed, FieldPermissions)
	}
	if len(changed) > 0 && obtainedWith.Cloud != now.Cloud {
		changed = append([]string{FieldCloud}, changed...)
	}
	return changed
}

// ClientSecretBindingChanges lists, by field label, the settings of now
// that make a client secret saved with savedWith useless; nil means it
// still applies.
//
// A client secret is a credential of one app registration, so it is bound
// to the Application (client) ID only. A different tenant does not make it
// stale (a multi-tenant app's secret works in every tenant that consented),
// nor does the Graph Endpoint (Client Credentials asks for .default of
// whichever resource). Another cloud needs another app registration, hence
// another client ID, which is caught here.
func ClientSecretBindingChanges(savedWith, now storage.Connection) []string {
	if !sameClientID(savedWith.ClientID, now.ClientID) {
		return []string{FieldClientID}
	}
	return nil
}

// samePermissions compares the Graph permissions two settings ask for, as
// sets (case-insensitive, as Microsoft reads scope names).
func samePermissions(a, b storage.Connection) bool {
	pa := graphperm.Permissions(a.Permissions, a.CustomScopes, a.SignInActivity)
	pb := graphperm.Permissions(b.Permissions, b.CustomScopes, b.SignInActivity)
	return graphperm.SameSet(pa, pb)
}

// sameClientID compares client IDs as GUIDs: case does not matter.
func sameClientID(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// sameEndpoint compares two endpoint addresses as Microsoft does: hosts
// and tenant names are case-insensitive, and a trailing slash or spaces
// around the address change nothing.
func sameEndpoint(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }
	return strings.EqualFold(norm(a), norm(b))
}

// UnattendedProblem says why c cannot import without a person present (a
// schedule, `beacon scheduler`), or "" when it can: a connection that
// signs in as a person must have signed in once, one that signs in as the
// application must have its client secret saved. A schedule attached to
// it would otherwise fail at every run (issue 23).
func UnattendedProblem(c storage.Connection) string {
	if c.UsesCertificate() {
		if c.Certificate == nil || c.Certificate.Thumbprint == "" {
			return "it has no certificate: open it with Edit..., choose its certificate file and save"
		}
		return ""
	}
	if c.AuthFlow == storage.FlowClientCredentials {
		if !c.HasClientSecret {
			return "it has no client secret saved: open it with Edit..., enter the Client Secret and save"
		}
		return ""
	}
	if c.Token == nil {
		return "it has never signed in: open it with Edit... and click Generate... to sign in first"
	}
	return ""
}
