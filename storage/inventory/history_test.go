package inventory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
)

// beginWithSKUs begins a run of connID and stages testSKUs.
func beginWithSKUs(t *testing.T, s *Store, connID string) *RunWriter {
	t.Helper()
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: connID, ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	return w
}

// importUsers writes a good run of the given users (testSKUs) at the
// store's clock.
func importUsers(t *testing.T, s *Store, connID string, us []User, out Outcome) Run {
	t.Helper()
	ctx := context.Background()
	w := beginWithSKUs(t, s, connID)
	if err := w.AddUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	out.Status = StatusSucceeded
	run, err := w.Finish(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestHistoryDaysEventsAndPruning(t *testing.T) {
	forEachStoreOpen(t, testHistoryDaysEventsAndPruning)
}

func testHistoryDaysEventsAndPruning(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	start := time.Date(clock.Now().Year(), 3, 1, 10, 0, 0, 0, time.UTC)
	fc := clock.NewFake(start)
	s := open(Options{Keep: 2, Now: fc.Now})
	// The views' amounts: SQLite's REAL prints 36.0, PostgreSQL's
	// numeric rounded to cents 36.00.
	price := func(units string) string {
		if s.Postgres() {
			return units + ".00"
		}
		return units + ".0"
	}
	us := testUsers(6, "u")
	// Figures that only the service knows arrive through the callback.
	figs := HistoryOptions{Figures: func(_ context.Context, f *LicenseFacts) (HistoryFigures, error) {
		if len(f.Users) == 0 {
			return nil, fmt.Errorf("no licensed users in the facts")
		}
		return HistoryFigures{skuE3: {InactiveAssigned: 1, Overlapping: 2, Priced: true, PriceCents: 3600, Yearly: true, Currency: "EUR", CostCents: 7500}}, nil
	}}
	importUsers(t, s, "c1", us, Outcome{History: figs})
	// Day 1, later: user 1 gets E3; the day's figures are replaced.
	fc.Advance(2 * time.Hour)
	us[1].AssignedLicenses = []AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}
	importUsers(t, s, "c1", us, Outcome{History: figs})
	// Day 2: user 2 disabled and loses E3, user 3 deleted, a joiner.
	fc.Advance(24 * time.Hour)
	us[2].AccountEnabled = false
	us[2].AssignedLicenses = nil
	joiner := testUsers(8, "u")[7]
	us = append(append(us[:3:3], us[4:]...), joiner)
	importUsers(t, s, "c1", us, Outcome{History: figs})
	// More runs prune the snapshots (Keep 2); the history stays.
	for range 3 {
		fc.Advance(24 * time.Hour)
		importUsers(t, s, "c1", us, Outcome{History: figs})
	}

	tenants, err := s.HistoryTenants(ctx, "c1", HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) != 5 {
		t.Fatalf("%d tenant days, want 5 (one per day): %+v", len(tenants), tenants)
	}
	if d := tenants[0].Day; !d.Equal(time.Date(start.Year(), 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("first day %v", d)
	}
	if tenants[0].Users != 6 || tenants[1].Users != 6 || tenants[1].Guests != 0 {
		t.Fatalf("tenant rows %+v", tenants[:2])
	}
	skus, err := s.HistorySKUs(ctx, "c1", HistoryQuery{SkuID: skuE3, Until: start})
	if err != nil {
		t.Fatal(err)
	}
	// Users 0, 2, 4 hold E3, and the day's last import added user 1.
	if len(skus) != 1 || skus[0].Assigned != 4 || skus[0].Purchased != 25 || skus[0].InactiveAssigned != 1 ||
		skus[0].Overlapping != 2 || !skus[0].Priced || skus[0].PriceCents != 3600 || !skus[0].Yearly || skus[0].Currency != "EUR" || skus[0].CostCents != 7500 {
		t.Fatalf("E3 on day 1: %+v", skus)
	}
	events, err := s.HistoryEvents(ctx, "c1", HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	day1, day2 := dayTime(dayNumber(start)), dayTime(dayNumber(start)+1)
	want := []HistoryEvent{
		{day1, "user0001@contoso.example", skuE3, EventAssigned},
		{day2, "user0002@contoso.example", "", EventDisabled},
		{day2, "user0002@contoso.example", skuE3, EventRemoved},
		{day2, "user0003@contoso.example", "", EventUserDeleted},
		{day2, "user0007@contoso.example", "", EventUserCreated},
	}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events\n got %v\nwant %v", events, want)
	}
	// The BI views read the same history (views.go, docs/bi-views.md).
	d1, d2 := day1.Format(time.DateOnly), day2.Format(time.DateOnly)
	if got := queryAll[string](t, s.DB(), `SELECT day || ' ' || assigned || ' ' || inactive_assigned || ' ' || price || ' ' || price_per || ' ' || currency || ' ' || monthly_cost
		FROM beacon_license_history WHERE connection_id = 'c1' AND sku_id = ? ORDER BY day`, skuE3); len(got) != 5 || got[0] != d1+" 4 1 "+price("36")+" year EUR "+price("75") {
		t.Errorf("beacon_license_history: %q", got)
	}
	if got := queryInts(t, s.DB(), `SELECT users FROM beacon_tenant_history WHERE connection_id = 'c1' ORDER BY day`); len(got) != 5 || got[0] != 6 {
		t.Errorf("beacon_tenant_history: %v", got)
	}
	wantView := []string{d1 + " user0001@contoso.example " + skuE3 + " assigned", d2 + " user0002@contoso.example - disabled",
		d2 + " user0002@contoso.example " + skuE3 + " removed", d2 + " user0003@contoso.example - user deleted", d2 + " user0007@contoso.example - user created"}
	if got := queryAll[string](t, s.DB(), `SELECT day || ' ' || user_principal_name || ' ' || coalesce(sku_id, '-') || ' ' || event
		FROM beacon_license_events WHERE connection_id = 'c1' ORDER BY day, user_principal_name, coalesce(sku_id, ''), event`); fmt.Sprint(got) != fmt.Sprint(wantView) {
		t.Errorf("beacon_license_events\n got %q\nwant %q", got, wantView)
	}
	byUser, err := s.HistoryEvents(ctx, "c1", HistoryQuery{UPN: "USER0002@contoso.example"})
	if err != nil {
		t.Fatal(err)
	}
	bySKU, err := s.HistoryEvents(ctx, "c1", HistoryQuery{SkuID: skuE3})
	if err != nil {
		t.Fatal(err)
	}
	if len(byUser) != 2 || len(bySKU) != 2 {
		t.Fatalf("by user %v, by SKU %v", byUser, bySKU)
	}
	// Retention: keep 0 months of a later run drops every earlier day.
	fc.Advance(24 * time.Hour * 70)
	importUsers(t, s, "c1", us, Outcome{History: HistoryOptions{KeepMonths: 1}})
	if tenants, _ := s.HistoryTenants(ctx, "c1", HistoryQuery{}); len(tenants) != 1 {
		t.Fatalf("after retention: %d days, want 1", len(tenants))
	}
	// Deleting the connection may keep its history.
	if err := s.DeleteConnection(ctx, "c1", true); err != nil {
		t.Fatal(err)
	}
	if tenants, _ := s.HistoryTenants(ctx, "c1", HistoryQuery{}); len(tenants) != 1 {
		t.Fatalf("history not kept with the connection's deletion")
	}
	if err := s.DeleteConnection(ctx, "c1", false); err != nil {
		t.Fatal(err)
	}
	if tenants, _ := s.HistoryTenants(ctx, "c1", HistoryQuery{}); len(tenants) != 0 {
		t.Fatalf("history kept after deleting it")
	}
}

func TestFailedRunWritesNoHistory(t *testing.T) {
	forEachStore(t, Options{}, testFailedRunWritesNoHistory)
}

func testFailedRunWritesNoHistory(t *testing.T, s *Store) {
	ctx := context.Background()
	w := beginWithSKUs(t, s, "c1")
	if err := w.AddUsers(ctx, testUsers(3, "u")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusFailed, Err: fmt.Errorf("boom")}); err != nil {
		t.Fatal(err)
	}
	// A history function that fails fails the promotion: no half day.
	w = beginWithSKUs(t, s, "c1")
	if err := w.AddUsers(ctx, testUsers(3, "u")); err != nil {
		t.Fatal(err)
	}
	bad := HistoryOptions{Figures: func(context.Context, *LicenseFacts) (HistoryFigures, error) { return nil, fmt.Errorf("no") }}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, History: bad}); err == nil {
		t.Fatal("a failing history function did not fail the run")
	}
	if tenants, _ := s.HistoryTenants(ctx, "c1", HistoryQuery{}); len(tenants) != 0 {
		t.Fatalf("history of runs that did not become current: %+v", tenants)
	}
	if _, err := s.CurrentRun(ctx, "c1"); err == nil {
		t.Fatal("a run whose history failed became current")
	}
}

// TestBackfillOnUpgrade turns a database back into a schema-1 one (no
// history tables, no BI views) with kept snapshots, reopens it, and checks
// the snapshots seed the history once, in both stores.
func TestBackfillOnUpgrade(t *testing.T) {
	forEachStoreReopen(t, func(t *testing.T, open func(Options) *Store) {
		ctx := context.Background()
		start := time.Date(clock.Now().Year(), 5, 1, 9, 0, 0, 0, time.UTC)
		fc := clock.NewFake(start)
		s := open(Options{Now: fc.Now})
		us := testUsers(4, "u")
		importUsers(t, s, "c1", us, Outcome{})
		fc.Advance(24 * time.Hour)
		us[1].AssignedLicenses = []AssignedLicense{{SkuID: skuE5, DisabledPlans: []string{}}}
		importUsers(t, s, "c1", us, Outcome{})
		// PostgreSQL drops no table a view reads: the views first.
		var stmts []string
		for _, v := range biViews() {
			stmts = append(stmts, "DROP VIEW "+v.name)
		}
		stmts = append(stmts, "DROP TABLE history_names", "DROP TABLE history_skus", "DROP TABLE history_tenant",
			"DROP TABLE history_events", "DROP TABLE history_meta")
		for _, st := range stmts {
			if _, err := s.db.Exec(st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
		setSchemaVersion(t, s, 1)
		s.Close()
		s = open(Options{Now: fc.Now})
		if pending, err := s.HistoryBackfillPending(ctx); err != nil || !pending {
			t.Fatalf("back-fill pending %v, %v", pending, err)
		}
		calls := 0
		fn := func(context.Context, *LicenseFacts) (HistoryFigures, error) { calls++; return nil, nil }
		if err := s.BackfillHistory(ctx, fn); err != nil {
			t.Fatal(err)
		}
		if err := s.BackfillHistory(ctx, fn); err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Fatalf("the figures were asked %d times, want once per kept snapshot (2)", calls)
		}
		tenants, _ := s.HistoryTenants(ctx, "c1", HistoryQuery{})
		events, _ := s.HistoryEvents(ctx, "c1", HistoryQuery{})
		if len(tenants) != 2 || len(events) != 1 || events[0].Kind != EventAssigned || events[0].SkuID != skuE5 {
			t.Fatalf("seeded %+v, events %+v", tenants, events)
		}
		if v := schemaVersionOf(t, s); v != schemaVersion {
			t.Fatalf("schema version %d", v)
		}
	})
	// A new database has nothing to seed.
	forEachStore(t, Options{}, func(t *testing.T, n *Store) {
		if pending, err := n.HistoryBackfillPending(context.Background()); err != nil || pending {
			t.Fatalf("a new database waits for a back-fill (%v)", err)
		}
	})
}

// TestHistorySize measures the bytes a SKU-day costs: three years of a
// 40-SKU tenant, written as Finish writes them, with the database's
// pages counted before and after (BENCHMARKS.md quotes the figure).
func TestHistorySize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		var pages, psize int64
		s.db.QueryRow("PRAGMA page_count").Scan(&pages)
		s.db.QueryRow("PRAGMA page_size").Scan(&psize)
		return pages * psize
	}
	before := size()
	const days, nskus = 3 * 365, 40
	first := dayNumber(clock.Now()) - days
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for d := range int64(days) {
		hd := &historyDay{conn: "c1", day: first + d, tenant: HistoryTenant{Users: 10000 + int(d), Enabled: 9500, Guests: 300, Licensed: 9000}}
		for k := range nskus {
			hd.skus = append(hd.skus, HistorySKU{SkuID: fmt.Sprintf("%08x-0000-0000-0000-%012x", k, k), Purchased: 2500 + k,
				Assigned: 2400 + int(d)%50, Active: 2000 + int(d)%70, InactiveAssigned: 300 + int(d)%20, Overlapping: 12,
				Priced: k%2 == 0, PriceCents: 3600, Currency: "EUR", CostCents: 9000000})
		}
		if err := writeHistoryDay(ctx, tx, hd, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("VACUUM"); err != nil {
		t.Fatal(err)
	}
	grown := size() - before
	per := float64(grown) / (days * nskus)
	fmt.Fprintf(os.Stdout, "FIGURE history: %d SKU-days (3 years, 40 SKUs) take %d bytes, %.1f bytes per SKU-day with the tenant's rows\n", days*nskus, grown, per)
	if grown > 10<<20 {
		t.Fatalf("three years of 40 SKUs take %d bytes, over 10 MB", grown)
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM history_skus").Scan(&n); err != nil || n != days*nskus {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// TestHistoryDayEventsInChunks writes a day's events a few per statement
// (historyEventsPerInsert), users seen in more than one chunk and events
// written twice among them, and reads back each event once, with the
// users' names numbered in the order they were first seen.
func TestHistoryDayEventsInChunks(t *testing.T) {
	forEachStoreOpen(t, func(t *testing.T, open func(Options) *Store) {
		defer func(n int) { historyEventsPerInsert = n }(historyEventsPerInsert)
		historyEventsPerInsert = 3
		ctx := context.Background()
		s := open(Options{})
		day := time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC)
		var events []HistoryEvent
		for i := range 11 {
			e := HistoryEvent{Day: day, UPN: fmt.Sprintf("user%d@contoso.example", i%4), Kind: EventAssigned, SkuID: fmt.Sprintf("sku%d", i%3)}
			if i%5 == 4 {
				e.SkuID, e.Kind = "", EventDisabled
			}
			events = append(events, e)
		}
		events = append(events, events[1], events[6]) // again: no second row
		hd := &historyDay{conn: "c1", day: dayNumber(day), events: events}
		if err := writeHistoryDay(ctx, s.db, hd, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.HistoryEvents(ctx, "c1", HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		key := func(e HistoryEvent) string { return fmt.Sprint(e.Day.Unix(), e.UPN, e.SkuID, e.Kind) }
		want := map[string]bool{}
		for _, e := range events[:11] {
			want[key(e)] = true
		}
		seen := map[string]bool{}
		for _, e := range got {
			if !want[key(e)] || seen[key(e)] {
				t.Errorf("event %+v read back, not written or twice", e)
			}
			seen[key(e)] = true
		}
		if len(seen) != len(want) {
			t.Errorf("%d of %d events read back: %+v", len(seen), len(want), got)
		}
		rows, err := s.db.QueryContext(ctx, "SELECT name FROM history_names WHERE kind = ? ORDER BY id", nameUser)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want := []string{"user0@contoso.example", "user1@contoso.example", "user2@contoso.example", "user3@contoso.example"}; !slices.Equal(names, want) {
			t.Errorf("user names numbered %q, want %q", names, want)
		}
	})
}
