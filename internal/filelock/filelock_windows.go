//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errBusy is what a non-blocking lock attempt returns when the lock is held.
var errBusy = windows.ERROR_LOCK_VIOLATION

// tryLock takes an exclusive LockFileEx lock on the file's first byte
// without blocking. Windows releases it when the handle closes, also when
// the process dies. The first byte, as the private locks in storage and
// auth lock, so an older build and this one exclude each other after those
// move to this package. Windows locks are mandatory, so while the lock is
// held others cannot read the holder's pid: Holder finds none there.
func tryLock(f *os.File) error {
	ol := new(windows.Overlapped)
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errBusy
	}
	return err
}

// lockWait takes the lock on the first byte, blocking until it is free
// (the handle is synchronous, so LockFileEx waits without
// LOCKFILE_FAIL_IMMEDIATELY).
func lockWait(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, new(windows.Overlapped))
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}
