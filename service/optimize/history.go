package optimize

import (
	"context"
	"math"
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
