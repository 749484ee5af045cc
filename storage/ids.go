package storage

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID returns 32 random hex characters (128 bits). IDs key keyring entries
// and imported data, so they must never collide across machines or be
// guessable from a name; crypto/rand gives both without a registry.
func NewID() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ crashes
	// the program instead of returning an error), so the error is moot.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s looks like an ID made by NewID. Keyring user
// names are built from IDs, so a malformed one (for example containing "/")
// could address another connection's entries.
func ValidID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
