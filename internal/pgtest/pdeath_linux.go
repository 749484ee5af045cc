package pgtest

import "syscall"

// pdeath makes the kernel send SIGQUIT (postgres's immediate shutdown) to
// the server when the test binary ends, even by SIGKILL.
func pdeath(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGQUIT }
