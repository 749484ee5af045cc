//go:build linux

package soak

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestBeaconsShareOnePostgres is issue 21's concurrency phase: beacons
// with configuration folders of their own (as on as many computers), each
// importing its own tenant from a simulator process of its own, all at
// once into one PostgreSQL database. Afterwards every connection's current
// snapshot equals its tenant (nothing lost, nothing of another tenant
// mixed in) and the totals across connections are the sums of the
// tenants. make soak: 20 beacons of 10,000 users.
func TestBeaconsShareOnePostgres(t *testing.T) {
	n, users := scaled(3, 20), scaled(1500, 10000)
	keys := realKeyring(t)
	u := pgtest.NewDB(t)
	t.Setenv("BEACON_STORE", u) // the beacons' store (service.StoreEnv)
	type beacon struct {
		dir, tmp string
		sim      *simProcess
		conn     storage.Connection
	}
	bs := make([]beacon, n)
	for i := range bs {
		// Seeds of their own: tenants that differ, so a mixed snapshot shows.
		sim := startSimProcess(t, users, int64(300+i), "--latency", "1ms")
		dir := t.TempDir()
		bs[i] = beacon{dir: dir, tmp: t.TempDir(), sim: sim, conn: ccConnection(t, dir, sim, keys, fmt.Sprintf("Tenant %02d", i))}
	}
	ctx := context.Background()
	outs := make([]string, n)
	errs := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			cmd := beaconCmd(ctx, t, bs[i].dir, bs[i].tmp, "execute", "--full", bs[i].conn.Name)
			cmd.Stdout, cmd.Stderr = &out, &out
			errs[i], outs[i] = cmd.Run(), out.String()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	st, err := inventory.OpenURL(ctx, u, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lost, mixed, wantUsers := 0, 0, 0
	for i, b := range bs {
		ten := b.sim.Tenant()
		ten.RLock()
		wantUsers += len(ten.Users)
		ten.RUnlock()
		if errs[i] != nil {
			lost++
			t.Errorf("beacon %d: %v\n%s", i, errs[i], outs[i])
			continue
		}
		if _, err := st.CurrentRun(ctx, b.conn.ID); err != nil {
			lost++
			t.Errorf("beacon %d: no current snapshot: %v", i, err)
			continue
		}
		if err := diffTenant(ctx, st, b.conn.ID, ten); err != nil {
			mixed++
			t.Errorf("beacon %d: the snapshot differs from its tenant: %v", i, err)
		}
	}
	var gotUsers int
	if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM beacon_users").Scan(&gotUsers); err != nil || gotUsers != wantUsers {
		t.Errorf("beacon_users holds %d users across the connections (%v), the tenants %d", gotUsers, err, wantUsers)
	}
	figure(t, "beacons-share-postgres", "beacons=%d users-each=%d all-at-once=%s lost=%d mixed=%d users-total=%d (tenants %d)",
		n, users, took.Round(time.Millisecond), lost, mixed, gotUsers, wantUsers)
}
