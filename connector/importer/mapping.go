package importer

import (
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The Graph client hands over Graph's objects; these functions map them
// to the inventory's rows, member by member, so a property Graph adds
// (graph's wire types) is one more line here and a column in the store.

// userRows maps pages of Graph users to inventory users. The rows and
// their plans and licenses are cut from buffers reused for the next page:
// a page is only valid until the next call, which suits RunWriter's
// PrepareUsers, AddUsers and ApplyUserChanges (they keep nothing of the
// users). One userRows serves one goroutine at a time. The strings, the
// licenses' disabled plans and the plans' strings are the page's own,
// shared, not copied: consumers treat them as read-only.
type userRows struct {
	rows  []inventory.User
	plans []inventory.AssignedPlan
	lics  []inventory.AssignedLicense
}

func (m *userRows) page(users []graph.User) []inventory.User {
	nPlans, nLics := 0, 0
	for i := range users {
		nPlans += len(users[i].AssignedPlans)
		nLics += len(users[i].AssignedLicenses)
	}
	// Sized once per page, so no user's slices point into a buffer that
	// append left behind.
	m.rows = grow(m.rows, len(users))
	m.plans = grow(m.plans, nPlans)
	m.lics = grow(m.lics, nLics)
	for i := range users {
		u := &users[i]
		row := inventory.User{
			ID:                u.ID,
			UserPrincipalName: u.UserPrincipalName,
			DisplayName:       u.DisplayName,
			Mail:              u.Mail,
			AccountEnabled:    u.AccountEnabled,
			UsageLocation:     u.UsageLocation,
			Department:        u.Department,
			JobTitle:          u.JobTitle,
			CreatedDateTime:   u.CreatedDateTime,
		}
		if u.AssignedLicenses != nil {
			start := len(m.lics)
			for _, l := range u.AssignedLicenses {
				m.lics = append(m.lics, inventory.AssignedLicense{SkuID: l.SkuID, DisabledPlans: l.DisabledPlans})
			}
			row.AssignedLicenses = m.lics[start:len(m.lics):len(m.lics)]
		}
		if u.AssignedPlans != nil {
			start := len(m.plans)
			for _, p := range u.AssignedPlans {
				m.plans = append(m.plans, inventory.AssignedPlan{AssignedDateTime: p.AssignedDateTime,
					CapabilityStatus: p.CapabilityStatus, Service: p.Service, ServicePlanID: p.ServicePlanID})
			}
			row.AssignedPlans = m.plans[start:len(m.plans):len(m.plans)]
		}
		m.rows = append(m.rows, row)
	}
	return m.rows
}

// grow empties s and makes room for n elements: the previous page's
// elements are overwritten, never appended to.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	clear(s[:cap(s)]) // nothing of an earlier page stays reachable
	return s[:0]
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
	buf = grow(buf, len(rows))
	for _, r := range rows {
		buf = append(buf, inventory.ReportRow{Cells: r.Cells, Extras: r.Extras})
	}
	return buf
}
