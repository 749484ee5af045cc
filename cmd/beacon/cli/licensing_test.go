package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// A catalogue in the shape of Microsoft's download, with one product.
const tinyCatalogue = "\ufeffProduct_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names\n" +
	"Contoso Suite 2027,CONTOSO_CUSTOM," + skuCustom + ",EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange Online (Plan 2)\n"

// TestCatalogCommands: show, load and reset; a file that is not the
// catalogue exits 1 and keeps the catalogue in use.
func TestCatalogCommands(t *testing.T) {
	dir := smallSnapshot(t)
	code, out, errs := runIn(dir, "catalog", "show")
	if code != ExitOK || !strings.Contains(out, "(built in)") || !strings.Contains(out, "569 products") {
		t.Fatalf("show: %d %q %s", code, out, errs)
	}
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "users.csv")
	if err := os.WriteFile(bad, []byte("UPN,Name\na@b,A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runIn(dir, "catalog", "load", bad); code != ExitFailed || !strings.Contains(errs, "not Microsoft's licensing catalogue") ||
		!strings.Contains(errs, "unchanged") {
		t.Fatalf("load of a user list: %d %s", code, errs)
	}
	if code, out, _ := runIn(dir, "catalog", "show"); code != ExitOK || !strings.Contains(out, "(built in)") {
		t.Fatalf("a refused file changed the catalogue: %s", out)
	}

	good := filepath.Join(tmp, "products.csv")
	if err := os.WriteFile(good, []byte(tinyCatalogue), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runIn(dir, "catalog", "load", good); code != ExitOK || !strings.Contains(out, "from products.csv") || !strings.Contains(out, "1 products") {
		t.Fatalf("load: %d %q %s", code, out, errs)
	}
	// The loaded catalogue names the tenant's own SKU, and knows no other.
	rep := optimizeJSON(t, dir)
	if rep.Catalog.Builtin || rep.Catalog.Products != 1 || skuLine(t, rep, skuCustom).Name != "Contoso Suite 2027 (CONTOSO_CUSTOM)" ||
		skuLine(t, rep, skuE3).Name != "ENTERPRISEPACK" {
		t.Fatalf("optimize with the loaded catalogue: %+v", rep.Catalog)
	}
	// A wrong file keeps the loaded catalogue, not the built-in one.
	if code, _, _ := runIn(dir, "catalog", "load", bad); code != ExitFailed {
		t.Fatalf("second bad load: %d", code)
	}
	if code, out, _ := runIn(dir, "catalog", "show"); code != ExitOK || !strings.Contains(out, "from products.csv") {
		t.Fatalf("a refused file replaced the loaded catalogue: %s", out)
	}

	// A damaged copy: the built-in one is used, and show says why.
	if err := os.WriteFile(filepath.Join(dir, storage.CatalogFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runIn(dir, "catalog", "show")
	if code != ExitWarnings || !strings.Contains(out, "(built in)") || !strings.Contains(out, "Problem: ") || !strings.Contains(out, "products.csv is damaged") {
		t.Fatalf("damaged: %d %s", code, out)
	}
	if rep := optimizeJSON(t, dir); !rep.Catalog.Builtin || !strings.Contains(rep.Catalog.Problem, "damaged") {
		t.Errorf("optimize does not say the loaded catalogue is damaged: %+v", rep.Catalog)
	}
	if code, out, _ := runIn(dir, "catalog", "reset"); code != ExitOK || !strings.Contains(out, "(built in)") {
		t.Fatalf("reset: %d %s", code, out)
	}
	if code, out, _ := runIn(dir, "catalog", "show"); code != ExitOK || strings.Contains(out, "Problem") {
		t.Fatalf("after reset: %d %s", code, out)
	}

	for _, args := range [][]string{{"catalog"}, {"catalog", "load"}, {"catalog", "load", "a", "b"}, {"catalog", "show", "x"}, {"catalog", "update"}} {
		if code, _, _ := runIn(dir, args...); code != ExitUsage {
			t.Errorf("%v: %d, want %d", args, code, ExitUsage)
		}
	}
	if code, _, errs := runIn(dir, "catalog", "--help"); code != ExitOK || !strings.Contains(errs, "beacon catalog load FILE") {
		t.Errorf("--help: %d %s", code, errs)
	}
}

// TestPricesCommands: set (by part number, skuId, product name, or a SKU
// only the tenant knows), list, export → edit → import, remove; a SKU
// nobody knows is a plain error.
func TestPricesCommands(t *testing.T) {
	dir := smallSnapshot(t)
	if code, out, _ := runIn(dir, "prices", "list"); code != ExitOK || !strings.Contains(out, "No prices") {
		t.Fatalf("empty list: %d %s", code, out)
	}
	code, out, errs := runIn(dir, "prices", "set", "NOT_A_SKU", "5", "EUR")
	if code != ExitFailed || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, `no SKU "NOT_A_SKU" in the imported tenants or the licensing catalogue`) {
		t.Fatalf("unknown SKU: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{{"set", "ENTERPRISEPACK", "ten", "EUR"}, {"set", "ENTERPRISEPACK", "10", "euro"},
		{"set", "ENTERPRISEPACK", "10", "EUR", "--per", "week"}, {"set", "ENTERPRISEPACK", "10"}, {"remove"}, {"import"}, {"export", "x"}, {"export", "--bom", "maybe"}} {
		if code, _, _ := runIn(dir, append([]string{"prices"}, args...)...); code != ExitUsage {
			t.Errorf("prices %v: %d, want %d", args, code, ExitUsage)
		}
	}
	cfg, _ := storage.NewConfigStore(dir).Load()
	if len(cfg.Prices) != 0 {
		t.Fatalf("refused prices were saved: %+v", cfg.Prices)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "enterprisepack", "23", "eur"}, "Office 365 E3 (ENTERPRISEPACK): 23.00 EUR a month"},
		{[]string{"set", strings.ToUpper(skuEMS), "120", "EUR", "--per", "year"}, "Enterprise Mobility + Security E3 (EMS): 120.00 EUR a year"},
		{[]string{"set", "Microsoft 365 E3", "36,50", "EUR"}, "Microsoft 365 E3 (SPE_E3): 36.50 EUR a month"},
		// Only the snapshot knows this SKU.
		{[]string{"set", "CONTOSO_CUSTOM", "7", "USD", "--per", "month"}, "CONTOSO_CUSTOM: 7.00 USD a month"},
	} {
		code, out, errs := runIn(dir, append([]string{"prices"}, c.args...)...)
		if code != ExitOK || strings.TrimSpace(out) != c.want {
			t.Errorf("prices %v: %d %q %s, want %q", c.args, code, out, errs, c.want)
		}
	}
	code, out, _ = runIn(dir, "prices", "list")
	for _, want := range []string{"Office 365 E3 (ENTERPRISEPACK)", "120.00 EUR  year   10.00 EUR", "36.50 EUR", "CONTOSO_CUSTOM"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("list: no %q in\n%s", want, out)
		}
	}

	// Export, edit, import: the list round-trips.
	code, exported, errs := runIn(dir, "prices", "export")
	if code != ExitOK || strings.HasPrefix(exported, csvsafe.BOM) {
		t.Fatalf("export: %d %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(exported)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "SKU,Price,Currency,Per" {
		t.Fatalf("export: %v %v", recs, err)
	}
	rows := map[string]string{}
	for _, r := range recs[1:] {
		rows[r[0]] = strings.Join(r[1:], ",")
	}
	if rows["ENTERPRISEPACK"] != "23.00,EUR,month" || rows["EMS"] != "120.00,EUR,year" || rows["SPE_E3"] != "36.50,EUR,month" || rows["CONTOSO_CUSTOM"] != "7.00,USD,month" {
		t.Fatalf("export: %v", rows)
	}
	file := filepath.Join(t.TempDir(), "prices.csv")
	if code, _, errs := runIn(dir, "prices", "export", "--output", file); code != ExitOK {
		t.Fatal(errs)
	}
	raw, _ := os.ReadFile(file)
	if string(raw) != csvsafe.BOM+exported {
		t.Fatalf("export to a file: %q, want the byte-order mark and %q", raw, exported)
	}
	edited := strings.Replace(string(raw), "ENTERPRISEPACK,23.00,EUR,month", "ENTERPRISEPACK,25.00,EUR,month", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runIn(dir, "prices", "import", file); code != ExitOK || !strings.Contains(out, "Imported 4 prices") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if _, again, _ := runIn(dir, "prices", "export"); again != strings.Replace(exported, "23.00", "25.00", 1) {
		t.Fatalf("after import:\n%s\nwant the edited list", again)
	}
	// A bad line refuses the whole list.
	if err := os.WriteFile(file, []byte("SKU,Price,Currency\nENTERPRISEPACK,30,EUR\nNOT_A_SKU,5,EUR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runIn(dir, "prices", "import", file); code != ExitFailed || !strings.Contains(errs, "line 3") || !strings.Contains(errs, "no price was changed") {
		t.Fatalf("bad import: %d %s", code, errs)
	}
	if rep := optimizeJSON(t, dir); skuLine(t, rep, skuE3).Price.Amount != "25.00" {
		t.Fatalf("a refused list changed a price: %+v", skuLine(t, rep, skuE3).Price)
	}

	if code, out, errs := runIn(dir, "prices", "remove", "Office 365 E3"); code != ExitOK || !strings.Contains(out, "Office 365 E3 (ENTERPRISEPACK)") {
		t.Fatalf("remove: %d %s %s", code, out, errs)
	}
	if code, _, errs := runIn(dir, "prices", "remove", "ENTERPRISEPACK"); code != ExitFailed || !strings.Contains(errs, "no price is set") {
		t.Fatalf("remove twice: %d %s", code, errs)
	}
	cfg, _ = storage.NewConfigStore(dir).Load()
	if len(cfg.Prices) != 3 {
		t.Fatalf("after remove: %+v", cfg.Prices)
	}
}

// TestOptimizeDemoTenant runs `beacon optimize` on the simulator's tenant
// after `beacon execute`: every list's seats add up to the totals, a
// price typed by product name turns into its cost, and the CSV has one
// row per finding of the JSON.
func TestOptimizeDemoTenant(t *testing.T) {
	// 1,000 users: the simulator fails one group assignment in 150.
	e := newCLIEnv(t, 1000)
	if code, _, errs := e.run("execute", "Contoso Tenant", "--quiet"); code != ExitOK {
		t.Fatalf("execute: %d %s", code, errs)
	}
	report := func(args ...string) optimizeReport {
		t.Helper()
		code, out, errs := e.run(append([]string{"optimize", "Contoso Tenant", "--format", "json"}, args...)...)
		var rep optimizeReport
		if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("optimize: %d %s\n%.300s", code, errs, out)
		}
		return rep
	}
	rep := report()
	_, out, _ := e.run("list", "--format", "json")
	var list []listEntry
	if json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || rep.ActivityAsOf != list[0].ActivityAsOf {
		t.Fatalf("activity as of %q, list says %+v", rep.ActivityAsOf, list)
	}
	// Each SKU's recoverable seats are its seats in the recoverable
	// findings, plus its unused ones once it has a price (none here: the
	// unused units are reported apart).
	inFindings := map[string]int{}
	findings := 0
	for _, l := range rep.Lists {
		findings += len(l.Users)
		for _, f := range l.Users {
			for _, lic := range f.Licenses {
				if f.Recoverable {
					inFindings[lic.SkuID]++
				}
			}
		}
	}
	sum, unused := 0, 0
	for _, s := range rep.SKUs {
		if s.Recoverable != inFindings[s.SkuID] {
			t.Errorf("%s: %d recoverable, %d in recoverable findings", s.Name, s.Recoverable, inFindings[s.SkuID])
		}
		sum += s.Recoverable
		unused += s.Unused
	}
	if rep.Totals.UncountedUnused != unused || unused == 0 {
		t.Errorf("uncounted unused units %d, the SKUs' unused %d", rep.Totals.UncountedUnused, unused)
	}
	if sum != rep.Totals.RecoverableSeats || rep.Totals.UnpricedSeats != sum || sum == 0 {
		t.Errorf("totals %+v, sum of the SKUs %d", rep.Totals, sum)
	}
	// The demo tenant has licensed guests and disabled licensed accounts;
	// once the import reads licenseAssignmentStates (the licences from a
	// group count then), one assignment error for each of the
	// simulator's Error states.
	failed := 0
	ten := e.sim.Tenant()
	ten.RLock()
	for _, u := range ten.Users {
		for _, st := range u.Licensing {
			if st.State == "Error" {
				failed++
			}
		}
	}
	ten.RUnlock()
	for _, l := range rep.Lists {
		if (l.List == "guests" || l.List == "disabled") && len(l.Users) == 0 {
			t.Errorf("list %s is empty", l.List)
		}
		if l.List == "errors" && rep.Totals.GroupAssigned > 0 {
			if len(l.Users) != failed || failed == 0 {
				t.Errorf("%d assignment errors, the simulator made %d", len(l.Users), failed)
			}
			for _, f := range l.Users {
				if f.Licenses[0].Source != "error" || f.Licenses[0].Group == "" {
					t.Errorf("error finding %+v", f)
				}
			}
		}
	}

	if code, out, errs := e.run("prices", "set", "Microsoft 365 E3", "36", "usd"); code != ExitOK || !strings.Contains(out, "Microsoft 365 E3 (SPE_E3): 36.00 USD a month") {
		t.Fatalf("prices set: %d %s %s", code, out, errs)
	}
	rep = report()
	for _, s := range rep.SKUs {
		if s.PartNumber != "SPE_E3" {
			continue
		}
		want := strconv.Itoa(s.Recoverable*36) + ".00"
		if s.Cost == nil || s.Cost.PerMonth != json.Number(want) || rep.Totals.Cost[0].Currency != "USD" || rep.Totals.Cost[0].PerMonth != json.Number(want) ||
			rep.Totals.UnpricedSeats != rep.Totals.RecoverableSeats-s.Recoverable {
			t.Errorf("SPE_E3 at 36 USD: %d seats, cost %+v, totals %+v, want %s a month", s.Recoverable, s.Cost, rep.Totals, want)
		}
	}

	code, out, errs := e.run("optimize", "Contoso Tenant", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != ExitOK || err != nil || len(recs)-1 != findings {
		t.Fatalf("csv: %d %s %v: %d rows, JSON has %d findings", code, errs, err, len(recs)-1, findings)
	}
	if code, out, errs := e.run("optimize", "Contoso Tenant", "--inactive-days", "30"); code != ExitOK || !strings.Contains(out, "no activity for 30 days") {
		t.Fatalf("table: %d %s\n%s", code, errs, out)
	}
}

// TestOptimizeActivityUnknown: without usage reports (a user without a
// reports role imported) nobody can be called inactive or never active:
// the lists say they were not computed and why, and the command still
// succeeds with the other lists.
func TestOptimizeActivityUnknown(t *testing.T) {
	e := newCLIEnv(t, 100)
	e.useToken(tenant.UserLocalPart, nil)
	if code, _, errs := e.run("execute", "Contoso Tenant", "--quiet"); code != ExitWarnings {
		t.Fatalf("execute without reports: %d %s", code, errs)
	}
	code, out, errs := e.run("optimize", "Contoso Tenant", "--format", "json")
	var rep optimizeReport
	if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("optimize: %d %s", code, errs)
	}
	if rep.ActivityKnown || rep.ActivityProblem == "" {
		t.Fatalf("activity known %v, problem %q", rep.ActivityKnown, rep.ActivityProblem)
	}
	for _, l := range rep.Lists {
		activity := l.List == "never" || l.List == "inactive"
		if l.Computed == activity || (activity && len(l.Users) != 0) {
			t.Errorf("list %s: computed %v, %d users", l.List, l.Computed, len(l.Users))
		}
	}
	code, out, _ = e.run("optimize", "Contoso Tenant")
	if code != ExitOK || !strings.Contains(out, "Notice: "+rep.ActivityProblem) || !strings.Contains(out, "not computed: activity is unknown") {
		t.Fatalf("table: %d\n%s", code, out)
	}
	// The CSV holds findings only: the reason goes to stderr.
	code, out, errs = e.run("optimize", "Contoso Tenant", "--format", "csv")
	if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); code != ExitOK || err != nil || !strings.Contains(errs, rep.ActivityProblem) {
		t.Fatalf("csv: %d %v %q", code, err, errs)
	}
}
