// Package storage holds what Inventory Beacon keeps: the configuration
// (connections and schedules) in one versioned JSON file, the secrets in the
// OS keyring, and the imported data in SQLite.
//
// The types in this file are the configuration model shared by every other
// package. They never carry a secret: refresh tokens, client secrets and
// proxy passwords live only in the keyring, keyed by Connection.ID.
package storage

import "time"

// ConfigVersion is the version of the configuration file this build writes.
// A file with a higher version was written by a newer build and is refused
// rather than overwritten.
const ConfigVersion = 1

// SourceMicrosoft365 is the one source type implemented.
const SourceMicrosoft365 = "Microsoft 365"

// AuthFlow is the OAuth 2.0 grant a connection uses.
type AuthFlow string

const (
	FlowAuthorizationCode AuthFlow = "Authorization Code"
	FlowClientCredentials AuthFlow = "Client Credentials"
)

// Config is the whole configuration file.
type Config struct {
	Version int `json:"version"`
	// Revision counts saves. A save whose Revision differs from the file's
	// was made from a stale copy (another process saved in between) and is
	// refused instead of silently undoing the other process's change.
	Revision    int64        `json:"revision"`
	Connections []Connection `json:"connections"`
	Schedules   []Schedule   `json:"schedules"`
	// Prices are what the organisation pays per seat of a SKU (issue 17):
	// not a secret, and the same for every connection (one agreement).
	Prices []Price `json:"prices,omitempty"`
	// Catalog describes a licensing catalogue the administrator loaded
	// instead of the built-in one; nil: the built-in one.
	Catalog *CatalogFile `json:"catalog,omitempty"`
	// HistoryMonths is how many months of licence history each import
	// keeps (issue 18); 0 keeps it forever.
	HistoryMonths int `json:"historyMonths,omitempty"`
	// Store is where the inventory lives when it is not the SQLite file
	// in this folder: a postgres:// URL shared by several beacons (issue
	// 21). Never with its password, which the keyring holds
	// (SecretStorePassword).
	Store string `json:"store,omitempty"`
}

// Price is what one seat of a SKU costs.
type Price struct {
	SkuID string `json:"skuId"` // lower case
	// PartNumber is for whoever reads the file; SkuID decides.
	PartNumber string `json:"partNumber,omitempty"`
	// Cents is the amount in hundredths of the currency unit.
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"` // ISO 4217, upper case
	// Yearly says the amount is per year; otherwise per month.
	Yearly bool `json:"yearly,omitempty"`
}

// Monthly is the price per seat and month, in hundredths.
func (p Price) Monthly() float64 {
	if p.Yearly {
		return float64(p.Cents) / 12
	}
	return float64(p.Cents)
}

// CatalogFile is a loaded licensing catalogue, kept as CatalogFileName in
// the configuration directory.
type CatalogFile struct {
	// Name is the file the administrator loaded (base name).
	Name string `json:"name"`
	// Published is the file's modification date: when it was downloaded
	// from Microsoft, at the latest.
	Published time.Time `json:"published"`
	Loaded    time.Time `json:"loaded"`
	Products  int       `json:"products"`
}

// CatalogFileName is where a loaded catalogue is kept.
const CatalogFileName = "licensing-products.csv"

// Connection is one "PowerShell source connection" to a Microsoft 365 tenant.
type Connection struct {
	// ID is a random, stable identifier (32 hex characters) assigned when the
	// connection is created. It keys the keyring entries and imported data,
	// so renaming a connection loses nothing.
	ID         string `json:"id"`
	Name       string `json:"name"`
	SourceType string `json:"sourceType"`

	Proxy Proxy `json:"proxy"`

	// Cloud is one of the cloud names of connector.Clouds ("Global", ...,
	// "Custom").
	Cloud                 string   `json:"cloud"`
	TokenEndpoint         string   `json:"tokenEndpoint"`
	ClientID              string   `json:"clientId"`
	RedirectURI           string   `json:"redirectUri"`
	AuthFlow              AuthFlow `json:"authFlow"`
	AuthorizationEndpoint string   `json:"authorizationEndpoint,omitempty"`
	GraphEndpoint         string   `json:"graphEndpoint"`

	// Issuer, for Cloud "Custom", is an OpenID Connect issuer: the
	// endpoints left empty come from its discovery document, and its
	// id_tokens are verified against its keys.
	Issuer string `json:"issuer,omitempty"`
	// Prompt is the prompt sent to the authorization endpoint: "" means
	// Microsoft's select_account; "consent" is what a provider that
	// honours OpenID Connect Core §11 needs to grant offline_access;
	// "omit" sends none.
	Prompt string `json:"prompt,omitempty"`

	// Permissions is the permission profile (internal/graphperm:
	// "least-privilege", "directory", "custom"). A connection saved before
	// profiles existed has none, which means "directory": what it was
	// consented for.
	Permissions string `json:"permissions,omitempty"`
	// CustomScopes are the Graph permissions of the "custom" profile, short
	// names separated by spaces.
	CustomScopes string `json:"customScopes,omitempty"`
	// SignInActivity adds AuditLog.Read.All to the delegated scopes asked
	// for, so the import reads users' sign-in activity.
	SignInActivity bool `json:"signInActivity,omitempty"`

	// CACertFile optionally names a PEM file of extra root certificates to
	// trust for this connection (a TLS-inspecting proxy, or the simulator's
	// local CA).
	CACertFile string `json:"caCertFile,omitempty"`

	// Token describes the refresh token held in the keyring, if any. It is
	// metadata only: the token itself is never in this file.
	Token *TokenInfo `json:"token,omitempty"`
	// HasClientSecret says a client secret is in the keyring.
	HasClientSecret bool `json:"hasClientSecret,omitempty"`

	// Credential is what Client Credentials proves the app's identity
	// with: CredentialSecret (also when empty, as every connection saved
	// before certificates) or CredentialCertificate.
	Credential Credential `json:"credential,omitempty"`
	// Certificate describes the certificate of CredentialCertificate; its
	// private key is in its File or in the keyring
	// (SecretCertificateKey), never in this file.
	Certificate *CertificateInfo `json:"certificate,omitempty"`

	// ScheduleID names the Schedule this connection runs on; empty means
	// Not scheduled.
	ScheduleID string `json:"scheduleId,omitempty"`

	Created  time.Time `json:"created"`
	Modified time.Time `json:"modified"`
}

// Credential is the kind of client credential of a Client Credentials
// connection.
type Credential string

const (
	CredentialSecret      Credential = "secret"
	CredentialCertificate Credential = "certificate"
)

// UsesCertificate reports whether c signs in as the application with a
// certificate.
func (c Connection) UsesCertificate() bool {
	return c.AuthFlow == FlowClientCredentials && c.Credential == CredentialCertificate
}

// CertificateInfo is the public description of a connection's certificate:
// where its key is, and what the certificate says (for the expiry
// warnings and the app registration). Nothing in it is secret.
type CertificateInfo struct {
	// File is a PEM or PFX (PKCS#12) file holding the private key and the
	// certificate; empty means both are kept in the keyring
	// (SecretCertificateKey).
	File string `json:"file,omitempty"`
	// HasPassword says the PFX password is in the keyring
	// (SecretCertificatePassword).
	HasPassword bool `json:"hasPassword,omitempty"`
	// Thumbprint is the SHA-1 thumbprint in hex, as the Azure portal lists
	// it under Certificates & secrets.
	Thumbprint string    `json:"thumbprint,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	NotBefore  time.Time `json:"notBefore,omitzero"`
	NotAfter   time.Time `json:"notAfter,omitzero"`
}

// Proxy holds the proxy settings of a connection; the password is a secret
// (SecretProxyPassword) and lives in the keyring.
type Proxy struct {
	Enabled     bool   `json:"enabled"`
	Server      string `json:"server,omitempty"`
	Username    string `json:"username,omitempty"`
	HasPassword bool   `json:"hasPassword,omitempty"`
}

// TokenInfo describes a refresh token obtained by Generate...: when and for
// whom. The token is in the keyring under SecretRefreshToken.
type TokenInfo struct {
	ObtainedAt  time.Time `json:"obtainedAt"`
	Account     string    `json:"account"`               // user principal name
	DisplayName string    `json:"displayName,omitempty"` // from the id_token
	TenantID    string    `json:"tenantId,omitempty"`
	Scopes      string    `json:"scopes,omitempty"` // as granted, space separated
}

// ScheduleKind is how often a schedule fires.
type ScheduleKind string

const (
	EveryNMinutes ScheduleKind = "minutes"
	Hourly        ScheduleKind = "hourly"
	Daily         ScheduleKind = "daily"
	Weekly        ScheduleKind = "weekly"
	Monthly       ScheduleKind = "monthly"
)

// Schedule is a named schedule that connections attach to. Times are in the
// machine's local time zone.
type Schedule struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Kind         ScheduleKind   `json:"kind"`
	EveryMinutes int            `json:"everyMinutes,omitempty"` // EveryNMinutes
	Hour         int            `json:"hour,omitempty"`         // Daily, Weekly, Monthly
	Minute       int            `json:"minute,omitempty"`       // Hourly, Daily, Weekly, Monthly
	Weekdays     []time.Weekday `json:"weekdays,omitempty"`     // Weekly
	DayOfMonth   int            `json:"dayOfMonth,omitempty"`   // Monthly; 31 means the last day in short months
}

// SecretKind names one of the secrets a connection may hold in the keyring.
type SecretKind string

const (
	SecretRefreshToken  SecretKind = "refresh-token"
	SecretClientSecret  SecretKind = "client-secret"
	SecretProxyPassword SecretKind = "proxy-password"
	// SecretCertificatePassword is the password of a PFX certificate file.
	SecretCertificatePassword SecretKind = "certificate-password"
	// SecretCertificateKey is a certificate kept in the keyring instead of
	// a file: the PEM private key followed by the PEM certificate.
	SecretCertificateKey SecretKind = "certificate-key"
	// SecretStorePassword is the password of the installation's shared
	// inventory (Config.Store), kept under StoreSecretID rather than a
	// connection's id.
	SecretStorePassword SecretKind = "store-password"
)

// StoreSecretID is the keyring id of the shared inventory's password.
const StoreSecretID = "inventory-store"

// AllSecretKinds lists every kind, for deleting a connection's secrets.
var AllSecretKinds = []SecretKind{SecretRefreshToken, SecretClientSecret, SecretProxyPassword, SecretCertificatePassword, SecretCertificateKey}

// Secrets stores connection secrets in the OS keyring. Every call is bounded
// by a time-out, because a D-Bus prompt can hang. Errors wrap ErrNoKeyring,
// ErrKeyringLocked, ErrKeyringTimeout or ErrSecretNotFound where they apply.
type Secrets interface {
	Get(connID string, kind SecretKind) (string, error)
	Set(connID string, kind SecretKind, value string) error
	Delete(connID string, kind SecretKind) error // deleting a missing secret is not an error
}
