package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/inventorybeacon/beacon/internal/filelock"
)

// lockPath is the lock file that serialises refreshes of one connection's
// token chain across processes. It lives next to the configuration so every
// process using that configuration (window, CLI, scheduler) finds it.
func lockPath(dir, connID string) string {
	return filepath.Join(dir, "token-"+connID+".lock")
}

// lockFile takes the exclusive lock on path, waiting until ctx ends or
// timeout passes.
func lockFile(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the folder for the token lock %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	release, err := filelock.LockContext(ctx, path)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("another Inventory Beacon process held the token lock %s for over %s; wait for it to finish, then try again", path, timeout)
	}
	return release, err
}
