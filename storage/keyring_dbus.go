//go:build linux || freebsd || openbsd || netbsd || dragonfly

package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// keyringPreflight connects to the session bus (godbus caches the
// connection) before go-keyring does, because go-keyring returns the
// connection error unmarked and it would otherwise be indistinguishable
// from any other failure.
func keyringPreflight() error {
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("%w (cannot reach the D-Bus session bus: %w)", ErrNoKeyring, err)
	}
	return nil
}

// platformKeyringError recognises Secret Service failures.
func platformKeyringError(err error) error {
	name := ""
	var e dbus.Error
	var pe *dbus.Error
	switch {
	case errors.As(err, &e):
		name = e.Name
	case errors.As(err, &pe):
		name = pe.Name
	}
	switch {
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."):
		// Nobody owns org.freedesktop.secrets and activation failed.
		return ErrNoKeyring
	case name == "org.freedesktop.DBus.Error.UnknownObject":
		// A Secret Service without a default ("login") collection, as
		// KeePassXC has until a database is exposed.
		return ErrNoKeyring
	case name == "org.freedesktop.Secret.Error.IsLocked":
		return ErrKeyringLocked
	case name == "org.freedesktop.DBus.Error.NoReply", name == "org.freedesktop.DBus.Error.Timeout":
		return ErrKeyringTimeout
	}
	// go-keyring's own error when the Unlock prompt was dismissed or could
	// not be shown (gnome-keyring without a display).
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		return ErrKeyringLocked
	}
	return nil
}

// keyringLocked reports whether the Secret Service's default collection is
// locked, waiting at most wait (the service may be the very thing that
// hangs). After a time-out it tells "waiting for an unlock prompt" apart
// from "not answering at all".
func keyringLocked(wait time.Duration) bool {
	done := make(chan bool, 1)
	go func() {
		conn, err := dbus.SessionBus()
		if err != nil {
			done <- false
			return
		}
		for _, p := range []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login", "/org/freedesktop/secrets/aliases/default"} {
			v, err := conn.Object("org.freedesktop.secrets", p).GetProperty("org.freedesktop.Secret.Collection.Locked")
			if err == nil {
				locked, ok := v.Value().(bool)
				done <- ok && locked
				return
			}
		}
		done <- false
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case locked := <-done:
		return locked
	case <-t.C:
		return false
	}
}
