package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// twoTenants is smallSnapshot's Fabrikam plus a second tenant, Contoso
// (10 E3 bought; ann holds one, bob holds one on a disabled account, cat
// holds none), and Northwind, which never imported.
func twoTenants(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := smallSnapshot(t)
	if err := storage.NewConfigStore(dir).Update(func(cfg *storage.Config) error {
		for _, c := range [][2]string{{"conn-contoso", "Contoso"}, {"conn-northwind", "Northwind"}} {
			cfg.Connections = append(cfg.Connections, storage.Connection{ID: c[0], Name: c[1], SourceType: storage.SourceMicrosoft365,
				Cloud: "Global", ClientID: "c", AuthFlow: storage.FlowAuthorizationCode})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := beginRun(t, dir, "conn-contoso", "Contoso")
	if err := w.AddSKUs(ctx, []inventory.SKU{{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}}}); err != nil {
		t.Fatal(err)
	}
	e3 := []inventory.AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}
	if err := w.AddUsers(ctx, []inventory.User{
		{ID: "ann", UserPrincipalName: "ann@contoso.example", AccountEnabled: true, AssignedLicenses: e3},
		{ID: "bob", UserPrincipalName: "bob@contoso.example", AccountEnabled: false, AssignedLicenses: e3},
		{ID: "cat", UserPrincipalName: "cat@contoso.example", AccountEnabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOptimizeAllSumsEveryConnection: --all gives each SKU's figures
// summed over the connections' own reports, with the per-connection
// figures beside them, and leaves out (but names) a connection without
// data.
func TestOptimizeAllSumsEveryConnection(t *testing.T) {
	dir := twoTenants(t)
	if code, _, errs := runIn(dir, "prices", "set", "ENTERPRISEPACK", "23", "EUR"); code != ExitOK {
		t.Fatalf("prices set: %d %s", code, errs)
	}
	code, out, errs := runIn(dir, "optimize", "--all", "--format", "json")
	if code != ExitOK {
		t.Fatalf("optimize --all: %d %s", code, errs)
	}
	var all optimizeAllReport
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("the JSON does not parse: %v\n%s", err, out)
	}
	if len(all.Connections) != 2 || len(all.NoData) != 1 || all.NoData[0] != "Northwind" {
		t.Fatalf("connections %+v, no data %v", all.Connections, all.NoData)
	}
	want := map[string]optimizeAllFigures{}
	seats := 0
	for _, name := range []string{"Fabrikam", "Contoso"} {
		code, out, errs := runIn(dir, "optimize", name, "--format", "json")
		var rep optimizeReport
		if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("optimize %s: %d %s", name, code, errs)
		}
		seats += rep.Totals.RecoverableSeats
		for _, s := range rep.SKUs {
			f := want[s.SkuID]
			f.Purchased += s.Purchased
			f.Assigned += s.Assigned
			f.Unused += s.Unused
			f.Recoverable += s.Recoverable
			want[s.SkuID] = f
		}
	}
	if len(all.SKUs) != len(want) {
		t.Fatalf("%d SKUs summed, %d in the connections", len(all.SKUs), len(want))
	}
	for _, s := range all.SKUs {
		got := s.optimizeAllFigures
		got.Cost, got.Spend = nil, nil
		if got != want[s.SkuID] {
			t.Errorf("%s: %+v, want %+v", s.PartNumber, got, want[s.SkuID])
		}
	}
	// By hand: E3 is in both. Fabrikam 7 bought, 6 assigned, 4
	// recoverable; Contoso 10 bought, 2 assigned, 8 unused + bob.
	e3 := all.SKUs[0]
	if e3.SkuID != skuE3 || e3.Purchased != 17 || e3.Assigned != 8 || e3.Recoverable != 13 || len(e3.Connections) != 2 ||
		e3.Cost == nil || e3.Cost.PerMonth != "299.00" || e3.Spend.PerMonth != "391.00" || e3.Seats["disabled"] != 2 {
		t.Errorf("E3 across tenants: %+v", e3)
	}
	if e3.Connections[0].Connection != "Fabrikam" || e3.Connections[0].Recoverable != 4 || e3.Connections[1].Connection != "Contoso" ||
		e3.Connections[1].Recoverable != 9 || e3.Connections[1].Cost.PerMonth != "207.00" {
		t.Errorf("E3 per connection: %+v", e3.Connections)
	}
	if all.Totals.RecoverableSeats != seats {
		t.Errorf("recoverable seats %d, the connections' add up to %d", all.Totals.RecoverableSeats, seats)
	}

	code, out, errs = runIn(dir, "optimize", "--all")
	if code != ExitOK || !strings.Contains(out, "All connections: 2 connections summed") || !strings.Contains(out, "Not imported yet (left out): Northwind") ||
		!strings.Contains(out, "Recoverable across all connections: ") || !strings.Contains(out, "391.00 EUR") {
		t.Errorf("table: %d %s\n%s", code, errs, out)
	}

	code, out, errs = runIn(dir, "optimize", "--all", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != ExitOK || err != nil || len(recs) != len(want)+1 {
		t.Fatalf("csv: %d %v %s\n%s", code, err, errs, out)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"Purchased", "Recoverable", "Waste per Month", "Fabrikam Purchased", "Contoso Recoverable", "Contoso Waste per Month"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("csv: no column %q in %v", h, recs[0])
		}
	}
	for _, r := range recs[1:] {
		if r[col["SKU Part Number"]] == "ENTERPRISEPACK" && (r[col["Purchased"]] != "17" || r[col["Fabrikam Purchased"]] != "7" ||
			r[col["Contoso Recoverable"]] != "9" || r[col["Waste per Month"]] != "299.00") {
			t.Errorf("csv E3 row: %v", r)
		}
		if r[col["SKU Part Number"]] == "EMS" && r[col["Contoso Purchased"]] != "" {
			t.Errorf("csv: Contoso holds no EMS, its cells are %v", r)
		}
	}
}

// TestOptimizeAllUsage: --all takes no name and no --list; without --all
// one name is still needed.
func TestOptimizeAllUsage(t *testing.T) {
	dir := twoTenants(t)
	for _, args := range [][]string{{"optimize", "--all", "Fabrikam"}, {"optimize", "--all", "--list", "inactive"}, {"optimize"}} {
		if code, _, errs := runIn(dir, args...); code != ExitUsage || !strings.Contains(errs, "--all") {
			t.Errorf("%v: %d %s", args, code, errs)
		}
	}
	// Nothing imported anywhere.
	if code, _, errs := runIn(neverImported(t), "optimize", "--all"); code != ExitFailed || !strings.Contains(errs, "no connection has imported data") {
		t.Errorf("nothing imported: %d %s", code, errs)
	}
}

// TestListTotals: with several connections, `beacon list` ends its table
// with the users and seats of every current import.
func TestListTotals(t *testing.T) {
	dir := twoTenants(t)
	code, out, errs := runIn(dir, "list")
	if code != ExitOK || !strings.Contains(out, "Total: 11 users in 2 of 3 connections; 21 licences purchased, 11 assigned") {
		t.Errorf("list: %d %s\n%s", code, errs, out)
	}
	// One connection: nothing to add up.
	code, out, _ = runIn(smallSnapshot(t), "list")
	if code != ExitOK || strings.Contains(out, "Total:") {
		t.Errorf("list of one connection: %d\n%s", code, out)
	}
}

// neverImported is a configuration with one connection, Northwind, and no
// inventory database.
func neverImported(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := storage.NewConfigStore(dir).Save(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{{ID: "x",
		Name: "Northwind", SourceType: storage.SourceMicrosoft365, Cloud: "Global", ClientID: "c", AuthFlow: storage.FlowAuthorizationCode}}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// beginRun starts an import of connection id into the inventory of dir,
// closed when the test ends.
func beginRun(t *testing.T, dir, id, name string) *inventory.RunWriter {
	t.Helper()
	s, err := inventory.OpenDir(context.Background(), dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := s.BeginRun(context.Background(), inventory.RunInfo{ConnectionID: id, ConnectionName: name, Trigger: inventory.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
