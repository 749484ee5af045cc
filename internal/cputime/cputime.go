// Package cputime measures CPU time and peak memory of this process and of
// finished child processes, on every platform the project builds for
// (benchmarks and tests; issue 24: syscall.Getrusage does not exist on
// Windows, so the tests did not even compile there).
package cputime

import (
	"os"
	"time"
)

// Child is the CPU time (user + system) of a finished process.
func Child(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}
