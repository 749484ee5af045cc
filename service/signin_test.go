package service

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// locked refuses the first n Sets as a locked keyring does.
func locked(n int) func(int) error {
	return func(set int) error {
		if set <= n {
			return storage.ErrKeyringLocked
		}
		return nil
	}
}

// failingConfig is a configuration whose writes fail (a full disk).
type failingConfig struct{ err error }

func (f failingConfig) Update(func(*storage.Config) error) error { return f.err }

// signInConfig is a saved configuration holding one connection.
func signInConfig(t *testing.T) (*storage.ConfigStore, storage.Connection) {
	t.Helper()
	conn := storage.Connection{ID: storage.NewID(), Name: "Contoso", SourceType: storage.SourceMicrosoft365, AuthFlow: storage.FlowAuthorizationCode}
	cs := storage.NewConfigStore(t.TempDir())
	if err := cs.Save(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{conn}}); err != nil {
		t.Fatal(err)
	}
	return cs, conn
}

// The keyring first, then the configuration, which then describes the
// token; the token itself never reaches the configuration file.
func TestStoreSignInKeyringThenConfig(t *testing.T) {
	cs, conn := signInConfig(t)
	secrets := &memSecrets{}
	info := storage.TokenInfo{ObtainedAt: clock.Now().UTC().Truncate(1e9), Account: "admin@contoso.example", TenantID: "tenant-1"}
	const rt = "refresh-token-of-the-new-sign-in"
	in, err := StoreSignIn(conn.ID, rt, info, secrets, cs)
	if err != nil || !in {
		t.Fatalf("store: %v (in config %v)", err, in)
	}
	if got, _ := secrets.Get(conn.ID, storage.SecretRefreshToken); got != rt {
		t.Fatalf("keyring holds %q", got)
	}
	cfg, err := cs.Load()
	if err != nil || cfg.Connections[0].Token == nil || *cfg.Connections[0].Token != info {
		t.Fatalf("config token %+v (err %v)", cfg.Connections[0].Token, err)
	}
	raw, err := os.ReadFile(cs.Path())
	if err != nil || strings.Contains(string(raw), rt) {
		t.Fatalf("the refresh token is in the configuration file (err %v)", err)
	}
	// A connection not saved yet: the keyring only.
	other := storage.NewID()
	if in, err := StoreSignIn(other, rt, info, secrets, cs); err != nil || in {
		t.Fatalf("unsaved connection: %v (in config %v)", err, in)
	}
	if _, err := StoreSignIn("not an id", rt, info, secrets, cs); err == nil {
		t.Fatal("an invalid connection ID was accepted")
	}
}

// A keyring failure after the sign-in changes nothing: the configuration
// does not claim a token the keyring lacks, the previous token (here none)
// is as it was, and a retry stores the token the caller kept.
func TestStoreSignInKeyringFailureKeepsSignIn(t *testing.T) {
	cs, conn := signInConfig(t)
	secrets := &memSecrets{refuse: locked(1)}
	info := storage.TokenInfo{ObtainedAt: clock.Now().UTC(), Account: "admin@contoso.example"}
	if _, err := StoreSignIn(conn.ID, "new-token", info, secrets, cs); !errors.Is(err, storage.ErrKeyringLocked) || !strings.Contains(err.Error(), "Retry") {
		t.Fatalf("store with a locked keyring: %v", err)
	}
	if cfg, _ := cs.Load(); cfg.Connections[0].Token != nil {
		t.Fatal("the configuration claims a token the keyring does not hold")
	}
	if _, err := secrets.Get(conn.ID, storage.SecretRefreshToken); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("keyring after a failed store: %v", err)
	}
	if in, err := StoreSignIn(conn.ID, "new-token", info, secrets, cs); err != nil || !in {
		t.Fatalf("retry: %v", err)
	}
	if got, _ := secrets.Get(conn.ID, storage.SecretRefreshToken); got != "new-token" {
		t.Fatal("the retried token is not in the keyring")
	}
}

// When the configuration cannot record the sign-in after the keyring took
// the new token, the previous token is put back: the configuration still
// describes the sign-in the keyring holds, and imports keep working.
// Without a previous token, the new one is removed again.
func TestStoreSignInConfigFailureRestoresPreviousToken(t *testing.T) {
	diskFull := errors.New("no space left on device")
	info := storage.TokenInfo{ObtainedAt: clock.Now().UTC(), Account: "admin@contoso.example"}
	secrets := &memSecrets{}
	id := storage.NewID()
	if err := secrets.Set(id, storage.SecretRefreshToken, "previous-token"); err != nil {
		t.Fatal(err)
	}
	_, err := StoreSignIn(id, "new-token", info, secrets, failingConfig{diskFull})
	if !errors.Is(err, diskFull) || !strings.Contains(err.Error(), "previous sign-in was kept") {
		t.Fatalf("config failure: %v", err)
	}
	if got, _ := secrets.Get(id, storage.SecretRefreshToken); got != "previous-token" {
		t.Fatalf("keyring holds %q after the rollback, want the previous token", got)
	}

	fresh := storage.NewID()
	if _, err := StoreSignIn(fresh, "new-token", info, secrets, failingConfig{diskFull}); !errors.Is(err, diskFull) {
		t.Fatalf("config failure without a previous token: %v", err)
	}
	if _, err := secrets.Get(fresh, storage.SecretRefreshToken); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("the new token stayed in the keyring: %v", err)
	}

	// A rollback that fails too says so: the administrator must sign in
	// again rather than trust a keyring in an unknown state.
	// The first Set is the previous sign-in's, the second the new token's;
	// the third, the rollback's, fails.
	restoreFails := &memSecrets{refuse: func(n int) error {
		if n > 2 {
			return storage.ErrKeyringLocked
		}
		return nil
	}}
	if err := restoreFails.Set(id, storage.SecretRefreshToken, "previous-token"); err != nil {
		t.Fatal(err)
	}
	_, err = StoreSignIn(id, "new-token", info, restoreFails, failingConfig{diskFull})
	if !errors.Is(err, diskFull) || !errors.Is(err, storage.ErrKeyringLocked) || !strings.Contains(err.Error(), "sign in again") {
		t.Fatalf("failed rollback: %v", err)
	}
}
