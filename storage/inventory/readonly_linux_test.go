//go:build linux

package inventory

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/testenv"
)

// TestReadOnlyFileSystem (issue 20): the configuration folder on a file
// system mounted read-only. The database opens read-only, the last import
// reads as usual (list, export, the window), and an import says why it
// cannot run instead of failing on its first write.
func TestReadOnlyFileSystem(t *testing.T) {
	dir := testenv.SmallDisk(t, 8<<20)
	ctx := context.Background()
	s, err := OpenDir(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := importGood(t, s, "c1", 300, "good")
	s.Close()
	testenv.Remount(t, dir, "ro")
	defer testenv.Remount(t, dir, "rw")

	for i := range 2 { // twice: the first open must leave nothing that stops the second
		r, err := OpenDir(ctx, dir, Options{})
		if err != nil {
			t.Fatalf("open %d on a read-only file system: %v", i, err)
		}
		if why := r.ReadOnly(); !strings.Contains(why, "is mounted read-only") {
			t.Errorf("ReadOnly() = %q", why)
		}
		if cur, err := r.CurrentRun(ctx, "c1"); err != nil || cur.ID != good.ID {
			t.Errorf("current run %d (%v), want %d", cur.ID, err, good.ID)
		}
		if n, err := r.CountUsers(ctx, "c1", Query{}); err != nil || n != 300 {
			t.Errorf("%d users read (%v), want 300", n, err)
		}
		if us, err := r.Users(ctx, "c1", Query{Limit: 5}); err != nil || len(us) != 5 {
			t.Errorf("a page of users: %d (%v)", len(us), err)
		}
		_, err = r.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
		var ro *ReadOnlyError
		if !errors.As(err, &ro) || !strings.Contains(err.Error(), "imports cannot run: the inventory database "+filepath.Join(dir, FileName)+" cannot be written (the disk holding "+dir+" is mounted read-only)") {
			t.Errorf("an import on a read-only database: %v", err)
		}
		r.Close()
	}
}
