// Package tenant holds the simulated Microsoft 365 tenant: its users,
// subscribed SKUs, service principals, registered client applications and
// usage, generated deterministically from a seed and a size.
//
// The identity platform and Graph halves of the simulator share one Tenant.
// It can be mutated between runs (users added, deleted, licenses changed) so
// that delta queries and re-imports can be tested, and aged a day at a time
// (AgeDay: activity, joiners, leavers) so that a year of history takes
// seconds; every access goes through its lock.
package tenant

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MicrosoftTenantID owns Microsoft's first-party applications
// (appOwnerOrganizationId).
const MicrosoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// DefaultClientID is the public client the product's dialog defaults to.
const DefaultClientID = "5bb1a5a2-0d97-4335-9448-119f7b27aff9"

// Directory role names the simulator understands.
const (
	RoleGlobalAdministrator           = "Global Administrator"
	RoleCloudApplicationAdministrator = "Cloud Application Administrator"
	RoleReportsReader                 = "Reports Reader"
	RoleGlobalReader                  = "Global Reader"
)

// Tenant is one simulated organisation.
type Tenant struct {
	mu sync.RWMutex

	ID          string // GUID
	Domain      string // e.g. contoso.onmicrosoft.com
	DisplayName string

	Users             []*User // in creation order
	SKUs              []*SKU
	ServicePrincipals []*ServicePrincipal
	Apps              []*AppRegistration // client applications known to the identity platform
	Groups            []*Group           // licensing groups (group-based licensing)

	// NoPremium withholds Microsoft Entra ID P1 whatever the SKUs: Graph
	// then refuses signInActivity as it does for tenants without P1.
	NoPremium bool

	// Everything below is added by the generator and the mutation API.

	// Reference is the "now" the tenant was generated at; generated dates
	// (createdDateTime, license assignment) lie before it.
	Reference time.Time
	// Clock stamps mutations and deletions; nil means time.Now.
	Clock func() time.Time

	byID    map[string]*User
	byUPN   map[string]*User // by lower-case UPN
	sorted  []*User          // by lower-case UPN, for startswith paging
	deleted []*User          // soft-deleted users, newest last
	// removed remembers the change that took a user out of the directory,
	// so delta can tell whether an @removed is the user's latest change.
	removed map[string]removal
	log     []Change
	seq     uint64 // last change sequence number
	userSeq uint64 // last creation sequence number
	skuByID map[string]*SKU
	lic     *licenser
}

// RLock and RUnlock guard reads of the tenant's slices and their elements.
func (t *Tenant) RLock()   { t.mu.RLock() }
func (t *Tenant) RUnlock() { t.mu.RUnlock() }

// Lock and Unlock guard mutations.
func (t *Tenant) Lock()   { t.mu.Lock() }
func (t *Tenant) Unlock() { t.mu.Unlock() }

// User is a directory user. JSON names follow Microsoft Graph.
type User struct {
	ID                string            `json:"id"`
	UserPrincipalName string            `json:"userPrincipalName"`
	DisplayName       string            `json:"displayName"`
	GivenName         string            `json:"givenName"`
	Surname           string            `json:"surname"`
	Mail              string            `json:"mail"`
	AccountEnabled    bool              `json:"accountEnabled"`
	UsageLocation     string            `json:"usageLocation"`
	Department        string            `json:"department"`
	JobTitle          string            `json:"jobTitle"`
	CreatedDateTime   time.Time         `json:"createdDateTime"`
	AssignedLicenses  []AssignedLicense `json:"assignedLicenses"`
	AssignedPlans     []AssignedPlan    `json:"assignedPlans"`

	// Roles are directory roles (Role* constants); not a Graph property of
	// the user object.
	Roles []string `json:"-"`
	// Password is what the simulator's sign-in page expects; empty accepts
	// any password.
	Password string `json:"-"`

	// Seq orders users by creation; unfiltered paging resumes after it.
	Seq uint64 `json:"-"`
	// ChangeSeq is the sequence number of the change that produced this
	// version of the user (see Tenant.Changes and Tenant.DeltaChanges).
	ChangeSeq uint64 `json:"-"`
	// DeletedDateTime is set on soft-deleted users (Tenant.DeletedUsers).
	DeletedDateTime time.Time `json:"-"`
	// Guest marks B2B guests (#EXT# UPNs).
	Guest bool `json:"-"`
	// Usage is the user's Microsoft 365 activity, for the usage reports.
	Usage Usage `json:"-"`
	// Licensing is the user's licenseAssignmentStates when some licence
	// came through a group or failed; nil means every assigned licence is
	// direct (see LicenseStates).
	Licensing []LicenseState `json:"-"`
	// SignIn is the user's signInActivity; nil: never signed in.
	SignIn *SignIn `json:"-"`

	upnKey string // lower-case UPN
}

// HasRole reports whether the user holds a directory role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the user can grant tenant-wide consent.
func (u *User) IsAdmin() bool {
	return u.HasRole(RoleGlobalAdministrator) || u.HasRole(RoleCloudApplicationAdministrator)
}

// CanReadReports reports whether the user's roles allow usage reports in a
// delegated call.
func (u *User) CanReadReports() bool {
	return u.HasRole(RoleGlobalAdministrator) || u.HasRole(RoleReportsReader) || u.HasRole(RoleGlobalReader)
}

type AssignedLicense struct {
	DisabledPlans []string `json:"disabledPlans"`
	SkuID         string   `json:"skuId"`
}

type AssignedPlan struct {
	AssignedDateTime time.Time `json:"assignedDateTime"`
	CapabilityStatus string    `json:"capabilityStatus"`
	Service          string    `json:"service"`
	ServicePlanID    string    `json:"servicePlanId"`
}

// SKU is a subscribed SKU (GET /subscribedSkus).
type SKU struct {
	AccountName      string        `json:"accountName"`
	AccountID        string        `json:"accountId"`
	AppliesTo        string        `json:"appliesTo"`
	CapabilityStatus string        `json:"capabilityStatus"`
	ConsumedUnits    int           `json:"consumedUnits"`
	ID               string        `json:"id"` // {tenantId}_{skuId}
	PrepaidUnits     PrepaidUnits  `json:"prepaidUnits"`
	ServicePlans     []ServicePlan `json:"servicePlans"`
	SkuID            string        `json:"skuId"`
	SkuPartNumber    string        `json:"skuPartNumber"`
	SubscriptionIDs  []string      `json:"subscriptionIds"`
}

type PrepaidUnits struct {
	Enabled   int `json:"enabled"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
	LockedOut int `json:"lockedOut"`
}

type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

// ServicePrincipal is GET /servicePrincipals's object.
type ServicePrincipal struct {
	ID                     string   `json:"id"`
	AppID                  string   `json:"appId"`
	DisplayName            string   `json:"displayName"`
	AppDisplayName         string   `json:"appDisplayName"`
	PublisherName          string   `json:"publisherName"`
	AppOwnerOrganizationID string   `json:"appOwnerOrganizationId"`
	ServicePrincipalType   string   `json:"servicePrincipalType"`
	AccountEnabled         bool     `json:"accountEnabled"`
	Tags                   []string `json:"tags"`
}

// AppKind is how a client application is registered.
type AppKind string

const (
	AppPublic AppKind = "public" // "Mobile and desktop applications": no secret, PKCE
	AppWeb    AppKind = "web"    // confidential: needs a secret (AADSTS7000218 without)
	AppSPA    AppKind = "spa"    // single-page app: refused for this flow (AADSTS9002327)
)

// AppRegistration is a client application the identity platform knows.
type AppRegistration struct {
	AppID        string
	DisplayName  string
	Kind         AppKind
	RedirectURIs []string // exact URIs; http://localhost matches any port
	Secrets      []string // client secrets (confidential clients)
	// SecretsEnd is when the client secrets expire, as the registration's
	// passwordCredentials[].endDateTime show it (the simulator does not
	// refuse a secret past it).
	SecretsEnd time.Time
	// ObjectID is the application object's id (not the app id), which
	// GET /applications returns as id.
	ObjectID string
	// Certificates are the registration's certificate credentials
	// (keyCredentials): a client assertion signed by the key of any of
	// them is accepted, so a certificate can be rotated by adding the new
	// one before removing the old.
	Certificates []KeyCredential
	// MultiTenant apps may sign in through /common and /organizations;
	// others get AADSTS50194 there.
	MultiTenant bool
	// AdminConsented lists the delegated permissions (short names, e.g.
	// "Directory.Read.All") an administrator granted for the whole tenant.
	AdminConsented []string
	// AppRoles lists the application permissions granted (client
	// credentials).
	AppRoles []string
	// IDTokenClaims are the optional claims its id_tokens carry (the
	// registration's "Token configuration"), e.g. "login_hint". Microsoft
	// adds an optional claim only when the registration asks for it.
	IDTokenClaims []string
}

// KeyCredential is a certificate uploaded to an app registration.
type KeyCredential struct {
	KeyID string // a GUID
	Cert  *x509.Certificate
}

// Thumbprint is the certificate's SHA-1 thumbprint in upper-case hex, as
// Entra names it in keyCredentials' customKeyIdentifier and in its errors.
func (k KeyCredential) Thumbprint() string {
	sum := sha1.Sum(k.Cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// AddCertificate registers cert on the app appID (under the tenant's
// lock). Registering the same certificate twice changes nothing.
func (t *Tenant) AddCertificate(appID string, cert *x509.Certificate) error {
	t.Lock()
	defer t.Unlock()
	a := t.App(appID)
	if a == nil {
		return fmt.Errorf("tenant: no application %s", appID)
	}
	for _, k := range a.Certificates {
		if bytes.Equal(k.Cert.Raw, cert.Raw) {
			return nil
		}
	}
	a.Certificates = append(a.Certificates, KeyCredential{KeyID: randomGUID(), Cert: cert})
	return nil
}

// RemoveCertificate removes the certificate with the SHA-1 thumbprint
// (hex, any case) from the app appID; it reports whether one was removed.
func (t *Tenant) RemoveCertificate(appID, thumbprint string) bool {
	t.Lock()
	defer t.Unlock()
	a := t.App(appID)
	if a == nil {
		return false
	}
	for i, k := range a.Certificates {
		if strings.EqualFold(k.Thumbprint(), thumbprint) {
			a.Certificates = append(a.Certificates[:i:i], a.Certificates[i+1:]...)
			return true
		}
	}
	return false
}

// UserByUPN finds a user by user principal name (case-insensitive). The
// caller holds at least the read lock.
//
// Users reached through the tenant are never modified once published:
// mutations replace them with a new *User. A reader may therefore keep
// pointers after releasing the lock and still see a consistent user.
func (t *Tenant) UserByUPN(upn string) *User {
	if len(t.byUPN) == len(t.Users) {
		return t.byUPN[strings.ToLower(upn)]
	}
	// A tenant built by hand (tests) before Reindex: scan.
	for _, u := range t.Users {
		if strings.EqualFold(u.UserPrincipalName, upn) {
			return u
		}
	}
	return nil
}

// App finds a registered application by client ID. The caller holds at
// least the read lock.
func (t *Tenant) App(appID string) *AppRegistration {
	for _, a := range t.Apps {
		if strings.EqualFold(a.AppID, appID) {
			return a
		}
	}
	return nil
}
