package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// failOnSet wraps the real keyring and fails its Nth Set: the failure
// injection for Commit's rollback (the keyring calls themselves, including
// the rollback, are real).
type failOnSet struct {
	Secrets
	mu   sync.Mutex
	n    int
	sets int
}

func (f *failOnSet) Set(connID string, kind SecretKind, value string) error {
	f.mu.Lock()
	f.sets++
	hit := f.sets == f.n
	f.mu.Unlock()
	if hit {
		return ErrKeyringTimeout // as if the keyring had hung on this call
	}
	return f.Secrets.Set(connID, kind, value)
}

func newRepo(t *testing.T) (*Repository, Secrets) {
	t.Helper()
	s := realKeyring(t)
	return &Repository{Config: NewConfigStore(t.TempDir()), Secrets: s}, s
}

func TestCommitStoresSecretsAndConfig(t *testing.T) {
	t.Parallel()
	repo, s := newRepo(t)
	c := sampleConfig()
	id := c.Connections[0].ID
	cleanupConn(t, s, id)
	if err := s.Set(id, SecretProxyPassword, "to-be-deleted"); err != nil {
		t.Fatal(err)
	}
	token := bigSecret(3000)
	err := repo.Commit(c, []SecretChange{
		{ConnID: id, Kind: SecretRefreshToken, Value: token},
		{ConnID: id, Kind: SecretClientSecret, Value: "client~secret.value"},
		{ConnID: id, Kind: SecretProxyPassword, Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != 1 {
		t.Fatalf("Revision after Commit = %d, want 1", c.Revision)
	}
	if got, err := s.Get(id, SecretRefreshToken); err != nil || got != token {
		t.Fatalf("refresh token after Commit: %d bytes, %v", len(got), err)
	}
	if got, err := s.Get(id, SecretClientSecret); err != nil || got != "client~secret.value" {
		t.Fatalf("client secret after Commit: %q, %v", got, err)
	}
	if _, err := s.Get(id, SecretProxyPassword); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("proxy password after Commit deleting it: %v", err)
	}
	loaded, err := repo.Config.Load()
	if err != nil || loaded.Revision != 1 || loaded.Connections[0].ID != id {
		t.Fatalf("config after Commit: %+v, %v", loaded, err)
	}

	// No file in the configuration directory contains a secret value.
	entries, err := os.ReadDir(repo.Config.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the configuration directory is empty")
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(repo.Config.Dir(), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{token, token[:40], "client~secret.value", "to-be-deleted"} {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s contains a secret value %q...", e.Name(), secret[:min(len(secret), 20)])
			}
		}
	}
}

func TestCommitRollsBackWhenTheKeyringFailsMidway(t *testing.T) {
	t.Parallel()
	repo, s := newRepo(t)
	c := sampleConfig()
	id := c.Connections[0].ID
	cleanupConn(t, s, id)
	if err := repo.Commit(c, nil); err != nil {
		t.Fatal(err)
	}
	oldToken := bigSecret(4100) // chunked, so the restore must re-chunk
	if err := s.Set(id, SecretRefreshToken, oldToken); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(id, SecretProxyPassword, "old-proxy-password"); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(repo.Config.Path())
	if err != nil {
		t.Fatal(err)
	}

	// Set #1 (refresh token) and the delete succeed, Set #2 (client secret)
	// fails.
	failing := &failOnSet{Secrets: s, n: 2}
	repo.Secrets = failing
	c.Connections[0].Name = "Renamed"
	c.Connections[0].HasClientSecret = true
	err = repo.Commit(c, []SecretChange{
		{ConnID: id, Kind: SecretRefreshToken, Value: "new-refresh-token"},
		{ConnID: id, Kind: SecretProxyPassword, Delete: true},
		{ConnID: id, Kind: SecretClientSecret, Value: "new-client-secret"},
	})
	if !errors.Is(err, ErrKeyringTimeout) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("Commit with a failing keyring: %v, want ErrKeyringTimeout and a note that nothing changed", err)
	}
	if c.Revision != 1 {
		t.Errorf("failed Commit changed the caller's Revision to %d", c.Revision)
	}
	assertFileContent(t, repo.Config.Path(), before)
	if got, err := s.Get(id, SecretRefreshToken); err != nil || got != oldToken {
		t.Errorf("refresh token not restored: %d bytes, %v", len(got), err)
	}
	if got, err := s.Get(id, SecretProxyPassword); err != nil || got != "old-proxy-password" {
		t.Errorf("deleted proxy password not restored: %q, %v", got, err)
	}
	if _, err := s.Get(id, SecretClientSecret); !errors.Is(err, ErrSecretNotFound) {
		t.Errorf("client secret, absent before, exists after the rollback: %v", err)
	}

	// The same Commit with a working keyring goes through.
	repo.Secrets = s
	if err := repo.Commit(c, []SecretChange{{ConnID: id, Kind: SecretClientSecret, Value: "new-client-secret"}}); err != nil {
		t.Fatal(err)
	}
}

func TestCommitRefusesStaleOrDamagedConfigBeforeTouchingSecrets(t *testing.T) {
	t.Parallel()
	repo, s := newRepo(t)
	c := sampleConfig()
	id := c.Connections[0].ID
	cleanupConn(t, s, id)
	if err := repo.Commit(c, nil); err != nil {
		t.Fatal(err)
	}
	stale := *c
	stale.Revision = 0
	err := repo.Commit(&stale, []SecretChange{{ConnID: id, Kind: SecretRefreshToken, Value: "must-not-be-stored"}})
	if !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("Commit of a stale config: %v", err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("a refused Commit stored a secret: %v", err)
	}

	if err := os.WriteFile(repo.Config.Path(), []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	var damaged *DamagedConfigError
	if err := repo.Commit(c, []SecretChange{{ConnID: id, Kind: SecretRefreshToken, Value: "must-not-be-stored"}}); !errors.As(err, &damaged) {
		t.Fatalf("Commit over a damaged file: %v", err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("a refused Commit stored a secret: %v", err)
	}
	assertFileContent(t, repo.Config.Path(), []byte("{broken"))
}

func TestCommitRefusesASecretCopiedIntoTheConfig(t *testing.T) {
	t.Parallel()
	repo, s := newRepo(t)
	c := sampleConfig()
	id := c.Connections[0].ID
	cleanupConn(t, s, id)
	leaked := "0.AXkA-leaked-refresh-token"
	c.Connections[0].Token.DisplayName = leaked
	err := repo.Commit(c, []SecretChange{{ConnID: id, Kind: SecretRefreshToken, Value: leaked}})
	if err == nil || !strings.Contains(err.Error(), "must never contain secrets") {
		t.Fatalf("Commit of a config containing the secret: %v", err)
	}
	if _, err := os.Stat(repo.Config.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the config file was written (%v)", err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("the secret was stored: %v", err)
	}
}

func TestDeleteConnectionSecrets(t *testing.T) {
	t.Parallel()
	repo, s := newRepo(t)
	id, other := NewID(), NewID()
	cleanupConn(t, s, id)
	cleanupConn(t, s, other)
	for _, k := range AllSecretKinds {
		if err := s.Set(id, k, bigSecret(2500)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(other, SecretRefreshToken, "keep-me"); err != nil {
		t.Fatal(err)
	}
	h, _ := rawChunks(t, id, SecretRefreshToken)
	if err := repo.DeleteConnectionSecrets(id); err != nil {
		t.Fatal(err)
	}
	for _, k := range AllSecretKinds {
		if _, err := s.Get(id, k); !errors.Is(err, ErrSecretNotFound) {
			t.Errorf("%s still present: %v", k, err)
		}
	}
	assertChunksGone(t, id, SecretRefreshToken, h)
	if got, err := s.Get(other, SecretRefreshToken); err != nil || got != "keep-me" {
		t.Fatalf("another connection's secret was touched: %q, %v", got, err)
	}
	// Deleting again is not an error.
	if err := repo.DeleteConnectionSecrets(id); err != nil {
		t.Fatal(err)
	}
}
