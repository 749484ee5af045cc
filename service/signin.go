package service

// Storing a sign-in: the refresh token into the keyring, its description
// (account, tenant, when) into the connection in the configuration, undone
// together when the second half fails. `beacon generate` stores through it;
// the window's connection dialog still commits its pending token with the
// rest of its changes (storage.Repository.Commit, which rolls back the same
// way) and is to call StoreSignIn too.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/inventorybeacon/beacon/storage"
)

// ConfigUpdater is the part of storage.ConfigStore that storing a sign-in
// needs: a read-modify-write of the configuration under its lock.
type ConfigUpdater interface {
	Update(fn func(*storage.Config) error) error
}

// StoreSignIn saves a finished sign-in of connection connID: refreshToken
// (auth.Result.RefreshToken, or the token the dialog holds) into secrets
// first, then info into the connection in cfg (when cfg is non-nil and
// the connection is already saved there; a new connection gets it when the
// dialog is saved). inConfig reports whether the configuration was
// updated.
//
// The order is the point: the configuration never claims a token the
// keyring lacks. If either half fails, the keyring gets back the token it
// held before (or none), so the previous sign-in keeps working and the
// configuration still describes it; the caller keeps the new token in
// memory and can let the administrator retry (unlock the keyring, free the
// disk) or give up.
func StoreSignIn(connID, refreshToken string, info storage.TokenInfo, secrets storage.Secrets, cfg ConfigUpdater) (inConfig bool, err error) {
	if !storage.ValidID(connID) {
		return false, fmt.Errorf("connection ID %q is not valid; save the connection first", connID)
	}
	prev, err := secrets.Get(connID, storage.SecretRefreshToken)
	hadPrev := err == nil
	if err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
		return false, fmt.Errorf("the sign-in worked, but the system keyring could not be read: %w. Unlock the keyring (or start it) and click Retry; Cancel discards this sign-in", err)
	}
	restore := func(cause error) error {
		var rerr error
		if hadPrev {
			rerr = secrets.Set(connID, storage.SecretRefreshToken, prev)
		} else {
			rerr = secrets.Delete(connID, storage.SecretRefreshToken)
		}
		if rerr != nil {
			return fmt.Errorf("%w; the previous sign-in could not be put back in the keyring either (%w), so sign in again once the problem is solved", cause, rerr)
		}
		return cause
	}
	// A failed Set may still have changed the entry (a generic Secrets
	// gives no guarantee): restoring the previous one is right either way.
	if err := secrets.Set(connID, storage.SecretRefreshToken, refreshToken); err != nil {
		return false, restore(fmt.Errorf("the sign-in worked, but the refresh token could not be stored in the system keyring: %w. Unlock the keyring (or start it) and click Retry; Cancel discards this sign-in", err))
	}
	if cfg == nil {
		return false, nil
	}
	err = cfg.Update(func(c *storage.Config) error {
		for i := range c.Connections {
			if strings.EqualFold(c.Connections[i].ID, connID) {
				c.Connections[i].Token = &info
				inConfig = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, restore(fmt.Errorf("the sign-in worked, but the configuration could not record it, so the previous sign-in was kept: %w. Fix the cause (disk space, permissions) and Retry; Cancel discards this sign-in", err))
	}
	return inConfig, nil
}
