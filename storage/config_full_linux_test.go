//go:build linux

package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/diskspace"
	"github.com/inventorybeacon/beacon/internal/testenv"
)

// TestSaveOnAFullDiskKeepsTheOldFile (issue 20): the configuration folder
// on a small tmpfs filled to the last block. A save fails with the plain
// message, the old file is kept byte for byte and no temporary file is
// left; once room is freed the save succeeds. Skipped, with the reason,
// where mounting is not permitted.
func TestSaveOnAFullDiskKeepsTheOldFile(t *testing.T) {
	dir := testenv.SmallDisk(t, 1<<20)
	cs := NewConfigStore(dir)
	if err := cs.Update(func(c *Config) error {
		c.Connections = append(c.Connections, Connection{ID: NewID(), Name: "Before"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cs.Path())
	if err != nil {
		t.Fatal(err)
	}
	have, _ := diskspace.Free(dir)
	filler := filepath.Join(dir, "filler")
	_ = os.WriteFile(filler, make([]byte, have), 0o600) // to the last block: it fails when full
	big := strings.Repeat("x", 8192)                    // more than a block: the write cannot fit
	err = cs.Update(func(c *Config) error {
		for i := range 4 {
			c.Connections = append(c.Connections, Connection{ID: NewID(), Name: fmt.Sprintf("After %d %s", i, big)})
		}
		return nil
	})
	if err == nil {
		t.Fatal("a save on a full disk succeeded")
	}
	for _, want := range []string{"save the configuration: the disk holding " + dir + " is full: ", " MB free; the old file is kept"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if after, err := os.ReadFile(cs.Path()); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the old configuration changed (%v)", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	os.Remove(filler)
	if err := cs.Update(func(c *Config) error { c.Connections[0].Name = "After"; return nil }); err != nil {
		t.Errorf("a save once room is freed: %v", err)
	}
}
