package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
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
	days := 365
	if testing.Short() {
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
