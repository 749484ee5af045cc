package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// StoreEnv is the environment variable naming the inventory's location
// (issue 21), as `beacon --store` does.
const StoreEnv = "BEACON_STORE"

// InventoryLocation is where the installation's inventory lives, and what
// said so: flag (`--store`) first, then $BEACON_STORE, then the
// configuration's store setting; "" is the SQLite file in configDir.
func InventoryLocation(configDir, flag string) (location, from string, err error) {
	if flag != "" {
		return flag, "--store", nil
	}
	if v := os.Getenv(StoreEnv); v != "" {
		return v, StoreEnv, nil
	}
	cfg, err := storage.NewConfigStore(configDir).Load()
	var damaged *storage.DamagedConfigError
	var newer *storage.NewerConfigError
	if errors.As(err, &damaged) || errors.As(err, &newer) {
		// The window asks what to do with such a file once it is open,
		// and the commands refuse it themselves: the inventory in the
		// folder meanwhile, rather than no window at all.
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if cfg.Store != "" {
		return cfg.Store, "the configuration", nil
	}
	return "", "", nil
}

// OpenInventory opens the installation's inventory (InventoryLocation).
// A PostgreSQL URL without a password is given the one the keyring holds
// for the configured store, if any (else PGPASSWORD, PGPASSFILE or the
// server's own authentication apply).
func OpenInventory(ctx context.Context, configDir, flag string, secrets storage.Secrets, opts inventory.Options) (*inventory.Store, error) {
	loc, _, err := InventoryLocation(configDir, flag)
	if err != nil {
		return nil, err
	}
	if loc == "" {
		return inventory.OpenDir(ctx, configDir, opts)
	}
	if inventory.IsPostgresURL(loc) {
		if loc, err = withStorePassword(loc, secrets); err != nil {
			return nil, err
		}
	}
	return inventory.OpenLocation(ctx, loc, configDir, opts)
}

// withStorePassword adds the keyring's password to a URL that has none.
func withStorePassword(loc string, secrets storage.Secrets) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("read the inventory's address %s: it is not a URL", inventory.RedactURL(loc))
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") || secrets == nil {
		return loc, nil
	}
	pw, err := secrets.Get(storage.StoreSecretID, storage.SecretStorePassword)
	if errors.Is(err, storage.ErrSecretNotFound) {
		return loc, nil
	}
	if err != nil {
		return "", fmt.Errorf("read the inventory database's password from the keyring: %w", err)
	}
	name := ""
	if u.User != nil {
		name = u.User.Username()
	}
	u.User = url.UserPassword(name, pw)
	return u.String(), nil
}

// SetInventoryStore makes location the installation's inventory: the URL
// without its password goes into the configuration, the password (if it
// has one) into the keyring, never into a file. "" returns to the SQLite
// file in configDir.
func SetInventoryStore(configDir, location string, secrets storage.Secrets) error {
	stored := ""
	if location != "" {
		if !inventory.IsPostgresURL(location) {
			return fmt.Errorf("%s is not a PostgreSQL address (postgres://user@host/database)", inventory.RedactURL(location))
		}
		u, err := url.Parse(location)
		if err != nil {
			return fmt.Errorf("read the inventory's address %s: it is not a URL", inventory.RedactURL(location))
		}
		pw, has := u.User.Password()
		if !has {
			pw, has = u.Query().Get("password"), u.Query().Has("password")
		}
		if has {
			if err := secrets.Set(storage.StoreSecretID, storage.SecretStorePassword, pw); err != nil {
				return fmt.Errorf("keep the inventory database's password in the keyring: %w", err)
			}
		}
		stored = inventory.RedactURL(location)
		if !has {
			// A password kept for an earlier address is not this one's.
			if err := secrets.Delete(storage.StoreSecretID, storage.SecretStorePassword); err != nil {
				return err
			}
		}
	} else if err := secrets.Delete(storage.StoreSecretID, storage.SecretStorePassword); err != nil {
		return err
	}
	return storage.NewConfigStore(configDir).Update(func(c *storage.Config) error {
		c.Store = stored
		return nil
	})
}
