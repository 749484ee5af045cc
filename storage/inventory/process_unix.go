//go:build unix

package inventory

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process with this id runs on this
// machine. Signal 0 checks existence without touching the process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
