//go:build windows

package storage

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive LockFileEx lock on the first byte of path,
// waiting up to timeout. Windows releases the lock when the holder's handle
// closes, including when the process dies.
func lockFile(path string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the configuration lock file %s (check that you may write there): %w", path, err)
	}
	h := windows.Handle(f.Fd())
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		ol := new(windows.Overlapped)
		err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
		if err == nil {
			return func() {
				_ = windows.UnlockFileEx(h, 0, 1, 0, new(windows.Overlapped))
				f.Close()
			}, nil
		}
		if !errors.Is(err, windows.ERROR_LOCK_VIOLATION) && !errors.Is(err, windows.ERROR_IO_PENDING) {
			f.Close()
			return nil, fmt.Errorf("lock the configuration file %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("wait %s for the lock on %s: %w", timeout, path, ErrConfigLocked)
		}
		time.Sleep(wait)
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

// syncDir is a no-op on Windows: directories cannot be opened for flushing
// there, and NTFS journals the rename itself.
func syncDir(string) error { return nil }

// replaceFile renames tmp over dst (os.Rename uses MoveFileEx with
// MOVEFILE_REPLACE_EXISTING). A reader that has dst open without
// FILE_SHARE_DELETE (Go's os.Open, an antivirus scanner) makes the rename
// fail for a moment, so it is retried briefly before giving up.
func replaceFile(tmp, dst string) error {
	deadline := time.Now().Add(2 * time.Second)
	wait := time.Millisecond
	for {
		err := os.Rename(tmp, dst)
		if err == nil || time.Now().After(deadline) ||
			!(errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)) {
			return err
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
