package pgtest

import (
	"errors"
	"os"
	"syscall"
)

var interrupt os.Signal = os.Kill

// account: Windows has no server for the tests.
type account struct{}

// serverAccount: the Windows stage of the tests (under Wine) has no
// PostgreSQL; its tests skip (see required).
func serverAccount() (*account, error) {
	return nil, errors.New("the tests start PostgreSQL on Linux and macOS only")
}

func (a *account) own(string) error                             { return nil }
func (a *account) attr(dieWithParent bool) *syscall.SysProcAttr { return nil }

func sweep() {}
