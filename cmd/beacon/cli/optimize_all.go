package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
)

// `beacon optimize --all` (issue 21): seats, spend and waste per SKU
// summed across every connection's last import, for service providers and
// organisations with several tenants. The sums are service.Totals, the
// same the window's "All connections" shows.

// optimizeAllReport is `beacon optimize --all --format json`. As in the
// report of one connection, "cost" is what the recoverable seats cost
// (the waste); "spend" is what every purchased seat costs.
type optimizeAllReport struct {
	InactiveDays int                     `json:"inactiveDays"`
	Catalog      optimizeCatalog         `json:"catalog"`
	Connections  []optimizeAllConnection `json:"connections"`
	// NoData names the connections without imported data, left out.
	NoData []string          `json:"noData"`
	SKUs   []optimizeAllSKU  `json:"skus"`
	Totals optimizeAllTotals `json:"totals"`
}

type optimizeAllConnection struct {
	Connection       string          `json:"connection"`
	ID               string          `json:"id"`
	RunID            int64           `json:"runId"`
	Imported         time.Time       `json:"imported"`
	ActivityAsOf     string          `json:"activityAsOf"`
	ActivityKnown    bool            `json:"activityKnown"`
	RecoverableSeats int             `json:"recoverableSeats"`
	Cost             []optimizeMoney `json:"cost"`
}

// optimizeAllFigures are a SKU's figures, summed or of one connection.
type optimizeAllFigures struct {
	Purchased   int            `json:"purchased"`
	Assigned    int            `json:"assigned"`
	Unused      int            `json:"unused"`
	Recoverable int            `json:"recoverable"`
	Cost        *optimizeMoney `json:"cost,omitempty"`
	Spend       *optimizeMoney `json:"spend,omitempty"`
}

type optimizeAllSKU struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber"`
	Name       string `json:"name"`
	optimizeAllFigures
	Seats       map[string]int       `json:"seats"`
	Price       *optimizePrice       `json:"price,omitempty"`
	Connections []optimizeAllPerConn `json:"connections"`
}

type optimizeAllPerConn struct {
	Connection string `json:"connection"`
	optimizeAllFigures
}

type optimizeAllTotals struct {
	RecoverableSeats int             `json:"recoverableSeats"`
	Cost             []optimizeMoney `json:"cost"`
	Spend            []optimizeMoney `json:"spend"`
	UnpricedSeats    int             `json:"unpricedSeats"`
	UncountedUnused  int             `json:"uncountedUnused"`
}

func optimizeAll(ctx context.Context, env *Env, days int, format, output string, layout csvsafe.Format, fail func(error) int) int {
	cfg, cat, problem, err := catalogInUse(env, "")
	if err != nil {
		return fail(err)
	}
	store, err := openStoreIfAny(ctx, env)
	if err != nil {
		return fail(err)
	}
	var tot *service.Totals
	if store == nil {
		// Nothing imported anywhere: every connection is without data.
		tot = &service.Totals{}
		for _, c := range cfg.Connections {
			tot.NoData = append(tot.NoData, c.Name)
		}
	} else {
		defer store.Close()
		if tot, err = (&service.Optimizer{Store: store}).Totals(ctx, cfg.Connections, days, cfg, cat); err != nil {
			return fail(err)
		}
	}
	if len(tot.Connections) == 0 {
		return fail(fmt.Errorf("no connection has imported data yet: run `beacon execute NAME` first"))
	}
	rep := newOptimizeAllReport(tot, days, optimizeCatalog{Source: cat.Source.String(), Builtin: cat.Source.Builtin, Products: cat.Len(), Problem: problem})
	if (format == "csv" || format == "xlsx") && problem != "" {
		fmt.Fprintf(env.Stderr, "beacon optimize: %s\n", problem)
	}
	if err := writeReport(env, output, format, layout, rep); err != nil {
		return fail(err)
	}
	if output != "" {
		fmt.Fprintf(env.Stderr, "Wrote the licences of %s (%d days) to %s\n", plural(len(rep.Connections), "connection"), days, output)
	}
	return ExitOK
}

// optimizeOutput is a report of `beacon optimize` in its three formats
// (JSON by its fields).
type optimizeOutput interface {
	writeRows(tableWriter) error
	writeTable(io.Writer) error
}

// writeReport writes rep to the output (standard output, or the file
// replaced atomically) in the format chosen.
func writeReport(env *Env, output, format string, layout csvsafe.Format, rep optimizeOutput) error {
	return writeOutput(env, output, func(w io.Writer) error {
		switch format {
		case "json":
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		case "csv", "xlsx":
			t, err := newFileTable(w, format, layout, "Optimization")
			if err != nil {
				return err
			}
			return rep.writeRows(t)
		}
		return rep.writeTable(w)
	})
}

// oneMoney is a single amount in a currency, nil without a price.
func oneMoney(p *storage.Price, monthlyCents float64) *optimizeMoney {
	if p == nil {
		return nil
	}
	return &moneyOf(map[string]float64{p.Currency: monthlyCents})[0]
}

func allFigures(s optimize.SKUSavings) optimizeAllFigures {
	return optimizeAllFigures{Purchased: s.Purchased, Assigned: s.Assigned, Unused: s.Unused, Recoverable: s.Recoverable,
		Cost: oneMoney(s.Price, s.MonthlyCents), Spend: oneMoney(s.Price, s.TotalMonthlyCents)}
}

func newOptimizeAllReport(tot *service.Totals, days int, cat optimizeCatalog) *optimizeAllReport {
	rep := &optimizeAllReport{InactiveDays: days, Catalog: cat, Connections: []optimizeAllConnection{}, NoData: []string{}, SKUs: []optimizeAllSKU{},
		Totals: optimizeAllTotals{RecoverableSeats: tot.RecoverableSeats, Cost: moneyOf(tot.MonthlyCents), Spend: moneyOf(tot.TotalMonthlyCents),
			UnpricedSeats: tot.UnpricedSeats, UncountedUnused: tot.UncountedUnused}}
	rep.NoData = append(rep.NoData, tot.NoData...)
	for _, c := range tot.Connections {
		rep.Connections = append(rep.Connections, optimizeAllConnection{Connection: c.ConnectionName, ID: c.ConnectionID, RunID: c.Run.ID,
			Imported: c.Run.Started.UTC(), ActivityAsOf: date(c.Result.AsOf), ActivityKnown: c.Result.ActivityKnown,
			RecoverableSeats: c.Result.RecoverableSeats, Cost: moneyOf(c.Result.MonthlyCents)})
	}
	for _, s := range tot.SKUs {
		line := optimizeAllSKU{SkuID: s.SkuID, PartNumber: s.PartNumber, Name: s.Name, optimizeAllFigures: allFigures(s.SKUSavings),
			Seats: map[string]int{}, Connections: []optimizeAllPerConn{}}
		for _, l := range optimizeLists {
			line.Seats[l.key] = s.ByReason[l.reason]
		}
		if p := s.Price; p != nil {
			line.Price = priceOf(p)
		}
		for _, c := range s.Connections {
			line.Connections = append(line.Connections, optimizeAllPerConn{Connection: c.ConnectionName, optimizeAllFigures: allFigures(c.SKUSavings)})
		}
		rep.SKUs = append(rep.SKUs, line)
	}
	return rep
}

// priceOf is a configured price as the reports show it.
func priceOf(p *storage.Price) *optimizePrice {
	per := "month"
	if p.Yearly {
		per = "year"
	}
	return &optimizePrice{Amount: json.Number(service.FormatCents(float64(p.Cents))), Currency: p.Currency, Per: per}
}

// amount is a money's monthly amount alone (a spreadsheet sums it), ""
// without a price.
func amount(m *optimizeMoney, pick func(optimizeMoney) json.Number) string {
	if m == nil {
		return ""
	}
	return string(pick(*m))
}

// writeRows writes one row per SKU, as CSV or a workbook: the sums, then
// each connection's figures in columns of their own (a connection not
// holding the SKU has empty cells).
func (rep *optimizeAllReport) writeRows(t tableWriter) error {
	head := []string{"SKU Part Number", "Product", "SKU ID", "Purchased", "Assigned", "Unused"}
	for _, l := range optimizeLists {
		head = append(head, listTitle(l.reason, rep.InactiveDays))
	}
	head = append(head, "Recoverable", "Price", "Currency", "Per", "Spend per Month", "Waste per Month", "Waste per Year")
	for _, c := range rep.Connections {
		for _, col := range []string{"Purchased", "Assigned", "Recoverable", "Waste per Month"} {
			head = append(head, c.Connection+" "+col)
		}
	}
	if err := t.header(head); err != nil {
		return err
	}
	for _, s := range rep.SKUs {
		row := []string{s.PartNumber, s.Name, s.SkuID, strconv.Itoa(s.Purchased), strconv.Itoa(s.Assigned), strconv.Itoa(s.Unused)}
		for _, l := range optimizeLists {
			row = append(row, strconv.Itoa(s.Seats[l.key]))
		}
		price, cur, per := "", "", ""
		if s.Price != nil {
			price, cur, per = string(s.Price.Amount), s.Price.Currency, s.Price.Per
		}
		row = append(row, strconv.Itoa(s.Recoverable), price, cur, per, amount(s.Spend, perMonth), amount(s.Cost, perMonth), amount(s.Cost, perYear))
		for _, c := range rep.Connections {
			cells := []string{"", "", "", ""}
			for _, f := range s.Connections {
				if f.Connection == c.Connection {
					cells = []string{strconv.Itoa(f.Purchased), strconv.Itoa(f.Assigned), strconv.Itoa(f.Recoverable), amount(f.Cost, perMonth)}
				}
			}
			row = append(row, cells...)
		}
		if err := t.row(row, nil); err != nil {
			return err
		}
	}
	return t.close()
}

// writeTable writes the sums for a terminal: which imports are summed,
// one line per SKU, then the totals.
func (rep *optimizeAllReport) writeTable(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "All connections: %s summed; inactive means no activity for %d days\n", plural(len(rep.Connections), "connection"), rep.InactiveDays)
	for _, c := range rep.Connections {
		fmt.Fprintf(ew, "  %s: import %d of %s; activity as of %s\n", c.Connection, c.RunID, c.Imported.Local().Format(time.DateTime), c.ActivityAsOf)
	}
	if len(rep.NoData) > 0 {
		fmt.Fprintf(ew, "Not imported yet (left out): %s\n", strings.Join(rep.NoData, ", "))
	}
	fmt.Fprintf(ew, "Catalogue: %s, %d products\n", rep.Catalog.Source, rep.Catalog.Products)
	if rep.Catalog.Problem != "" {
		fmt.Fprintf(ew, "Notice: %s\n", rep.Catalog.Problem)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tCONNECTIONS\tPURCHASED\tASSIGNED\tUNUSED\tRECOVERABLE\tPRICE\tSPEND/MONTH\tWASTE/MONTH\tWASTE/YEAR")
	for _, s := range rep.SKUs {
		price, month, year := priceCells(s.Price, s.Cost)
		_, spend, _ := priceCells(s.Price, s.Spend)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", s.Name, len(s.Connections), s.Purchased, s.Assigned, s.Unused, s.Recoverable,
			price, spend, month, year)
	}
	tw.Flush()
	t := rep.Totals
	writeRecoverable(ew, "Recoverable across all connections", t.RecoverableSeats, t.Cost)
	if len(t.Spend) > 0 {
		fmt.Fprintf(ew, "Spend on priced SKUs: %s a month, %s a year\n", costText(t.Spend, perMonth), costText(t.Spend, perYear))
	}
	if t.UnpricedSeats > 0 {
		fmt.Fprintf(ew, "Without a price: %d of the recoverable seats (set one with `beacon prices set SKU AMOUNT CURRENCY`)\n", t.UnpricedSeats)
	}
	if t.UncountedUnused > 0 {
		fmt.Fprintf(ew, "Not counted: %d unused units of SKUs without a price\n", t.UncountedUnused)
	}
	fmt.Fprintln(ew, "The lists of users are per connection: `beacon optimize NAME`.")
	return ew.err
}

// priceCells are a SKU's price and what its seats cost a month and a
// year, as the tables show them ("-" without a price).
func priceCells(p *optimizePrice, cost *optimizeMoney) (price, month, year string) {
	if p == nil || cost == nil {
		return "-", "-", "-"
	}
	c := []optimizeMoney{*cost}
	return string(p.Amount) + " " + p.Currency + "/" + p.Per, costText(c, perMonth), costText(c, perYear)
}

// writeRecoverable writes the line of recoverable seats and, when some
// are priced, what they cost.
func writeRecoverable(w io.Writer, label string, seats int, cost []optimizeMoney) {
	fmt.Fprintf(w, "\n%s: %d seats", label, seats)
	if len(cost) > 0 {
		fmt.Fprintf(w, ", %s a month, %s a year", costText(cost, perMonth), costText(cost, perYear))
	}
	fmt.Fprintln(w)
}
