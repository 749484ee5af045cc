//go:build unix

package storage

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on path, waiting up to timeout. flock
// locks belong to the open file description, so two goroutines or two
// processes opening the file exclude each other, and the kernel drops the
// lock when a holder dies: a crashed writer never leaves the lock stuck.
func lockFile(path string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the configuration lock file %s (check that you may write there): %w", path, err)
	}
	fd := int(f.Fd())
	release := func() {
		_ = unix.Flock(fd, unix.LOCK_UN)
		f.Close()
	}
	err = flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return release, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("lock the configuration file %s: %w", path, err)
	}

	// Busy: wait in a blocking flock, which the kernel wakes as soon as the
	// holder lets go (polling would let a busy writer starve the others),
	// bounded by the time-out so a hung holder gives a clear error instead
	// of freezing the caller. A flock cannot be cancelled, so on time-out
	// the waiting goroutine is abandoned and lets go once it gets the lock.
	var mu sync.Mutex
	abandoned := false
	got := make(chan error, 1)
	go func() {
		err := flock(fd, unix.LOCK_EX)
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if err == nil {
				_ = unix.Flock(fd, unix.LOCK_UN)
			}
			f.Close()
			return
		}
		got <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-got:
	case <-timer.C:
		mu.Lock()
		select {
		case err = <-got: // acquired at the last moment
			mu.Unlock()
		default:
			abandoned = true
			mu.Unlock()
			return nil, fmt.Errorf("wait %s for the lock on %s: %w", timeout, path, ErrConfigLocked)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the configuration file %s: %w", path, err)
	}
	return release, nil
}

// flock retries the call a signal interrupted.
func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replaceFile renames tmp over dst; on Unix the rename is atomic even while
// readers have dst open.
func replaceFile(tmp, dst string) error { return os.Rename(tmp, dst) }
