//go:build !windows

package inventory

import (
	"fmt"
	"os"
)

// makePrivate creates the database file readable by its owner only, or
// tightens an existing one (and its -wal and -shm files, which SQLite
// creates with the main file's mode): it holds the organisation's users
// and licenses, and must not be readable by others once copied or moved
// out of the private configuration folder.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the inventory database %s (check that you may write there): %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // no WAL yet
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("make the inventory database %s private to its owner: %w", p, err)
			}
		}
	}
	return nil
}
