package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The licensing use cases of issue 17: which catalogue names the SKUs,
// what a seat costs, and the Optimization page's figures. The window and
// the CLI both call these.

// Catalog returns the catalogue in use: the one the administrator loaded
// (cfg.Catalog) when it still reads, else the built-in one. problem says,
// in plain words, why a loaded catalogue was not used.
func Catalog(configDir string, cfg *storage.Config) (cat *catalog.Catalog, problem string) {
	if cfg == nil || cfg.Catalog == nil {
		return catalog.Builtin(), ""
	}
	path := filepath.Join(configDir, storage.CatalogFileName)
	f, err := os.Open(path)
	if err != nil {
		return catalog.Builtin(), fmt.Sprintf("The licensing catalogue loaded from %s cannot be read (%v); the built-in one is used. Load it again.", cfg.Catalog.Name, err)
	}
	defer f.Close()
	c, err := catalog.Parse(f)
	if err != nil {
		return catalog.Builtin(), fmt.Sprintf("The licensing catalogue loaded from %s is damaged (%v); the built-in one is used. Load it again.", cfg.Catalog.Name, err)
	}
	c.Source = catalog.Source{File: cfg.Catalog.Name, Published: cfg.Catalog.Published, Loaded: cfg.Catalog.Loaded}
	return c, ""
}

// LoadCatalog checks the file at path is Microsoft's licensing catalogue
// and makes it the one in use: a copy goes to the configuration directory
// (the file may be deleted afterwards), the configuration records its name
// and dates. A file that is not the catalogue changes nothing.
func LoadCatalog(cs *storage.ConfigStore, path string) (*catalog.Catalog, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if st.Size() > catalog.MaxFileSize {
		return nil, fmt.Errorf("%s is %d MB: too large for the licensing catalogue (Microsoft's is about 1 MB)", path, st.Size()>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c, err := catalog.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w. Download \"Product names and service plan identifiers for licensing\" as CSV from Microsoft Learn and load that file", filepath.Base(path), err)
	}
	info := &storage.CatalogFile{Name: filepath.Base(path), Published: st.ModTime().UTC(), Loaded: clock.Now().UTC(), Products: c.Len()}
	if err := cs.WriteFile(storage.CatalogFileName, data); err != nil {
		return nil, err
	}
	if err := cs.Update(func(cfg *storage.Config) error { cfg.Catalog = info; return nil }); err != nil {
		return nil, err
	}
	c.Source = catalog.Source{File: info.Name, Published: info.Published, Loaded: info.Loaded}
	return c, nil
}

// UseBuiltinCatalog goes back to the catalogue shipped in the binary.
func UseBuiltinCatalog(cs *storage.ConfigStore) error {
	return cs.Update(func(cfg *storage.Config) error { cfg.Catalog = nil; return nil })
}

// ParsePrice reads a price as an administrator types it: amount "23",
// "23.5", "1,234.50" or "23,50" (a decimal comma), currency "EUR", per
// "month" or "year".
func ParsePrice(amount, currency, per string) (storage.Price, error) {
	var p storage.Price
	cents, err := parseAmount(amount)
	if err != nil {
		return p, err
	}
	p.Cents = cents
	p.Currency = strings.ToUpper(strings.TrimSpace(currency))
	if len(p.Currency) != 3 || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return p, fmt.Errorf("currency %q: give the three-letter code (EUR, USD, GBP, ...)", currency)
	}
	switch strings.ToLower(strings.TrimSpace(per)) {
	case "", "month", "monthly", "m", "mo":
	case "year", "yearly", "annual", "y", "yr":
		p.Yearly = true
	default:
		return p, fmt.Errorf("per %q: choose month or year", per)
	}
	return p, nil
}

// parseAmount turns a decimal amount into hundredths. The last separator
// followed by one or two digits is the decimal mark; others group
// thousands.
func parseAmount(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.NewReplacer(" ", "", "\u00a0", "", "'", "").Replace(t)
	if t == "" {
		return 0, errors.New("the price is empty: type an amount such as 23.50")
	}
	whole, frac := t, ""
	if i := strings.LastIndexAny(t, ".,"); i >= 0 && len(t)-i-1 <= 2 {
		whole, frac = t[:i], t[i+1:]
	}
	whole = strings.NewReplacer(",", "", ".", "").Replace(whole)
	if whole == "" {
		whole = "0"
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w > math.MaxInt64/100-1 {
		return 0, fmt.Errorf("price %q is not an amount: type digits with an optional decimal point, such as 23.50", s)
	}
	return w*100 + f, nil
}

// FormatCents shows hundredths as an amount: 2350 → "23.50".
func FormatCents(c float64) string {
	return strconv.FormatFloat(math.Round(c)/100, 'f', 2, 64)
}

// SetPrice records (or, with remove, forgets) the price of a SKU.
func SetPrice(cs *storage.ConfigStore, skuID, partNumber string, p storage.Price, remove bool) error {
	skuID = strings.ToLower(strings.TrimSpace(skuID))
	if skuID == "" {
		return errors.New("no SKU given")
	}
	return cs.Update(func(cfg *storage.Config) error {
		cfg.Prices = slices.DeleteFunc(cfg.Prices, func(q storage.Price) bool { return q.SkuID == skuID })
		if !remove {
			p.SkuID, p.PartNumber = skuID, partNumber
			cfg.Prices = append(cfg.Prices, p)
			slices.SortFunc(cfg.Prices, func(a, b storage.Price) int { return strings.Compare(a.PartNumber+a.SkuID, b.PartNumber+b.SkuID) })
		}
		return nil
	})
}

// SKUResolver finds a SKU by part number, skuId or product name.
type SKUResolver func(s string) (skuID, partNumber string, ok bool)

// Resolver resolves against a snapshot's SKUs first, then the catalogue.
func Resolver(licenses []inventory.License, cat *catalog.Catalog) SKUResolver {
	return func(s string) (string, string, bool) {
		s = strings.TrimSpace(s)
		for _, l := range licenses {
			if strings.EqualFold(l.SkuID, s) || strings.EqualFold(l.SkuPartNumber, s) || strings.EqualFold(cat.Name(l.SkuID, l.SkuPartNumber), s) {
				return strings.ToLower(l.SkuID), l.SkuPartNumber, true
			}
		}
		if p, ok := cat.Lookup(s, s); ok {
			return p.SkuID, p.PartNumber, true
		}
		for _, p := range cat.Products() {
			if strings.EqualFold(p.Name, s) {
				return p.SkuID, p.PartNumber, true
			}
		}
		return "", "", false
	}
}

// PriceColumns is the header ImportPrices reads and ExportPrices writes.
var PriceColumns = []string{"SKU", "Price", "Currency", "Per"}

// ImportPrices reads a price list (CSV with the columns SKU, Price,
// Currency and Per, in any order; SKU is a part number, skuId or product
// name) and records every price in one save. Any bad line refuses the
// whole file, with its line number, so a half-read list never replaces a
// good one.
func ImportPrices(cs *storage.ConfigStore, r io.Reader, resolve SKUResolver) (int, error) {
	var prices []storage.Price
	err := csvsafe.ReadTable(r, PriceColumns[:3], func(_ int, field func(string) string) error {
		id, part, ok := resolve(field("sku"))
		if !ok {
			return fmt.Errorf("no SKU %q in this tenant or the licensing catalogue", field("sku"))
		}
		p, err := ParsePrice(field("price"), field("currency"), field("per"))
		if err != nil {
			return err
		}
		p.SkuID, p.PartNumber = id, part
		prices = slices.DeleteFunc(prices, func(q storage.Price) bool { return q.SkuID == id })
		prices = append(prices, p)
		return nil
	})
	var missing *csvsafe.MissingColumnError
	switch {
	case errors.As(err, &missing):
		return 0, fmt.Errorf("the price list has no column %q (it needs SKU, Price, Currency and optionally Per)", missing.Column)
	case err != nil:
		return 0, fmt.Errorf("price list %w", err)
	}
	if len(prices) == 0 {
		return 0, errors.New("the price list has no prices")
	}
	err = cs.Update(func(cfg *storage.Config) error {
		for _, p := range prices {
			cfg.Prices = slices.DeleteFunc(cfg.Prices, func(q storage.Price) bool { return q.SkuID == p.SkuID })
			cfg.Prices = append(cfg.Prices, p)
		}
		slices.SortFunc(cfg.Prices, func(a, b storage.Price) int { return strings.Compare(a.PartNumber+a.SkuID, b.PartNumber+b.SkuID) })
		return nil
	})
	return len(prices), err
}

// PriceMap keys the configured prices by skuId for optimize.
func PriceMap(cfg *storage.Config) map[string]storage.Price {
	m := make(map[string]storage.Price, len(cfg.Prices))
	for _, p := range cfg.Prices {
		m[strings.ToLower(p.SkuID)] = p
	}
	return m
}

// Optimizer computes the Optimization page. It keeps the facts of each
// connection's current snapshot, so changing N or a price recomputes in
// memory; a new snapshot replaces them (one per connection: memory does
// not grow with use). Callers asking for the same snapshot's facts while
// they are read wait for that one read instead of starting another: the
// window reads them ahead (Facts) when a connection is chosen, and the
// page opened meanwhile takes them from that read.
type Optimizer struct {
	Store *inventory.Store

	mu      sync.Mutex
	facts   map[string]cachedFacts
	loading map[string]*factsLoad
}

type cachedFacts struct {
	run   int64
	facts *optimize.Facts
	// prep is facts prepared for the catalogue last asked for: another
	// N is then a pass over the licensed users (issue 21).
	prep *optimize.Prepared
}

// factsLoad is one read of a snapshot's facts in progress; done closes
// when facts and err are set.
type factsLoad struct {
	run   int64
	done  chan struct{}
	facts *optimize.Facts
	err   error
}

// Optimize returns the figures of connection connID's current snapshot
// for N days, the configured prices and the catalogue.
func (o *Optimizer) Optimize(ctx context.Context, connID string, days int, cfg *storage.Config, cat *catalog.Catalog) (*optimize.Result, error) {
	run, err := o.Store.CurrentRun(ctx, connID)
	if err != nil {
		return nil, err
	}
	return o.OptimizeRun(ctx, connID, run.ID, days, cfg, cat)
}

// OptimizeRun is Optimize for one snapshot, pinned by its run: a caller
// that shows the run's date beside the figures (the CLI, an export) gets
// both from the same snapshot even if an import finishes meanwhile.
func (o *Optimizer) OptimizeRun(ctx context.Context, connID string, run int64, days int, cfg *storage.Config, cat *catalog.Catalog) (*optimize.Result, error) {
	f, err := o.factsOf(ctx, connID, run)
	if err != nil {
		return nil, err
	}
	res := o.prepared(connID, f, cat).Compute(optimize.Options{InactiveDays: days, Prices: PriceMap(cfg), Catalog: cat})
	res.SortLists()
	return res, nil
}

// prepared is f prepared for cat, kept beside f while f is the
// connection's cached facts.
func (o *Optimizer) prepared(connID string, f *optimize.Facts, cat *catalog.Catalog) *optimize.Prepared {
	o.mu.Lock()
	c, ok := o.facts[connID]
	o.mu.Unlock()
	if ok && c.facts == f && c.prep != nil && c.prep.Catalog() == cat {
		return c.prep
	}
	p := optimize.Prepare(f, cat)
	o.mu.Lock()
	if c, ok := o.facts[connID]; ok && c.facts == f {
		c.prep = p
		o.facts[connID] = c
	}
	o.mu.Unlock()
	return p
}

// Facts returns the current snapshot's facts, read once per snapshot.
func (o *Optimizer) Facts(ctx context.Context, connID string) (*optimize.Facts, error) {
	run, err := o.Store.CurrentRun(ctx, connID)
	if err != nil {
		return nil, err
	}
	return o.factsOf(ctx, connID, run.ID)
}

func (o *Optimizer) factsOf(ctx context.Context, connID string, run int64) (*optimize.Facts, error) {
	o.mu.Lock()
	if c, ok := o.facts[connID]; ok && c.run == run {
		o.mu.Unlock()
		return c.facts, nil
	}
	if l, ok := o.loading[connID]; ok && l.run == run {
		o.mu.Unlock()
		select {
		case <-l.done:
			if (errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded)) && ctx.Err() == nil {
				// The caller that read them gave up; this one has not.
				return o.factsOf(ctx, connID, run)
			}
			return l.facts, l.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l := &factsLoad{run: run, done: make(chan struct{})}
	if o.loading == nil {
		o.loading = map[string]*factsLoad{}
	}
	o.loading[connID] = l
	o.mu.Unlock()

	l.facts, l.err = optimize.Load(ctx, o.Store, connID, inventory.Query{RunID: run})
	o.mu.Lock()
	if o.loading[connID] == l {
		delete(o.loading, connID)
	}
	if l.err == nil {
		if o.facts == nil {
			o.facts = map[string]cachedFacts{}
		}
		// A read of an older snapshot that finishes last must not
		// replace a newer one's facts.
		if c, ok := o.facts[connID]; !ok || c.run < run {
			o.facts[connID] = cachedFacts{run: run, facts: l.facts}
		}
	}
	o.mu.Unlock()
	close(l.done)
	return l.facts, l.err
}

// SnapshotLicenses returns the SKUs of the current snapshot of every
// connection (those without one are passed over): what a price list's SKU
// names are resolved against first (Resolver).
func SnapshotLicenses(ctx context.Context, store *inventory.Store, conns []storage.Connection) ([]inventory.License, error) {
	var out []inventory.License
	for _, conn := range conns {
		run, err := store.CurrentRun(ctx, conn.ID)
		if errors.Is(err, inventory.ErrNoSnapshot) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ls, err := store.Licenses(ctx, conn.ID, inventory.Query{RunID: run.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}
