//go:build !linux

package storage

// The no-keyring and locked-keyring children exercise the Secret Service,
// which only the Linux tests use.
func childNoKeyring() int     { return 2 }
func childNestedKeyring() int { return 2 }
