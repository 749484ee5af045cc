//go:build unix && !linux

package pgtest

import "syscall"

// pdeath: only Linux has a parent-death signal; Stop ends the server.
func pdeath(*syscall.SysProcAttr) {}
