//go:build unix

package inventory

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The database holds the organisation's users and licenses: like the
// configuration, it is readable by its owner only, and so are SQLite's
// -wal and -shm files, which copy the main file's mode. An existing file
// made by an older build with a looser mode is tightened.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "old")
	if err := os.MkdirAll(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(loose, FileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "new"), loose} {
		s, err := OpenDir(context.Background(), d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// A write makes SQLite create the WAL and shared-memory files.
		w, err := s.BeginRun(context.Background(), RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerManual})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(context.Background(), Outcome{Status: StatusCancelled}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
			fi, err := os.Stat(filepath.Join(d, name))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s in %s has mode %o, want 600", name, filepath.Base(d), perm)
			}
		}
		s.Close()
	}
}
