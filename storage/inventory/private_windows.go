//go:build windows

package inventory

import (
	"fmt"
	"os"
)

// makePrivate creates the database file if needed. On Windows a file's
// mode bits say nothing about who may read it (Go reports every writable
// file as -rw-rw-rw-, and chmod only toggles the read-only attribute), so
// privacy comes from the folder's ACL: the per-user configuration folder
// (%AppData%\InventoryBeacon) is readable by its owner, SYSTEM and
// administrators only, and the files in it inherit that. Changing
// attributes of -wal or -shm while another process has them mapped fails
// with a sharing violation, which killed the second of two concurrent
// opens (issue 24), so nothing is changed here.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the inventory database %s (check that you may write there): %w", path, err)
	}
	return f.Close()
}
