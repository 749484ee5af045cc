package inventory

import "time"

// Trigger says what started an import run.
type Trigger string

const (
	TriggerManual   Trigger = "manual"   // Execute Now in the window
	TriggerSchedule Trigger = "schedule" // a schedule fired
	TriggerCLI      Trigger = "cli"      // beacon execute
)

// Status is the outcome of an import run.
type Status string

const (
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusWarnings  Status = "completed with warnings"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
	StatusSkipped   Status = "skipped" // e.g. the connection was already running elsewhere
)

// Good reports whether a run with this status produced a usable snapshot.
func (s Status) Good() bool { return s == StatusSucceeded || s == StatusWarnings }

// Counts are the numbers of objects a run imported.
type Counts struct {
	Users             int `json:"users"`
	Assignments       int `json:"assignments"` // user license assignments
	SKUs              int `json:"skus"`
	ServicePrincipals int `json:"servicePrincipals"`
	ActiveUserRows    int `json:"activeUserRows"` // getOffice365ActiveUserDetail
	ActivationRows    int `json:"activationRows"` // getOffice365ActivationsUserDetail
	AppUsageRows      int `json:"appUsageRows"`   // getM365AppUserDetail
}

// ReportRows returns the row count of one report.
func (c Counts) ReportRows(k ReportKind) int {
	switch k {
	case ReportActiveUsers:
		return c.ActiveUserRows
	case ReportActivations:
		return c.ActivationRows
	case ReportAppUsage:
		return c.AppUsageRows
	}
	return 0
}

func (c *Counts) addReportRows(k ReportKind, n int) {
	switch k {
	case ReportActiveUsers:
		c.ActiveUserRows += n
	case ReportActivations:
		c.ActivationRows += n
	case ReportAppUsage:
		c.AppUsageRows += n
	}
}

// Run is one import run as the import history shows it.
type Run struct {
	ID             int64     `json:"id"`
	ConnectionID   string    `json:"connectionId"`
	ConnectionName string    `json:"connectionName"`
	Trigger        Trigger   `json:"trigger"`
	Started        time.Time `json:"started"`
	Ended          time.Time `json:"ended"` // zero while running
	Status         Status    `json:"status"`
	Counts         Counts    `json:"counts"`
	Warnings       []string  `json:"warnings"`
	Error          string    `json:"error,omitempty"`
	Note           string    `json:"note,omitempty"`
	// Mode says how the users were read (e.g. "parallel (sharded)",
	// "incremental (delta)"); empty for runs of earlier builds.
	Mode string `json:"mode,omitempty"`
	// ActivityAsOf is the date (YYYY-MM-DD, UTC) the snapshot's derived
	// figures are counted from: the usage reports' refresh date, or the
	// day the run started when it shows no report. Empty for runs
	// without a snapshot.
	ActivityAsOf string `json:"activityAsOf,omitempty"`
	// SignIns is SignInsRead when the snapshot holds signInActivity, else
	// why not (no Entra ID P1, no AuditLog.Read.All); empty when the run
	// did not try.
	SignIns string `json:"signIns,omitempty"`
	// Current says this run's snapshot is the one the data pages show.
	Current bool `json:"current"`
}

// Duration is how long the run took (zero while running).
func (r Run) Duration() time.Duration {
	if r.Ended.IsZero() {
		return 0
	}
	return r.Ended.Sub(r.Started)
}

// User is a directory user as the inventory stores and queries it. JSON
// names follow Microsoft Graph, so JSON export reads like Graph; the
// importer fills it from the Graph client's own users (graph.User).
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
	AssignedPlans     []AssignedPlan    `json:"assignedPlans"`
	// UserType is Member or Guest (B2B); empty when Graph did not say.
	UserType string `json:"userType,omitempty"`
	// LicenseAssignmentStates says how each licence was assigned: directly
	// or through a group (which then must be left to free it), and the
	// group assignments that failed (State "Error", e.g. CountViolation;
	// those SKUs are not in AssignedLicenses).
	LicenseAssignmentStates []LicenseAssignmentState `json:"licenseAssignmentStates,omitempty"`

	// Licenses is filled by queries: the SKU part numbers of the assigned
	// licenses (the skuId when the SKU is unknown), sorted, joined by "+"
	// the way the usage reports join Assigned Products.
	Licenses string `json:"licenses,omitempty"`
	// LastActivity is filled by queries: the latest activity date of the
	// user in the usage reports, zero when none or unknown.
	LastActivity time.Time `json:"lastActivity,omitzero"`
}

type AssignedLicense struct {
	DisabledPlans []string `json:"disabledPlans"`
	SkuID         string   `json:"skuId"`
}

// LicenseAssignmentState is one element of a user's
// licenseAssignmentStates.
type LicenseAssignmentState struct {
	SkuID string `json:"skuId"`
	// AssignedByGroup is the group's object ID; empty for a direct
	// assignment.
	AssignedByGroup string `json:"assignedByGroup,omitempty"`
	State           string `json:"state"`           // Active, ActiveWithError, Disabled, Error
	Error           string `json:"error,omitempty"` // None, CountViolation, MutuallyExclusiveViolation, ...
}

// Direct reports whether the state is a plain, working direct assignment
// (what most states are, so the store keeps only the others).
func (s LicenseAssignmentState) Direct() bool {
	return s.AssignedByGroup == "" && s.State == "Active" && (s.Error == "" || s.Error == "None")
}

// Group is a group that assigns licences (group-based licensing).
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// SignIn is a user's signInActivity (Microsoft Entra ID P1 and
// AuditLog.Read.All); zero times: never.
type SignIn struct {
	UserID         string    `json:"id"`
	Interactive    time.Time `json:"lastSignInDateTime,omitzero"`
	NonInteractive time.Time `json:"lastNonInteractiveSignInDateTime,omitzero"`
	Successful     time.Time `json:"lastSuccessfulSignInDateTime,omitzero"`
}

// Latest is the latest of the three dates.
func (s SignIn) Latest() time.Time {
	t := s.Interactive
	if s.NonInteractive.After(t) {
		t = s.NonInteractive
	}
	if s.Successful.After(t) {
		t = s.Successful
	}
	return t
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
	ID               string        `json:"id"`
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

// Purchased counts the units that can be assigned: enabled, and in
// warning (a subscription past its end date in its grace period, still
// fully usable). Suspended units can no longer be used and locked-out ones
// are cancelled, so they are shown apart (issue 23: a SKU whose 13 units
// were all in warning showed 0 purchased and looked over-assigned).
func (p PrepaidUnits) Purchased() int { return p.Enabled + p.Warning }

type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

// License is one SKU with the figures the Licenses page and its chart show.
type License struct {
	SKU
	// Purchased is prepaidUnits enabled + warning (PrepaidUnits.Purchased).
	Purchased int `json:"purchased"`
	// Assigned counts users holding the SKU in the snapshot.
	Assigned int `json:"assigned"`
	// Unassigned is Purchased - Assigned: seats paid for and not given to
	// anyone (negative when more are assigned than purchased).
	Unassigned int `json:"unassigned"`
	// Active counts assigned users with activity in the 30 days before the
	// snapshot's activity reference date (Run.ActivityAsOf); Inactive = Assigned - Active is what
	// could be reclaimed. Both are meaningless when UsageKnown is false
	// (reports forbidden, or user names concealed in them).
	Active     int  `json:"active"`
	Inactive   int  `json:"inactive"`
	UsageKnown bool `json:"usageKnown"`
	// ActivityAsOf is the date Active and Inactive are counted from.
	ActivityAsOf string `json:"activityAsOf,omitempty"`
}

// ServicePrincipal is an application (GET /servicePrincipals).
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

// MicrosoftTenantID owns Microsoft's first-party applications.
const MicrosoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// FirstParty reports whether Microsoft publishes the application.
func (sp ServicePrincipal) FirstParty() bool {
	return sp.AppOwnerOrganizationID == MicrosoftTenantID
}
