package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "history",
		Summary: "a connection's licence history: per day and SKU purchased, assigned, active, inactive and cost, or the licence events",
		Usage:   "NAME [--sku SKU] [--since YYYY-MM-DD] [--events [--user UPN]] [--format table|csv|json] [--output FILE]",
		Run:     runHistory,
	})
}

func runHistory(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("history")
	fs := NewFlagSet(env, c)
	sku := fs.String("sku", "", "one SKU only: its part number, skuId or product name")
	since := fs.String("since", "", "from this day on (YYYY-MM-DD, UTC); default: all the history")
	events := fs.Bool("events", false, "the licence events (assigned, removed, user created, user deleted, disabled, enabled) instead of the daily figures")
	user := fs.String("user", "", "with --events: one user's events (user principal name)")
	format, output, bom := reportFlags(fs, "table, csv or json")
	name, code, ok := parseOneName(env, fs, "history", args)
	if !ok {
		return code
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "beacon history: "+format+"\n", a...)
		return ExitUsage
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return usage("unknown format %q; choose table, csv or json", *format)
	}
	if *user != "" && !*events {
		return usage("--user needs --events")
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return usage("--since %q: give a date as YYYY-MM-DD", *since)
		}
		from = t
	}
	layout, err := csvLayout(*bom, *output)
	if err != nil {
		return usage("%v", err)
	}
	fail := failWith(env, "history")
	src, err := openReport(ctx, env, name, "history")
	if err != nil {
		return fail(err)
	}
	defer src.store.Close()
	conn, cfg, cat, store := src.conn, src.cfg, src.cat, src.store
	q := inventory.HistoryQuery{Since: from, UPN: *user}
	if *sku != "" {
		licenses, err := service.SnapshotLicenses(ctx, store, cfg.Connections)
		if err != nil {
			return fail(err)
		}
		id, _, ok := service.Resolver(licenses, cat)(*sku)
		if !ok {
			return usage("no SKU %q in this tenant or the licensing catalogue", *sku)
		}
		q.SkuID = id
	}
	h := service.History{Store: store, ConfigDir: env.ConfigDir}
	var write func(w io.Writer) error
	if *events {
		evs, err := h.Events(ctx, conn.ID, q)
		if err != nil {
			return fail(err)
		}
		write = func(w io.Writer) error { return writeEvents(w, *format, layout, evs, cat) }
	} else {
		rows, err := h.SKUs(ctx, conn.ID, q)
		if err != nil {
			return fail(err)
		}
		write = func(w io.Writer) error { return writeHistory(w, *format, layout, rows, cat) }
	}
	if err := writeOutput(env, *output, write); err != nil {
		return fail(err)
	}
	if *output != "" {
		fmt.Fprintf(env.Stderr, "Wrote the history of %q to %s\n", conn.Name, *output)
	}
	return ExitOK
}

// historyRow is one SKU-day as the JSON gives it.
type historyRow struct {
	Date             string `json:"date"`
	SkuID            string `json:"skuId"`
	Name             string `json:"name"`
	Purchased        int    `json:"purchased"`
	Assigned         int    `json:"assigned"`
	Active           int    `json:"active"`
	InactiveAssigned int    `json:"inactiveAssigned"`
	Overlapping      int    `json:"overlapping"`
	// Price is the price in force that day, as configured then.
	Price *historyPrice `json:"price,omitempty"`
}

type historyPrice struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Per      string `json:"per"`
	// MonthlyCost is what all purchased seats cost a month.
	MonthlyCost string `json:"monthlyCost"`
}

type historyEvent struct {
	Date  string `json:"date"`
	User  string `json:"user"`
	Event string `json:"event"`
	// SKU is the licence of an assigned or removed event.
	SKU *historySKURef `json:"sku,omitempty"`
}

type historySKURef struct {
	ID   string `json:"skuId"`
	Name string `json:"name"`
}

func writeHistory(w io.Writer, format string, layout csvsafe.Format, rows []inventory.HistorySKU, cat *catalog.Catalog) error {
	if format == "csv" {
		return service.WriteHistoryCSV(w, layout, rows, cat)
	}
	if format == "json" {
		out := make([]historyRow, len(rows))
		for i, r := range rows {
			out[i] = historyRow{Date: r.Day.Format(time.DateOnly), SkuID: r.SkuID, Name: cat.Name(r.SkuID, ""), Purchased: r.Purchased,
				Assigned: r.Assigned, Active: r.Active, InactiveAssigned: r.InactiveAssigned, Overlapping: r.Overlapping}
			if r.Priced {
				per := "month"
				if r.Yearly {
					per = "year"
				}
				out[i].Price = &historyPrice{Amount: service.FormatCents(float64(r.PriceCents)), Currency: r.Currency, Per: per,
					MonthlyCost: service.FormatCents(float64(r.CostCents))}
			}
		}
		return encodeJSON(w, out)
	}
	return writeTable(w, "DATE\tSKU\tPURCHASED\tASSIGNED\tACTIVE\tINACTIVE\tOVERLAPPING\tMONTHLY COST", "(no history in this range)",
		len(rows), func(i int) string {
			r := rows[i]
			cost := ""
			if r.Priced {
				cost = service.FormatCents(float64(r.CostCents)) + " " + r.Currency
			}
			return fmt.Sprintf("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s", r.Day.Format(time.DateOnly), cat.Name(r.SkuID, ""), r.Purchased, r.Assigned,
				r.Active, r.InactiveAssigned, r.Overlapping, cost)
		})
}

func writeEvents(w io.Writer, format string, layout csvsafe.Format, evs []inventory.HistoryEvent, cat *catalog.Catalog) error {
	switch {
	case format == "csv":
		return service.WriteEventsCSV(w, layout, evs, cat)
	case format == "json":
		out := make([]historyEvent, len(evs))
		for i, e := range evs {
			out[i] = historyEvent{Date: e.Day.Format(time.DateOnly), User: e.UPN, Event: e.Kind.String()}
			if e.SkuID != "" {
				out[i].SKU = &historySKURef{ID: e.SkuID, Name: cat.Name(e.SkuID, "")}
			}
		}
		return encodeJSON(w, out)
	}
	return writeTable(w, "DATE\tUSER\tEVENT\tSKU", "(no events in this range)", len(evs), func(i int) string {
		e := evs[i]
		name := ""
		if e.SkuID != "" {
			name = cat.Name(e.SkuID, "")
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s", e.Day.Format(time.DateOnly), e.UPN, e.Kind, name)
	})
}

// writeTable writes a header and n tab-separated lines aligned, or empty
// under the header when there are none.
func writeTable(w io.Writer, header, empty string, n int, line func(int) string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for i := range n {
		fmt.Fprintln(tw, line(i))
	}
	if n == 0 {
		fmt.Fprintln(tw, empty)
	}
	return tw.Flush()
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
