package service

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestImportWritesTheOptimizationFigures: the history's day says what the
// Optimization page says of the same snapshot with its defaults, at the
// price configured when the import ran.
func TestImportWritesTheOptimizationFigures(t *testing.T) {
	ctx := context.Background()
	e, conn, _ := setupSim(t, m365sim.Options{Users: 80, Seed: 7})
	if _, err := e.Import(ctx, conn, ImportRequest{Trigger: inventory.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	lic, err := e.Store.Licenses(ctx, conn.ID, inventory.Query{})
	if err != nil || len(lic) == 0 {
		t.Fatalf("licences %v, %v", lic, err)
	}
	priced := strings.ToLower(lic[0].SkuID)
	cs := storage.NewConfigStore(e.ConfigDir)
	if err := SetPrice(cs, priced, lic[0].SkuPartNumber, storage.Price{Cents: 3000, Currency: "EUR", Yearly: true}, false); err != nil {
		t.Fatal(err)
	}
	// A second import the same day replaces the day, now with the price.
	if _, err := e.Import(ctx, conn, ImportRequest{Trigger: inventory.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cs.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Optimizer{Store: e.Store}).Optimize(ctx, conn.ID, optimize.HistoryInactiveDays, cfg, catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	h := History{Store: e.Store, ConfigDir: e.ConfigDir}
	rows, err := h.SKUs(ctx, conn.ID, inventory.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.SKUs) {
		t.Fatalf("%d history rows for %d SKUs", len(rows), len(res.SKUs))
	}
	byID := map[string]inventory.HistorySKU{}
	for _, r := range rows {
		byID[r.SkuID] = r
	}
	anyWaste := false
	for _, s := range res.SKUs {
		r := byID[strings.ToLower(s.SkuID)]
		inactive := s.ByReason[optimize.Disabled] + s.ByReason[optimize.NeverActive] + s.ByReason[optimize.Inactive]
		anyWaste = anyWaste || inactive > 0
		if r.Purchased != s.Purchased || r.Assigned != s.Assigned || r.InactiveAssigned != inactive || r.Overlapping != s.ByReason[optimize.Overlapping] {
			t.Errorf("%s: history %+v, page %+v", s.PartNumber, r, s)
		}
		if r.Priced != (strings.ToLower(s.SkuID) == priced) {
			t.Errorf("%s priced %v", s.PartNumber, r.Priced)
		}
		if r.Priced && (r.PriceCents != 3000 || !r.Yearly || r.Currency != "EUR" || r.CostCents != int64(math.Round(s.TotalMonthlyCents))) {
			t.Errorf("%s: price %+v, page's monthly total %v", s.PartNumber, r, s.TotalMonthlyCents)
		}
	}
	if !anyWaste {
		t.Error("the simulated tenant has no inactive seats: the comparison proves little")
	}
	all, err := h.Trend(ctx, conn.ID, "", AllTime.Since(clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	one, err := h.Trend(ctx, conn.ID, priced, Last30Days.Since(clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, r := range rows {
		sum += r.Assigned
	}
	if len(all) != 1 || all[0].Assigned != sum || len(one) != 1 || one[0].CostCents["EUR"] != byID[priced].CostCents || all[0].Unpriced != len(rows)-1 {
		t.Fatalf("trends: all %+v, one %+v", all, one)
	}
	var buf bytes.Buffer
	if err := WriteHistoryCSV(&buf, csvsafe.ForSpreadsheets(), rows, catalog.Builtin()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\ufeffDate,SKU,") || strings.Count(buf.String(), "\n") != len(rows)+1 {
		t.Fatalf("CSV:\n%s", buf.String())
	}
}
