// Package testinventory writes the inventory database the UI's tests and
// benchmarks read: 100,000 users (and licenses, applications and a usage
// report) through the store's own writer, deterministic so tests can
// compute what each page must show.
//
// It is a package of its own so the tests can build it without the race
// detector (see ./fill): the store's writer runs many times slower under
// -race, which would turn writing 100,000 users from seconds into
// half a minute.
package testinventory

import (
	"context"
	"fmt"
	"time"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

const (
	// Users is the number of users written.
	Users = 100_000
	// ConnID is the connection the data belongs to.
	ConnID = "b16b16b16b16b16b16b16b16b16b16b1"
	// FormulaUser's display name is a spreadsheet formula: exports must
	// defuse it.
	FormulaUser = 4242
	// Applications is the number of service principals; every third is
	// Microsoft's.
	Applications = 50

	SkuE3    = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	SkuE5    = "c7df2760-2c81-4ef7-b578-5b5392b571df"
	SkuVisio = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
)

var (
	firstNames = []string{"Ada", "bruno", "Chloé", "Dmitri", "Eva", "farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Mateo"}
	lastNames  = []string{"Okafor", "park", "Quinn", "Rossi", "Svensson", "tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "zhang", "Abbott", "Berg"}
	depts      = []string{"Sales", "Finance", "IT", "Legal", "Marketing", "Operations", "Support"}
)

// Name is user i's display name: mixed case, so sorting must fold case,
// and repeated, so sorting must break ties.
func Name(i int) string {
	if i == FormulaUser {
		return `=HYPERLINK("http://evil.example")`
	}
	return fmt.Sprintf("%s %s %d", firstNames[i*7%len(firstNames)], lastNames[i*11%len(lastNames)], i%997)
}

// UPN is user i's user principal name.
func UPN(i int) string { return fmt.Sprintf("user%06d@contoso.example", i) }

// User is user i. E3 is held by even users (50,000), E5 by multiples of 5
// (20,000).
func User(i int) inventory.User {
	u := inventory.User{
		ID:                fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i),
		UserPrincipalName: UPN(i),
		DisplayName:       Name(i),
		Mail:              UPN(i),
		AccountEnabled:    i%9 != 0,
		UsageLocation:     "DE",
		Department:        depts[i%len(depts)],
		JobTitle:          "Clerk",
		CreatedDateTime:   time.Date(2024, 1, 1+i%28, 9, 0, 0, 0, time.UTC),
	}
	if i%2 == 0 {
		u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: SkuE3, DisabledPlans: []string{}})
	}
	if i%5 == 0 {
		u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: SkuE5, DisabledPlans: []string{}})
	}
	return u
}

// Fill writes one good run of Users users for ConnID. Visio is purchased
// but never assigned; the active-users report lists every 10th user, and
// those that are multiples of 20 were active in the 30 days before the
// report's refresh date.
func Fill(ctx context.Context, s *inventory.Store) error {
	w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: ConnID, ConnectionName: "Contoso", Trigger: inventory.TriggerManual})
	if err != nil {
		return err
	}
	if err := w.AddSKUs(ctx, []inventory.SKU{
		{SkuID: SkuE3, SkuPartNumber: "ENTERPRISEPACK", AppliesTo: "User", CapabilityStatus: "Enabled", ConsumedUnits: 50_000,
			PrepaidUnits: inventory.PrepaidUnits{Enabled: 60_000}, SubscriptionIDs: []string{}},
		{SkuID: SkuE5, SkuPartNumber: "ENTERPRISEPREMIUM", AppliesTo: "User", CapabilityStatus: "Enabled", ConsumedUnits: 20_000,
			PrepaidUnits: inventory.PrepaidUnits{Enabled: 25_000}, SubscriptionIDs: []string{}},
		// In its warning grace period: still purchased (issue 23).
		{SkuID: SkuVisio, SkuPartNumber: "VISIOCLIENT", AppliesTo: "User", CapabilityStatus: "Warning",
			PrepaidUnits: inventory.PrepaidUnits{Warning: 100, Suspended: 5}, SubscriptionIDs: []string{}},
	}); err != nil {
		return err
	}
	// Pages of 999, as Graph delivers them.
	page := make([]inventory.User, 0, 999)
	for i := 0; i < Users; i++ {
		page = append(page, User(i))
		if len(page) == cap(page) || i == Users-1 {
			if err := w.AddUsers(ctx, page); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	var apps []inventory.ServicePrincipal
	for i := 0; i < Applications; i++ {
		a := inventory.ServicePrincipal{ID: fmt.Sprintf("sp-%02d", i), AppID: fmt.Sprintf("app-%02d", i),
			DisplayName: fmt.Sprintf("App %02d", i), PublisherName: "Fabrikam", ServicePrincipalType: "Application",
			AccountEnabled: true, Tags: []string{}}
		if i%3 == 0 {
			a.PublisherName, a.AppOwnerOrganizationID = "Microsoft Services", inventory.MicrosoftTenantID
		}
		apps = append(apps, a)
	}
	if err := w.AddServicePrincipals(ctx, apps); err != nil {
		return err
	}
	spec := inventory.Report(inventory.ReportActiveUsers)
	var rows []inventory.ReportRow
	for i := 0; i < Users; i += 10 {
		r := inventory.ReportRow{Cells: make([]string, len(spec.Columns))}
		r.Cells[spec.Column("Report Refresh Date")] = "2026-11-23"
		r.Cells[spec.Column("User Principal Name")] = UPN(i)
		r.Cells[spec.Column("Display Name")] = Name(i)
		r.Cells[spec.Column("Is Deleted")] = "False"
		if i%20 == 0 {
			r.Cells[spec.Column("Exchange Last Activity Date")] = "2026-11-20"
		} else {
			r.Cells[spec.Column("Exchange Last Activity Date")] = "2026-01-05"
		}
		rows = append(rows, r)
		if len(rows) == 1000 {
			if err := w.AddReportRows(ctx, inventory.ReportActiveUsers, rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	if len(rows) > 0 {
		if err := w.AddReportRows(ctx, inventory.ReportActiveUsers, rows); err != nil {
			return err
		}
	}
	_, err = w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded})
	return err
}
