package optimize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// snapshot100k stores a 100,000-user snapshot: two SKUs, a third of the
// users holding a second licence through a group, usage rows for 80%.
func snapshot100k(b *testing.B) (*inventory.Store, string) {
	b.Helper()
	ctx := context.Background()
	s, err := inventory.Open(ctx, filepath.Join(b.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: "c", ConnectionName: "Contoso", Trigger: inventory.TriggerCLI})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.AddSKUs(ctx, []inventory.SKU{
		{SkuID: e3, SkuPartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: 110000}, SubscriptionIDs: []string{}},
		{SkuID: ems, SkuPartNumber: "EMS", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: 40000}, SubscriptionIDs: []string{}},
	}); err != nil {
		b.Fatal(err)
	}
	spec := inventory.Report(inventory.ReportActiveUsers)
	const n = 100_000
	for start := 0; start < n; start += 1000 {
		users := make([]inventory.User, 0, 1000)
		var rows []inventory.ReportRow
		for i := start; i < start+1000; i++ {
			u := inventory.User{ID: fmt.Sprintf("id-%06d", i), UserPrincipalName: fmt.Sprintf("user%06d@contoso.example", i),
				DisplayName: fmt.Sprintf("User %06d", i), AccountEnabled: i%20 != 0, Department: "Sales",
				CreatedDateTime:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%800),
				AssignedLicenses: []inventory.AssignedLicense{{SkuID: e3, DisabledPlans: []string{}}}}
			if i%3 == 0 {
				u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: ems, DisabledPlans: []string{}})
				u.LicenseAssignmentStates = []inventory.LicenseAssignmentState{{SkuID: e3, State: "Active"},
					{SkuID: ems, AssignedByGroup: "g1", State: "Active"}}
			}
			users = append(users, u)
			if i%5 != 0 {
				r := inventory.ReportRow{Cells: make([]string, len(spec.Columns))}
				r.Cells[spec.Column("Report Refresh Date")] = "2026-03-01"
				r.Cells[spec.Column("User Principal Name")] = u.UserPrincipalName
				r.Cells[spec.Column("Is Deleted")] = "False"
				r.Cells[spec.Column("Exchange Last Activity Date")] = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(i % 300)).Format("2006-01-02")
				rows = append(rows, r)
			}
		}
		if err := w.AddUsers(ctx, users); err != nil {
			b.Fatal(err)
		}
		if err := w.AddReportRows(ctx, inventory.ReportActiveUsers, rows); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.AddLicenseGroups(ctx, []inventory.Group{{ID: "g1", DisplayName: "Licensing - EMS"}}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		b.Fatal(err)
	}
	return s, "c"
}

// BenchmarkOpenPage100k is what opening the Optimization page costs at
// 100,000 users: reading the snapshot's facts and computing the default N.
func BenchmarkOpenPage100k(b *testing.B) {
	s, conn := snapshot100k(b)
	ctx := context.Background()
	o := Options{InactiveDays: DefaultInactiveDays, Prices: prices, Catalog: catalog.Builtin()}
	b.ReportAllocs()
	for b.Loop() {
		f, err := Load(ctx, s, conn, inventory.Query{})
		if err != nil {
			b.Fatal(err)
		}
		if r := Compute(f, o); r.RecoverableSeats == 0 {
			b.Fatal("nothing recoverable")
		}
	}
}

// benchDB opens the database BEACON_BENCH_DB names (an inventory.db made by
// `beacon execute --full`, e.g. against the simulator with 1,000,000
// users) and reads its current snapshot's facts; the benchmarks skip
// without one.
func benchDB(b *testing.B) (*inventory.Store, string) {
	path := os.Getenv("BEACON_BENCH_DB")
	if path == "" {
		b.Skip("BEACON_BENCH_DB names no prepared inventory database")
	}
	s, err := inventory.Open(context.Background(), path, inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	last, err := s.LastRuns(context.Background())
	if err != nil || len(last) == 0 {
		b.Fatalf("no runs in %s: %v", path, err)
	}
	for conn := range last {
		return s, conn
	}
	return nil, ""
}

// BenchmarkOpenPageBenchDB is BenchmarkOpenPage100k on the prepared
// database: opening the Optimization page (the facts read once per
// snapshot, then the default N).
func BenchmarkOpenPageBenchDB(b *testing.B) {
	s, conn := benchDB(b)
	o := Options{InactiveDays: DefaultInactiveDays, Prices: prices, Catalog: catalog.Builtin()}
	for b.Loop() {
		f, err := Load(context.Background(), s, conn, inventory.Query{})
		if err != nil {
			b.Fatal(err)
		}
		Compute(f, o)
	}
}

// BenchmarkComputeBenchDB is typing another N on the Optimization page of
// the prepared database: a computation over the facts in memory.
func BenchmarkComputeBenchDB(b *testing.B) {
	s, conn := benchDB(b)
	f, err := Load(context.Background(), s, conn, inventory.Query{})
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Prices: prices, Catalog: catalog.Builtin()}
	for i := 0; b.Loop(); i++ {
		o.InactiveDays = InactiveChoices[i%len(InactiveChoices)]
		Compute(f, o)
	}
}

// BenchmarkPreparedComputeBenchDB is BenchmarkComputeBenchDB as the
// window computes: prepared once per snapshot and catalogue.
func BenchmarkPreparedComputeBenchDB(b *testing.B) {
	s, conn := benchDB(b)
	f, err := Load(context.Background(), s, conn, inventory.Query{})
	if err != nil {
		b.Fatal(err)
	}
	p := Prepare(f, catalog.Builtin())
	o := Options{Prices: prices}
	for i := 0; b.Loop(); i++ {
		o.InactiveDays = InactiveChoices[i%len(InactiveChoices)]
		p.Compute(o)
	}
}

// BenchmarkPrepareBenchDB is the preparing, once per snapshot and
// catalogue (the first N's figures wait for it).
func BenchmarkPrepareBenchDB(b *testing.B) {
	s, conn := benchDB(b)
	f, err := Load(context.Background(), s, conn, inventory.Query{})
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.Builtin()
	for b.Loop() {
		Prepare(f, cat)
	}
}
