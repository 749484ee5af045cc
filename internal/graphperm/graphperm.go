// Package graphperm is what the import asks Microsoft Graph for: the
// permission profiles a connection chooses from (Least privilege,
// Directory.Read.All, Custom scopes), the permissions each import stage
// needs (after Graph's permission tables: any one of a stage's list
// suffices), and the tenant-wide admin-consent link that grants them.
//
// It is a leaf so that auth (which asks for the scopes), connector (which
// validates the settings and skips the stages a grant lacks), the window
// and the command line all read one table.
package graphperm

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Profiles, as saved in a connection's configuration. A connection saved
// before profiles existed has none, which means Directory (what every
// version before asked for), so an upgrade changes nobody's consent.
const (
	LeastPrivilege = "least-privilege"
	Directory      = "directory"
	Custom         = "custom"
)

// Profile labels, as the Permissions choice shows them.
const (
	LabelLeastPrivilege = "Least privilege"
	LabelDirectory      = "Directory.Read.All"
	LabelCustom         = "Custom scopes"
)

// Profiles lists the profiles in the order the choice shows them.
var Profiles = []string{LeastPrivilege, Directory, Custom}

// Label is the label of a profile; "" (a connection saved before
// profiles) is Directory's.
func Label(profile string) string {
	switch Normalize(profile) {
	case LeastPrivilege:
		return LabelLeastPrivilege
	case Custom:
		return LabelCustom
	}
	return LabelDirectory
}

// FromLabel is the profile a label (or a profile name, as the command line
// takes it) stands for; ok is false for anything else.
func FromLabel(s string) (profile string, ok bool) {
	s = strings.TrimSpace(s)
	for _, p := range Profiles {
		if strings.EqualFold(s, p) || strings.EqualFold(s, Label(p)) {
			return p, true
		}
	}
	return "", false
}

// Normalize maps "" (a connection saved before profiles) to Directory.
func Normalize(profile string) string {
	if profile == "" {
		return Directory
	}
	return profile
}

// Graph permissions the import uses, by their short names.
const (
	UserReadAll              = "User.Read.All"
	DirectoryReadAll         = "Directory.Read.All"
	LicenseAssignmentReadAll = "LicenseAssignment.Read.All"
	OrganizationReadAll      = "Organization.Read.All"
	ReportsReadAll           = "Reports.Read.All"
	ApplicationReadAll       = "Application.Read.All"
	GroupMemberReadAll       = "GroupMember.Read.All"
	GroupReadAll             = "Group.Read.All"
	AuditLogReadAll          = "AuditLog.Read.All"
)

// Stage is a part of the import as far as permissions go.
type Stage struct {
	Name string
	// AnyOf are the permissions any one of which lets the stage read,
	// the least privileged first (the one a warning names).
	AnyOf []string
	// Required: without it the import fails; the others are skipped with
	// a warning.
	Required bool
	// Without says what the data lacks when the stage is skipped.
	Without string
}

// Stage names.
const (
	StageUsers        = "Users"
	StageLicenses     = "Licenses"
	StageApplications = "Applications"
	StageUsage        = "Usage reports"
	StageGroups       = "Licensing group names"
	StageSignIns      = "Sign-in activity"
)

// Stages are the import's stages with what Graph's permission tables say
// each needs (the same for delegated scopes and application roles). Only
// users are required: everything else the app shows hangs on them, while
// each other stage only adds to them.
var Stages = []Stage{
	{Name: StageUsers, AnyOf: []string{UserReadAll, DirectoryReadAll}, Required: true},
	{Name: StageLicenses, AnyOf: []string{LicenseAssignmentReadAll, OrganizationReadAll, DirectoryReadAll},
		Without: "licences are shown by SKU ID, without purchased and consumed counts"},
	{Name: StageApplications, AnyOf: []string{ApplicationReadAll, DirectoryReadAll},
		Without: "the Applications page stays empty"},
	{Name: StageUsage, AnyOf: []string{ReportsReadAll},
		Without: "active and inactive licence figures are unknown"},
	{Name: StageGroups, AnyOf: []string{GroupMemberReadAll, GroupReadAll, DirectoryReadAll},
		Without: "licences that come from a group are shown by the group's ID"},
	{Name: StageSignIns, AnyOf: []string{AuditLogReadAll},
		Without: "inactivity comes from the usage reports"},
}

// LookupStage finds a stage by name.
func LookupStage(name string) (Stage, bool) {
	for _, s := range Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// Permissions are the Graph permissions (short names) a profile asks for.
// signIns adds AuditLog.Read.All (sign-in activity needs Entra ID P1 too,
// and is optional because many tenants lack it); custom is the Custom
// scopes field, used only by the Custom profile.
func Permissions(profile, custom string, signIns bool) []string {
	var p []string
	switch Normalize(profile) {
	case LeastPrivilege:
		p = []string{UserReadAll, LicenseAssignmentReadAll, ReportsReadAll, ApplicationReadAll}
	case Custom:
		return ParseCustom(custom)
	default:
		p = []string{DirectoryReadAll, ReportsReadAll}
	}
	if signIns {
		p = append(p, AuditLogReadAll)
	}
	return p
}

// ParseCustom splits the Custom scopes field (spaces or commas between
// names) and drops repeats, keeping the first spelling.
func ParseCustom(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' || r == '\r' }) {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, f) }) {
			out = append(out, f)
		}
	}
	return out
}

// permissionName is how Graph permissions are spelled:
// Resource.Operation[.Constraint], dot-separated words.
var permissionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*){1,3}$`)

// ValidateCustom checks the Custom scopes field: Graph permission names
// (short, not URIs: the app adds the connection's Graph resource), and
// one that lets the users be read, which every import needs.
func ValidateCustom(s string) error {
	scopes := ParseCustom(s)
	if len(scopes) == 0 {
		return errors.New("Enter the Graph permissions to ask for, separated by spaces (for example User.Read.All Reports.Read.All).")
	}
	for _, sc := range scopes {
		switch {
		case strings.Contains(sc, "/") || strings.Contains(sc, ":"):
			return fmt.Errorf("Write %q without its resource (just the permission, such as User.Read.All): the app adds the Graph Endpoint itself.", sc)
		case isOIDC(sc):
			return fmt.Errorf("%s is asked for anyway; list only Graph permissions.", sc)
		case sc == ".default" || strings.EqualFold(sc, "default"):
			return errors.New(".default is what Client Credentials uses anyway; list the delegated Graph permissions to ask for.")
		case !permissionName.MatchString(sc):
			return fmt.Errorf("%q is not a Graph permission name (such as User.Read.All).", sc)
		}
	}
	users, _ := LookupStage(StageUsers)
	if !anyGranted(scopes, users.AnyOf) {
		return fmt.Errorf("Add %s (or %s): every import reads the users.", users.AnyOf[0], strings.Join(users.AnyOf[1:], ", "))
	}
	return nil
}

func isOIDC(s string) bool {
	for _, o := range []string{"openid", "profile", "email", "offline_access"} {
		if strings.EqualFold(s, o) {
			return true
		}
	}
	return false
}

func anyGranted(granted, anyOf []string) bool {
	for _, a := range anyOf {
		if slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, a) }) {
			return true
		}
	}
	return false
}

// Allows reports whether perms (short names) let the stage read.
func (s Stage) Allows(perms []string) bool { return anyGranted(perms, s.AnyOf) }

// Expected reports whether a connection with these settings means to run
// the stage: its profile asks for a permission that lets it read. A stage
// not expected is skipped quietly when refused; one expected but refused
// is a warning (the administrator has not granted what the profile asks).
func Expected(stage, profile, custom string, signIns bool) bool {
	s, ok := LookupStage(stage)
	return ok && s.Allows(Permissions(profile, custom, signIns))
}

// Missing lists the permissions the profile asks for that granted (short
// names) lacks and that a stage the profile expects needs: for each such
// stage, the permission the profile names for it (Directory.Read.All for
// the Directory profile, the least privileged one for the others).
func Missing(granted []string, profile, custom string, signIns bool) []string {
	var out []string
	for _, s := range Stages {
		if !Expected(s.Name, profile, custom, signIns) || s.Allows(granted) {
			continue
		}
		name := s.Asked(profile, custom, signIns)
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// Asked is the permission a profile asks for that lets s read (the least
// privileged of s.AnyOf when the profile asks for none).
func (s Stage) Asked(profile, custom string, signIns bool) string {
	asked := Permissions(profile, custom, signIns)
	for _, a := range s.AnyOf {
		if anyGranted(asked, []string{a}) {
			return a
		}
	}
	return s.AnyOf[0]
}

// SameSet reports whether a and b name the same permissions, ignoring
// order, repeats and case.
func SameSet(a, b []string) bool {
	for _, x := range a {
		if !anyGranted(b, []string{x}) {
			return false
		}
	}
	for _, x := range b {
		if !anyGranted(a, []string{x}) {
			return false
		}
	}
	return true
}

// ShortName is a scope without its resource
// ("https://graph.microsoft.com/User.Read.All" → "User.Read.All").
func ShortName(scope string) string { return scope[strings.LastIndex(scope, "/")+1:] }

// ConsentLink is the tenant-wide admin-consent address of Microsoft's
// identity platform (v2.0: GET /{tenant}/v2.0/adminconsent with client_id,
// scope and redirect_uri) on the host of authority, one of the
// connection's identity endpoints. tenant "" or one standing for any
// tenant becomes "organizations" (Microsoft refuses "common" there; with
// "organizations" an administrator consents for their own tenant).
// scopes are full URIs ("…/.default" for application permissions). ""
// when authority is not an address.
func ConsentLink(authority, tenant, clientID, redirectURI string, scopes []string) string {
	u, err := url.Parse(strings.TrimSpace(authority))
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(tenant) {
	case "", "common", "consumers":
		tenant = "organizations"
	}
	q := url.Values{"client_id": {strings.TrimSpace(clientID)}, "scope": {strings.Join(scopes, " ")}}
	if r := strings.TrimSpace(redirectURI); r != "" {
		q.Set("redirect_uri", r)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/" + url.PathEscape(tenant) + "/v2.0/adminconsent", RawQuery: q.Encode()}).String()
}

// Needs is one line per stage for the dialog and `beacon connection show`:
// what it needs, and whether this profile asks for it.
func Needs(profile, custom string, signIns bool) []string {
	var out []string
	asked := Permissions(profile, custom, signIns)
	for _, s := range Stages {
		line := s.Name + ": " + strings.Join(s.AnyOf, " or ")
		switch {
		case s.Allows(asked):
		case s.Required:
			line += " (required: not asked for)"
		default:
			line += " (not asked for: skipped, " + s.Without + ")"
		}
		out = append(out, line)
	}
	return out
}
