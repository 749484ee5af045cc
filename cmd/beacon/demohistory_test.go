package main

import (
	"context"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/cmd/beacon/demo"
	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// `beacon --demo` has what its window needs before the demo's licence
// history is made: the history is made in the background afterwards, the
// window is told how far it is, and it ends with every day of the history and
// today's import as the current snapshot. The test holds the demo
// connection's run lock (as an Execute Now would) until the window is
// there, so the history cannot have been made before it, whatever the
// machine's speed.
func TestDemoStartsBeforeItsHistory(t *testing.T) {
	testenv.Keyring(t)
	const days = demo.DailyDays + 10
	dir := t.TempDir()
	repo := &storage.Repository{Config: storage.NewConfigStore(dir), Secrets: noSecrets{}}
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := connector.NewConnection()
	c.Name = demo.ConnectionName
	cfg.Connections = append(cfg.Connections, c)
	if err := repo.Commit(cfg, nil); err != nil {
		t.Fatal(err)
	}
	release, err := schedule.LockConnection(dir, c.ID)
	if err != nil {
		t.Fatal(err)
	}

	b, err := buildDeps(options{configDir: dir, demo: true, demoHistory: days})
	if err != nil {
		release()
		t.Fatal(err)
	}
	defer b.cleanup()
	total := b.demo.HistoryLeft()
	if total == 0 || total > days+1 {
		release()
		t.Fatalf("%d imports to make for %d days of history", total, days)
	}
	// What runGUI hands the window (ui tests ShowDemoHistory itself):
	// each import's progress, counting up, then the outcome.
	outcome := make(chan error, 1)
	last := 0
	b.followHistory(func(done, n int, err error) {
		if n != total || done < last || done > n {
			t.Errorf("progress %d of %d after %d, want up to %d", done, n, last, total)
		}
		last = done
		if err != nil || done == n {
			outcome <- err
		}
	})

	ctx := context.Background()
	store, err := inventory.OpenDir(ctx, dir, inventory.Options{})
	if err != nil {
		release()
		t.Fatal(err)
	}
	defer store.Close()
	have, err := store.HistoryTenants(ctx, c.ID, inventory.HistoryQuery{})
	if err != nil || len(have) != 0 {
		release()
		t.Fatalf("the window is shown after %d days of history were made (%v), want before any", len(have), err)
	}
	release()

	select {
	case err := <-outcome:
		if err != nil {
			t.Fatalf("the history was not made: %v", err)
		}
	case <-time.After(10 * time.Minute):
		t.Fatal("the history was not made in 10 minutes")
	}
	have, err = store.HistoryTenants(ctx, c.ID, inventory.HistoryQuery{})
	today := clock.Now().UTC().Truncate(24 * time.Hour)
	if err != nil || len(have) != total || !have[0].Day.Equal(today.AddDate(0, 0, -days)) || !have[len(have)-1].Day.Equal(today) {
		t.Fatalf("%d days of history (%v), want %d from %s to today", len(have), err, total, today.AddDate(0, 0, -days).Format(time.DateOnly))
	}
	cur, err := store.CurrentRun(ctx, c.ID)
	if err != nil || !cur.Started.UTC().Truncate(24*time.Hour).Equal(today) {
		t.Fatalf("the current snapshot is of %v (%v), want today's", cur.Started, err)
	}
}
