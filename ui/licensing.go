package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// licensing is what names and prices licences in the window (issue 17):
// the licensing catalogue in use and the prices per SKU, both kept in the
// configuration by service. The data pages and the Optimization page read
// them when they render; changed re-renders them after a catalogue is
// loaded or a price set.
type licensing struct {
	draft *draft
	// cat is the catalogue in use; problem says why a loaded one was not
	// used ("" when it was, or none was loaded).
	cat     *catalog.Catalog
	problem string
	// changed re-renders what shows names or prices.
	changed func()
}

// reload picks the catalogue the configuration names (Fyne goroutine). A
// loaded catalogue is about 1 MB and parses in a few milliseconds.
func (l *licensing) reload() {
	if l.draft.repo == nil || l.draft.repo.Config == nil {
		l.cat, l.problem = catalog.Builtin(), ""
		return
	}
	l.cat, l.problem = service.Catalog(l.draft.repo.Config.Dir(), l.draft.cfg)
}

// catalog is the catalogue in use, never nil.
func (l *licensing) catalog() *catalog.Catalog {
	if l.cat == nil {
		l.reload()
	}
	return l.cat
}

// prices are the configured prices by lower-case skuId.
func (l *licensing) prices() map[string]storage.Price {
	if l.draft.cfg == nil {
		return nil
	}
	return service.PriceMap(l.draft.cfg)
}

// sourceText says which catalogue names the products, and why a loaded
// one is not used.
func (l *licensing) sourceText() string {
	s := "Product names: " + l.catalog().Source.String() + "."
	if l.problem != "" {
		s += " " + l.problem
	}
	return s
}

// absorb takes a configuration change service just wrote (prices, the
// catalogue, the history's retention) into the window's copy, keeping its unsaved edits. When the
// file moved on by exactly that write, the copy takes its revision, so the
// next Save is not refused as if another process had saved; when another
// process saved in between, the revision stays, and Save says so as it
// would have.
func (l *licensing) absorb() error {
	fresh, err := l.draft.repo.Config.Load()
	if err != nil {
		return err
	}
	cfg := l.draft.cfg
	if fresh.Revision == cfg.Revision+1 {
		cfg.Revision = fresh.Revision
	}
	cfg.Prices, cfg.Catalog, cfg.HistoryMonths = fresh.Prices, fresh.Catalog, fresh.HistoryMonths
	return nil
}

// update runs a service change of the configuration, takes it into the
// window's copy and re-renders.
func (l *licensing) update(change func(cs *storage.ConfigStore) error) error {
	if err := change(l.draft.repo.Config); err != nil {
		return err
	}
	err := l.absorb()
	l.reload()
	if l.changed != nil {
		l.changed()
	}
	return err
}

// skuLabels turns the Users page's licences ("ENTERPRISEPACK+SPE_E5", the
// skuId of a SKU the snapshot does not name) into product labels.
func skuLabels(cat *catalog.Catalog, parts string) string {
	if parts == "" {
		return ""
	}
	list := strings.Split(parts, "+")
	for i, p := range list {
		list[i] = licenseLabel(cat, p)
	}
	return strings.Join(list, "; ")
}

// licenseLabel is one entry of a user's Licenses as shown: a part number
// labelled with its product name, or a SKU id (a SKU without a part
// number) named. The Users page's search and sort go by it too
// (inventory.Query.LicenseLabel).
func licenseLabel(cat *catalog.Catalog, part string) string {
	if looksLikeGUID(part) {
		return cat.Name(part, "")
	}
	return cat.Label("", part)
}

func looksLikeGUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// priceText shows a price as typed: "23.00 EUR a month".
func priceText(p storage.Price) string {
	per := "month"
	if p.Yearly {
		per = "year"
	}
	return fmt.Sprintf("%s %s a %s", service.FormatCents(float64(p.Cents)), p.Currency, per)
}

// money shows hundredths of a currency: "1,234.50 EUR".
func money(cents float64, currency string) string {
	s := service.FormatCents(cents)
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + "." + frac + " " + currency
	if neg {
		out = "-" + out
	}
	return out
}

// shorten cuts a label to n characters for places that cannot wrap (the
// chart's labels); the full label is in the table beside it.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
