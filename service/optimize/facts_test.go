package optimize

import (
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

func TestFromSnapshot(t *testing.T) {
	lf := &inventory.LicenseFacts{
		Run:        inventory.Run{ActivityAsOf: "2026-03-01", SignIns: "Sign-in activity needs Microsoft Entra ID P1."},
		UsageKnown: true,
		Licenses:   []inventory.License{{SKU: inventory.SKU{SkuID: e3, SkuPartNumber: "ENTERPRISEPACK"}, Purchased: 10, Assigned: 3}},
		Groups:     map[string]string{"g1": "Licensing - E3", "g2": "Licensing - Visio"},
		Users: []inventory.LicenseUser{
			{UPN: "a@x", SkuIDs: []string{e3, ems}, States: []inventory.LicenseAssignmentState{
				{SkuID: e3, AssignedByGroup: "G1", State: "Active"}, {SkuID: e3, State: "Active"}, {SkuID: ems, State: "Active"},
				{SkuID: visio, AssignedByGroup: "g2", State: "Error", Error: "CountViolation"}}},
			{UPN: "b_fabrikam.com#EXT#@contoso.onmicrosoft.com", Guest: true, SkuIDs: []string{e3}},
			{UPN: "c@x", SkuIDs: []string{e3}, SignIn: inventory.SignIn{NonInteractive: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
		},
	}
	f := FromSnapshot(lf)
	if !f.AsOf.Equal(day("2026-03-01")) || f.SignInsKnown || f.SignInNotice != lf.Run.SignIns || !f.UsageKnown {
		t.Fatalf("facts %+v", f)
	}
	a := f.Users[0].Licenses
	want := []License{
		{SkuID: e3, Source: Group, GroupID: "G1", GroupName: "Licensing - E3", AlsoDirect: true},
		{SkuID: ems},
		{SkuID: visio, Source: Failed, GroupID: "g2", GroupName: "Licensing - Visio", Error: "CountViolation"},
	}
	if len(a) != len(want) {
		t.Fatalf("licences %+v", a)
	}
	for i := range want {
		if a[i] != want[i] {
			t.Errorf("licence %d: %+v, want %+v", i, a[i], want[i])
		}
	}
	if f.Users[0].Guest || !f.Users[1].Guest || f.Users[2].Guest {
		t.Errorf("guests: %v %v %v", f.Users[0].Guest, f.Users[1].Guest, f.Users[2].Guest)
	}
	if !f.Users[2].LastSignIn.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("last sign-in %v", f.Users[2].LastSignIn)
	}
}
