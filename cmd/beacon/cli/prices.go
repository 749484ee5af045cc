package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	registerVerbs("prices", "the price of a seat of each SKU, which `beacon optimize` turns into money to save", []verb{
		{"list", "", "list the prices set", runPricesList},
		{"set", "SKU AMOUNT CURRENCY [--per month|year]", "set the price of a seat of a SKU; " + skuHelp, runPricesSet},
		{"remove", "SKU", "forget the price of a SKU; " + skuHelp, runPricesRemove},
		{"import", "FILE", "set the prices of a CSV price list with the columns SKU, Price, Currency and Per (as `beacon prices export` writes it); one bad line refuses the whole list", runPricesImport},
		{"export", "[--output FILE]", "write the prices as a CSV price list that `beacon prices import` reads back", runPricesExport},
	})
}

// skuHelp says what a SKU argument may be.
const skuHelp = "SKU is a part number (ENTERPRISEPACK), a skuId or a product name (\"Office 365 E3\")"

// pricing is what the verbs that name a SKU need: the configuration, the
// catalogue and a resolver that tries the tenants' own SKUs first.
type pricing struct {
	cfg     *storage.Config
	cat     *catalog.Catalog
	resolve service.SKUResolver
}

// parsePricing parses a verb's n arguments and flags, then reads what it
// needs; it stops the verb with the code to return on any failure.
func parsePricing(ctx context.Context, env *Env, fs *verbFlags, args []string, n int) (*pricing, int, bool) {
	if code, ok := fs.parse(args, n, n); !ok {
		return nil, code, false
	}
	cfg, cat, _, err := catalogInUse(env, strings.TrimPrefix(fs.Name(), "beacon "))
	var ls []inventory.License
	if err == nil {
		ls, err = snapshotLicenses(ctx, env, cfg)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", fs.Name(), err)
		return nil, ExitFailed, false
	}
	return &pricing{cfg, cat, service.Resolver(ls, cat)}, 0, true
}

func perWord(p storage.Price) string {
	if p.Yearly {
		return "year"
	}
	return "month"
}

func runPricesList(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	if code, ok := fs.parse(args, 0, 0); !ok {
		return code
	}
	cfg, cat, _, err := catalogInUse(env, "prices list")
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices list: %v\n", err)
		return ExitFailed
	}
	if len(cfg.Prices) == 0 {
		fmt.Fprintln(env.Stdout, "No prices. Set one with `beacon prices set SKU AMOUNT CURRENCY` or import a list with `beacon prices import FILE`.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tSKU ID\tPRICE\tPER\tPER MONTH")
	for _, p := range cfg.Prices {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s %s\n", cat.Label(p.SkuID, p.PartNumber), p.SkuID, service.FormatCents(float64(p.Cents)),
			p.Currency, perWord(p), service.FormatCents(p.Monthly()), p.Currency)
	}
	tw.Flush()
	return ExitOK
}

func runPricesSet(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	per := fs.String("per", "month", "the amount is per month or per year")
	pr, code, ok := parsePricing(ctx, env, fs, args, 3)
	if !ok {
		return code
	}
	id, part, found := pr.resolve(fs.Arg(0))
	if !found {
		fmt.Fprintf(env.Stderr, "beacon prices set: no SKU %q in the imported tenants or the licensing catalogue; %s\n", fs.Arg(0), skuHelp)
		return ExitFailed
	}
	p, err := service.ParsePrice(fs.Arg(1), fs.Arg(2), *per)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices set: %v\n", err)
		return ExitUsage
	}
	if err := service.SetPrice(storage.NewConfigStore(env.ConfigDir), id, part, p, false); err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices set: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "%s: %s %s a %s\n", pr.cat.Label(id, part), service.FormatCents(float64(p.Cents)), p.Currency, perWord(p))
	return ExitOK
}

func runPricesRemove(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	pr, code, ok := parsePricing(ctx, env, fs, args, 1)
	if !ok {
		return code
	}
	cfg, cat := pr.cfg, pr.cat
	// A price is found by what it records first: its SKU may have left
	// both the tenant and the catalogue since it was set.
	arg := strings.TrimSpace(fs.Arg(0))
	id := ""
	for _, p := range cfg.Prices {
		if strings.EqualFold(p.SkuID, arg) || strings.EqualFold(p.PartNumber, arg) || strings.EqualFold(cat.Name(p.SkuID, p.PartNumber), arg) {
			id = p.SkuID
			break
		}
	}
	if id == "" {
		if rid, _, found := pr.resolve(arg); found && service.PriceMap(cfg)[rid].SkuID != "" {
			id = rid
		}
	}
	if id == "" {
		fmt.Fprintf(env.Stderr, "beacon prices remove: no price is set for %q; `beacon prices list` shows them\n", arg)
		return ExitFailed
	}
	p := service.PriceMap(cfg)[id]
	if err := service.SetPrice(storage.NewConfigStore(env.ConfigDir), id, p.PartNumber, storage.Price{}, true); err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices remove: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "Removed the price of %s\n", cat.Label(p.SkuID, p.PartNumber))
	return ExitOK
}

func runPricesImport(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	pr, code, ok := parsePricing(ctx, env, fs, args, 1)
	if !ok {
		return code
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices import: %v\n", err)
		return ExitFailed
	}
	defer f.Close()
	n, err := service.ImportPrices(storage.NewConfigStore(env.ConfigDir), bufio.NewReader(f), pr.resolve)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices import: %v; no price was changed\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "Imported %d prices from %s\n", n, fs.Arg(0))
	return ExitOK
}

func runPricesExport(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	output := fs.String("output", "", "write to this file instead of standard output (replaced atomically)")
	bom := fs.String("bom", "auto", bomUsage)
	pr, code, ok := parsePricing(ctx, env, fs, args, 0)
	if !ok {
		return code
	}
	layout, err := csvLayout(*bom, *output)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices export: %v\n", err)
		return ExitUsage
	}
	cfg, resolve := pr.cfg, pr.resolve
	err = writeOutput(env, *output, func(w io.Writer) error {
		t, err := newCSVTable(w, layout)
		if err != nil {
			return err
		}
		if err := t.header(service.PriceColumns); err != nil {
			return err
		}
		for _, p := range cfg.Prices {
			// The part number reads better, but only when importing it
			// finds this SKU again; the skuId always does.
			sku := p.SkuID
			if id, _, found := resolve(p.PartNumber); p.PartNumber != "" && found && id == p.SkuID {
				sku = p.PartNumber
			}
			if err := t.row([]string{sku, service.FormatCents(float64(p.Cents)), p.Currency, perWord(p)}, nil); err != nil {
				return err
			}
		}
		return t.close()
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon prices export: %v\n", err)
		return ExitFailed
	}
	if *output != "" {
		fmt.Fprintf(env.Stderr, "Exported %d prices to %s\n", len(cfg.Prices), *output)
	}
	return ExitOK
}
