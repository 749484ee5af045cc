package importer

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// snapshot is what the data pages show of a connection's current run.
type snapshot struct {
	Counts  inventory.Counts
	Users   []inventory.User
	SKUs    []inventory.License
	Apps    []inventory.ServicePrincipal
	Reports map[inventory.ReportKind][]inventory.ReportRow
}

func (e *env) snapshot() snapshot {
	t := e.t
	t.Helper()
	ctx := context.Background()
	run, err := e.store.CurrentRun(ctx, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{Counts: run.Counts, Reports: map[inventory.ReportKind][]inventory.ReportRow{}}
	if s.Users, err = e.store.Users(ctx, e.conn.ID, inventory.Query{}); err != nil {
		t.Fatal(err)
	}
	// Sharded listings store users in the order their pages arrive.
	slices.SortFunc(s.Users, func(a, b inventory.User) int { return strings.Compare(a.ID, b.ID) })
	if s.SKUs, err = e.store.Licenses(ctx, e.conn.ID, inventory.Query{}); err != nil {
		t.Fatal(err)
	}
	if s.Apps, err = e.store.Applications(ctx, e.conn.ID, inventory.Query{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range inventory.ReportKinds {
		if s.Reports[k], err = e.store.ReportRows(ctx, e.conn.ID, k, inventory.Query{}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestConcurrentImportsOfTwoTenants runs the imports of two different
// tenants at once, into one store as the scheduler does, and compares each
// snapshot with a solo import of the same tenant. The clients decode
// their pages side by side (small pages, many shards, the plan cache
// busy in both): with decoder state shared between them (page buffers,
// interned strings, the plan cache), one tenant's users would show the
// other's plans or strings, or the race detector would stop the test.
func TestConcurrentImportsOfTwoTenants(t *testing.T) {
	tenants := []m365sim.Options{{Users: 1800, Seed: 7}, {Users: 1300, Seed: 11}}
	setup := func(i int) *env {
		e := newEnv(t, tenants[i])
		e.opts.PageSize = 60
		// Two connections of one store: distinct ids.
		e.conn.ID = []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}[i]
		e.conn.Name = []string{"Contoso", "Fabrikam"}[i]
		return e
	}
	solo := make([]snapshot, len(tenants))
	for i := range tenants {
		e := setup(i)
		if res := e.mustRun(); res.Status() != inventory.StatusSucceeded {
			t.Fatalf("solo import %d: %+v", i, res.Run)
		}
		solo[i] = e.snapshot()
	}
	if reflect.DeepEqual(solo[0].Users, solo[1].Users) || len(solo[0].Users) == 0 || len(solo[1].Users) == 0 {
		t.Fatal("the two tenants are not different: the test would prove nothing")
	}

	envs := []*env{setup(0), setup(1)}
	envs[1].store.Close()
	envs[1].store = envs[0].store
	var wg sync.WaitGroup
	results := make([]Result, len(envs))
	errs := make([]error, len(envs))
	for i, e := range envs {
		wg.Go(func() { results[i], errs[i] = e.run(context.Background(), nil) })
	}
	wg.Wait()
	for i, e := range envs {
		if errs[i] != nil || results[i].Status() != inventory.StatusSucceeded || results[i].Mode != ModeSharded {
			t.Fatalf("import %d at once: %v, %+v (mode %s)", i, errs[i], results[i].Run, results[i].Mode)
		}
		got := e.snapshot()
		if !reflect.DeepEqual(got.Counts, solo[i].Counts) {
			t.Errorf("tenant %d: counts %+v, alone %+v", i, got.Counts, solo[i].Counts)
		}
		for j := range max(len(got.Users), len(solo[i].Users)) {
			if j >= len(got.Users) || j >= len(solo[i].Users) || !reflect.DeepEqual(got.Users[j], solo[i].Users[j]) {
				t.Fatalf("tenant %d, user %d differs from the solo import (%d and %d users):\n got %+v\nsolo %+v", i, j, len(got.Users), len(solo[i].Users), got.Users[min(j, len(got.Users)-1)], solo[i].Users[min(j, len(solo[i].Users)-1)])
			}
		}
		if !reflect.DeepEqual(got.SKUs, solo[i].SKUs) || !reflect.DeepEqual(got.Apps, solo[i].Apps) {
			t.Errorf("tenant %d: licenses or applications differ from the solo import", i)
		}
		for _, k := range inventory.ReportKinds {
			if !reflect.DeepEqual(got.Reports[k], solo[i].Reports[k]) {
				t.Errorf("tenant %d: %s rows differ from the solo import", i, k)
			}
		}
		e.checkUsers(inventory.Query{})
	}
}
