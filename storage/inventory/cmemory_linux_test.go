//go:build linux && cgo

package inventory

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSQLiteMemory: SQLite's own counters are reached from the driver's
// library: an open store holds some memory, the high-water mark is at
// least that (the counters are the process's: other tests may run at
// the same time, so only that much is certain).
func TestSQLiteMemory(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "inventory.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	used, peak := SQLiteMemory(true)
	if used <= 0 || peak < used {
		t.Fatalf("SQLite holds %d bytes, at most %d", used, peak)
	}
}
