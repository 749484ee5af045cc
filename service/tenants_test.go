package service

import (
	"context"
	"fmt"
	"testing"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

const (
	tenantsE3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	tenantsE5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
	tenantsF1 = "66b55226-6b4f-492c-910c-a3b7a3c9d993"
)

// writeTenant stores a finished snapshot of connection id: purchased
// seats per SKU, and users holding the SKUs given (disabled when their
// index is in disabled).
func writeTenant(t *testing.T, store *inventory.Store, id, name string, purchased map[string]int, held [][]string, disabled map[int]bool) {
	t.Helper()
	ctx := context.Background()
	w, err := store.BeginRun(ctx, inventory.RunInfo{ConnectionID: id, ConnectionName: name, Trigger: inventory.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{tenantsE3: "ENTERPRISEPACK", tenantsE5: "ENTERPRISEPREMIUM", tenantsF1: "SPE_F1"}
	var skus []inventory.SKU
	for sku, n := range purchased {
		skus = append(skus, inventory.SKU{SkuID: sku, SkuPartNumber: parts[sku], PrepaidUnits: inventory.PrepaidUnits{Enabled: n}, SubscriptionIDs: []string{}})
	}
	if err := w.AddSKUs(ctx, skus); err != nil {
		t.Fatal(err)
	}
	var us []inventory.User
	for i, ls := range held {
		u := inventory.User{ID: fmt.Sprintf("%s-%d", id, i), UserPrincipalName: fmt.Sprintf("u%d@%s.example", i, id), AccountEnabled: !disabled[i]}
		for _, sku := range ls {
			u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: sku, DisabledPlans: []string{}})
		}
		us = append(us, u)
	}
	if err := w.AddUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
}

// twoTenants is an inventory of two hand-built tenants sharing E3:
// Contoso, 10 E3 (3 held, one by a disabled account) and 5 E5 (1 held);
// Fabrikam, 4 E3 (4 held, two disabled) and 20 F1 (2 held).
func twoTenants(t *testing.T) *inventory.Store {
	t.Helper()
	store, err := inventory.OpenDir(context.Background(), t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	writeTenant(t, store, "c1", "Contoso", map[string]int{tenantsE3: 10, tenantsE5: 5},
		[][]string{{tenantsE3}, {tenantsE3, tenantsE5}, {tenantsE3}}, map[int]bool{2: true})
	writeTenant(t, store, "c2", "Fabrikam", map[string]int{tenantsE3: 4, tenantsF1: 20},
		[][]string{{tenantsE3}, {tenantsE3}, {tenantsE3, tenantsF1}, {tenantsE3, tenantsF1}}, map[int]bool{0: true, 1: true})
	return store
}

// TestTotalsAreTheSumOfEachTenant: two hand-built tenants sharing one
// SKU; every figure across them is the sum of each connection's own page,
// and a connection without data is named, not counted.
func TestTotalsAreTheSumOfEachTenant(t *testing.T) {
	ctx := context.Background()
	store := twoTenants(t)
	cfg := &storage.Config{Prices: []storage.Price{
		{SkuID: tenantsE3, Cents: 2300, Currency: "EUR"},
		{SkuID: tenantsE5, Cents: 45600, Currency: "EUR", Yearly: true},
		{SkuID: tenantsF1, Cents: 225, Currency: "USD"},
	}}
	conns := []storage.Connection{{ID: "c1", Name: "Contoso"}, {ID: "c0", Name: "Not imported"}, {ID: "c2", Name: "Fabrikam"}}
	o := &Optimizer{Store: store}
	tot, err := o.Totals(ctx, conns, 30, cfg, catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if len(tot.NoData) != 1 || tot.NoData[0] != "Not imported" || len(tot.Connections) != 2 {
		t.Fatalf("connections %d, no data %v", len(tot.Connections), tot.NoData)
	}

	// Each connection on its own, as its page computes it: every SKU's
	// figures as one vector, added up per SKU.
	figures := func(s optimize.SKUSavings) [6]float64 {
		return [6]float64{float64(s.Purchased), float64(s.Assigned), float64(s.Unused), float64(s.Recoverable), s.MonthlyCents, s.TotalMonthlyCents}
	}
	want := map[string][6]float64{}
	holders := map[string]int{}
	wantTotal := map[string]float64{}
	wantWaste := map[string]float64{}
	seats := 0
	for _, c := range []string{"c1", "c2"} {
		r, err := o.Optimize(ctx, c, 30, cfg, catalog.Builtin())
		if err != nil {
			t.Fatal(err)
		}
		seats += r.RecoverableSeats
		for cur, m := range r.MonthlyCents {
			wantWaste[cur] += m
		}
		for _, s := range r.SKUs {
			v, f := want[s.SkuID], figures(s)
			for i := range v {
				v[i] += f[i]
			}
			want[s.SkuID] = v
			holders[s.SkuID]++
			wantTotal[s.Price.Currency] += s.TotalMonthlyCents
		}
	}
	if len(tot.SKUs) != 3 || len(want) != 3 {
		t.Fatalf("%d SKUs summed, %d in the tenants", len(tot.SKUs), len(want))
	}
	for _, s := range tot.SKUs {
		if got := figures(s.SKUSavings); got != want[s.SkuID] || len(s.Connections) != holders[s.SkuID] {
			t.Errorf("%s: summed %v over %d connections, want %v over %d", s.PartNumber, got, len(s.Connections), want[s.SkuID], holders[s.SkuID])
		}
	}
	// The figures worked out by hand: E3 is in both tenants. Recoverable:
	// Contoso's 7 unused, its disabled account and the E3 its E5 holder
	// has twice over; Fabrikam's two disabled accounts.
	e3 := tot.SKUs[0]
	if e3.SkuID != tenantsE3 || e3.Purchased != 14 || e3.Assigned != 7 || e3.Unused != 7 || e3.ByReason[optimize.Disabled] != 3 ||
		e3.ByReason[optimize.Overlapping] != 1 || e3.Recoverable != 11 || e3.MonthlyCents != 11*2300 || e3.TotalMonthlyCents != 14*2300 {
		t.Errorf("E3 across tenants (largest saving first): %+v", e3)
	}
	if tot.RecoverableSeats != seats || fmt.Sprint(tot.MonthlyCents) != fmt.Sprint(wantWaste) || fmt.Sprint(tot.TotalMonthlyCents) != fmt.Sprint(wantTotal) {
		t.Errorf("totals: %d seats %v waste %v cost; want %d %v %v", tot.RecoverableSeats, tot.MonthlyCents, tot.TotalMonthlyCents, seats, wantWaste, wantTotal)
	}
	// The page the window shows: the sums, no lists.
	if r := tot.Result(30); r.RecoverableSeats != seats || len(r.SKUs) != 3 || r.SKUs[0].SkuID != tenantsE3 || len(r.Lists[optimize.Inactive]) != 0 {
		t.Errorf("as one page: %d seats, %d SKUs", r.RecoverableSeats, len(r.SKUs))
	}
	if wantTotal["EUR"] != 14*2300+5*3800 || wantTotal["USD"] != 20*225 {
		t.Errorf("cost of all purchased seats: %v", wantTotal)
	}
}

// TestSumLicensesAddsUpEachTenant: the Licenses page across tenants is
// the sum of each connection's page, SKU by SKU.
func TestSumLicensesAddsUpEachTenant(t *testing.T) {
	ctx := context.Background()
	store := twoTenants(t)
	sums, imported, err := SumLicenses(ctx, store, []storage.Connection{{ID: "c1"}, {ID: "none"}, {ID: "c2"}})
	if err != nil || imported != 2 {
		t.Fatalf("%d imported, %v", imported, err)
	}
	got := map[string][3]int{}
	for _, l := range sums {
		got[l.SkuPartNumber] = [3]int{l.Purchased, l.Assigned, l.Unassigned}
	}
	want := map[string][3]int{"ENTERPRISEPACK": {14, 7, 7}, "ENTERPRISEPREMIUM": {5, 1, 4}, "SPE_F1": {20, 2, 18}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sums %v, want %v", got, want)
	}
}
