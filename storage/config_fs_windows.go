//go:build windows

package storage

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

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
