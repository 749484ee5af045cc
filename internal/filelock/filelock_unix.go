//go:build unix

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errBusy is what a non-blocking lock attempt returns when the lock is held.
var errBusy = unix.EWOULDBLOCK

// tryLock takes an exclusive flock without blocking. flock (unlike fcntl
// locks) belongs to the open file description, so a second open of the same
// file in this process is excluded too, and closing another descriptor of
// the file does not drop the lock.
func tryLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			// EAGAIN and EWOULDBLOCK are the same on Linux and macOS
			// but not everywhere.
			return errBusy
		}
		return err
	}
}

// lockWait takes the exclusive flock, blocking until it is free.
func lockWait(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func unlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
