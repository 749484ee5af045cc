//go:build windows

package inventory

import "os"

// processAlive reports whether a process with this id runs on this
// machine: on Windows FindProcess opens the process and fails when it is
// gone.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
