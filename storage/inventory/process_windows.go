//go:build windows

package inventory

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process with this id runs on this
// machine. Opening the process is not enough: Windows keeps an exited
// process's object, and its id, for as long as anyone holds a handle to it
// (Wine does so even after the last handle's owner has waited for it, so
// TestInterruptedRunMarkedAtOpen failed there), and OpenProcess then
// succeeds. A zero-time wait on the handle tells a running process (the
// wait times out) from one that has exited (signalled).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		// Another user's process (a scheduled task under another account)
		// may refuse us; it exists, so its run is left alone, as EPERM is
		// on Unix. Any other error (ERROR_INVALID_PARAMETER) means no
		// such process.
		return errors.Is(err, syscall.ERROR_ACCESS_DENIED)
	}
	defer syscall.CloseHandle(h)
	ev, err := syscall.WaitForSingleObject(h, 0)
	return err == nil && ev == syscall.WAIT_TIMEOUT
}
