package graphperm

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestValidateCustom(t *testing.T) {
	for in, want := range map[string]string{
		"User.Read.All Reports.Read.All": "",
		"Directory.Read.All":             "",
		"":                               "Enter the Graph permissions",
		"https://graph.microsoft.com/User.Read.All":     "without its resource",
		"User.Read.All offline_access":                  "asked for anyway",
		"User.Read.All .default":                        ".default",
		"User.Read.All Reports;Read":                    "not a Graph permission name",
		"Reports.Read.All Application.Read.All":         "Add User.Read.All (or Directory.Read.All)",
		"User.Read.All LicenseAssignment.Read.All, X.Y": "",
	} {
		err := ValidateCustom(in)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestPermissions(t *testing.T) {
	for _, c := range []struct {
		profile, custom string
		signIns         bool
		want            []string
	}{
		{"", "", false, []string{DirectoryReadAll, ReportsReadAll}}, // saved before profiles
		{Directory, "", true, []string{DirectoryReadAll, ReportsReadAll, AuditLogReadAll}},
		{LeastPrivilege, "", false, []string{UserReadAll, LicenseAssignmentReadAll, ReportsReadAll, ApplicationReadAll}},
		{LeastPrivilege, "", true, []string{UserReadAll, LicenseAssignmentReadAll, ReportsReadAll, ApplicationReadAll, AuditLogReadAll}},
		{Custom, "User.Read.All, reports.read.all  User.read.all", true, []string{UserReadAll, "reports.read.all"}},
	} {
		if got := Permissions(c.profile, c.custom, c.signIns); !slices.Equal(got, c.want) {
			t.Errorf("%q %q %v: %q, want %q", c.profile, c.custom, c.signIns, got, c.want)
		}
	}
}

// Missing names what the profile asks for (Directory.Read.All for the
// Directory profile), once, and only for the stages the profile expects.
func TestMissing(t *testing.T) {
	if got := Missing([]string{"User.Read"}, "", "", false); !slices.Equal(got, []string{DirectoryReadAll, ReportsReadAll}) {
		t.Errorf("directory: %q", got)
	}
	if got := Missing([]string{UserReadAll, ApplicationReadAll}, LeastPrivilege, "", false); !slices.Equal(got, []string{LicenseAssignmentReadAll, ReportsReadAll}) {
		t.Errorf("least privilege: %q", got)
	}
	if got := Missing(Permissions(LeastPrivilege, "", false), LeastPrivilege, "", true); !slices.Equal(got, []string{AuditLogReadAll}) {
		t.Errorf("sign-ins asked: %q", got)
	}
	if got := Missing(Permissions(LeastPrivilege, "", false), LeastPrivilege, "", false); got != nil {
		t.Errorf("all granted: %q", got)
	}
	if Expected(StageGroups, LeastPrivilege, "", false) || !Expected(StageGroups, Directory, "", false) {
		t.Error("groups: least privilege does not ask for them, Directory.Read.All covers them")
	}
}

func TestConsentLink(t *testing.T) {
	got := ConsentLink("https://login.microsoftonline.us/common/oauth2/v2.0/authorize", "common", "abc", "http://localhost", []string{"https://graph.microsoft.us/User.Read.All"})
	u, err := url.Parse(got)
	if err != nil || u.Host != "login.microsoftonline.us" || u.Path != "/organizations/v2.0/adminconsent" ||
		u.Query().Get("client_id") != "abc" || u.Query().Get("scope") != "https://graph.microsoft.us/User.Read.All" || u.Query().Get("redirect_uri") != "http://localhost" {
		t.Fatalf("%q", got)
	}
	if got := ConsentLink("not a url", "t", "abc", "", nil); got != "" {
		t.Fatalf("no authority: %q", got)
	}
}

func TestLabelsAndNeeds(t *testing.T) {
	for _, p := range Profiles {
		if got, ok := FromLabel(Label(p)); !ok || got != p {
			t.Errorf("%s: %q %v", p, got, ok)
		}
	}
	if got, ok := FromLabel("LEAST-PRIVILEGE"); !ok || got != LeastPrivilege {
		t.Errorf("name: %q %v", got, ok)
	}
	needs := strings.Join(Needs(LeastPrivilege, "", false), "\n")
	if !strings.Contains(needs, "Licensing group names: GroupMember.Read.All or Group.Read.All or Directory.Read.All (not asked for") ||
		!strings.Contains(needs, "Users: User.Read.All or Directory.Read.All\n") {
		t.Fatalf("%s", needs)
	}
}
