package schedule

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/inventorybeacon/beacon/internal/filelock"
	"github.com/inventorybeacon/beacon/storage"
)

// ErrAlreadyRunning means the connection is being imported already, by this
// process or another (the window, `beacon scheduler`, `beacon execute`).
var ErrAlreadyRunning = errors.New("an import of this connection is already running")

// lockFolder holds the per-connection run locks inside the configuration
// folder.
const lockFolder = "locks"

// ConnectionLocks are the run locks of connections: one lock file per
// connection in Dir/locks. Every process that imports (the window's Execute
// Now, `beacon execute`, a scheduler) takes the connection's lock first, so
// a connection is never imported twice at once. The operating system frees
// a lock when its holder exits, even by a crash.
type ConnectionLocks struct {
	Dir string // the configuration folder
}

// TryLock takes the run lock of connection connID without waiting; the
// error wraps ErrAlreadyRunning if it is held.
func (l ConnectionLocks) TryLock(connID string) (release func(), err error) {
	return LockConnection(l.Dir, connID)
}

// LockConnection takes the run lock of connection connID in configDir
// without waiting; the error wraps ErrAlreadyRunning if it is held. Call
// the release function when the import has ended (and been recorded).
func LockConnection(configDir, connID string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Join(configDir, lockFolder), 0o700); err != nil {
		return nil, fmt.Errorf("create the lock folder in %s (check that you may write there): %w", configDir, err)
	}
	path := ConnectionLockPath(configDir, connID)
	release, err = filelock.TryLock(path)
	if errors.Is(err, filelock.ErrLocked) {
		return nil, fmt.Errorf("%w (%v)", ErrAlreadyRunning, err)
	}
	return release, err
}

// ConnectionLockPath is the lock file of connection connID. An ID that is
// not a well-formed storage ID (a hand-edited file) is hashed, so it can
// never name a file outside the lock folder.
func ConnectionLockPath(configDir, connID string) string {
	name := connID
	if !storage.ValidID(connID) {
		sum := sha256.Sum256([]byte(connID))
		name = hex.EncodeToString(sum[:16])
	}
	return filepath.Join(configDir, lockFolder, "run-"+name+".lock")
}
