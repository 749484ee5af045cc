//go:build windows

package cputime

import (
	"os"
	"syscall"
	"time"
)

// Self is this process's CPU time so far (user + kernel).
func Self() time.Duration {
	var creation, exit, kernel, user syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err != nil || syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	// Filetimes count 100-nanosecond intervals.
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100)
}

// ChildPeakMB is 0: Windows reports a process's peak working set only
// while it runs.
func ChildPeakMB(*os.ProcessState) float64 { return 0 }

// SelfPeakMB is 0 here: reading the peak working set needs psapi, which
// the benchmarks do not bring in for a figure they measure on Linux.
func SelfPeakMB() float64 { return 0 }
