//go:build unix

package inventory

import (
	"os"

	"golang.org/x/sys/unix"
)

// openElsewhere says whether another process has the database open:
// every SQLite connection in WAL mode holds a shared lock on byte 128 of
// the -shm file (the "DMS" slot of SQLite's unix VFS). A WAL then is that
// process's live log, checked when it opened the file, not one left by a
// crash.
func openElsewhere(path string) bool {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 128, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}
