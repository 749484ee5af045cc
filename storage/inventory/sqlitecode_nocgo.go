//go:build !cgo

package inventory

import "syscall"

// sqliteCode: a build without cgo has no SQLite, hence no SQLite errors
// (it only exists to compile-check other platforms).
func sqliteCode(error) (int, syscall.Errno) { return 0, 0 }
