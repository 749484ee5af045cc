package optimize

import (
	"context"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Load reads the facts of a connection's current snapshot (or q.RunID's).
func Load(ctx context.Context, store *inventory.Store, connID string, q inventory.Query) (*Facts, error) {
	lf, err := store.LicenseFacts(ctx, connID, q)
	if err != nil {
		return nil, err
	}
	return FromSnapshot(lf), nil
}

// FromSnapshot turns what the store read into Facts.
func FromSnapshot(lf *inventory.LicenseFacts) *Facts {
	f := &Facts{UsageKnown: lf.UsageKnown, UsageProblem: lf.UsageProblem}
	f.AsOf, _ = time.Parse(inventory.DateLayout, lf.Run.ActivityAsOf)
	if f.AsOf.IsZero() {
		f.AsOf = lf.Run.Started.UTC()
	}
	switch lf.Run.SignIns {
	case inventory.SignInsRead:
		f.SignInsKnown = true
	case "":
	default:
		f.SignInNotice = lf.Run.SignIns
	}
	for _, l := range lf.Licenses {
		f.SKUs = append(f.SKUs, SKU{SkuID: l.SkuID, PartNumber: l.SkuPartNumber, Purchased: l.Purchased, Assigned: l.Assigned})
	}
	f.Users = make([]User, len(lf.Users))
	for i := range lf.Users {
		u := &lf.Users[i]
		f.Users[i] = User{UPN: u.UPN, DisplayName: u.DisplayName, Department: u.Department, Enabled: u.Enabled,
			Guest: u.Guest, Created: u.Created, Activity: u.Activity, LastSignIn: u.SignIn.Latest(), Licenses: licenses(u, lf.Groups)}
	}
	return f
}

// licenses merges assignedLicenses with licenseAssignmentStates: one
// License per SKU held (from a group when any state says so, AlsoDirect
// when one also says direct), plus one per failed group assignment.
func licenses(u *inventory.LicenseUser, groups map[string]string) []License {
	out := make([]License, 0, len(u.SkuIDs))
	for _, id := range u.SkuIDs {
		out = append(out, License{SkuID: id})
	}
	for _, st := range u.States {
		if st.State == "Error" {
			out = append(out, License{SkuID: st.SkuID, Source: Failed, GroupID: st.AssignedByGroup,
				GroupName: groups[strings.ToLower(st.AssignedByGroup)], Error: st.Error})
			continue
		}
		for i := range out {
			l := &out[i]
			if l.Source == Failed || !strings.EqualFold(l.SkuID, st.SkuID) {
				continue
			}
			switch {
			case st.AssignedByGroup == "" && l.Source == Group:
				l.AlsoDirect = true
			case st.AssignedByGroup != "" && l.Source == Direct:
				l.AlsoDirect = l.AlsoDirect || hasDirect(u.States, st.SkuID)
				l.Source, l.GroupID, l.GroupName = Group, st.AssignedByGroup, groups[strings.ToLower(st.AssignedByGroup)]
			}
		}
	}
	return out
}

func hasDirect(states []inventory.LicenseAssignmentState, sku string) bool {
	for _, s := range states {
		if s.AssignedByGroup == "" && s.State != "Error" && strings.EqualFold(s.SkuID, sku) {
			return true
		}
	}
	return false
}
