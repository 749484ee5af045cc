package service

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The history use cases of issue 18: what an import adds to the history
// (its figures computed exactly as the Optimization page computes them),
// the trends and the licence events the window and the CLI show.

// historyOptions are what an import of the configuration in configDir
// writes into the history: the figures at today's prices and catalogue,
// and the retention.
func historyOptions(configDir string) (inventory.HistoryOptions, error) {
	cfg, err := storage.NewConfigStore(configDir).Load()
	if err != nil {
		return inventory.HistoryOptions{}, err
	}
	cat, _ := Catalog(configDir, cfg)
	prices := PriceMap(cfg)
	return inventory.HistoryOptions{Figures: optimize.HistoryFigures(prices, cat), KeepMonths: cfg.HistoryMonths,
		Key: optimize.HistoryKey(prices, cat)}, nil
}

// History reads the history of Store; ConfigDir holds the prices and the
// catalogue a pending back-fill computes with.
type History struct {
	Store     *inventory.Store
	ConfigDir string
}

// Backfill seeds the history from the kept snapshots of a database from
// before it, once (the store records that it ran).
func (h History) Backfill(ctx context.Context) error {
	pending, err := h.Store.HistoryBackfillPending(ctx)
	if err != nil || !pending {
		return err
	}
	opts, err := historyOptions(h.ConfigDir)
	if err != nil {
		return err
	}
	if err := h.Store.BackfillHistory(ctx, opts.Figures); err != nil {
		return fmt.Errorf("seed the history from the kept imports: %w", err)
	}
	return nil
}

// ForgetConnection deletes a removed connection's imports and snapshots,
// and its licence history unless keepHistory: the question the window
// asks and `beacon connection remove --delete-history` answers.
func ForgetConnection(ctx context.Context, store *inventory.Store, connID string, keepHistory bool) error {
	return store.DeleteConnection(ctx, connID, keepHistory)
}

// Period is how far back a trend looks.
type Period int

const (
	Last30Days Period = iota
	Last12Months
	AllTime
)

// Periods name the periods as the window and the CLI offer them.
var Periods = []string{"30 days", "12 months", "All"}

// Since is the first day of the period ending on the day of now (the
// program's clock).
func (p Period) Since(now time.Time) time.Time {
	now = now.UTC()
	switch p {
	case Last30Days:
		return now.AddDate(0, 0, -29)
	case Last12Months:
		return now.AddDate(-1, 0, 1)
	}
	return time.Time{}
}

// TrendPoint is one day of a trend: one SKU's figures, or all SKUs'
// summed.
type TrendPoint struct {
	Day                           time.Time
	Purchased, Assigned, Active   int
	InactiveAssigned, Overlapping int
	// CostCents is what the purchased seats cost a month, by currency;
	// Unpriced counts the SKUs without a price that day.
	CostCents map[string]int64
	Unpriced  int
}

// Trend returns the connection's figures per day since since (zero: all),
// for one SKU (skuID, any case) or summed over all ("").
func (h History) Trend(ctx context.Context, connID, skuID string, since time.Time) ([]TrendPoint, error) {
	if err := h.Backfill(ctx); err != nil {
		return nil, err
	}
	rows, err := h.Store.HistorySKUs(ctx, connID, inventory.HistoryQuery{SkuID: skuID, Since: since})
	if err != nil {
		return nil, err
	}
	var out []TrendPoint
	for _, r := range rows {
		if len(out) == 0 || !out[len(out)-1].Day.Equal(r.Day) {
			out = append(out, TrendPoint{Day: r.Day, CostCents: map[string]int64{}})
		}
		p := &out[len(out)-1]
		p.Purchased += r.Purchased
		p.Assigned += r.Assigned
		p.Active += r.Active
		p.InactiveAssigned += r.InactiveAssigned
		p.Overlapping += r.Overlapping
		if r.Priced {
			p.CostCents[r.Currency] += r.CostCents
		} else {
			p.Unpriced++
		}
	}
	return out, nil
}

// Tenant returns the tenant's figures per day since since (zero: all).
func (h History) Tenant(ctx context.Context, connID string, since time.Time) ([]inventory.HistoryTenant, error) {
	if err := h.Backfill(ctx); err != nil {
		return nil, err
	}
	return h.Store.HistoryTenants(ctx, connID, inventory.HistoryQuery{Since: since})
}

// SKUs returns the connection's per-SKU rows (for the export).
func (h History) SKUs(ctx context.Context, connID string, q inventory.HistoryQuery) ([]inventory.HistorySKU, error) {
	if err := h.Backfill(ctx); err != nil {
		return nil, err
	}
	return h.Store.HistorySKUs(ctx, connID, q)
}

// Events returns the connection's licence events: of one user (q.UPN),
// of one SKU (q.SkuID), or all.
func (h History) Events(ctx context.Context, connID string, q inventory.HistoryQuery) ([]inventory.HistoryEvent, error) {
	if err := h.Backfill(ctx); err != nil {
		return nil, err
	}
	return h.Store.HistoryEvents(ctx, connID, q)
}

// HistoryColumns is the header of the history's CSV export.
var HistoryColumns = []string{"Date", "SKU", "SKU ID", "Purchased", "Assigned", "Active", "Inactive assigned", "Overlapping",
	"Price", "Currency", "Per", "Monthly cost"}

// EventColumns is the header of the licence events' CSV export.
var EventColumns = []string{"Date", "User", "Event", "SKU", "SKU ID"}

// WriteHistoryCSV writes per-SKU history rows, SKUs named by the
// catalogue.
func WriteHistoryCSV(w io.Writer, f csvsafe.Format, rows []inventory.HistorySKU, cat *catalog.Catalog) error {
	return writeCSV(w, f, HistoryColumns, len(rows), func(i int) []string {
		r := rows[i]
		price, cur, per, cost := "", "", "", ""
		if r.Priced {
			price, cur, per, cost = FormatCents(float64(r.PriceCents)), r.Currency, "month", FormatCents(float64(r.CostCents))
			if r.Yearly {
				per = "year"
			}
		}
		return []string{r.Day.Format(time.DateOnly), csvsafe.Cell(cat.Name(r.SkuID, "")), r.SkuID, strconv.Itoa(r.Purchased),
			strconv.Itoa(r.Assigned), strconv.Itoa(r.Active), strconv.Itoa(r.InactiveAssigned), strconv.Itoa(r.Overlapping),
			price, cur, per, cost}
	})
}

// WriteEventsCSV writes licence events, SKUs named by the catalogue.
func WriteEventsCSV(w io.Writer, f csvsafe.Format, events []inventory.HistoryEvent, cat *catalog.Catalog) error {
	return writeCSV(w, f, EventColumns, len(events), func(i int) []string {
		e := events[i]
		name := ""
		if e.SkuID != "" {
			name = cat.Name(e.SkuID, "")
		}
		return []string{e.Day.Format(time.DateOnly), csvsafe.Cell(e.UPN), e.Kind.String(), csvsafe.Cell(name), e.SkuID}
	})
}

// writeCSV writes a header and n records.
func writeCSV(w io.Writer, f csvsafe.Format, header []string, n int, rec func(int) []string) error {
	cw, err := csvsafe.NewWriter(w, f)
	if err != nil {
		return err
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		if err := cw.Write(rec(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// HistorySKUIDs lists the SKUs of trend points' rows, for a chooser.
func HistorySKUIDs(rows []inventory.HistorySKU) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.SkuID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
