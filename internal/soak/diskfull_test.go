//go:build linux

package soak

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/diskspace"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestDiskFullBeaconCLI is issue 20's report, with the real `beacon`
// process and the simulator as its own process: the configuration folder
// on a small tmpfs, one good import, then imports that fill the disk with
// less and less room left. Every one: exit 1 with the plain message, the
// WAL truncated, `beacon list` and `beacon export` working while the disk
// is still full and showing the last good import; once room is freed the
// next import succeeds. Skipped, with the reason, where mounting is not
// permitted.
func TestDiskFullBeaconCLI(t *testing.T) {
	dir, tmp := testenv.SmallDisk(t, scaled(24, 64)<<20), t.TempDir()
	keys := realKeyring(t)
	users := scaled(3000, 20000)
	sim := startSimProcess(t, users, 5, "--latency", "1ms")
	conn := ccConnection(t, dir, sim, keys, "Full Disk")
	ctx := context.Background()
	run := func(args ...string) (string, string, error) { return runBeacon(ctx, t, dir, tmp, args...) }
	if _, e, err := run("execute", "--full", conn.Name); err != nil {
		t.Fatalf("first import: %v\n%s", err, e)
	}
	st, err := inventory.OpenDir(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := st.CurrentRun(ctx, conn.ID)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	fill := func(free uint64) {
		_ = os.Remove(filler)
		have, err := diskspace.Free(dir)
		if err != nil {
			t.Fatal(err)
		}
		if have > free {
			_ = os.WriteFile(filler, make([]byte, have-free), 0o600)
		}
	}
	fills, losses, blocked := 0, 0, 0
	var worst time.Duration
	for _, free := range []uint64{0, 512 << 10, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 6 << 20, 9 << 20, 12 << 20, 16 << 20, 24 << 20} {
		fill(free)
		start := time.Now()
		_, e, err := run("execute", "--full", conn.Name)
		took := time.Since(start)
		if err == nil {
			// Room enough: the import after the failed ones succeeds.
			t.Logf("with %s free the import fit", diskspace.MB(free))
			break
		}
		fills++
		worst = max(worst, took)
		t.Logf("with %s free: %s", diskspace.MB(free), lastLine(e))
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("with %s free: %v, want exit 1", diskspace.MB(free), err)
		}
		for _, want := range []string{"beacon execute: the disk holding " + dir + " is full: ", "; the last good import of Full Disk ("} {
			if !strings.Contains(e, want) {
				t.Errorf("with %s free the message lacks %q:\n%s", diskspace.MB(free), want, e)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, inventory.FileName+"-wal")); err == nil && fi.Size() != 0 {
			t.Errorf("with %s free the failed import left a WAL of %d bytes", diskspace.MB(free), fi.Size())
		}
		// The disk still full: the last good import lists and exports.
		fill(0)
		out, e, err := run("list")
		if err != nil || !strings.Contains(out, conn.Name) {
			blocked++
			t.Errorf("beacon list with the disk full: %v\n%s%s", err, out, e)
		}
		out, e, err = run("export", conn.Name, "users", "--format", "csv")
		if err != nil {
			blocked++
			t.Errorf("beacon export with the disk full: %v\n%s", err, e)
		} else if recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll(); err != nil || len(recs) != good.Counts.Users+1 {
			losses++
			t.Errorf("the export with the disk full has %d lines (%v), want %d users and a header", len(recs), err, good.Counts.Users)
		}
		fill(free)
	}
	_ = os.Remove(filler)
	st, err = inventory.OpenDir(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if cur, err := st.CurrentRun(ctx, conn.ID); err != nil || cur.ID == good.ID || cur.Status != inventory.StatusSucceeded {
		t.Errorf("after room was freed the current run is %d %s (%v); the good one was %d", cur.ID, cur.Status, err, good.ID)
	}
	if fills < 3 {
		t.Errorf("the disk filled at %d points only", fills)
	}
	figure(t, "disk-full-cli", "%d users, %d fill points of `beacon execute`, losses %d, blocked reads (list, export) %d, worst failed import %s",
		users, fills, losses, blocked, worst.Round(10*time.Millisecond))
}

// TestReadOnlyBeaconCLI (issue 20): the configuration folder on a file
// system remounted read-only after a good import. `beacon list` and
// `beacon export` show the import; `beacon execute` says why it cannot
// run (exit 1) instead of failing on its first write.
func TestReadOnlyBeaconCLI(t *testing.T) {
	dir, tmp := testenv.SmallDisk(t, 24<<20), t.TempDir()
	keys := realKeyring(t)
	sim := startSimProcess(t, 500, 6, "--latency", "1ms")
	conn := ccConnection(t, dir, sim, keys, "Read Only")
	ctx := context.Background()
	run := func(args ...string) (string, string, error) { return runBeacon(ctx, t, dir, tmp, args...) }
	if _, e, err := run("execute", "--full", conn.Name); err != nil {
		t.Fatalf("first import: %v\n%s", err, e)
	}
	testenv.Remount(t, dir, "ro")
	defer testenv.Remount(t, dir, "rw")
	if out, e, err := run("list"); err != nil || !strings.Contains(out, conn.Name) {
		t.Errorf("beacon list on a read-only disk: %v\n%s%s", err, out, e)
	}
	out, e, err := run("export", conn.Name, "users", "--format", "csv")
	if recs, cerr := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll(); err != nil || cerr != nil || len(recs) != 501 {
		t.Errorf("beacon export on a read-only disk: %v, %d lines (%v)\n%s", err, len(recs), cerr, e)
	}
	_, e, err = run("execute", conn.Name)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("beacon execute on a read-only disk: %v, want exit 1", err)
	}
	if want := "imports cannot run: the inventory database " + filepath.Join(dir, inventory.FileName) + " cannot be written (the disk holding " + dir + " is mounted read-only)"; !strings.Contains(e, want) {
		t.Errorf("beacon execute on a read-only disk says:\n%s\nwant %q", e, want)
	}
	figure(t, "read-only-cli", "list, export: read the last import; execute: %q", lastLine(e))
}

// lastLine is the last line of a command's stderr: its error, after
// whatever the GUI toolkit logs at start-up.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// runBeacon runs `beacon --config-dir dir args...` and returns its stdout
// and stderr.
func runBeacon(ctx context.Context, t *testing.T, dir, tmp string, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	cmd := beaconCmd(ctx, t, dir, tmp, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}
