package importer

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
)

// mapPage is a users page as the client hands it over: 999 users with
// 18 plans each, a licence and its assignment state, every other user sharing one plans slice (the scanner's
// plan cache), the others with their own.
func mapPage() []graph.User {
	shared := make([]graph.AssignedPlan, 18)
	for i := range shared {
		shared[i] = graph.AssignedPlan{AssignedDateTime: time.Unix(1e9, 0), CapabilityStatus: "Enabled", Service: "svc", ServicePlanID: fmt.Sprint(i)}
	}
	users := make([]graph.User, 999)
	for i := range users {
		u := &users[i]
		u.ID, u.UserPrincipalName, u.DisplayName = fmt.Sprint("id", i), fmt.Sprint("u", i, "@contoso.example"), fmt.Sprint("User ", i)
		u.AssignedLicenses = []graph.AssignedLicense{{SkuID: "sku", DisabledPlans: []string{}}}
		u.UserType = "Member"
		u.LicenseAssignmentStates = []graph.LicenseAssignmentState{{SkuID: "sku", State: "Active", Error: "None"}}
		u.AssignedPlans = shared
		if i%2 == 1 {
			u.AssignedPlans = append([]graph.AssignedPlan(nil), shared...)
		}
	}
	return users
}

// BenchmarkMapUsers measures the importer's mapping of a users page to
// the inventory's rows; ns/op is per user.
func BenchmarkMapUsers(b *testing.B) {
	page := mapPage()
	var rows userRows
	b.ReportAllocs()
	for n := 0; n < b.N; n += len(page) {
		if got := rows.page(page); len(got) != len(page) {
			b.Fatal(len(got))
		}
	}
}

// TestUserRowsMapsEveryMember: a mapped user marshals to the same JSON as
// the Graph user it came from (the inventory's query-only members are
// empty and left out), so a member added to graph.User and forgotten in
// the mapping fails here; nil and empty lists stay apart, and users
// sharing plans still share them.
func TestUserRowsMapsEveryMember(t *testing.T) {
	page := mapPage()
	page[0].Mail, page[0].AccountEnabled, page[0].UsageLocation = "u0@contoso.example", true, "NL"
	page[0].Department, page[0].JobTitle, page[0].CreatedDateTime = "Sales", "Buyer", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	page[1].AssignedLicenses, page[1].AssignedPlans = nil, []graph.AssignedPlan{}
	page[2].UserType = "Guest"
	page[2].LicenseAssignmentStates = []graph.LicenseAssignmentState{{SkuID: "sku", AssignedByGroup: "grp", State: "Error", Error: "CountViolation"}}
	page[3].UserType, page[3].LicenseAssignmentStates = "", nil
	var m userRows
	m.page(mapPage()) // a longer page before: nothing of it may show
	rows := m.page(page[:500])
	if len(rows) != 500 || cap(rows) < 999 || rows[:999][500].ID != "" {
		t.Fatalf("%d rows; the rest of the buffer still holds %q", len(rows), rows[:999][500].ID)
	}
	for i, r := range rows {
		want, _ := json.Marshal(page[i])
		got, _ := json.Marshal(r)
		if string(got) != string(want) {
			t.Fatalf("user %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if rows[1].AssignedLicenses != nil || rows[1].AssignedPlans == nil {
		t.Fatal("nil and empty lists were not kept apart")
	}
	if &rows[2].AssignedPlans[0] != &rows[4].AssignedPlans[0] || cap(rows[2].AssignedPlans) != len(rows[2].AssignedPlans) {
		t.Fatal("users that shared their plans no longer do, or their capacity grew")
	}
}
