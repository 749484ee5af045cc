package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/internal/xlsx"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The SKUs of the small stored snapshot, as the built-in catalogue names
// them.
const (
	skuE3  = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK, Office 365 E3
	skuEMS = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e" // EMS, Enterprise Mobility + Security E3
	skuM3  = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3, Microsoft 365 E3
	// skuCustom is a SKU of the tenant the catalogue does not know.
	skuCustom = "11111111-2222-4333-8444-555555555555" // CONTOSO_CUSTOM

	labelE3 = "Office 365 E3 (ENTERPRISEPACK)"
)

// smallSnapshot writes a stored snapshot of a tenant small enough to work
// its figures out by hand, dated by its usage report (1 March 2026), never
// by today, into a configuration with one connection, "Fabrikam":
//
//	user  account            licences          last activity          N=90        N=7
//	ana   enabled, 2024      E3                Exchange 2026-02-25    active      active
//	ben   enabled, 2024      E3 (group)        Exchange 2025-11-01    inactive    inactive
//	cy    enabled, 2024      E3                none                   never       never
//	dee   disabled, 2023     E3, EMS           OneDrive 2026-02-27    disabled    disabled
//	eve   enabled, 2026-02-20 E3               none                   new starter never
//	fay   guest, 2024        E3                SharePoint 2026-02-28  guest       guest
//	gus   enabled, 2024      M365 E3, EMS      Teams 2026-02-28       EMS overlaps M365 E3
//	hal   enabled, 2024      (E3 by group: CountViolation)            assignment error
//
// Purchased: E3 7 (6 assigned: 1 unused), EMS 3 (2 assigned: 1 unused),
// M365 E3 1 (1 assigned), and CONTOSO_CUSTOM, unknown to the catalogue,
// none. At N=90 the recoverable seats are E3: 1 unused
// + ben + cy + dee = 4; EMS: 1 unused + dee + gus's overlap = 3; M365 E3:
// 0. At N=7 eve is no longer a new starter: E3 5.
func smallSnapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{{
		ID: "conn-fabrikam", Name: "Fabrikam", SourceType: storage.SourceMicrosoft365, Cloud: "Global", ClientID: "c", AuthFlow: storage.FlowAuthorizationCode,
	}}}
	if err := storage.NewConfigStore(dir).Save(cfg); err != nil {
		t.Fatal(err)
	}
	w := beginRun(t, dir, "conn-fabrikam", "Fabrikam")
	sku := func(id, part string, n int) inventory.SKU {
		return inventory.SKU{SkuID: id, SkuPartNumber: part, ID: "t_" + id, AppliesTo: "User", CapabilityStatus: "Enabled",
			PrepaidUnits: inventory.PrepaidUnits{Enabled: n}, SubscriptionIDs: []string{}}
	}
	if err := w.AddSKUs(ctx, []inventory.SKU{sku(skuE3, "ENTERPRISEPACK", 7), sku(skuEMS, "EMS", 3), sku(skuM3, "SPE_E3", 1),
		sku(skuCustom, "CONTOSO_CUSTOM", 0)}); err != nil {
		t.Fatal(err)
	}
	user := func(name string, enabled bool, created string, skus ...string) inventory.User {
		c, _ := time.Parse(time.DateOnly, created)
		u := inventory.User{ID: "id-" + name, UserPrincipalName: name + "@fabrikam.example", DisplayName: strings.ToUpper(name[:1]) + name[1:],
			AccountEnabled: enabled, Department: "Sales", CreatedDateTime: c.Add(9 * time.Hour), UserType: "Member",
			AssignedLicenses: []inventory.AssignedLicense{}, AssignedPlans: []inventory.AssignedPlan{}}
		for _, id := range skus {
			u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: id, DisabledPlans: []string{}})
		}
		return u
	}
	ben := user("ben", true, "2024-01-01", skuE3)
	ben.LicenseAssignmentStates = []inventory.LicenseAssignmentState{{SkuID: skuE3, AssignedByGroup: "g1", State: "Active", Error: "None"}}
	fay := user("fay", true, "2024-01-01", skuE3)
	fay.UserType = "Guest"
	hal := user("hal", true, "2024-01-01")
	hal.LicenseAssignmentStates = []inventory.LicenseAssignmentState{{SkuID: skuE3, AssignedByGroup: "g1", State: "Error", Error: "CountViolation"}}
	users := []inventory.User{user("ana", true, "2024-01-01", skuE3), ben, user("cy", true, "2024-01-01", skuE3),
		user("dee", false, "2023-01-01", skuE3, skuEMS), user("eve", true, "2026-02-20", skuE3), fay,
		user("gus", true, "2024-01-01", skuM3, skuEMS), hal}
	if err := w.AddUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := w.AddLicenseGroups(ctx, []inventory.Group{{ID: "g1", DisplayName: "Licensing - E3"}}); err != nil {
		t.Fatal(err)
	}
	spec := inventory.Report(inventory.ReportActiveUsers)
	row := func(name, workload, last string) inventory.ReportRow {
		r := inventory.ReportRow{Cells: make([]string, len(spec.Columns))}
		r.Cells[spec.Column("Report Refresh Date")] = "2026-03-01"
		r.Cells[spec.Column("User Principal Name")] = name + "@fabrikam.example"
		r.Cells[spec.Column("Is Deleted")] = "False"
		if workload != "" {
			r.Cells[spec.Column(workload+" Last Activity Date")] = last
		}
		return r
	}
	if err := w.AddReportRows(ctx, inventory.ReportActiveUsers, []inventory.ReportRow{
		row("ana", "Exchange", "2026-02-25"), row("ben", "Exchange", "2025-11-01"), row("cy", "", ""),
		row("dee", "OneDrive", "2026-02-27"), row("eve", "", ""), row("fay", "SharePoint", "2026-02-28"),
		row("gus", "Teams", "2026-02-28"), row("hal", "", ""),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded,
		SignIns: "Sign-in activity needs Microsoft Entra ID P1: last activity comes from the usage reports."}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runIn(dir string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, ConfigDir: dir}
	code = Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func optimizeJSON(t *testing.T, dir string, args ...string) optimizeReport {
	t.Helper()
	code, out, errs := runIn(dir, append([]string{"optimize", "Fabrikam", "--format", "json"}, args...)...)
	var rep optimizeReport
	if code != ExitOK {
		t.Fatalf("optimize %v: %d\n%s", args, code, errs)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("optimize %v: the JSON does not parse: %v\n%s", args, err, out)
	}
	return rep
}

func skuLine(t *testing.T, rep optimizeReport, id string) optimizeSKU {
	t.Helper()
	for _, s := range rep.SKUs {
		if s.SkuID == id {
			return s
		}
	}
	t.Fatalf("no line for %s in %+v", id, rep.SKUs)
	return optimizeSKU{}
}

func listUPNs(rep optimizeReport, key string) []string {
	for _, l := range rep.Lists {
		if l.List == key {
			var out []string
			for _, f := range l.Users {
				out = append(out, strings.TrimSuffix(f.UPN, "@fabrikam.example"))
			}
			return out
		}
	}
	return nil
}

// TestOptimizeByHand checks `beacon optimize` against the figures of
// smallSnapshot worked out by hand, before and after prices are set.
func TestOptimizeByHand(t *testing.T) {
	dir := smallSnapshot(t)
	rep := optimizeJSON(t, dir)
	if rep.Connection != "Fabrikam" || rep.ActivityAsOf != "2026-03-01" || rep.InactiveDays != 90 || !rep.ActivityKnown ||
		!rep.Catalog.Builtin || rep.Catalog.Products < 500 || !strings.Contains(rep.SignInNotice, "Entra ID P1") {
		t.Fatalf("header: %+v", rep)
	}
	for key, want := range map[string][]string{
		"new": {"eve"}, "disabled": {"dee"}, "never": {"cy"}, "inactive": {"ben"}, "guests": {"fay"}, "overlaps": {"gus"}, "errors": {"hal"},
	} {
		if got := listUPNs(rep, key); !slices.Equal(got, want) {
			t.Errorf("list %s: %v, want %v", key, got, want)
		}
	}
	e3 := skuLine(t, rep, skuE3)
	if e3.Name != labelE3 || e3.Purchased != 7 || e3.Assigned != 6 || e3.Unused != 1 || e3.Recoverable != 3 || e3.Price != nil ||
		e3.Seats["inactive"] != 1 || e3.Seats["never"] != 1 || e3.Seats["disabled"] != 1 || e3.Seats["new"] != 1 || e3.Seats["guests"] != 1 {
		t.Errorf("E3 line: %+v", e3)
	}
	if ems := skuLine(t, rep, skuEMS); ems.Recoverable != 2 || ems.Unused != 1 || ems.Seats["overlaps"] != 1 ||
		ems.Name != "Enterprise Mobility + Security E3 (EMS)" {
		t.Errorf("EMS line: %+v", ems)
	}
	// Without prices the unused units are not counted (free SKUs have
	// thousands): 3 E3 seats (ben, cy, dee) and 2 EMS (dee, gus's overlap).
	if rep.Totals.RecoverableSeats != 5 || rep.Totals.UnpricedSeats != 5 || rep.Totals.UncountedUnused != 2 || len(rep.Totals.Cost) != 0 ||
		rep.Totals.GroupAssigned != 1 {
		t.Errorf("totals without prices: %+v", rep.Totals)
	}
	// Ben's licence comes from a group: removing it means leaving the
	// group; Hal's group assignment failed.
	ben := rep.Lists[slices.IndexFunc(rep.Lists, func(l optimizeList) bool { return l.List == "inactive" })].Users[0]
	if ben.Activity.Exchange != "2025-11-01" || ben.LastActivity != "2025-11-01" || ben.Department != "Sales" ||
		len(ben.Licenses) != 1 || ben.Licenses[0].Source != "group" || ben.Licenses[0].Group != "Licensing - E3" || ben.Licenses[0].Name != labelE3 {
		t.Errorf("ben: %+v", ben)
	}
	hal := rep.Lists[slices.IndexFunc(rep.Lists, func(l optimizeList) bool { return l.List == "errors" })].Users[0]
	if hal.Licenses[0].Source != "error" || hal.Licenses[0].Error != "CountViolation" || !strings.Contains(hal.Detail, "CountViolation") {
		t.Errorf("hal: %+v", hal)
	}

	// Prices: E3 23 EUR a month, EMS 120 EUR a year (10 a month); their
	// unused units count now. Recoverable: 4 × 23 + 3 × 10 = 122 EUR a
	// month, 1464 a year.
	for _, args := range [][]string{{"prices", "set", "ENTERPRISEPACK", "23", "eur"}, {"prices", "set", "Enterprise Mobility + Security E3", "120", "EUR", "--per", "year"}} {
		if code, out, errs := runIn(dir, args...); code != ExitOK {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	rep = optimizeJSON(t, dir)
	if c := rep.Totals.Cost; len(c) != 1 || c[0].Currency != "EUR" || c[0].PerMonth != "122.00" || c[0].PerYear != "1464.00" || rep.Totals.UnpricedSeats != 0 {
		t.Errorf("totals with prices: %+v", rep.Totals)
	}
	if e3 := skuLine(t, rep, skuE3); e3.Price == nil || e3.Price.Amount != "23.00" || e3.Price.Per != "month" || e3.Cost == nil || e3.Cost.PerMonth != "92.00" {
		t.Errorf("E3 priced: %+v %+v %+v", e3, e3.Price, e3.Cost)
	}
	// Dee holds E3 and EMS: 23 + 10 a month.
	dee := rep.Lists[slices.IndexFunc(rep.Lists, func(l optimizeList) bool { return l.List == "disabled" })].Users[0]
	if len(dee.Cost) != 1 || dee.Cost[0].PerMonth != "33.00" || dee.Cost[0].PerYear != "396.00" {
		t.Errorf("dee's cost: %+v", dee.Cost)
	}

	// N = 7: eve (created 9 days before the reference date) is no longer a
	// new starter, and never active.
	rep = optimizeJSON(t, dir, "--inactive-days", "7", "--list", "never")
	if len(rep.Lists) != 1 || !slices.Equal(listUPNs(rep, "never"), []string{"cy", "eve"}) || skuLine(t, rep, skuE3).Recoverable != 5 ||
		rep.Totals.Cost[0].PerMonth != "145.00" {
		t.Errorf("N=7: lists %+v, totals %+v", rep.Lists, rep.Totals)
	}

	// The table says the same in a terminal's words.
	code, out, errs := runIn(dir, "optimize", "fabrikam")
	for _, want := range []string{"activity as of 2026-03-01", "no activity for 90 days", "Catalogue: Microsoft licensing catalogue",
		"Notice: Sign-in activity needs Microsoft Entra ID P1", labelE3, "23.00 EUR/month", "Recoverable: 7 seats, 122.00 EUR a month, 1464.00 EUR a year",
		"Inactive (no activity for 90 days): 1 user", "ben@fabrikam.example", "group Licensing - E3", "2025-11-01", "Assignment error: 1 user",
		"error: group Licensing - E3 (CountViolation)", "33.00 EUR"} {
		if !strings.Contains(out, want) {
			t.Errorf("table: no %q", want)
		}
	}
	if code != ExitOK || errs != "" {
		t.Fatalf("table: %d %s\n%s", code, errs, out)
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestOptimizeCSV: one row per finding, with its list, that encoding/csv
// reads back; a file gets the byte-order mark, standard output not.
func TestOptimizeCSV(t *testing.T) {
	dir := smallSnapshot(t)
	if code, _, errs := runIn(dir, "prices", "set", skuE3, "23.50", "EUR"); code != ExitOK {
		t.Fatal(errs)
	}
	code, out, errs := runIn(dir, "optimize", "Fabrikam", "--format", "csv")
	if code != ExitOK || strings.HasPrefix(out, csvsafe.BOM) {
		t.Fatalf("csv: %d %s\n%.80q", code, errs, out)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("no column %q in %v", name, head)
		}
		return i
	}
	// eve, dee, cy, ben, fay, gus, hal: one each.
	if len(recs) != 8 || head[0] != "Reason" {
		t.Fatalf("%d records, header %v", len(recs)-1, head)
	}
	byUser := map[string][]string{}
	for _, r := range recs[1:] {
		if len(r) != len(head) {
			t.Fatalf("row of %d cells, header of %d", len(r), len(head))
		}
		byUser[r[col("User Principal Name")]] = r
	}
	dee := byUser["dee@fabrikam.example"]
	if dee[col("Reason")] != "Disabled account" || dee[col("Licenses")] != labelE3+"; Enterprise Mobility + Security E3 (EMS)" ||
		dee[col("SKU Part Numbers")] != "ENTERPRISEPACK; EMS" || dee[col("OneDrive Last Activity")] != "2026-02-27" ||
		dee[col("Monthly Cost")] != "23.50" || dee[col("Yearly Cost")] != "282.00" || dee[col("Currency")] != "EUR" ||
		dee[col("Assignment Source")] != "direct; direct" || dee[col("Recoverable")] != "true" || dee[col("Activity As Of")] != "2026-03-01" {
		t.Errorf("dee: %v", dee)
	}
	if gus := byUser["gus@fabrikam.example"]; gus[col("Reason")] != "Overlapping licences" || !strings.Contains(gus[col("Detail")], "Microsoft 365 E3") ||
		gus[col("Monthly Cost")] != "" {
		t.Errorf("gus: %v", gus)
	}

	file := filepath.Join(t.TempDir(), "reclaim.csv")
	if code, _, errs := runIn(dir, "optimize", "Fabrikam", "--format", "csv", "--list", "inactive", "--output", file); code != ExitOK {
		t.Fatal(errs)
	}
	raw, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(raw), csvsafe.BOM) {
		t.Fatalf("the file has no byte-order mark: %.20q", raw)
	}
	recs, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), csvsafe.BOM))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != "Inactive" || recs[1][1] != "ben@fabrikam.example" {
		t.Fatalf("--list inactive to a file: %v %v", recs, err)
	}

	// The same list as an Excel workbook holds the CSV's rows (issue 17).
	book := filepath.Join(t.TempDir(), "reclaim.xlsx")
	if code, _, errs := runIn(dir, "optimize", "Fabrikam", "--format", "xlsx", "--list", "inactive", "--output", book); code != ExitOK {
		t.Fatal(errs)
	}
	rows, err := xlsx.ReadFile(book)
	if err != nil || len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(recs[0], "|") ||
		strings.Join(rows[1], "|") != strings.TrimRight(strings.Join(recs[1], "|"), "|") {
		t.Fatalf("--format xlsx: %v %v\nwant %v", rows, err, recs)
	}
	if code, _, _ := runIn(dir, "optimize", "Fabrikam", "--format", "xlsx"); code != ExitUsage {
		t.Fatalf("xlsx to standard output: %d, want a usage error", code)
	}
}

// TestOptimizeExitCodes: a usage error is ExitUsage; an unknown name or
// a connection without data is ExitFailed with a plain message.
func TestOptimizeExitCodes(t *testing.T) {
	dir := smallSnapshot(t)
	for _, args := range [][]string{
		{"optimize"}, {"optimize", "Fabrikam", "Contoso"}, {"optimize", "Fabrikam", "--inactive-days", "0"},
		{"optimize", "Fabrikam", "--inactive-days", "3651"}, {"optimize", "Fabrikam", "--inactive-days", "ninety"},
		{"optimize", "Fabrikam", "--format", "xml"}, {"optimize", "Fabrikam", "--list", "idle"}, {"optimize", "Fabrikam", "--bom", "maybe"},
	} {
		if code, _, _ := runIn(dir, args...); code != ExitUsage {
			t.Errorf("%v: %d, want %d", args, code, ExitUsage)
		}
	}
	if code, _, errs := runIn(dir, "optimize", "Fabrikam", "--inactive-days", "3650"); code != ExitOK {
		t.Errorf("3650 days: %d %s", code, errs)
	}
	if code, _, errs := runIn(dir, "optimize", "Nobody"); code != ExitFailed || !strings.Contains(errs, "no connection named \"Nobody\"") {
		t.Errorf("unknown name: %d %s", code, errs)
	}
	// A second connection that never imported.
	cs := storage.NewConfigStore(dir)
	if err := cs.Update(func(cfg *storage.Config) error {
		cfg.Connections = append(cfg.Connections, storage.Connection{ID: "conn-new", Name: "Northwind", SourceType: storage.SourceMicrosoft365,
			Cloud: "Global", ClientID: "c", AuthFlow: storage.FlowAuthorizationCode})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runIn(dir, "optimize", "Northwind"); code != ExitFailed || out != "" ||
		!strings.Contains(errs, "Northwind has no imported data yet: run `beacon execute \"Northwind\"` first") {
		t.Errorf("no snapshot: %d %q %s", code, out, errs)
	}
	// Nor without any database.
	empty := neverImported(t)
	if code, _, errs := runIn(empty, "optimize", "Northwind"); code != ExitFailed || !strings.Contains(errs, "run `beacon execute") {
		t.Errorf("no database: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(empty, inventory.FileName)); err == nil {
		t.Error("optimize created a database")
	}
}
