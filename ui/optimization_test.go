package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The small tenant of the Optimization page's tests, worked out by hand.
// The usage reports are of 28 November 2026.
//
//	SKU                     purchased  holders
//	Office 365 E3 (E3)      10         alice bob carol dave erin frank gina  (7)
//	Microsoft 365 E3        1          gina
//	EMS E3                  3          nobody
//
//	alice  active 2026-11-20
//	bob    active 2026-09-01 (88 days before): inactive at N=30, not at 90
//	carol  in no report: never active
//	dave   disabled
//	erin   created 2026-11-20: a new starter at N=30 and 90, not waste
//	frank  a guest, active 2026-11-25
//	gina   Office 365 E3 and Microsoft 365 E3, which includes it: the
//	       Office 365 E3 seat overlaps; active 2026-11-26
//
// At N=30, E3 recovers its 3 unused seats, bob, carol, dave and gina's
// overlapping seat: 7; Microsoft 365 E3 none; EMS its 3 unused seats,
// unpriced. 10 seats; at 20.00 EUR a month for E3, 140.00 EUR a month,
// 1,680.00 EUR a year. At N=90 bob is active: 9 seats, 120.00 EUR.
const (
	smallConn = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	skuO365E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuM365E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
	skuEMS    = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
)

type smallUser struct {
	name     string
	skus     []string
	active   string // Exchange last activity; "" none
	disabled bool
	guest    bool
	created  string
}

var smallUsers = []smallUser{
	{name: "alice", skus: []string{skuO365E3}, active: "2026-11-20"},
	{name: "bob", skus: []string{skuO365E3}, active: "2026-09-01"},
	{name: "carol", skus: []string{skuO365E3}},
	{name: "dave", skus: []string{skuO365E3}, active: "2026-10-01", disabled: true},
	{name: "erin", skus: []string{skuO365E3}, created: "2026-11-20"},
	{name: "frank", skus: []string{skuO365E3}, active: "2026-11-25", guest: true},
	{name: "gina", skus: []string{skuO365E3, skuM365E3}, active: "2026-11-26"},
}

func smallUPN(name string) string { return name + "@contoso.example" }

// writeSmallRun stores one run of the small tenant; withReports false
// leaves the usage reports out (a connection without Reports.Read.All).
func writeSmallRun(t *testing.T, s *inventory.Store, withReports bool) {
	t.Helper()
	ctx := context.Background()
	w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: smallConn, ConnectionName: "Contoso", Trigger: inventory.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, []inventory.SKU{
		{SkuID: skuO365E3, SkuPartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}},
		{SkuID: skuM365E3, SkuPartNumber: "SPE_E3", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: 1}, SubscriptionIDs: []string{}},
		{SkuID: skuEMS, SkuPartNumber: "EMS", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: 3}, SubscriptionIDs: []string{}},
	}); err != nil {
		t.Fatal(err)
	}
	spec := inventory.Report(inventory.ReportActiveUsers)
	var users []inventory.User
	var rows []inventory.ReportRow
	for i, su := range smallUsers {
		created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		if su.created != "" {
			created, _ = time.Parse("2006-01-02", su.created)
		}
		u := inventory.User{ID: "id-" + su.name, UserPrincipalName: smallUPN(su.name), DisplayName: strings.ToUpper(su.name[:1]) + su.name[1:],
			AccountEnabled: !su.disabled, Department: []string{"Sales", "IT"}[i%2], CreatedDateTime: created}
		if su.guest {
			u.UserType = "Guest"
		}
		for _, sku := range su.skus {
			u.AssignedLicenses = append(u.AssignedLicenses, inventory.AssignedLicense{SkuID: sku, DisabledPlans: []string{}})
		}
		users = append(users, u)
		if su.name == "carol" {
			continue
		}
		r := inventory.ReportRow{Cells: make([]string, len(spec.Columns))}
		r.Cells[spec.Column("Report Refresh Date")] = "2026-11-28"
		r.Cells[spec.Column("User Principal Name")] = u.UserPrincipalName
		r.Cells[spec.Column("Is Deleted")] = "False"
		r.Cells[spec.Column("Exchange Last Activity Date")] = su.active
		rows = append(rows, r)
	}
	if err := w.AddUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if withReports {
		if err := w.AddReportRows(ctx, inventory.ReportActiveUsers, rows); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
}

func smallInventory(t *testing.T) *inventory.Store {
	t.Helper()
	s, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	writeSmallRun(t, s, true)
	return s
}

// openOptimization shows the page and waits for its first result.
func openOptimization(t *testing.T, m *MainWindow) *optimizationPage {
	t.Helper()
	onUI(func() { m.nav.Select(PageOptimization) })
	var o *optimizationPage
	onUI(func() { o = m.data.optimization })
	if o == nil {
		t.Fatal("the Optimization page was not built")
	}
	waitComputed(t, o, 1)
	return o
}

// waitComputed waits until at least n results reached the page and none
// is under way, so no computation outlives the test.
func waitComputed(t *testing.T, o *optimizationPage, n int) {
	t.Helper()
	waitUI(t, "optimization result", func() bool { return o.computed >= n && o.pending == 0 })
}

// listUPNs are the users of one list as the table shows them.
func listUPNs(o *optimizationPage, r optimize.Reason) []string {
	var out []string
	if o.res == nil {
		return nil
	}
	for i := range o.res.Lists[r] {
		out = append(out, findingCells(o.res, o.lic.catalog(), &o.res.Lists[r][i], 0))
	}
	return out
}

func setPrice(t *testing.T, m *MainWindow, sku, part, amount string) {
	t.Helper()
	p, err := service.ParsePrice(amount, "EUR", "month")
	if err != nil {
		t.Fatal(err)
	}
	var uerr error
	onUI(func() {
		uerr = m.data.lic.update(func(cs *storage.ConfigStore) error { return service.SetPrice(cs, sku, part, p, false) })
	})
	if uerr != nil {
		t.Fatal(uerr)
	}
}

// expectLists checks who is in each list.
func expectLists(t *testing.T, o *optimizationPage, want map[optimize.Reason]string) {
	t.Helper()
	for _, r := range optimizationLists {
		got := strings.Join(listUPNs(o, r), ",")
		name := want[r]
		if name != "" {
			name = smallUPN(name)
		}
		if got != name {
			t.Errorf("%s: %q, want %q", r, got, name)
		}
	}
}

func TestOptimizationPageByHand(t *testing.T) {
	store := smallInventory(t)
	m := dataWindow(t, store, smallConn, Deps{})
	setPrice(t, m, skuO365E3, "ENTERPRISEPACK", "20")
	o := openOptimization(t, m)

	// N = 90, the default: bob's 1 September counts as active.
	onUI(func() {
		if o.res == nil {
			t.Fatalf("no result: %v", o.err)
		}
		if o.n != optimize.DefaultInactiveDays || o.res.InactiveDays != 90 {
			t.Errorf("N = %d, want the default 90", o.n)
		}
		requireContains(t, "reference", o.asOf.Text, "Counted from the usage reports of 28 November 2026")
		requireContains(t, "catalogue", o.asOf.Text, "Microsoft licensing catalogue of December 2025 (built in)")
		if o.notices.Visible() && strings.Contains(o.notices.Text, "Activity is unknown") {
			t.Errorf("activity is known, yet: %q", o.notices.Text)
		}
		// E3's 6 seats count; the 3 unused units of the unpriced SKU do not.
		requireContains(t, "totals", o.totals.Text, "Recoverable: 6 seats · 120.00 EUR a month · 1,440.00 EUR a year")
		requireContains(t, "totals", o.totals.Text, "3 unused units of SKUs without a price are not counted")
		expectLists(t, o, map[optimize.Reason]string{optimize.NeverActive: "carol", optimize.Disabled: "dave",
			optimize.LicensedGuest: "frank", optimize.NewStarter: "erin", optimize.Overlapping: "gina"})
		if got := o.list.Options[0]; got != "Inactive 90 days (0)" {
			t.Errorf("list selector shows %q", got)
		}
	})

	// N = 30: bob joins the inactive list.
	onUI(func() { o.days.SetText("30") })
	waitComputed(t, o, 2)
	onUI(func() {
		if o.res.InactiveDays != 30 {
			t.Fatalf("N = %d after choosing 30", o.res.InactiveDays)
		}
		requireContains(t, "totals", o.totals.Text, "Recoverable: 7 seats · 140.00 EUR a month · 1,680.00 EUR a year")
		expectLists(t, o, map[optimize.Reason]string{optimize.Inactive: "bob", optimize.NeverActive: "carol", optimize.Disabled: "dave",
			optimize.LicensedGuest: "frank", optimize.NewStarter: "erin", optimize.Overlapping: "gina"})
		// Office 365 E3 first (the most money): 3 unused + bob, carol,
		// dave and gina's overlapping seat.
		for col, v := range map[int]string{0: "Office 365 E3 (ENTERPRISEPACK)", 1: "10", 2: "7", 3: "3", 4: "1", 5: "1", 6: "1",
			7: "1", 8: "7", 9: "20.00 EUR a month", 10: "140.00 EUR"} {
			if got := o.skuCell(0, col); got != v {
				t.Errorf("SKU table row 0 %s = %q, want %q", skuColumns[col].title, got, v)
			}
		}
		// bob's row as the table shows it.
		if o.reason != optimize.Inactive || o.rows.Length == nil {
			t.Fatalf("the page shows %s", o.reason)
		}
		if r, _ := o.rows.Length(); r != 1 {
			t.Errorf("the inactive table has %d rows, want 1", r)
		}
		cols := findingColumns()
		for title, v := range map[string]string{"User Principal Name": smallUPN("bob"), "Display Name": "Bob",
			"Licenses": "Office 365 E3 (ENTERPRISEPACK)", "Last Activity": "2026-09-01", "Exchange": "2026-09-01",
			"Source": "Direct", "Cost / month": "20.00 EUR"} {
			if got := o.findingCell(0, colIndex(t, cols, title)); got != v {
				t.Errorf("bob's %s = %q, want %q", title, got, v)
			}
		}
		if got := o.list.Options[0]; got != "Inactive 30 days (1)" {
			t.Errorf("list selector shows %q", got)
		}
	})

	// A typed N out of range is refused in words and changes nothing.
	onUI(func() { o.days.SetText("0") })
	onUI(func() {
		if !o.daysErr.Visible() || !strings.Contains(o.daysErr.Text, "from 1 to 3650") {
			t.Errorf("no error for 0 days: %q", o.daysErr.Text)
		}
		if o.n != 30 || o.res.InactiveDays != 30 {
			t.Errorf("a refused N changed the page: %d", o.n)
		}
	})

	// Export of the shown list.
	path := filepath.Join(t.TempDir(), "inactive.csv")
	onUI(func() { o.startExport(path, nil, o.export, o.listWriter([]optimize.Reason{o.reason})) })
	waitUI(t, "export", func() bool { return o.exports == 1 })
	onUI(func() {
		if o.exportErr != nil {
			t.Fatal(o.exportErr)
		}
	})
	recs := readCSV(t, path)
	if len(recs) != 2 {
		t.Fatalf("export %v", recs)
	}
	head := strings.Join(recs[0], ",")
	requireContains(t, "export header", head, "List,User Principal Name,Display Name,Department,Licenses,Last Activity,Exchange")
	requireContains(t, "export row", strings.Join(recs[1], ","), "Inactive 30 days,bob@contoso.example,Bob,IT,Office 365 E3 (ENTERPRISEPACK),2026-09-01")
	requireContains(t, "export row", strings.Join(recs[1], ","), "20.00 EUR,Yes,2026-11-28,30")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("export %v: %v", st, err)
	}

	// A new import without usage reports: the page says activity is
	// unknown instead of calling everyone never active.
	writeSmallRun(t, store, false)
	// The data pages RefreshData reloads must finish before the test:
	// note what they showed before it.
	var pages []*dataPage
	onUI(func() {
		for _, p := range m.data.pages {
			pages = append(pages, p)
		}
	})
	marks := make([]dataMark, len(pages))
	for i, p := range pages {
		marks[i] = markData(t, p)
	}
	m.RefreshData()
	waitComputed(t, o, 3)
	onUI(func() {
		requireContains(t, "notice", o.notices.Text, "Activity is unknown")
		requireContains(t, "notice", o.notices.Text, "no usage reports")
		// Without reports N counts from the day of the import (the
		// program's clock, which test runs may move): erin, created on
		// 20 November, is a new starter only while that is under N days
		// ago; an enabled account is in no list when activity is unknown.
		y, mo, d := clock.Now().UTC().Date()
		if today := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC); !o.res.AsOf.Equal(today) {
			t.Errorf("without reports the figures count from %v, want the import's day %v", o.res.AsOf, today)
		}
		starter := ""
		if time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).After(o.res.AsOf.AddDate(0, 0, -o.n)) {
			starter = "erin"
		}
		expectLists(t, o, map[optimize.Reason]string{optimize.Disabled: "dave", optimize.LicensedGuest: "frank",
			optimize.NewStarter: starter, optimize.Overlapping: "gina"})
		if got := o.skuCell(0, 4); got != "unknown" {
			t.Errorf("inactive seats of %s with usage unknown: %q", o.skuCell(0, 0), got)
		}
	})
	for i, p := range pages {
		waitQuery(t, p, marks[i], nil)
	}
}

// The Licenses page names products, prices a SKU through Set price...,
// and a catalogue that is not Microsoft's changes nothing.
func TestLicensesPagePricesAndCatalogue(t *testing.T) {
	m := dataWindow(t, smallInventory(t), smallConn, Deps{})
	p := openLicenses(t, m, 3)
	row := -1
	for r := 0; r < 3; r++ {
		if screenCell(t, p, r, licenseSKUCol) == "ENTERPRISEPACK" {
			row = r
		}
	}
	if row < 0 {
		t.Fatal("no ENTERPRISEPACK row")
	}
	if got := screenCell(t, p, row, licenseProductCol); got != "Office 365 E3" {
		t.Errorf("product %q", got)
	}
	cost := colIndex(t, licenseColumns, "Cost / month")
	onUI(func() {
		if got := p.cell(row, cost); got != "" {
			t.Errorf("cost without a price: %q", got)
		}
		requireContains(t, "catalogue note", m.data.catalogNote.Text, "December 2025 (built in)")
		labels := []string{}
		for _, r := range m.data.chart.rows {
			labels = append(labels, r.label())
		}
		requireContains(t, "chart", strings.Join(labels, "|"), "Office 365 E3 (ENTERPRISEPACK)")
	})

	// Set price...: a wrong amount is said under the field.
	onUI(func() { p.table.Select(widget.TableCellID{Row: row, Col: 0}) })
	var d *priceDialog
	onUI(func() {
		m.data.showPriceDialog(p.cell(row, len(licenseColumns)-1), "ENTERPRISEPACK")
		d = m.data.priceDlg
		d.amount.SetText("twenty")
		d.currency.SetText("eur")
		test.Tap(d.save)
		if !d.amountErr.Visible() || !strings.Contains(d.amountErr.Text, "is not an amount") {
			t.Errorf("no error under the amount: %q", d.amountErr.Text)
		}
	})
	mk := markData(t, p)
	onUI(func() {
		d.amount.SetText("20")
		d.per.SetSelected("month")
		// Enter in a field is Save (issue 23 item 6).
		m.win.Canvas().Focus(d.amount)
		pressKey(m.win.Canvas(), fyne.KeyReturn)
	})
	waitQuery(t, p, mk, nil)
	waitExtra(t, p, mk, nil)
	unused, idle := colIndex(t, licenseColumns, "Unused / month"), colIndex(t, licenseColumns, "Inactive / month")
	inactive := colIndex(t, licenseColumns, "Inactive assigned")
	onUI(func() {
		if got := p.cell(row, cost); got != "200.00 EUR" {
			t.Errorf("cost of 10 seats at 20.00 EUR: %q", got)
		}
		if got := p.cell(row, unused); got != "60.00 EUR" {
			t.Errorf("cost of 3 unused seats: %q", got)
		}
		n := p.cell(row, inactive)
		want := map[string]string{"4": "80.00 EUR", "3": "60.00 EUR", "5": "100.00 EUR"}[n]
		if got := p.cell(row, idle); want == "" || got != want {
			t.Errorf("cost of %s inactive seats: %q", n, got)
		}
		if cur := m.app.Preferences().String(prefLastCurrency); cur != "EUR" {
			t.Errorf("the currency is not remembered: %q", cur)
		}
	})
	cfg, err := m.deps.Repo.Config.Load()
	if err != nil || len(cfg.Prices) != 1 || cfg.Prices[0].Cents != 2000 || cfg.Prices[0].Currency != "EUR" {
		t.Fatalf("prices saved %+v, %v", cfg, err)
	}

	// A wrong catalogue file keeps the names in use.
	bad := filepath.Join(t.TempDir(), "not-the-catalogue.csv")
	if err := os.WriteFile(bad, []byte("Name,Price\nfoo,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var lerr error
	onUI(func() { lerr = m.data.loadCatalogFile(bad) })
	if lerr == nil {
		t.Fatal("a file that is not the catalogue was loaded")
	}
	onUI(func() {
		if m.prompt == nil || m.prompt.title != "Catalogue not loaded" {
			t.Errorf("no message for the wrong file")
		}
		requireContains(t, "message", m.prompt.message.Text, "not-the-catalogue.csv")
		if got := p.cell(row, licenseProductCol); got != "Office 365 E3" {
			t.Errorf("product after a failed load: %q", got)
		}
		requireContains(t, "catalogue note", m.data.catalogNote.Text, "December 2025 (built in)")
	})
	if cfg, err := m.deps.Repo.Config.Load(); err != nil || cfg.Catalog != nil {
		t.Errorf("a refused catalogue was recorded: %+v, %v", cfg.Catalog, err)
	}
	// The window's own writes do not make Save think another process
	// saved: a pending edit still saves.
	onUI(func() {
		m.cfg.Connections[0].Name = "Contoso renamed"
		m.markDirty()
		if !m.save() {
			t.Errorf("Save refused after the price was set: %s", m.prompt.message.Text)
		}
	})
}

// The Optimization page on 100,000 users (the data pages' test
// inventory, N = 90, usage as of 23 November 2026): every 10th user is in
// the report, every 20th active on 20 November, the others on 5 January;
// even users hold E3, multiples of 5 E5, multiples of 9 are disabled.
// Licensed: 60,000; disabled among them 6,667 (multiples of 18 or 45);
// in the report and enabled 8,888, half of them active: 4,444 inactive;
// never active 53,333 − 8,888 = 44,445; E3 and E5 together (multiples of
// 10) overlap: 10,000. The lists scroll far down without reading rows.
func TestOptimizationPage100k(t *testing.T) {
	m := dataWindow(t, bigInventory(t), bigConnID, Deps{})
	start := time.Now()
	o := openOptimization(t, m)
	t.Logf("opened on 100,000 users in %v (facts read and computed off the Fyne goroutine)", time.Since(start).Round(time.Millisecond))
	onUI(func() {
		if o.res == nil {
			t.Fatalf("no result: %v", o.err)
		}
		for r, n := range map[optimize.Reason]int{optimize.Inactive: 4444, optimize.NeverActive: 44445, optimize.Disabled: 6667,
			optimize.Overlapping: 10000, optimize.NewStarter: 0, optimize.LicensedGuest: 0} {
			if got := len(o.res.Lists[r]); got != n {
				t.Errorf("%s: %d, want %d", r, got, n)
			}
		}
		o.list.SetSelectedIndex(1) // Never active
		if o.reason != optimize.NeverActive {
			t.Fatalf("the selector shows %s", o.reason)
		}
	})
	const far = 40_000
	onUI(func() { o.rows.ScrollTo(widget.TableCellID{Row: far, Col: 0}) })
	onUI(func() {
		shown := 0
		for k, c := range tableCellWidgets(o.rows) {
			if k[1] != 0 {
				continue
			}
			shown++
			if k[0] < far-30 || k[0] > far+30 {
				t.Errorf("row %d on screen after scrolling to %d", k[0], far)
			}
			if want := findingCells(o.res, o.lic.catalog(), &o.res.Lists[optimize.NeverActive][k[0]], 0); c.Text != want {
				t.Errorf("row %d shows %q, want %q", k[0], c.Text, want)
			}
		}
		if shown == 0 {
			t.Errorf("no row on screen after scrolling to %d", far)
		}
	})
	start = time.Now()
	onUI(func() { o.days.SetText("30") })
	waitComputed(t, o, 2)
	t.Logf("N = 30 recomputed in %v from the cached facts", time.Since(start).Round(time.Millisecond))
	onUI(func() {
		if o.res.InactiveDays != 30 || len(o.res.Lists[optimize.Inactive]) != 4444 {
			t.Errorf("N = 30: %d days, %d inactive", o.res.InactiveDays, len(o.res.Lists[optimize.Inactive]))
		}
	})
}

// A price list is read whole or not at all, the bad line named; an
// exported list reads back.
func TestImportAndExportPrices(t *testing.T) {
	m := dataWindow(t, smallInventory(t), smallConn, Deps{})
	p := openLicenses(t, m, 3)
	onUI(func() {
		m.data.importPrices(strings.NewReader("SKU,Price,Currency,Per\nENTERPRISEPACK,20,EUR,month\nNO_SUCH_SKU,3,EUR,month\n"), "prices.csv")
		if m.prompt == nil || m.prompt.title != "Prices not imported" {
			t.Fatal("no message for a bad price list")
		}
		requireContains(t, "message", m.prompt.message.Text, "prices.csv: ")
		requireContains(t, "message", m.prompt.message.Text, "line 3")
		requireContains(t, "message", m.prompt.message.Text, "NO_SUCH_SKU")
		if len(m.cfg.Prices) != 0 {
			t.Errorf("a refused list left prices %+v", m.cfg.Prices)
		}
	})
	mk := markData(t, p)
	onUI(func() {
		m.data.importPrices(strings.NewReader("SKU,Price,Currency,Per\nOffice 365 E3,240,EUR,year\nSPE_E3,36,EUR,month\n"), "prices.csv")
		requireContains(t, "message", m.prompt.message.Text, "Imported 2 prices from prices.csv.")
	})
	waitQuery(t, p, mk, nil)
	waitExtra(t, p, mk, nil)
	cost := colIndex(t, licenseColumns, "Cost / month")
	onUI(func() {
		for r := 0; r < 3; r++ {
			want := map[string]string{"ENTERPRISEPACK": "200.00 EUR", "SPE_E3": "36.00 EUR", "EMS": ""}[p.cell(r, licenseSKUCol)]
			if got := p.cell(r, cost); got != want {
				t.Errorf("%s costs %q a month, want %q", p.cell(r, licenseSKUCol), got, want)
			}
		}
	})
	var buf strings.Builder
	var prices []storage.Price
	onUI(func() { prices = append(prices, m.cfg.Prices...) })
	if n, err := writePrices(&buf, prices); err != nil || n != 2 {
		t.Fatalf("export: %d, %v", n, err)
	}
	requireContains(t, "export", buf.String(), "ENTERPRISEPACK,240.00,EUR,year")
	requireContains(t, "export", buf.String(), "SPE_E3,36.00,EUR,month")
	cs := storage.NewConfigStore(t.TempDir())
	if n, err := service.ImportPrices(cs, strings.NewReader(buf.String()), func(s string) (string, string, bool) {
		for _, p := range prices {
			if p.PartNumber == s {
				return p.SkuID, p.PartNumber, true
			}
		}
		return "", "", false
	}); err != nil || n != 2 {
		t.Fatalf("the exported list does not read back: %d, %v", n, err)
	}
}

// spyOptimizer is a service.Optimizer that records the reads ahead the
// window asks for.
type spyOptimizer struct {
	*service.Optimizer
	mu    sync.Mutex
	ahead []string
	facts *optimize.Facts
}

func (s *spyOptimizer) Facts(ctx context.Context, connID string) (*optimize.Facts, error) {
	f, err := s.Optimizer.Facts(ctx, connID)
	s.mu.Lock()
	s.ahead = append(s.ahead, connID)
	s.facts = f
	s.mu.Unlock()
	return f, err
}

// TestOptimizationFactsReadAhead: choosing a connection on a data page
// reads its reclamation facts in the background, so the Optimization
// page opens on facts already in memory.
func TestOptimizationFactsReadAhead(t *testing.T) {
	store := smallInventory(t)
	spy := &spyOptimizer{Optimizer: &service.Optimizer{Store: store}}
	m := dataWindow(t, store, smallConn, Deps{Optimizer: spy})
	openPage(t, m, PageUsers)
	waitUI(t, "read ahead", func() bool { return m.data.readsAhead == 0 })
	spy.mu.Lock()
	ahead, read := slices.Clone(spy.ahead), spy.facts
	spy.mu.Unlock()
	if !slices.Equal(ahead, []string{smallConn}) || read == nil || len(read.Users) != len(smallUsers) {
		t.Fatalf("read ahead for %q, facts %v; want one read of %s's %d users", ahead, read, smallConn, len(smallUsers))
	}
	o := openOptimization(t, m)
	onUI(func() {
		if o.res == nil || o.err != nil {
			t.Fatalf("no result: %v", o.err)
		}
	})
	again, err := spy.Optimizer.Facts(context.Background(), smallConn)
	if err != nil || again != read {
		t.Errorf("the page read the snapshot again (%p, read ahead %p): %v", again, read, err)
	}
}
