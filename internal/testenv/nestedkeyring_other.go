//go:build !linux

package testenv

import "testing"

// NestedKeyring is a private gnome-keyring on a private D-Bus session bus;
// it needs Linux (D-Bus, gnome-keyring, SIGSTOP and a parent-death
// signal), so elsewhere the tests that use it skip, saying so.
type NestedKeyring struct {
	Address   string
	DaemonPID int
}

// StartNestedKeyring skips the test: there is no nested keyring here.
func StartNestedKeyring(t testing.TB) *NestedKeyring {
	t.Helper()
	t.Skip("a nested gnome-keyring (D-Bus, SIGSTOP) is Linux-only")
	return nil
}

// Env is the environment of a child process that should use the keyring.
func (k *NestedKeyring) Env() []string { return nil }

// Stop would freeze the daemon.
func (k *NestedKeyring) Stop() error { return nil }

// Cont would thaw it.
func (k *NestedKeyring) Cont() error { return nil }

// Stopped reports whether the daemon is frozen.
func (k *NestedKeyring) Stopped() bool { return false }
