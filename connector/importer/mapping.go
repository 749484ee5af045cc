package importer

import (
	"unsafe"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The Graph client hands over Graph's objects; these functions map them
// to the inventory's rows, member by member, so a property Graph adds
// (graph's wire types) is one more line here and a column in the store.

// userRows maps pages of Graph users to inventory users. The rows are
// cut from a buffer reused for the next page: a page is only valid until
// the next call, which suits RunWriter's PrepareUsers, AddUsers and
// ApplyUserChanges (they keep nothing of the users). One userRows serves
// one goroutine at a time. Strings, licenses and plans are the page's
// own, shared, not copied: consumers treat them as read-only.
type userRows struct {
	rows []inventory.User
}

func (m *userRows) page(users []graph.User) []inventory.User {
	old := len(m.rows)
	m.rows = m.rows[:0]
	for i := range users {
		u := &users[i]
		m.rows = append(m.rows, inventory.User{
			ID:                u.ID,
			UserPrincipalName: u.UserPrincipalName,
			DisplayName:       u.DisplayName,
			Mail:              u.Mail,
			AccountEnabled:    u.AccountEnabled,
			UsageLocation:     u.UsageLocation,
			Department:        u.Department,
			JobTitle:          u.JobTitle,
			CreatedDateTime:   u.CreatedDateTime,
			AssignedLicenses:  licenseRows(u.AssignedLicenses),
			AssignedPlans:     planRows(u.AssignedPlans),
			UserType:          u.UserType,
			// Viewed, not copied, like the licenses: the store
			// encodes the states into a column and keeps nothing of
			// the slice.
			LicenseAssignmentStates: stateRows(u.LicenseAssignmentStates),
		})
	}
	if old > len(m.rows) {
		clear(m.rows[len(m.rows):old]) // nothing of a longer page stays reachable
	}
	return m.rows
}

// planRows, licenseRows and stateRows view a user's plans, licenses and
// licence assignment states as the inventory's, without a copy. The conversions they start with compile
// only while the Graph and inventory types are the same structs, field for
// field (tags aside), which is what makes the view sound; should one of
// them gain a field, the build stops here and the mapping copies instead.
// Copying cost about 0.4 µs per user in the mapping, plus the garbage
// collector scanning the copies, and undid the plan cache's sharing:
// users with identical assignedPlans share one slice, which the store's
// plan codec reads without a copy (both sides treat them as read-only,
// and their capacity ends at their length).
func planRows(ps []graph.AssignedPlan) []inventory.AssignedPlan {
	_ = inventory.AssignedPlan(graph.AssignedPlan{})
	return unsafe.Slice((*inventory.AssignedPlan)(unsafe.Pointer(unsafe.SliceData(ps))), len(ps))
}

func licenseRows(ls []graph.AssignedLicense) []inventory.AssignedLicense {
	_ = inventory.AssignedLicense(graph.AssignedLicense{})
	return unsafe.Slice((*inventory.AssignedLicense)(unsafe.Pointer(unsafe.SliceData(ls))), len(ls))
}

func stateRows(ss []graph.LicenseAssignmentState) []inventory.LicenseAssignmentState {
	_ = inventory.LicenseAssignmentState(graph.LicenseAssignmentState{})
	return unsafe.Slice((*inventory.LicenseAssignmentState)(unsafe.Pointer(unsafe.SliceData(ss))), len(ss))
}

// groupRows maps the licensing groups.
func groupRows(gs []graph.Group) []inventory.Group {
	out := make([]inventory.Group, len(gs))
	for i, g := range gs {
		out[i] = inventory.Group{ID: g.ID, DisplayName: g.DisplayName}
	}
	return out
}

// signInRows maps a page of sign-in activity into buf (reused: the rows
// are valid until the next call; AddSignIns keeps nothing of them).
func signInRows(buf []inventory.SignIn, users []graph.SignInUser) []inventory.SignIn {
	buf = buf[:0]
	for _, u := range users {
		a := &u.SignInActivity
		buf = append(buf, inventory.SignIn{UserID: u.ID, Interactive: a.LastSignInDateTime,
			NonInteractive: a.LastNonInteractiveSignInDateTime, Successful: a.LastSuccessfulSignInDateTime})
	}
	return buf
}

func skuRows(skus []graph.SubscribedSku) []inventory.SKU {
	out := make([]inventory.SKU, len(skus))
	for i, s := range skus {
		plans := make([]inventory.ServicePlan, len(s.ServicePlans))
		for j, p := range s.ServicePlans {
			plans[j] = inventory.ServicePlan{ServicePlanID: p.ServicePlanID, ServicePlanName: p.ServicePlanName,
				ProvisioningStatus: p.ProvisioningStatus, AppliesTo: p.AppliesTo}
		}
		if s.ServicePlans == nil {
			plans = nil
		}
		out[i] = inventory.SKU{
			AccountName:      s.AccountName,
			AccountID:        s.AccountID,
			AppliesTo:        s.AppliesTo,
			CapabilityStatus: s.CapabilityStatus,
			ConsumedUnits:    s.ConsumedUnits,
			ID:               s.ID,
			PrepaidUnits: inventory.PrepaidUnits{Enabled: s.PrepaidUnits.Enabled, Suspended: s.PrepaidUnits.Suspended,
				Warning: s.PrepaidUnits.Warning, LockedOut: s.PrepaidUnits.LockedOut},
			ServicePlans:    plans,
			SkuID:           s.SkuID,
			SkuPartNumber:   s.SkuPartNumber,
			SubscriptionIDs: s.SubscriptionIDs,
		}
	}
	return out
}

func servicePrincipalRows(sps []graph.ServicePrincipal) []inventory.ServicePrincipal {
	out := make([]inventory.ServicePrincipal, len(sps))
	for i, p := range sps {
		out[i] = inventory.ServicePrincipal{
			ID:                     p.ID,
			AppID:                  p.AppID,
			DisplayName:            p.DisplayName,
			AppDisplayName:         p.AppDisplayName,
			PublisherName:          p.PublisherName,
			AppOwnerOrganizationID: p.AppOwnerOrganizationID,
			ServicePrincipalType:   p.ServicePrincipalType,
			AccountEnabled:         p.AccountEnabled,
			Tags:                   p.Tags,
		}
	}
	return out
}

// reportSpec is what the client needs of a report the inventory stores:
// where to fetch it and which columns to keep typed, in the order of the
// stored row's cells.
func reportSpec(kind inventory.ReportKind) graph.ReportSpec {
	s := inventory.Report(kind)
	out := graph.ReportSpec{Title: s.Title, Function: s.Function, Columns: make([]graph.ReportColumn, len(s.Columns))}
	for i, c := range s.Columns {
		t := graph.CellText
		switch c.Type {
		case inventory.Date:
			t = graph.CellDate
		case inventory.Bool:
			t = graph.CellBool
		case inventory.Int:
			t = graph.CellInt
		}
		out.Columns[i] = graph.ReportColumn{Header: c.Header, Type: t}
	}
	return out
}

// reportRows maps a chunk of report rows into buf (reused: the rows are
// valid until the next call, which suits PrepareReportRows, which keeps
// their cells, not the slice).
func reportRows(buf []inventory.ReportRow, rows []graph.ReportRow) []inventory.ReportRow {
	old := len(buf)
	buf = buf[:0]
	for _, r := range rows {
		buf = append(buf, inventory.ReportRow{Cells: r.Cells, Extras: r.Extras})
	}
	if old > len(buf) {
		clear(buf[len(buf):old])
	}
	return buf
}
