// Package diskspace says how much room the disk holding a folder has left
// and words a full disk plainly (issue 20): "database or disk is full" or
// "no space left on device" tell a user neither which disk nor that their
// data is safe.
package diskspace

import (
	"errors"
	"fmt"
	"syscall"
)

// Free is the number of bytes an unprivileged writer may still use on the
// file system holding path (a folder or a file in it).
func Free(path string) (uint64, error) { return free(path) }

// IsFull says whether err is the operating system's "no space left on
// device" (or, on Windows, "disk full").
func IsFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || isFullOS(err)
}

// MB formats a byte count as megabytes with one decimal, as the messages
// show it.
func MB(n uint64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// Describe is "the disk holding DIR is full: N MB free": the start of
// every full-disk message. The free figure is left out when the file
// system cannot be asked.
func Describe(dir string) string {
	if n, err := Free(dir); err == nil {
		return fmt.Sprintf("the disk holding %s is full: %s free", dir, MB(n))
	}
	return fmt.Sprintf("the disk holding %s is full", dir)
}
