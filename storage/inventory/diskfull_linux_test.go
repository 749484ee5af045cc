//go:build linux

package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/diskspace"
	"github.com/inventorybeacon/beacon/internal/testenv"
)

// fillTo writes a filler file until the disk holding dir has about free
// bytes left (its blocks are 4 KiB).
func fillTo(t *testing.T, dir string, free uint64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	_ = os.Remove(path)
	have, err := diskspace.Free(dir)
	if err != nil {
		t.Fatal(err)
	}
	if have > free {
		if err := os.WriteFile(path, make([]byte, have-free), 0o600); err != nil && !diskspace.IsFull(err) {
			t.Fatal(err)
		}
	}
	return path
}

// fillStages is an import's stages, in order, as big as a tenant that no
// longer fits: the failing stage is where the disk filled.
func importStages(ctx context.Context, s *Store, users int) (stage string, err error) {
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		return "begin", err
	}
	w.ExpectUsers(users)
	fail := func(stage string, err error) (string, error) {
		if _, ferr := w.Finish(ctx, Outcome{Status: StatusFailed, Err: err}); ferr != nil {
			return stage + " (recording the failure)", ferr
		}
		return stage, err
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		return fail("skus", err)
	}
	us := testUsers(users, "big")
	for i := 0; i < len(us); i += 500 {
		if err := w.AddUsers(ctx, us[i:min(i+500, len(us))]); err != nil {
			return fail(fmt.Sprintf("users %d-%d", i/1000*1000, i/1000*1000+999), err)
		}
	}
	if err := w.AddServicePrincipals(ctx, []ServicePrincipal{{ID: "sp1", AppID: "a1", DisplayName: "App", Tags: []string{}}}); err != nil {
		return fail("applications", err)
	}
	rows := make([]ReportRow, 0, users)
	for i := range users {
		rows = append(rows, activeRow(fmt.Sprintf("user%04d@contoso.example", i), "2026-11-20", "2026-11-19"))
	}
	for i := 0; i < len(rows); i += 1000 {
		if err := w.AddReportRows(ctx, ReportActiveUsers, rows[i:min(i+1000, len(rows))]); err != nil {
			return fail("reports", err)
		}
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		return "finish", err
	}
	return "", nil
}

// TestDiskFullAtEveryStage (issue 20): the configuration folder on a small
// tmpfs; one good import of 300 users, then an import of a grown tenant
// with the disk filling at one stage after another (begin, SKUs, each
// thousand users, reports, the promotion). Every time: a plain message,
// the WAL truncated, the last good import current and readable by a new
// Open (list, export, the window) while the disk is still full; and once
// room is freed, the next import succeeds.
func TestDiskFullAtEveryStage(t *testing.T) {
	users, disk, step := 6000, 24<<20, uint64(96<<10)
	if soakMode() {
		users, disk, step = 20000, 64<<20, 160<<10
	}
	dir := testenv.SmallDisk(t, disk)
	ctx := context.Background()
	path := filepath.Join(dir, FileName)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := importGood(t, s, "c1", 300, "good")
	s.Close()

	stages := map[string]int{}
	fills, losses, blocked := 0, 0, 0
	// The room left before the import grows in steps until it fits.
	for free := uint64(0); ; free += step {
		filler := fillTo(t, dir, free)
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("open with %s free: %v", diskspace.MB(free), err)
		}
		stage, err := importStages(ctx, s, users)
		s.Close()
		if err == nil {
			t.Logf("the import of %d users fit with %s free", users, diskspace.MB(free))
			break
		}
		fills++
		stages[strings.SplitN(stage, " (", 2)[0]]++
		var full *DiskFullError
		if !errors.As(err, &full) {
			t.Fatalf("with %s free the import failed at %s, not as a full disk: %v", diskspace.MB(free), stage, err)
		}
		msg := err.Error()
		for _, want := range []string{"the disk holding " + dir + " is full: ", " MB free", "the last good import of Contoso (", ") is kept"} {
			if !strings.Contains(msg, want) {
				t.Errorf("at %s the message %q lacks %q", stage, msg, want)
			}
		}
		if strings.Contains(stage, "recording") {
			t.Errorf("with %s free the failure itself could not be recorded: %v", diskspace.MB(free), err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
			t.Errorf("after the failed import at %s the WAL holds %d bytes", stage, fi.Size())
		}
		// A reader, with the disk still full.
		fillTo(t, dir, 0)
		r, err := Open(ctx, path, Options{})
		if err != nil {
			blocked++
			t.Errorf("with the disk full after a failure at %s, a reader cannot open: %v", stage, err)
			continue
		}
		cur, err := r.CurrentRun(ctx, "c1")
		if err != nil || cur.ID != good.ID {
			losses++
			t.Errorf("after a failure at %s the current run is %d (%v), want the last good %d", stage, cur.ID, err, good.ID)
		}
		n, err := r.CountUsers(ctx, "c1", Query{})
		if err != nil || n != 300 {
			blocked++
			t.Errorf("after a failure at %s the last good import reads %d users (%v)", stage, n, err)
		}
		r.Close()
		os.Remove(filler)
	}
	if fills < 5 {
		t.Errorf("the disk filled at %d points only (%v): the steps miss stages", fills, stages)
	}
	// Room again: the next import succeeds and is current.
	_ = os.Remove(filepath.Join(dir, "filler"))
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	next := importGood(t, s, "c1", 300, "next")
	if cur, err := s.CurrentRun(ctx, "c1"); err != nil || cur.ID != next.ID {
		t.Errorf("after room was freed the current run is %d (%v), want %d", cur.ID, err, next.ID)
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Errorf("integrity_check = %q, %v", v, err)
	}
	fmt.Printf("FIGURE disk-full: %d fill points in %d stages (%v), %d users per import, losses %d, blocked reads %d\n", fills, len(stages), stages, users, losses, blocked)
}

func soakMode() bool { return os.Getenv("BEACON_SOAK") == "1" }
