package auth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockPath is the lock file that serialises refreshes of one connection's
// token chain across processes. It lives next to the configuration so every
// process using that configuration (window, CLI, scheduler) finds it.
func lockPath(dir, connID string) string {
	return filepath.Join(dir, "token-"+connID+".lock")
}

// lockFile takes the exclusive lock on path, polling until ctx ends or
// timeout passes. Polling (not a blocking flock) keeps the wait cancellable.
func lockFile(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the folder for the token lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the token lock file %s (check that you may write there): %w", path, err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlock(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-deadline.C:
			f.Close()
			return nil, fmt.Errorf("another Inventory Beacon process held the token lock %s for over %s; wait for it to finish, then try again", path, timeout)
		case <-tick.C:
		}
	}
}
