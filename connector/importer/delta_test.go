package importer

import (
	"context"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
)

// TestIncrementalEqualsFull: import, change the tenant, import the changes
// only; the snapshot must be what a fresh full import of the changed
// tenant leaves. Twice in a row, so a chain of incremental runs holds too.
func TestIncrementalEqualsFull(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 1000, DeltaPageSize: 7})
	// Several batches of changes, some users changed in two of them.
	defer func(n int) { deltaBatch = n }(deltaBatch)
	deltaBatch = 10
	e.opts.PageSize = 80
	e.incremental = true
	e.reportsMaxAge = -1 // download the reports: new users have usage
	if res := e.mustRun(); res.Mode != ModeSharded || res.Run.Mode != ModeSharded {
		t.Fatalf("first run: mode %q / %q", res.Mode, res.Run.Mode)
	}
	for round, seed := range []int64{42, 43} {
		sum := e.sim.Tenant().Mutate(seed, 0.05)
		if sum.Added == 0 || sum.Deleted == 0 || sum.LicenseChanges == 0 {
			t.Fatalf("mutation %+v does not exercise adds, deletes and license changes", sum)
		}
		e.clk.Advance(time.Hour)
		res := e.mustRun()
		if res.Mode != ModeDelta || res.Run.Mode != ModeDelta {
			t.Fatalf("round %d: mode %q, want the delta", round, res.Mode)
		}
		got := e.dump()
		e.checkAll()
		e.incremental = false
		if res := e.mustRun(); res.Mode != ModeSharded {
			t.Fatalf("full run: mode %q", res.Mode)
		}
		sameDump(t, "incremental vs full", got, e.dump())
		e.incremental = true
	}
	h, err := e.store.History(context.Background(), e.conn.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 5 || h[1].Mode != ModeDelta || h[0].Mode != ModeSharded {
		t.Fatalf("history modes: %+v", h)
	}
}

// TestIncrementalCopiesRecentReports: an incremental run within
// ReportsMaxAge keeps the previous download's rows (and the figures
// derived from them) instead of downloading again.
func TestIncrementalCopiesRecentReports(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 600})
	e.incremental = true
	e.mustRun()
	before := e.dump()
	reportCalls := e.sim.Stats()
	res := e.mustRun() // nothing changed
	if res.Mode != ModeDelta {
		t.Fatalf("mode %q", res.Mode)
	}
	after := e.sim.Stats()
	if after.Requests-reportCalls.Requests > 6 {
		t.Fatalf("%d requests for an unchanged tenant", after.Requests-reportCalls.Requests)
	}
	sameDump(t, "unchanged tenant", e.dump(), before)
	e.checkAll()
	// Past the age, the reports are downloaded again.
	e.clk.Advance(DefaultReportsMaxAge + time.Minute)
	e.mustRun()
	if d := e.sim.Stats().Requests - after.Requests; d < 6 {
		t.Fatalf("%d requests: the reports were not downloaded again", d)
	}
	e.checkAll()
}

// TestIncrementalFallsBackToFull: an expired delta link (410) or a full
// import older than FullAfter makes the run a full one.
func TestIncrementalFallsBackToFull(t *testing.T) {
	t.Run("410 syncStateNotFound", func(t *testing.T) {
		e := newEnv(t, m365sim.Options{Users: 500, DeltaTokenLifetime: time.Hour})
		e.incremental = true
		e.reportsMaxAge = -1
		e.mustRun()
		e.sim.Tenant().Mutate(5, 0.05)
		e.clk.Advance(2 * time.Hour)
		res := e.mustRun()
		if res.Mode != ModeSharded {
			t.Fatalf("mode %q, want a full listing after 410", res.Mode)
		}
		e.checkAll()
		// The new link works: the next run is incremental again.
		e.sim.Tenant().Mutate(6, 0.05)
		if res := e.mustRun(); res.Mode != ModeDelta {
			t.Fatalf("mode %q after the fallback", res.Mode)
		}
		e.checkAll()
	})
	t.Run("full import too old", func(t *testing.T) {
		e := newEnv(t, m365sim.Options{Users: 300, DeltaTokenLifetime: 30 * 24 * time.Hour})
		e.incremental = true
		e.mustRun()
		e.clk.Advance(DefaultFullAfter + time.Minute)
		if res := e.mustRun(); res.Mode != ModeSharded {
			t.Fatalf("mode %q, want full", res.Mode)
		}
		e.checkAll()
	})
	t.Run("sequential mode is always full", func(t *testing.T) {
		e := newEnv(t, m365sim.Options{Users: 200})
		e.incremental = true
		e.mustRun()
		e.sequential = true
		if res := e.mustRun(); res.Mode != ModeSequential || res.Run.Mode != ModeSequential {
			t.Fatalf("mode %q", res.Mode)
		}
		if _, ok, err := e.store.SyncState(context.Background(), e.conn.ID); ok || err != nil {
			t.Fatalf("a sequential snapshot has a sync state (%v)", err)
		}
	})
}

// TestIncrementalStoresEachNewDeltaLink: Graph's deltaLink changes every
// round, even one without changes (the simulator's does too). Each run
// stores the link it was given, rounds without changes included, and the
// run after them sees the changes made since.
func TestIncrementalStoresEachNewDeltaLink(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 300})
	e.incremental = true
	e.reportsMaxAge = -1 // download the reports: new users have usage
	e.mustRun()
	link := func() string {
		t.Helper()
		st, ok, err := e.store.SyncState(context.Background(), e.conn.ID)
		if err != nil || !ok || st.UsersDeltaLink == "" {
			t.Fatalf("sync state: %+v %v %v", st, ok, err)
		}
		return st.UsersDeltaLink
	}
	seen := map[string]bool{link(): true}
	before := e.dump()
	for i := 0; i < 2; i++ { // nothing changed, the clock standing still
		if res := e.mustRun(); res.Mode != ModeDelta {
			t.Fatalf("no-change run %d: mode %q", i, res.Mode)
		}
		l := link()
		if seen[l] {
			t.Fatalf("no-change run %d kept a deltaLink given before", i)
		}
		seen[l] = true
		sameDump(t, "unchanged tenant", e.dump(), before)
	}
	sum := e.sim.Tenant().Mutate(9, 0.05)
	if sum.AttributeChanges+sum.Added+sum.Deleted == 0 {
		t.Fatalf("mutation %+v changes nothing", sum)
	}
	if res := e.mustRun(); res.Mode != ModeDelta {
		t.Fatalf("after the changes: mode %q", res.Mode)
	}
	e.checkAll()
}
