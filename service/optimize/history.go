package optimize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// HistoryInactiveDays is the N of the history's "inactive assigned" seats:
// the Optimization page's default, so a day of the history says what the
// page said that day with its defaults.
const HistoryInactiveDays = DefaultInactiveDays

// HistoryFigures works out a snapshot's per-SKU figures that the store
// cannot: inactive assigned seats (the page's disabled, never-active and
// inactive lists), overlapping seats, and what the purchased seats cost a
// month at the price configured now (recorded with the day, so a later
// price change does not rewrite the past).
func HistoryFigures(prices map[string]Price, cat *catalog.Catalog) inventory.HistoryFunc {
	return func(_ context.Context, lf *inventory.LicenseFacts) (inventory.HistoryFigures, error) {
		res := Compute(FromSnapshot(lf), Options{InactiveDays: HistoryInactiveDays, Prices: prices, Catalog: cat})
		out := make(inventory.HistoryFigures, len(res.SKUs))
		for _, s := range res.SKUs {
			h := inventory.HistorySKU{
				InactiveAssigned: s.ByReason[Disabled] + s.ByReason[NeverActive] + s.ByReason[Inactive],
				Overlapping:      s.ByReason[Overlapping],
			}
			if s.Price != nil {
				h.Priced, h.PriceCents, h.Yearly, h.Currency = true, s.Price.Cents, s.Price.Yearly, s.Price.Currency
				h.CostCents = int64(math.Round(s.TotalMonthlyCents))
			}
			out[strings.ToLower(s.SkuID)] = h
		}
		return out, nil
	}
}

// RulesVersion names the rules Compute applies per user (classify, the
// overlaps, what counts as held). The store keeps each run's inactive and
// overlapping seats under HistoryKey and works out the next run's from
// them and its changed users alone (inventory.HistoryOptions.Key): bump it
// whenever a change to the rules changes a figure, so that stored figures
// computed under the old rules are not carried on.
// TestHistoryRulesPinned fails until it is bumped.
const RulesVersion = 1

// HistoryKey stands for everything HistoryFigures' per-user figures
// depend on besides the snapshot: the rules, the inactivity window, the
// catalogue's products and plans, and the prices (the cost figures are
// recomputed anyway, but a key that covers them costs nothing).
func HistoryKey(prices map[string]Price, cat *catalog.Catalog) string {
	h := sha256.New()
	fmt.Fprintf(h, "rules %d\ninactive %d\n", RulesVersion, HistoryInactiveDays)
	keys := slices.Sorted(maps.Keys(prices))
	for _, k := range keys {
		p := prices[k]
		fmt.Fprintf(h, "price %s %d %s %t\n", k, p.Cents, p.Currency, p.Yearly)
	}
	if cat != nil {
		for _, p := range cat.Products() {
			fmt.Fprintf(h, "product %s %s %s\n", p.SkuID, p.PartNumber, strings.Join(p.Plans, ","))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
