package pgtest

import (
	"os"
	"syscall"
)

var interrupt os.Signal = os.Kill

// account: on Windows the server runs as this process's user.
type account struct{}

func serverAccount() (*account, error)                          { return &account{}, nil }
func (a *account) own(string) error                             { return nil }
func (a *account) attr(dieWithParent bool) *syscall.SysProcAttr { return nil }

func sweep() {}
