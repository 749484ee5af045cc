//go:build linux

package soak

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestKill9BeaconExecute kills a real `beacon execute` process (Client
// Credentials, secret in the keyring, the simulator on loopback: the real
// cmd/m365sim binary, a process of its own) at random moments of its
// import. After every kill the database opens, passes
// PRAGMA integrity_check and still holds the last good snapshot (or the
// killed run's, when it had finished), with data equal to the tenant; the
// next import succeeds.
func TestKill9BeaconExecute(t *testing.T) { kill9BeaconExecute(t, "") }

// TestKill9BeaconExecutePostgres is the same with the inventory on
// PostgreSQL (issue 21): the killed process's session ends, its
// uncommitted rows vanish and its run lock with it, and the next beacon
// tidies what it had committed.
func TestKill9BeaconExecutePostgres(t *testing.T) {
	u := pgtest.NewDB(t)
	t.Setenv("BEACON_STORE", u) // the beacons' store (service.StoreEnv)
	kill9BeaconExecute(t, u)
}

// kill9BeaconExecute runs the kills against the store at location (""
// the SQLite file in the configuration folder).
func kill9BeaconExecute(t *testing.T, location string) {
	kills := scaled(2, 30)
	keys := realKeyring(t)
	sim := startSimProcess(t, scaled(3000, 20000), 21, "--latency", "2ms")
	// The tenant it serves, rebuilt here from its seed, size and day.
	want := sim.Tenant()
	dir, tmp := t.TempDir(), t.TempDir()
	conn := ccConnection(t, dir, sim, keys, "Crash Test")
	ctx := context.Background()

	// execute runs an import to its end: a full one, or with full false
	// an incremental one.
	execute := func(full ...bool) (time.Duration, error, string) {
		var out bytes.Buffer
		args := []string{"execute", "--full", conn.Name}
		if len(full) > 0 && !full[0] {
			args = []string{"execute", conn.Name}
		}
		cmd := beaconCmd(ctx, t, dir, tmp, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		return time.Since(start), err, out.String()
	}
	check := func(when string) (inventory.Run, bool) {
		st, err := inventory.OpenLocation(ctx, location, dir, inventory.Options{})
		if err != nil {
			t.Errorf("%s: the database does not open: %v", when, err)
			return inventory.Run{}, false
		}
		defer st.Close()
		if v, err := st.IntegrityCheck(ctx); err != nil || v != "ok" {
			t.Errorf("%s: integrity_check = %q, %v", when, v, err)
			return inventory.Run{}, false
		}
		cur, err := st.CurrentRun(ctx, conn.ID)
		if err != nil {
			t.Errorf("%s: no current snapshot: %v", when, err)
			return inventory.Run{}, false
		}
		if err := diffTenant(ctx, st, conn.ID, want); err != nil {
			t.Errorf("%s: the current snapshot differs from the tenant: %v", when, err)
			return cur, false
		}
		return cur, true
	}

	if _, err, out := execute(); err != nil {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	// The kill moments are drawn from how long each kind of import takes
	// once the store exists: the first one also creates it (on
	// PostgreSQL its schema, functions and views), and was long enough
	// that most kills of the later, shorter imports came after they had
	// exited ("only 1 of 6 attempts killed a running import").
	took, err, out := execute()
	if err != nil {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	tookIncr, err, out := execute(false)
	if err != nil {
		t.Fatalf("incremental import: %v\n%s", err, out)
	}
	good, _ := check("after the first imports")
	// Attempts go on until `kills` of them landed while the process was
	// still running (a kill after its exit proves nothing), bounded.
	corruptions, landed, attempts := 0, 0, 0
	for k := 0; landed < kills && k < 3*kills; k++ {
		attempts++
		// Mostly full imports (long), some incremental ones (short).
		args, runs := []string{"execute", "--full", conn.Name}, took
		if k%4 == 3 {
			args, runs = []string{"execute", conn.Name}, tookIncr
		}
		cmd := beaconCmd(ctx, t, dir, tmp, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A random moment from start-up to a little past a whole import.
		time.Sleep(time.Duration(rand.Int64N(int64(runs)*11/10 + 1)))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		state, _ := cmd.Process.Wait()
		if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			landed++
		}
		cur, ok := check("after kill " + strconv.Itoa(k))
		if !ok {
			corruptions++
			continue
		}
		if cur.ID != good.ID {
			if cur.ID < good.ID || cur.Status != inventory.StatusSucceeded {
				corruptions++
				t.Errorf("kill %d: current snapshot %+v, the last good was %d", k, cur, good.ID)
			}
			good = cur // the killed process had finished its import
		}
	}
	if _, err, out := execute(); err != nil {
		corruptions++
		t.Errorf("the import after the kills fails: %v\n%s", err, out)
	}
	if _, ok := check("after the last import"); !ok {
		corruptions++
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, filepath.Base(p))
		}
		return nil
	})
	if landed < kills {
		t.Errorf("only %d of %d attempts killed a running import", landed, attempts)
	}
	name := "kill-beacon-execute"
	if location != "" {
		name += "-postgres"
	}
	figure(t, name, "simulator=cmd/m365sim pid %d (%d users) kills=%d (of %d attempts; the others came after the process exited) full-import-time=%s corruptions=%d files=%v",
		sim.PID, sim.Users, landed, attempts, took.Round(time.Millisecond), corruptions, files)
}
