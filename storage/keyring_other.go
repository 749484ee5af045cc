//go:build !(linux || freebsd || openbsd || netbsd || dragonfly)

package storage

import "time"

// keyringPreflight has nothing to check: Windows Credential Manager and the
// macOS keychain are always present.
func keyringPreflight() error { return nil }

// platformKeyringError has no platform errors to recognise beyond
// go-keyring's ErrNotFound.
func platformKeyringError(error) error { return nil }

// keyringLocked cannot tell on these platforms; their keyrings unlock with
// the user's login.
func keyringLocked(time.Duration) bool { return false }
