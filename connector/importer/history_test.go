package importer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// ageImports is the test API of issue 18's simulated history: day by day
// it moves the program's clock (the simulator's and the stores') a day on,
// ages the tenant (activity, joiners, leavers, licence changes, disabled
// and enabled accounts) and runs each importer given, so a year of
// history takes seconds.
func (e *env) ageImports(days int, seed int64, fraction float64, imports ...func(day int)) {
	for day := 1; day <= days; day++ {
		e.clk.Advance(24 * time.Hour)
		e.sim.Tenant().AgeDay(seed, day, fraction)
		for _, run := range imports {
			run(day)
		}
	}
}

// historyStore opens a store on the test's clock, so each day's imports
// land on that day.
func (e *env) historyStore() *inventory.Store {
	s, err := inventory.Open(context.Background(), filepath.Join(e.t.TempDir(), inventory.FileName), inventory.Options{Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

// historyOf reads a connection's whole history.
func historyOf(t *testing.T, s *inventory.Store, connID string) (tenants []inventory.HistoryTenant, skus []inventory.HistorySKU, events []inventory.HistoryEvent) {
	t.Helper()
	ctx := context.Background()
	var err error
	if tenants, err = s.HistoryTenants(ctx, connID, inventory.HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
	if skus, err = s.HistorySKUs(ctx, connID, inventory.HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
	if events, err = s.HistoryEvents(ctx, connID, inventory.HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
	return tenants, skus, events
}

// TestHistoryIncrementalEqualsFull is issue 18's property: over a
// simulated year of daily imports, the history that daily incremental
// runs build (a full import once a week, as FullAfter says) equals the one
// that daily full imports build, day by day: figures, prices and events.
func TestHistoryIncrementalEqualsFull(t *testing.T) {
	// A year in make test's first pass; 60 days with -short and in the
	// passes at a shifted clock, which are about the date, not the
	// length (the year takes minutes under -race on two cores).
	days := 365
	if testing.Short() || os.Getenv(clock.ShiftEnv) != "" {
		days = 60
	}
	// A small tenant with few applications: the property is about users
	// and licences, and 730 imports must run in little time under -race.
	clk := newClock()
	tn := tenant.GenerateAt(11, 40, clk.Now())
	tn.ServicePrincipals = tn.ServicePrincipals[:min(5, len(tn.ServicePrincipals))]
	e := newEnv(t, m365sim.Options{Tenant: tn, Now: clk.Now})
	e.clk = clk
	inc, full := e.historyStore(), e.historyStore()
	// One priced SKU, so cost is compared too.
	prices := map[string]storage.Price{}
	for _, s := range e.sim.Tenant().SKUs[:1] {
		prices[s.SkuID] = storage.Price{SkuID: s.SkuID, Cents: 2300, Currency: "EUR"}
	}
	hist := inventory.HistoryOptions{Figures: optimize.HistoryFigures(prices, catalog.Builtin())}
	modes := map[string]int{}
	run := func(store *inventory.Store, fullRun bool) {
		res, err := Run(context.Background(), Options{Conn: e.conn, Client: e.client(), Store: store, Trigger: inventory.TriggerSchedule,
			Logger: quietLog, Full: fullRun, Now: e.clk.Now, History: hist,
			// A day-old download is downloaded again, as each day's
			// reports are new.
			ReportsMaxAge: 23 * time.Hour})
		if err != nil {
			t.Fatalf("import failed: %v", err)
		}
		if !fullRun {
			modes[res.Mode]++
		}
	}
	run(inc, false)
	run(full, true)
	e.ageImports(days, 5, 0.03, func(int) { run(inc, false) }, func(int) { run(full, true) })
	if modes[ModeDelta] < days/2 {
		t.Fatalf("the incremental store's runs: %v; most should read the changes only", modes)
	}
	it, is, ie := historyOf(t, inc, e.conn.ID)
	ft, fs, fe := historyOf(t, full, e.conn.ID)
	if len(it) != days+1 {
		t.Fatalf("%d days of history after %d days of imports", len(it), days+1)
	}
	// The property proves something only if the year had every kind of
	// event and moving figures.
	kinds := map[inventory.EventKind]int{}
	for _, ev := range fe {
		kinds[ev.Kind]++
	}
	for k := inventory.EventAssigned; k <= inventory.EventEnabled; k++ {
		if kinds[k] == 0 && days >= 365 {
			t.Errorf("no %q event in a simulated year: %v", k, kinds)
		}
	}
	if ft[0].Users == ft[len(ft)-1].Users && fs[0].Active == fs[len(fs)-len(fs)/(days+1)].Active {
		t.Errorf("the tenant did not change over the year")
	}
	for i := range it {
		if it[i] != ft[i] {
			t.Fatalf("tenant on %s: incremental %+v, full %+v", it[i].Day.Format(time.DateOnly), it[i], ft[i])
		}
	}
	for i := range min(len(is), len(fs)) {
		if is[i] != fs[i] {
			t.Fatalf("SKU on %s: incremental %+v, full %+v", is[i].Day.Format(time.DateOnly), is[i], fs[i])
		}
	}
	if len(is) != len(fs) {
		t.Fatalf("%d SKU rows incremental, %d full", len(is), len(fs))
	}
	if !reflect.DeepEqual(ie, fe) {
		t.Fatalf("events differ: %d incremental, %d full; first difference %s", len(ie), len(fe), firstDiff(ie, fe))
	}
	fmt.Fprintf(os.Stdout, "FIGURE history property: %d days, %d SKU rows, %d events %v, incremental modes %v\n", len(it), len(is), len(ie), kinds, modes)
}

func firstDiff(a, b []inventory.HistoryEvent) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	return "in length"
}

// TestHistoryYear is BENCHMARKS.md's year of daily imports: with
// BEACON_HISTORY_YEAR_USERS set (10000 there) it ages a tenant of that
// size a day at a time (BEACON_HISTORY_YEAR_DAYS, default 365), imports it
// incrementally each day with the Optimization page's figures, and prints
// the database's growth, the history's size and the trend queries' times.
func TestHistoryYear(t *testing.T) {
	users, _ := strconv.Atoi(os.Getenv("BEACON_HISTORY_YEAR_USERS"))
	if users == 0 {
		t.Skip("set BEACON_HISTORY_YEAR_USERS to run the year of daily imports")
	}
	days := 365
	if d, _ := strconv.Atoi(os.Getenv("BEACON_HISTORY_YEAR_DAYS")); d > 0 {
		days = d
	}
	e := newEnv(t, m365sim.Options{Users: users, Seed: 3})
	store := e.historyStore()
	hist := inventory.HistoryOptions{Figures: optimize.HistoryFigures(nil, catalog.Builtin())}
	var took time.Duration
	run := func(int) {
		start := time.Now()
		if _, err := Run(context.Background(), Options{Conn: e.conn, Client: e.client(), Store: store, Trigger: inventory.TriggerSchedule,
			Logger: quietLog, Now: e.clk.Now, History: hist, ReportsMaxAge: 23 * time.Hour}); err != nil {
			t.Fatalf("import failed: %v", err)
		}
		took += time.Since(start)
	}
	size := func() int64 {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(store.Path() + suffix); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	run(0)
	first := size()
	e.ageImports(days, 9, 0.002, run)
	ctx := context.Background()
	if _, err := store.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	last := size()
	// The history's own size: a copy with everything else dropped.
	copyPath := filepath.Join(t.TempDir(), "history-only.db")
	if _, err := store.DB().ExecContext(ctx, "VACUUM INTO ?", copyPath); err != nil {
		t.Fatal(err)
	}
	cp, err := sql.Open("sqlite3", copyPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cp.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'history%' AND name NOT LIKE 'sqlite%'")
	if err != nil {
		t.Fatal(err)
	}
	var drop []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		drop = append(drop, n)
	}
	rows.Close()
	for _, n := range drop {
		if _, err := cp.ExecContext(ctx, "DROP TABLE "+n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cp.ExecContext(ctx, "VACUUM"); err != nil {
		t.Fatal(err)
	}
	cp.Close()
	st, err := os.Stat(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	skus, _ := store.HistorySKUs(ctx, e.conn.ID, inventory.HistoryQuery{})
	events, _ := store.HistoryEvents(ctx, e.conn.ID, inventory.HistoryQuery{})
	timed := func(what string, q inventory.HistoryQuery, f func(context.Context, string, inventory.HistoryQuery) (int, error)) {
		const n = 20
		start := time.Now()
		var got int
		for range n {
			if got, err = f(ctx, e.conn.ID, q); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(os.Stdout, "FIGURE history year: %s: %d rows in %v\n", what, got, (time.Since(start) / n).Round(10*time.Microsecond))
	}
	skuRows := func(ctx context.Context, c string, q inventory.HistoryQuery) (int, error) {
		r, err := store.HistorySKUs(ctx, c, q)
		return len(r), err
	}
	eventRows := func(ctx context.Context, c string, q inventory.HistoryQuery) (int, error) {
		r, err := store.HistoryEvents(ctx, c, q)
		return len(r), err
	}
	now := e.clk.Now()
	timed("trend of all SKUs, all days", inventory.HistoryQuery{}, skuRows)
	timed("trend of all SKUs, 30 days", inventory.HistoryQuery{Since: now.AddDate(0, 0, -29)}, skuRows)
	timed("trend of one SKU, all days", inventory.HistoryQuery{SkuID: skus[0].SkuID}, skuRows)
	timed("events of one SKU", inventory.HistoryQuery{SkuID: skus[0].SkuID}, eventRows)
	if len(events) > 0 {
		timed("events of one user", inventory.HistoryQuery{UPN: events[len(events)/2].UPN}, eventRows)
	}
	fmt.Fprintf(os.Stdout, "FIGURE history year: %d users, %d days: database %d → %d bytes after the first import (+%d), history alone %d bytes (%d SKU rows, %d events); imports took %v on average\n",
		users, days, first, last, last-first, st.Size(), len(skus), len(events), (took / time.Duration(days+1)).Round(time.Millisecond))
}
