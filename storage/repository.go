package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// SecretChange is one keyring change that belongs with a configuration
// save: set Value, or delete the secret when Delete is true.
type SecretChange struct {
	ConnID string
	Kind   SecretKind
	Value  string
	Delete bool
}

// Repository saves the configuration together with the secrets that go
// with it, so a connection's settings and its keyring entries never
// disagree.
type Repository struct {
	Config  *ConfigStore
	Secrets Secrets
}

// minSecretLenToCheck is the shortest secret value Commit looks for in the
// configuration: shorter values ("admin") could equal a harmless setting
// such as the proxy user name by coincidence.
const minSecretLenToCheck = 12

// Commit applies the secret changes, then saves cfg. If a keyring call
// fails, the changes already made are undone (previous values restored,
// new ones deleted) and the configuration is not written; if the save
// fails, the secrets are rolled back too. The configuration lock is held
// throughout, so the revision checked before touching the keyring is still
// the one on disk when the file is written.
func (r *Repository) Commit(cfg *Config, changes []SecretChange) error {
	unlock, err := r.Config.lock()
	if err != nil {
		return err
	}
	defer unlock()
	// Refuse a stale, damaged or newer configuration before changing any
	// secret, so the common failure needs no rollback at all.
	if err := r.Config.checkRevisionLocked(cfg); err != nil {
		return err
	}
	if err := checkSecretsNotIn(cfg, changes); err != nil {
		return err
	}

	type undo struct {
		change  SecretChange
		prev    string
		present bool
	}
	var done []undo
	rollback := func(cause error) error {
		var failed []error
		for i := len(done) - 1; i >= 0; i-- {
			u := done[i]
			var err error
			if u.present {
				err = r.Secrets.Set(u.change.ConnID, u.change.Kind, u.prev)
			} else {
				err = r.Secrets.Delete(u.change.ConnID, u.change.Kind)
			}
			if err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%w; the configuration was not saved, and some secrets could not be put back as they were, "+
				"so re-enter the affected secrets (or generate a new token): %w", cause, errors.Join(failed...))
		}
		return fmt.Errorf("%w; nothing was changed: the configuration was not saved and the keyring is as it was", cause)
	}

	for _, ch := range changes {
		prev, err := r.Secrets.Get(ch.ConnID, ch.Kind)
		present := err == nil
		if err != nil && !errors.Is(err, ErrSecretNotFound) {
			return rollback(err)
		}
		// Recorded before the call: a failed Set may still have changed
		// something (a generic Secrets gives no guarantee), and restoring
		// the previous value is right either way.
		done = append(done, undo{change: ch, prev: prev, present: present})
		if ch.Delete {
			err = r.Secrets.Delete(ch.ConnID, ch.Kind)
		} else {
			err = r.Secrets.Set(ch.ConnID, ch.Kind, ch.Value)
		}
		if err != nil {
			return rollback(err)
		}
	}
	if err := r.Config.writeLocked(cfg); err != nil {
		return rollback(err)
	}
	return nil
}

// checkSecretsNotIn refuses a configuration that contains one of the secret
// values being stored: a bug that copied a token into a setting must not
// put it in a file.
func checkSecretsNotIn(cfg *Config, changes []SecretChange) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode the configuration: %w", err)
	}
	for _, ch := range changes {
		if ch.Delete || len(ch.Value) < minSecretLenToCheck {
			continue
		}
		escaped, _ := json.Marshal(ch.Value)
		escaped = escaped[1 : len(escaped)-1]
		if bytes.Contains(data, []byte(ch.Value)) || bytes.Contains(data, escaped) {
			return fmt.Errorf("refusing to save: the %s of connection %s also appears in the configuration, "+
				"which must never contain secrets (this is a bug in Inventory Beacon; please report it)", ch.Kind, ch.ConnID)
		}
	}
	return nil
}

// DeleteConnectionSecrets removes every kind of secret of a connection,
// trying all kinds even when one fails.
func (r *Repository) DeleteConnectionSecrets(connID string) error {
	var errs []error
	for _, kind := range AllSecretKinds {
		if err := r.Secrets.Delete(connID, kind); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete the secrets of connection %s: %w", connID, errors.Join(errs...))
	}
	return nil
}
