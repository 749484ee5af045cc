package ui

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/internal/xlsx"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
	"github.com/inventorybeacon/beacon/ui/internal/testinventory"
)

// The data pages are tested on a real inventory database of 100,000
// users, written once per test binary through the store's own writer.

const (
	bigUsers    = testinventory.Users
	bigConnID   = testinventory.ConnID
	formulaUser = testinventory.FormulaUser
)

var (
	bigOnce  sync.Once
	bigDir   string
	bigStore *inventory.Store
	bigErr   error
)

// bigInventory is the shared 100,000-user database (see testinventory).
// Under -race it is written by a separate process built without the race
// detector: the database is the same, written through the same writer,
// in about a twentieth of the time.
func bigInventory(tb testing.TB) *inventory.Store {
	tb.Helper()
	bigOnce.Do(func() {
		start := time.Now()
		bigDir, bigErr = os.MkdirTemp("", "beacon-ui-data-")
		if bigErr != nil {
			return
		}
		ctx := context.Background()
		if raceEnabled {
			cmd := exec.Command("go", "run", "./internal/testinventory/fill", bigDir)
			if out, err := cmd.CombinedOutput(); err != nil {
				bigErr = fmt.Errorf("go run ./internal/testinventory/fill: %v\n%s", err, out)
				return
			}
		}
		s, err := inventory.OpenDir(ctx, bigDir, inventory.Options{})
		if err != nil {
			bigErr = err
			return
		}
		bigStore = s
		if !raceEnabled {
			bigErr = testinventory.Fill(ctx, s)
		}
		fmt.Fprintf(os.Stderr, "ui tests: wrote %d users to the test inventory in %v\n", bigUsers, time.Since(start).Round(time.Millisecond))
	})
	if bigErr != nil {
		tb.Fatalf("build the 100,000-user inventory: %v", bigErr)
	}
	return bigStore
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore != nil {
		bigStore.Close()
	}
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// dataWindow opens the main window on the inventory with one saved
// connection whose id is connID. Everything touching widgets runs under
// onUI: the window's loads hand their results over from other goroutines.
func dataWindow(tb testing.TB, store *inventory.Store, connID string, deps Deps) *MainWindow {
	tb.Helper()
	var repo *storage.Repository
	if t, ok := tb.(*testing.T); ok {
		repo = testRepo(t)
	} else {
		repo = &storage.Repository{Config: storage.NewConfigStore(tb.TempDir())}
	}
	cfg, err := repo.Config.Load()
	if err != nil {
		tb.Fatal(err)
	}
	c := newNamedConnection("Contoso")
	c.ID = connID
	cfg.Connections = append(cfg.Connections, c)
	if err := repo.Commit(cfg, nil); err != nil {
		tb.Fatal(err)
	}
	a := test.NewTempApp(tb)
	deps.Repo = repo
	deps.Inventory = store
	var m *MainWindow
	onUI(func() {
		m = NewMainWindow(a, withServices(deps, repo))
		m.quit = func() {}
		m.win.Resize(fyne.NewSize(windowWidth, windowHeight))
	})
	tb.Cleanup(func() {
		// A read still under way would land on the next test's app
		// (Fyne's caches are global): let every one land first.
		waitUIWithin(tb, dataWait, "background reads before closing", func() bool { return m.data.quiet() })
		onUI(m.win.Close)
	})
	var lerr error
	waitUI(tb, "last runs", func() bool { lerr = m.data.statusErr; return m.data.statusPending == 0 })
	if lerr != nil {
		tb.Fatalf("last runs: %v", lerr)
	}
	return m
}

func recvTB[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second): // bounds a broken test only
		tb.Fatalf("no %s", what)
		var zero T
		return zero
	}
}

// openPage shows a data page and waits for its results: its first
// query's, or its last one's when it was open before.
func openPage(tb testing.TB, m *MainWindow, name string) (*dataPage, landing) {
	tb.Helper()
	onUI(func() { m.nav.Select(name) })
	var p *dataPage
	onUI(func() { p = m.data.pages[name] })
	if p == nil {
		tb.Fatalf("%s is not a data page", name)
	}
	return p, waitQuery(tb, p, dataMark{}, nil)
}

// openLicenses shows the Licenses page and waits for its table and chart
// to show its SKUs.
func openLicenses(t *testing.T, m *MainWindow, skus int) *dataPage {
	t.Helper()
	p, e := openPage(t, m, PageLicenses)
	if e.err != nil || e.total != skus {
		t.Fatalf("licenses: %d, err %v", e.total, e.err)
	}
	waitExtra(t, p, dataMark{}, func(e landing) bool { return e.total == skus })
	return p
}

// screenCells returns the text of the table cells on screen, by row and
// column: what the administrator sees, not the cache.
func screenCells(p *dataPage) map[[2]int]string {
	out := map[[2]int]string{}
	for k, c := range screenCellWidgets(p) {
		out[k] = c.Text
	}
	return out
}

// screenCellWidgets are the cells on screen by row and column (Fyne
// goroutine).
func screenCellWidgets(p *dataPage) map[[2]int]*dataCell { return tableCellWidgets(p.table) }

// tableCellWidgets are the cells a table of dataCells has on screen.
func tableCellWidgets(table *widget.Table) map[[2]int]*dataCell {
	out := map[[2]int]*dataCell{}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *dataCell:
			out[[2]int{x.row, x.col}] = x
			return
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(table)
	return out
}

// screenCell is the text on screen at row, col; it fails when the cell
// is not on screen.
func screenCell(t testing.TB, p *dataPage, row, col int) string {
	t.Helper()
	var cells map[[2]int]string
	onUI(func() { cells = screenCells(p) })
	s, ok := cells[[2]int{row, col}]
	if !ok {
		t.Fatalf("%s: row %d column %d is not on screen", p.title, row, col)
	}
	return s
}

// headerButton finds the title button of a column on screen.
func headerButton(t *testing.T, p *dataPage, title string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil || o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == title {
				found = x
			}
			return
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	onUI(func() { walk(p.table) })
	if found == nil {
		t.Fatalf("%s: no header %q on screen", p.title, title)
	}
	return found
}

func colIndex(t testing.TB, cols []dataColumn, title string) int {
	t.Helper()
	for i, c := range cols {
		if c.title == title {
			return i
		}
	}
	t.Fatalf("no column %q", title)
	return -1
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A spreadsheet export starts with the UTF-8 byte-order mark, without
	// which Excel garbles "Núñez" (issue 23).
	br := bufio.NewReader(f)
	if mark, err := br.Peek(len(csvsafe.BOM)); err != nil || string(mark) != csvsafe.BOM {
		t.Fatalf("%s does not start with the UTF-8 byte-order mark: %q %v", path, mark, err)
	}
	_, _ = br.Discard(len(csvsafe.BOM))
	recs, err := csv.NewReader(br).ReadAll()
	if err != nil {
		t.Fatalf("%s is not valid CSV: %v", path, err)
	}
	return recs
}

// sortedUsers is the expected order of users by display name: by their
// name keys (accents and case aside), ties in import order.
func sortedUsers(idx []int, desc bool) []int {
	out := append([]int(nil), idx...)
	sort.SliceStable(out, func(a, b int) bool {
		x, y := inventory.NameKey(testinventory.Name(out[a])), inventory.NameKey(testinventory.Name(out[b]))
		if x == y {
			return out[a] < out[b]
		}
		if desc {
			return x > y
		}
		return x < y
	})
	return out
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// The Users page with 100,000 users: first screen, a far scroll, search,
// sort both ways by a header tap, and the CSV export of what is shown.
func TestUsersPage100k(t *testing.T) {
	store := bigInventory(t)
	t0 := time.Now()
	step := func(what string) { t.Logf("%-28s %v", what, time.Since(t0).Round(time.Millisecond)); t0 = time.Now() }
	m := dataWindow(t, store, bigConnID, Deps{})
	step("window")
	p, first := openPage(t, m, PageUsers)
	step("first page")
	if first.err != nil || first.total != bigUsers {
		t.Fatalf("first load: %d users, err %v", first.total, first.err)
	}
	var status string
	onUI(func() { status = p.status.Text })
	requireContains(t, "status", status, "100,000 users · imported ")
	// The date Last Activity is judged by (issue 15).
	cur, err := store.CurrentRun(context.Background(), bigConnID)
	if err != nil || cur.ActivityAsOf == "" {
		t.Fatalf("current run %+v: %v", cur, err)
	}
	requireContains(t, "status", status, " · activity as of "+cur.ActivityAsOf)
	name, upn := colIndex(t, userColumns, "Display Name"), colIndex(t, userColumns, "User Principal Name")
	lic := colIndex(t, userColumns, "Licenses")
	last := colIndex(t, userColumns, "Last Activity")
	// Users come sorted by name, as people read names (issue 23 item 10).
	all := make([]int, bigUsers)
	for i := range all {
		all[i] = i
	}
	byName := sortedUsers(all, false)
	if got := screenCell(t, p, 0, upn); got != testinventory.UPN(byName[0]) {
		t.Fatalf("row 0 shows %q, want %s (%q)", got, testinventory.UPN(byName[0]), testinventory.Name(byName[0]))
	}
	u0 := testinventory.User(byName[0])
	onUI(func() { p.table.ScrollTo(widget.TableCellID{Row: 0, Col: last}) })
	var wantLic []string
	for _, l := range u0.AssignedLicenses {
		wantLic = append(wantLic, map[string]string{testinventory.SkuE3: "Office 365 E3 (ENTERPRISEPACK)",
			testinventory.SkuE5: "Office 365 E5 (ENTERPRISEPREMIUM)", testinventory.SkuVisio: "Visio Plan 2 (VISIOCLIENT)"}[l.SkuID])
	}
	sort.Strings(wantLic)
	// By product name, with the part number (issue 17).
	if got := screenCell(t, p, 0, lic); got != strings.Join(wantLic, "; ") {
		t.Errorf("licenses of the first user: %q, want %q", got, strings.Join(wantLic, "; "))
	}
	onUI(func() {
		if len(p.fetched) != 1 || len(p.fetched[0]) != rowsPerFetch {
			t.Errorf("the first screen should cost one page of %d rows, the cache holds %d pages", rowsPerFetch, len(p.fetched))
		}
	})

	step("first screen checked")
	// Far down: the table asks for that page only.
	const far = 73_456
	onUI(func() { p.table.ScrollTo(widget.TableCellID{Row: far, Col: name}) })
	waitRows(t, p, far/rowsPerFetch)
	if got := screenCell(t, p, far, upn); got != testinventory.UPN(byName[far]) {
		t.Fatalf("row %d shows %q, want %s", far, got, testinventory.UPN(byName[far]))
	}
	if got := screenCell(t, p, far, name); got != testinventory.Name(byName[far]) {
		t.Fatalf("row %d name %q, want %q", far, got, testinventory.Name(byName[far]))
	}
	onUI(func() {
		if len(p.fetched) > cachedFetches {
			t.Errorf("cache holds %d pages, limit %d", len(p.fetched), cachedFetches)
		}
	})

	step("far scroll")
	// Search as typed: one query when typing pauses.
	mk := markData(t, p)
	var before, after int
	onUI(func() {
		before = p.gen // bumped by every query started
		test.Type(p.search, "user0042")
	})
	e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "user0042" })
	if e.err != nil || e.total != 100 {
		t.Fatalf("search user0042: %d rows, err %v", e.total, e.err)
	}
	onUI(func() { after = p.gen })
	if after-before != 1 {
		t.Errorf("typing 8 characters ran %d queries, want 1 after the pause", after-before)
	}
	onUI(func() { status = p.status.Text })
	if want := "100 of 100,000 users match “user0042”"; !strings.HasPrefix(status, want) {
		t.Fatalf("status %q, want %q…", status, want)
	}
	var matches []int
	for i := 4200; i < 4300; i++ {
		matches = append(matches, i)
	}
	if got, want := screenCell(t, p, 0, upn), testinventory.UPN(sortedUsers(matches, false)[0]); got != want {
		t.Fatalf("first match %q, want %q", got, want)
	}

	step("search")
	// Sorted by display name already: a tap on the header reverses, another
	// sorts up again, then down for the export.
	for _, desc := range []bool{true, false, true} {
		mk := markData(t, p)
		btn := headerButton(t, p, "Display Name")
		onUI(func() { test.Tap(btn) })
		e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Sort == "displayName" && e.q.Desc == desc })
		if e.total != 100 {
			t.Fatalf("sorted search: %d rows", e.total)
		}
		want := sortedUsers(matches, desc)
		for row := 0; row < 5; row++ {
			if got := screenCell(t, p, row, upn); got != fmt.Sprintf("user%06d@contoso.example", want[row]) {
				t.Fatalf("desc=%v row %d: %q, want user%06d (%q)", desc, row, got, want[row], testinventory.Name(want[row]))
			}
		}
	}

	step("sort twice")
	// Export what is shown: the search, in the sort order, every column.
	path := filepath.Join(t.TempDir(), "users.csv")
	mk = markData(t, p)
	onUI(func() { p.startExport(path, nil) })
	e = waitExport(t, p, mk)
	if e.err != nil || e.total != 100 {
		t.Fatalf("export: %d rows, err %v", e.total, e.err)
	}
	recs := readCSV(t, path)
	if len(recs) != 101 {
		t.Fatalf("export has %d records, want a header and 100 rows", len(recs))
	}
	for i, c := range userColumns {
		if recs[0][i] != c.title {
			t.Fatalf("header %v", recs[0])
		}
	}
	want := sortedUsers(matches, true)
	for i, rec := range recs[1:] {
		u := testinventory.User(want[i])
		if rec[upn] != u.UserPrincipalName {
			t.Fatalf("export row %d is %s, want %s", i, rec[upn], u.UserPrincipalName)
		}
		wantName := u.DisplayName
		if want[i] == formulaUser {
			wantName = "'" + wantName
		}
		if rec[name] != wantName {
			t.Fatalf("export row %d name %q, want %q", i, rec[name], wantName)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v (%v), want 0600", fi.Mode(), err)
	}
	onUI(func() {
		if m.prompt == nil || m.prompt.title != "Export finished" {
			t.Errorf("no export message")
		} else {
			requireContains(t, "export message", m.prompt.message.Text, "Exported 100 users to "+path)
		}
	})

	step("export")
	// Clearing the search sorts all 100,000.
	mk = markData(t, p)
	onUI(func() { p.search.SetText("") })
	e = waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "" })
	if e.total != bigUsers {
		t.Fatalf("after clearing: %d", e.total)
	}
	top := testinventory.Name(sortedUsers(all, true)[0])
	if got := screenCell(t, p, 0, name); got != top {
		t.Fatalf("first of all users by name descending: %q, want %q", got, top)
	}
	step("sort all")
}

// The Licenses page: per-SKU figures derived from 100,000 users, the
// chart on the same numbers, search, and export.
func TestLicensesPageAndChart(t *testing.T) {
	m := dataWindow(t, bigInventory(t), bigConnID, Deps{})
	p := openLicenses(t, m, 3)
	// SKU, Product, Status, Purchased, Assigned, Unassigned, Active,
	// Inactive (each scrolled into view): Visio's 100 units are all in
	// warning, and count as purchased.
	want := [][]string{
		{"ENTERPRISEPACK", "Office 365 E3", "Enabled", "60000", "50000", "10000", "5000", "45000"},
		{"ENTERPRISEPREMIUM", "Office 365 E5", "Enabled", "25000", "20000", "5000", "5000", "15000"},
		{"VISIOCLIENT", "Visio Plan 2", "Warning", "100", "0", "100", "0", "0"},
	}
	for r, row := range want {
		for c, v := range row {
			onUI(func() { p.table.ScrollTo(widget.TableCellID{Row: r, Col: c}) })
			if got := screenCell(t, p, r, c); got != v {
				t.Errorf("row %d %s = %q, want %q", r, licenseColumns[c].title, got, v)
			}
		}
	}
	onUI(func() {
		ch := m.data.chart
		if len(ch.rows) != 3 {
			t.Fatalf("chart rows %+v", ch.rows)
		}
		if got := ch.rows[2].label(); got != "Visio Plan 2 (VISIOCLIENT) (Warning)" {
			t.Errorf("the chart hides the subscription in warning: %q", got)
		}
		ch.Resize(fyne.NewSize(700, 200))
		r := test.WidgetRenderer(ch).(*chartRenderer)
		full := r.rows[0].bars[0].Size().Width
		if full <= 0 {
			t.Fatal("the largest bar has no width")
		}
		// One scale for every SKU (issue 23): E3's 60,000 purchased fill
		// the width, E5's 25,000 take 25/60 of it, Visio's 100 a sliver.
		for i, v := range []struct {
			row, bar int
			share    float32
		}{{0, 1, 50000.0 / 60000}, {0, 2, 5000.0 / 60000}, {1, 0, 25000.0 / 60000}, {1, 1, 20000.0 / 60000},
			{1, 2, 5000.0 / 60000}, {2, 0, 100.0 / 60000}, {2, 1, 0}} {
			got := r.rows[v.row].bars[v.bar].Size().Width
			if want := full * v.share; got < want-0.5 || got > want+0.5 {
				t.Errorf("bar %d: width %.1f, want %.1f", i, got, want)
			}
		}
		if got := r.rows[1].values[2].Text; got != "5000" {
			t.Errorf("E5 active label %q", got)
		}
	})

	mk := markData(t, p)
	onUI(func() { test.Type(p.search, "premium") })
	e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "premium" })
	if e.total != 1 {
		t.Fatalf("search premium: %d", e.total)
	}
	waitExtra(t, p, mk, func(e landing) bool { return e.q.Search == "premium" })
	onUI(func() {
		if len(m.data.chart.rows) != 1 || m.data.chart.rows[0].sku != "Office 365 E5 (ENTERPRISEPREMIUM)" {
			t.Errorf("the chart should follow the search: %+v", m.data.chart.rows)
		}
	})

	path := filepath.Join(t.TempDir(), "licenses.csv")
	mk = markData(t, p)
	onUI(func() { p.startExport(path, nil) })
	if e := waitExport(t, p, mk); e.err != nil || e.total != 1 {
		t.Fatalf("export: %+v", e)
	}
	recs := readCSV(t, path)
	if len(recs) != 2 || strings.Join(recs[1][:8], ",") != "ENTERPRISEPREMIUM,Office 365 E5,Enabled,25000,20000,5000,5000,15000" {
		t.Fatalf("licenses export %v", recs)
	}
	// Saved under a name ending in .xlsx, the same rows as a workbook
	// (issue 17).
	book := filepath.Join(t.TempDir(), "licenses.xlsx")
	mk = markData(t, p)
	onUI(func() { p.startExport(book, nil) })
	if e := waitExport(t, p, mk); e.err != nil || e.total != 1 {
		t.Fatalf("export as xlsx: %+v", e)
	}
	rows, err := xlsx.ReadFile(book)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(recs[0], "|") || strings.Join(rows[1][:8], "|") != strings.Join(recs[1][:8], "|") {
		t.Fatalf("licenses.xlsx %v, want the CSV's %v", rows, recs)
	}
}

// Applications, Usage (with its report choice) and Import history on the
// same database.
func TestApplicationsUsageAndHistoryPages(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})

	p, e := openPage(t, m, PageApplications)
	if e.err != nil || e.total != 50 {
		t.Fatalf("applications: %d, err %v", e.total, e.err)
	}
	ms := colIndex(t, applicationColumns, "Microsoft")
	if got := screenCell(t, p, 0, ms); got != "Yes" {
		t.Errorf("App 00 is Microsoft's: %q", got)
	}
	mk := markData(t, p)
	onUI(func() { test.Type(p.search, "microsoft services") })
	if e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search != "" }); e.total != 17 {
		t.Fatalf("search by publisher: %d, want 17", e.total)
	}

	u, e := openPage(t, m, PageUsage)
	if e.err != nil || e.total != bigUsers/10 {
		t.Fatalf("active users report: %d rows, err %v", e.total, e.err)
	}
	spec := inventory.Report(inventory.ReportActiveUsers)
	if got := screenCell(t, u, 0, spec.Column("User Principal Name")); got != "user000000@contoso.example" {
		t.Errorf("report row 0: %q", got)
	}
	mk = markData(t, u)
	onUI(func() { m.data.usageReport.SetSelectedIndex(2) })
	e = waitQuery(t, u, mk, nil)
	if e.err != nil || e.total != 0 {
		t.Fatalf("apps usage report (not imported): %d rows, err %v", e.total, e.err)
	}
	onUI(func() {
		if cols := u.src.columns(); len(cols) != len(inventory.Report(inventory.ReportAppUsage).Columns) || u.export.Disabled() != true {
			t.Errorf("apps usage: %d columns, export enabled %v", len(cols), !u.export.Disabled())
		}
	})

	h, e := openPage(t, m, PageImportHistory)
	if e.err != nil || e.total != 1 {
		t.Fatalf("history: %d runs, err %v", e.total, e.err)
	}
	if got := screenCell(t, h, 0, colIndex(t, historyColumns, "Result")); got != "Succeeded" {
		t.Errorf("history result %q", got)
	}
	if got := screenCell(t, h, 0, colIndex(t, historyColumns, "Users")); got != "100000" {
		t.Errorf("history users %q", got)
	}
	// Last run / Last result on Inventory Systems come from the history.
	onUI(func() {
		if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}); got != "Succeeded" {
			t.Errorf("Last result %q", got)
		}
		if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastRun}); got == "Never" {
			t.Errorf("Last run %q", got)
		}
	})
}

// A connection with nothing imported says what to do.
func TestDataPageWithoutImport(t *testing.T) {
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m := dataWindow(t, store, "0123456789abcdef0123456789abcdef", Deps{})
	p, e := openPage(t, m, PageUsers)
	if e.total != 0 || e.err == nil {
		t.Fatalf("empty store: %+v", e)
	}
	onUI(func() {
		if !p.message.Visible() || !strings.Contains(p.message.Text, "Nothing has been imported from Contoso yet") ||
			!strings.Contains(p.message.Text, "Execute Now") || !p.export.Disabled() {
			t.Errorf("message %q, export disabled %v", p.message.Text, p.export.Disabled())
		}
	})
}

// BenchmarkUsersFilter measures filter-as-you-type on the Users page with
// 100,000 users: from the search running (after the typing pause) to the
// count and first rows being in the table. ns/op is the latency of one
// search; the pause itself (searchDelay) comes on top. The terms range
// from many matches to none (a full scan that finds nothing).
func BenchmarkUsersFilter(b *testing.B) {
	store := bigInventory(b)
	m := dataWindow(b, store, bigConnID, Deps{})
	p, _ := openPage(b, m, PageUsers)
	for _, term := range []string{"finance", "user01", "grace", "zhang 5", "user099999", "nobody-matches-this"} {
		b.Run(strings.ReplaceAll(term, " ", "_"), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				mk := markData(b, p)
				onUI(func() {
					p.typed = term
					p.q.Search = ""
					p.runSearch()
				})
				waitQuery(b, p, mk, func(e landing) bool { return e.q.Search == term })
			}
		})
	}
}

func TestExportHelpers(t *testing.T) {
	if got := exportFileName(PageUsers, `Contoso: EU/West`); got != "Contoso- EU-West users.csv" {
		t.Errorf("file name %q", got)
	}
	if got := exportFileName(PageImportHistory, ""); got != "import history.csv" {
		t.Errorf("file name %q", got)
	}
}

// BenchmarkUsersScrollSorted measures fetching one page of 200 rows far
// down the Users page sorted by display name (what a drag of the scroll
// bar costs): ns/op per page.
func BenchmarkUsersScrollSorted(b *testing.B) {
	store := bigInventory(b)
	m := dataWindow(b, store, bigConnID, Deps{})
	p, _ := openPage(b, m, PageUsers)
	mk := markData(b, p)
	onUI(func() { p.onSort(0) })
	waitQuery(b, p, mk, func(e landing) bool { return e.q.Sort != "" })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		page := (bigUsers/rowsPerFetch - 1) - i%50
		onUI(func() {
			delete(p.fetched, page)
			p.fetch(page)
		})
		waitRows(b, p, page)
	}
}

// A free SKU's huge purchased figure does not flatten the other bars: it
// is drawn full and marked off scale, and the legend stays outside the
// scrolling bars (issue 23 item 11).
func TestLicenseChartSharedScaleAndOffScale(t *testing.T) {
	test.NewTempApp(t)
	c := newLicenseChart()
	c.setLicenses([]inventory.License{
		{SKU: inventory.SKU{SkuPartNumber: "SPE_E3", CapabilityStatus: "Enabled"}, Purchased: 3, Assigned: 2, Active: 1, UsageKnown: true},
		{SKU: inventory.SKU{SkuPartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled"}, Purchased: 54, Assigned: 40, Active: 30, UsageKnown: true},
		{SKU: inventory.SKU{SkuPartNumber: "FLOW_FREE", CapabilityStatus: "Enabled"}, Purchased: 10000, Assigned: 5, UsageKnown: true},
	}, nil)
	c.Resize(fyne.NewSize(700, 200))
	r := test.WidgetRenderer(c).(*chartRenderer)
	if s := c.scale(); s != 54 {
		t.Fatalf("scale %d, want 54 (the free SKU's 10,000 do not count)", s)
	}
	full := r.rows[1].bars[0].Size().Width
	if got, want := r.rows[0].bars[1].Size().Width, full*2/54; got < want-0.5 || got > want+0.5 {
		t.Errorf("2 assigned of SPE_E3: %.1f wide, want %.1f (2/54 of the 54 bar)", got, want)
	}
	if got := r.rows[2].bars[0].Size().Width; got != full {
		t.Errorf("the off-scale bar is %.1f wide, want the full %.1f", got, full)
	}
	if got := r.rows[2].values[0].Text; got != "10000 (off scale)" {
		t.Errorf("off-scale value %q", got)
	}
	for _, o := range r.Objects() {
		if txt, ok := o.(*canvas.Text); ok && txt.Text == "Purchased" {
			t.Error("the legend scrolls with the bars")
		}
	}
	if len(c.Legend.Objects) < 6 {
		t.Errorf("legend %d objects", len(c.Legend.Objects))
	}
}

// Every column of the Licenses page is explained behind its help button
// (issue 23 item 11).
func TestLicensesColumnHelp(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	p, _ := openPage(t, m, PageLicenses)
	waitExtra(t, p, dataMark{}, nil) // the chart's query ends within the test
	onUI(func() {
		if p.help == nil {
			t.Fatal("the Licenses page has no help button")
		}
		test.Tap(p.help)
		if m.prompt == nil {
			t.Fatal("the help button showed nothing")
		}
		for _, c := range licenseColumns {
			requireContains(t, "help", m.prompt.message.Text, c.title+":")
		}
		requireContains(t, "help", m.prompt.message.Text, "Purchased − Assigned")
	})
}

// Returning to a data page shows its rows at once, after a sort and with
// imports in between (issue 23 item 3: the footer said "3 runs" and no row
// showed until the table was scrolled sideways).
func TestReturningToAPageShowsItsRows(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	users, _ := openPage(t, m, PageUsers)
	name := colIndex(t, userColumns, "Display Name")
	mk := markData(t, users)
	sortBy := headerButton(t, users, "Display Name")
	onUI(func() { test.Tap(sortBy) })
	waitQuery(t, users, mk, func(e landing) bool { return e.q.Sort == "displayName" })
	first := screenCell(t, users, 0, name)
	if first == "" {
		t.Fatal("no first row after sorting")
	}
	// Returning re-reads nothing (the connection is the same): the rows
	// shown must be the ones the page holds.
	for _, other := range []string{PageImportHistory, PageLicenses} {
		op, _ := openPage(t, m, other)
		if other == PageLicenses {
			waitExtra(t, op, dataMark{}, nil)
		}
		onUI(func() { m.nav.Select(PageUsers) })
		if got := screenCell(t, users, 0, name); got != first {
			t.Fatalf("back from %s: the first row shows %q, want %q", other, got, first)
		}
	}
	var hist *dataPage
	onUI(func() { hist = m.data.pages[PageImportHistory] }) // opened above
	onUI(func() { m.nav.Select(PageUsers) })
	onUI(func() { m.nav.Select(PageImportHistory) })
	if got := screenCell(t, hist, 0, 0); got == "" {
		t.Fatal("back on Import history: the first row is blank")
	}
}

// The Applications page filters by publisher kind, with the count of each
// in the filter (issue 23 item 12).
func TestApplicationsFilterByKind(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	p, e := openPage(t, m, PageApplications)
	if e.total != testinventory.Applications {
		t.Fatalf("all applications: %d", e.total)
	}
	waitExtra(t, p, dataMark{}, nil)
	ms := (testinventory.Applications + 2) / 3 // every third is Microsoft's
	var opts []string
	onUI(func() { opts = append(opts, m.data.appKind.Options...) })
	wantMS := fmt.Sprintf("Microsoft (first-party) (%d)", ms)
	if len(opts) != len(inventory.AppKinds) || opts[0] != fmt.Sprintf("All applications (%d)", testinventory.Applications) || opts[1] != wantMS {
		t.Fatalf("filter options %q", opts)
	}
	mk := markData(t, p)
	onUI(func() { m.data.appKind.SetSelectedIndex(1) })
	e = waitQuery(t, p, mk, func(e landing) bool { return e.q.Apps == inventory.AppsMicrosoft })
	if e.total != ms {
		t.Fatalf("Microsoft's applications: %d, want %d", e.total, ms)
	}
	if got := screenCell(t, p, 0, colIndex(t, applicationColumns, "Microsoft")); got != "Yes" {
		t.Errorf("first row of the Microsoft filter: Microsoft = %q", got)
	}
	mk = markData(t, p)
	onUI(func() { m.data.appKind.SetSelectedIndex(2) })
	e = waitQuery(t, p, mk, func(e landing) bool { return e.q.Apps == inventory.AppsThirdParty })
	if e.total != testinventory.Applications-ms {
		t.Fatalf("third-party applications: %d", e.total)
	}
	// The counts of this query are still being read: let them land
	// before the next test's app replaces this one.
	waitExtra(t, p, mk, nil)
}

// A row opens in full on a double click, so texts a column cuts off (an
// import's error) can be read and copied (issue 23 item 7); Import history
// shows when and how each run ended first.
func TestRowDetailAndHistoryColumnsFirst(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	p, e := openPage(t, m, PageImportHistory)
	if e.total == 0 {
		t.Fatal("no runs")
	}
	if historyColumns[0].title != "Started" || historyColumns[1].title != "Result" {
		t.Errorf("Import history starts with %q, %q", historyColumns[0].title, historyColumns[1].title)
	}
	result := screenCell(t, p, 0, 1)
	onUI(func() {
		cell := screenCellWidgets(p)[[2]int{0, 1}]
		if cell == nil {
			t.Fatal("no cell of row 0 on screen")
		}
		m.prompt = nil
		cell.DoubleTapped(&fyne.PointEvent{})
		if m.prompt == nil || !m.prompt.open {
			t.Fatal("a double click showed nothing")
		}
		requireContains(t, "row", m.prompt.message.Text, "Result: "+result)
		requireContains(t, "row", m.prompt.message.Text, "Started: ")
		requireContains(t, "row", m.prompt.message.Text, "Error: ")
		test.Tap(m.prompt.buttons["Copy"])
		if got := fyne.CurrentApp().Clipboard().Content(); got != m.prompt.message.Text {
			t.Errorf("copied %q", got)
		}
	})
}

// From a licence to the users holding it, and back to all users (issue 23
// item 13).
func TestLicenceDrillDownToItsUsers(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	lp, _ := openPage(t, m, PageLicenses)
	waitExtra(t, lp, dataMark{}, nil)
	users, _ := openPage(t, m, PageUsers)
	onUI(func() { m.nav.Select(PageLicenses) })
	if got := screenCell(t, lp, 0, 0); got != "ENTERPRISEPACK" {
		t.Fatalf("first licence %q", got)
	}
	mk := markData(t, users)
	onUI(func() {
		lp.showRow(0)
		test.Tap(m.prompt.buttons["Show its users"])
	})
	e := waitQuery(t, users, mk, func(e landing) bool { return e.q.SKU == testinventory.SkuE3 })
	if e.total != bigUsers/2 || m.pageName != PageUsers {
		t.Fatalf("holders of E3: %d on %s, want %d on Users", e.total, m.pageName, bigUsers/2)
	}
	onUI(func() {
		if !users.skuChip.Visible() || !strings.Contains(users.skuChip.Text, "ENTERPRISEPACK") {
			t.Errorf("no visible filter: %q", users.skuChip.Text)
		}
	})
	lic := colIndex(t, userColumns, "Licenses")
	onUI(func() { users.table.ScrollTo(widget.TableCellID{Row: 0, Col: lic}) })
	requireContains(t, "licences of the first holder", screenCell(t, users, 0, lic), "ENTERPRISEPACK")
	mk = markData(t, users)
	onUI(func() { test.Tap(users.skuChip) })
	e = waitQuery(t, users, mk, func(e landing) bool { return e.q.SKU == "" })
	if e.total != bigUsers {
		t.Fatalf("after clearing the filter: %d", e.total)
	}
}

// quiet reports that no read of the data pages is under way (UI lock).
func (m *dataPages) quiet() bool {
	if m.statusPending != 0 || m.readsAhead != 0 || m.extrasPending != 0 {
		return false
	}
	if m.optimization != nil && m.optimization.pending != 0 {
		return false
	}
	for _, p := range m.pages {
		if p.stale {
			return false
		}
	}
	return true
}
