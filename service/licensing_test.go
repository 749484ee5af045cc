package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

const catalogueCSV = "\ufeffProduct_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names\n" +
	"Contoso Suite 2027,CONTOSO_SUITE,aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa,EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange Online (Plan 2)\n"

func TestLoadCatalog(t *testing.T) {
	dir := t.TempDir()
	cs := storage.NewConfigStore(dir)
	cfg, _ := cs.Load()
	if c, problem := Catalog(dir, cfg); !c.Source.Builtin || problem != "" {
		t.Fatalf("no catalogue loaded: %v %q", c.Source, problem)
	}
	src := filepath.Join(t.TempDir(), "products.csv")
	if err := os.WriteFile(src, []byte(catalogueCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	published := time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC)
	if err := os.Chtimes(src, published, published); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(cs, src)
	if err != nil {
		t.Fatal(err)
	}
	if c.Label("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "CONTOSO_SUITE") != "Contoso Suite 2027 (CONTOSO_SUITE)" {
		t.Errorf("loaded catalogue does not name the new SKU")
	}
	// The source file may go: the copy is what is used from now on.
	os.Remove(src)
	cfg, _ = cs.Load()
	c, problem := Catalog(dir, cfg)
	if problem != "" || c.Source.Builtin || c.Len() != 1 || !strings.Contains(c.Source.String(), "from products.csv, dated 2 March 2027") {
		t.Fatalf("after loading: %v (%d products) %q", c.Source, c.Len(), problem)
	}

	// A file that is not the catalogue is refused and changes nothing.
	bad := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(bad, []byte("UPN,Name\na@b,A\n"), 0o600)
	if _, err := LoadCatalog(cs, bad); !errors.Is(err, catalog.ErrNotCatalogue) || !strings.Contains(err.Error(), "Download") {
		t.Fatalf("bad file: %v", err)
	}
	cfg, _ = cs.Load()
	if c, _ := Catalog(dir, cfg); c.Len() != 1 {
		t.Errorf("a refused file replaced the catalogue")
	}

	// A damaged copy falls back to the built-in one, and says so.
	os.WriteFile(filepath.Join(dir, storage.CatalogFileName), []byte("garbage"), 0o600)
	if c, problem := Catalog(dir, cfg); !c.Source.Builtin || !strings.Contains(problem, "products.csv is damaged") {
		t.Errorf("damaged copy: %v %q", c.Source, problem)
	}
	if err := UseBuiltinCatalog(cs); err != nil {
		t.Fatal(err)
	}
	cfg, _ = cs.Load()
	if cfg.Catalog != nil {
		t.Error("UseBuiltinCatalog kept the loaded one")
	}
}

func TestParsePrice(t *testing.T) {
	for _, c := range []struct {
		amount, cur, per string
		cents            int64
		yearly           bool
		err              string
	}{
		{"23", "eur", "", 2300, false, ""},
		{"23.5", "EUR", "month", 2350, false, ""},
		{"23,50", "EUR", "Monthly", 2350, false, ""},
		{"1,234.56", "usd", "year", 123456, true, ""},
		{"1.234,56", "CHF", "annual", 123456, true, ""},
		{"1 234", "GBP", "y", 123400, true, ""},
		{".99", "EUR", "", 99, false, ""},
		{"", "EUR", "", 0, false, "empty"},
		{"-3", "EUR", "", 0, false, "not an amount"},
		{"ten", "EUR", "", 0, false, "not an amount"},
		{"10", "euro", "", 0, false, "three-letter"},
		{"10", "EUR", "week", 0, false, "month or year"},
	} {
		p, err := ParsePrice(c.amount, c.cur, c.per)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %q %q: %v, want an error saying %q", c.amount, c.cur, c.per, err, c.err)
			}
			continue
		}
		if err != nil || p.Cents != c.cents || p.Yearly != c.yearly || p.Currency != strings.ToUpper(c.cur) {
			t.Errorf("%q %q %q: %+v %v", c.amount, c.cur, c.per, p, err)
		}
	}
	if FormatCents(2350) != "23.50" || FormatCents(123456.4) != "1234.56" {
		t.Errorf("FormatCents: %s %s", FormatCents(2350), FormatCents(123456.4))
	}
}

func TestImportPrices(t *testing.T) {
	dir := t.TempDir()
	cs := storage.NewConfigStore(dir)
	lic := []inventory.License{{SKU: inventory.SKU{SkuID: "6FD2C87F-B296-42F0-B197-1E91E994B900", SkuPartNumber: "ENTERPRISEPACK"}}}
	resolve := Resolver(lic, catalog.Builtin())
	in := "Currency,SKU,Price,Per\nEUR,ENTERPRISEPACK,23.00,month\nEUR,Microsoft 365 E5,684,year\n,,,\nEUR,efccb6f7-5641-4e0e-bd10-b4976e1bf68e,\"9,50\",\n"
	n, err := ImportPrices(cs, strings.NewReader(in), resolve)
	if err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	cfg, _ := cs.Load()
	m := PriceMap(cfg)
	if p := m["6fd2c87f-b296-42f0-b197-1e91e994b900"]; p.Cents != 2300 || p.PartNumber != "ENTERPRISEPACK" || p.Monthly() != 2300 {
		t.Errorf("E3 %+v", p)
	}
	if p := m["06ebc4ee-1bb5-47dd-8120-11324bc54e06"]; p.Cents != 68400 || !p.Yearly || p.Monthly() != 5700 || p.PartNumber != "SPE_E5" {
		t.Errorf("E5 by product name %+v", p)
	}
	if p := m["efccb6f7-5641-4e0e-bd10-b4976e1bf68e"]; p.Cents != 950 || p.PartNumber != "EMS" {
		t.Errorf("EMS by skuId %+v", p)
	}
	// One bad line refuses the whole list.
	for _, c := range []struct{ in, want string }{
		{"SKU,Price,Currency\nENTERPRISEPACK,20,EUR\nNOT_A_SKU,5,EUR\n", "line 3: no SKU \"NOT_A_SKU\""},
		{"SKU,Price,Currency\nENTERPRISEPACK,twenty,EUR\n", "line 2: price \"twenty\""},
		{"SKU,Amount\nENTERPRISEPACK,20\n", "no column \"Price\""},
		{"SKU,Price,Currency\n", "no prices"},
	} {
		if _, err := ImportPrices(cs, strings.NewReader(c.in), resolve); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
	cfg, _ = cs.Load()
	if p := PriceMap(cfg)["6fd2c87f-b296-42f0-b197-1e91e994b900"]; p.Cents != 2300 || len(cfg.Prices) != 3 {
		t.Errorf("a refused list changed the prices: %+v", cfg.Prices)
	}
	// Set and remove one.
	p, _ := ParsePrice("30", "EUR", "month")
	if err := SetPrice(cs, "6FD2C87F-B296-42F0-B197-1E91E994B900", "ENTERPRISEPACK", p, false); err != nil {
		t.Fatal(err)
	}
	if err := SetPrice(cs, "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "", storage.Price{}, true); err != nil {
		t.Fatal(err)
	}
	cfg, _ = cs.Load()
	if m := PriceMap(cfg); len(m) != 2 || m["6fd2c87f-b296-42f0-b197-1e91e994b900"].Cents != 3000 {
		t.Errorf("after set and remove: %+v", cfg.Prices)
	}
}

// optimizerStore is an inventory with a writer of snapshots of connection
// "c": users users holding Office 365 E3, all but the first enabled.
func optimizerStore(t *testing.T) (*inventory.Store, func(users int)) {
	t.Helper()
	ctx := context.Background()
	store, err := inventory.OpenDir(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, func(users int) {
		w, err := store.BeginRun(ctx, inventory.RunInfo{ConnectionID: "c", ConnectionName: "Contoso", Trigger: inventory.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		_ = w.AddSKUs(ctx, []inventory.SKU{{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}}})
		var us []inventory.User
		for i := range users {
			us = append(us, inventory.User{ID: fmt.Sprint(i), UserPrincipalName: fmt.Sprintf("u%d@x", i), AccountEnabled: i > 0,
				AssignedLicenses: []inventory.AssignedLicense{{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", DisabledPlans: []string{}}}})
		}
		_ = w.AddUsers(ctx, us)
		if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOptimizerReadsASnapshotOnce: changing N recomputes from the facts
// already read; a new snapshot is read afresh.
func TestOptimizerReadsASnapshotOnce(t *testing.T) {
	ctx := context.Background()
	store, write := optimizerStore(t)
	write(2)
	o := &Optimizer{Store: store}
	cfg := &storage.Config{}
	r, err := o.Optimize(ctx, "c", 30, cfg, catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := o.Facts(ctx, "c")
	if len(r.List(0+1)) != 1 { // Disabled: user a
		t.Errorf("disabled: %d", len(r.List(1)))
	}
	f2, _ := o.Facts(ctx, "c")
	if f1 != f2 {
		t.Error("the same snapshot was read twice")
	}
	write(3)
	f3, _ := o.Facts(ctx, "c")
	if f3 == f1 || len(f3.Users) != 3 {
		t.Errorf("a new snapshot was not read: %d users", len(f3.Users))
	}
	if _, err := o.Optimize(ctx, "nobody", 30, cfg, nil); !errors.Is(err, inventory.ErrNoSnapshot) {
		t.Errorf("no snapshot: %v", err)
	}
}

// TestOptimizerSharesAReadInProgress: callers asking for the same
// snapshot while its facts are read (the window reads them ahead when a
// connection is chosen, the page opens meanwhile) all get that one read's
// facts, and one that gives up does not fail the others.
func TestOptimizerSharesAReadInProgress(t *testing.T) {
	ctx := context.Background()
	store, write := optimizerStore(t)
	write(2000)
	o := &Optimizer{Store: store}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := o.Facts(gone, "c"); err == nil {
		t.Error("a cancelled caller got facts")
	}
	const callers = 8
	got := make([]*optimize.Facts, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			f, err := o.Facts(ctx, "c")
			if err != nil {
				t.Error(err)
			}
			got[i] = f
		})
	}
	wg.Wait()
	for i, f := range got {
		if f == nil || f != got[0] || len(f.Users) != 2000 {
			t.Fatalf("caller %d: facts %p (first %p)", i, f, got[0])
		}
	}
}

// Two stores holding the same tenant, its users written in different
// orders (as two imports' parallel listings finish in different orders),
// give the Optimization lists in the same order: two demo runs' lists
// differed.
func TestOptimizerListsInOneOrder(t *testing.T) {
	ctx := context.Background()
	const e3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	var lists [][]string
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 3, 1, 0, 4, 2}} {
		store, err := inventory.OpenDir(ctx, t.TempDir(), inventory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		w, err := store.BeginRun(ctx, inventory.RunInfo{ConnectionID: "c", ConnectionName: "Contoso", Trigger: inventory.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddSKUs(ctx, []inventory.SKU{{SkuID: e3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}}}); err != nil {
			t.Fatal(err)
		}
		var us []inventory.User
		for _, i := range order {
			us = append(us, inventory.User{ID: fmt.Sprint(i), UserPrincipalName: fmt.Sprintf("u%d@x", i),
				AssignedLicenses: []inventory.AssignedLicense{{SkuID: e3, DisabledPlans: []string{}}}})
		}
		if err := w.AddUsers(ctx, us); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
		r, err := (&Optimizer{Store: store}).Optimize(ctx, "c", 30, &storage.Config{}, catalog.Builtin())
		if err != nil {
			t.Fatal(err)
		}
		var upns []string
		for _, fd := range r.List(optimize.Disabled) {
			upns = append(upns, fd.User.UPN)
		}
		lists = append(lists, upns)
	}
	want := []string{"u0@x", "u1@x", "u2@x", "u3@x", "u4@x", "u5@x"}
	for i, l := range lists {
		if !slices.Equal(l, want) {
			t.Errorf("store %d lists the disabled accounts as %q, want %q", i, l, want)
		}
	}
}
