// Package wire holds the Microsoft Graph objects the import reads, as
// Graph sends them (microsoft-wire.md): JSON names follow Graph, and each
// type carries the selected properties and nothing of how the inventory
// stores or queries them. The Graph client (connector/graph, which
// re-exports these types) and its page decoders (connector/graph/pagedecode)
// share them; connector/importer maps them to storage rows.
//
// A property Graph adds to a $select is a field here, a member in the
// users scanner (pagedecode), its name in the $select below and a line in
// the importer's mapping; nothing else changes. (AssignedPlan,
// AssignedLicense and LicenseAssignmentState are the exception: the
// importer hands them to the store without a copy while they are the same
// structs as the inventory's, and its build stops when they part.)
//
// signInActivity is not one of User's members: Graph serves it at most 120
// users a page and never in delta, so it is a listing of its own
// (SignInUser, SignInSelect).
package wire

import "time"

// UserSelect is the $select of the users query (microsoft-wire.md):
// without it Graph leaves out accountEnabled, assignedLicenses and more.
// It names User's members, and is the delta query's $select too.
const UserSelect = "id,userPrincipalName,displayName,mail,accountEnabled,assignedLicenses,assignedPlans,usageLocation,department,jobTitle,createdDateTime,userType,licenseAssignmentStates"

// SignInSelect is the $select of the sign-in activity listing: it names
// SignInUser's members.
const SignInSelect = "id,signInActivity"

// GroupSelect is the $select of the licensing groups listing: it names
// Group's members.
const GroupSelect = "id,displayName"

// ServicePrincipalSelect is the $select of the applications query: it
// names ServicePrincipal's members.
const ServicePrincipalSelect = "id,appId,displayName,appDisplayName,publisherName,appOwnerOrganizationId,servicePrincipalType,accountEnabled,tags"

// User is a directory user (GET /users, with graph.UserSelect).
type User struct {
	ID                string            `json:"id"`
	UserPrincipalName string            `json:"userPrincipalName"`
	DisplayName       string            `json:"displayName"`
	Mail              string            `json:"mail"`
	AccountEnabled    bool              `json:"accountEnabled"`
	UsageLocation     string            `json:"usageLocation"`
	Department        string            `json:"department"`
	JobTitle          string            `json:"jobTitle"`
	CreatedDateTime   time.Time         `json:"createdDateTime"`
	AssignedLicenses  []AssignedLicense `json:"assignedLicenses"`
	// AssignedPlans may be shared by users whose arrays were byte for byte
	// the same (the users scanner's plan cache): read-only.
	AssignedPlans []AssignedPlan `json:"assignedPlans"`
	// UserType is Member or Guest; the tags match the inventory's user,
	// which leaves both out when empty.
	UserType                string                   `json:"userType,omitempty"`
	LicenseAssignmentStates []LicenseAssignmentState `json:"licenseAssignmentStates,omitempty"`
}

// LicenseAssignmentState is one element of a user's
// licenseAssignmentStates: how a licence came (directly, or through the
// group AssignedByGroup, null in Graph for a direct one) and whether it
// works (State Active, ActiveWithError, Disabled or Error, with Error
// saying why, e.g. CountViolation). Graph's other members (disabledPlans,
// lastUpdatedDateTime) are not read.
type LicenseAssignmentState struct {
	SkuID           string `json:"skuId"`
	AssignedByGroup string `json:"assignedByGroup,omitempty"`
	State           string `json:"state"`
	Error           string `json:"error,omitempty"`
}

// SignInUser is one user of the sign-in activity listing (GET /users with
// SignInSelect): Microsoft Entra ID P1 and AuditLog.Read.All.
type SignInUser struct {
	ID             string         `json:"id"`
	SignInActivity SignInActivity `json:"signInActivity"`
}

// SignInActivity is a user's last sign-ins; Graph gives nulls (zero
// times) for a user who never signed in.
type SignInActivity struct {
	LastSignInDateTime               time.Time `json:"lastSignInDateTime"`
	LastNonInteractiveSignInDateTime time.Time `json:"lastNonInteractiveSignInDateTime"`
	LastSuccessfulSignInDateTime     time.Time `json:"lastSuccessfulSignInDateTime"`
}

// Group is a group that assigns licences (GET /groups with GroupSelect).
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// AssignedLicense is one element of a user's assignedLicenses.
type AssignedLicense struct {
	DisabledPlans []string `json:"disabledPlans"`
	SkuID         string   `json:"skuId"`
}

// AssignedPlan is one element of a user's assignedPlans.
type AssignedPlan struct {
	AssignedDateTime time.Time `json:"assignedDateTime"`
	CapabilityStatus string    `json:"capabilityStatus"`
	Service          string    `json:"service"`
	ServicePlanID    string    `json:"servicePlanId"`
}

// DeltaUser is one entry of a users delta page: the user's current state
// (the selected properties), or, when Removed is set, its removal.
type DeltaUser struct {
	User
	Removed *Removed `json:"@removed,omitempty"`
}

// Removed is a delta entry's "@removed" annotation.
type Removed struct {
	Reason string `json:"reason"`
}

// SubscribedSku is a subscribed SKU (GET /subscribedSkus).
type SubscribedSku struct {
	AccountName      string        `json:"accountName"`
	AccountID        string        `json:"accountId"`
	AppliesTo        string        `json:"appliesTo"`
	CapabilityStatus string        `json:"capabilityStatus"`
	ConsumedUnits    int           `json:"consumedUnits"`
	ID               string        `json:"id"`
	PrepaidUnits     PrepaidUnits  `json:"prepaidUnits"`
	ServicePlans     []ServicePlan `json:"servicePlans"`
	SkuID            string        `json:"skuId"`
	SkuPartNumber    string        `json:"skuPartNumber"`
	SubscriptionIDs  []string      `json:"subscriptionIds"`
}

// PrepaidUnits are a subscribed SKU's units by state.
type PrepaidUnits struct {
	Enabled   int `json:"enabled"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
	LockedOut int `json:"lockedOut"`
}

// ServicePlan is one service plan of a subscribed SKU.
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

// ServicePrincipal is an application (GET /servicePrincipals, with
// graph.ServicePrincipalSelect).
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
