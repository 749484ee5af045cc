//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// interrupt asks postgres for a fast shutdown.
var interrupt os.Signal = syscall.SIGINT

// account is who runs the server: nil fields mean this process's user.
type account struct {
	uid, gid int
	switchTo bool
}

// serverAccount is the postgres user when this process is root (initdb
// refuses root), else this process's user.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return &account{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the server must run as the postgres user, which does not exist (Debian's postgresql package creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &account{uid: uid, gid: gid, switchTo: true}, nil
}

// own gives path to the server's user.
func (a *account) own(path string) error {
	if !a.switchTo {
		return nil
	}
	return os.Chown(path, a.uid, a.gid)
}

// attr runs a program as the server's user; dieWithParent also ends it
// when the test binary ends (see pdeath).
func (a *account) attr(dieWithParent bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if a.switchTo {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), NoSetGroups: true}
	}
	if dieWithParent {
		pdeath(attr)
	}
	return attr
}

// sweep removes the folders of servers whose test binary was killed (the
// server died with it, its folder of some 40 MB stayed): those whose
// server is not running and that are older than a start takes.
func sweep() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "beacon-pg-*"))
	for _, dir := range old {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
			if pid > 0 && syscall.Kill(pid, 0) != syscall.ESRCH {
				continue // running (or not ours to check)
			}
		}
		os.RemoveAll(dir)
	}
}
