package service

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The package's PostgreSQL server (internal/pgtest) stops with its tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two beacons (configuration folders of their own, as on two computers)
// share one inventory on PostgreSQL (issue 21): while one imports a
// connection, the other's import of it is recorded as skipped, saying
// where it runs; once the first is done the second imports, and both see
// its snapshot.
func TestSharedStoreSkipsAConnectionImportingElsewhere(t *testing.T) {
	ctx := context.Background()
	sim, err := m365sim.Start(m365sim.Options{Users: 40, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() })
	u := pgtest.NewDB(t)
	beacon := func() *Imports {
		store, err := inventory.OpenURL(ctx, u, inventory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		tok := minted(sim.MintAccessToken(tenant.AdminLocalPart + "@" + sim.Tenant().Domain))
		return &Imports{Store: store, ConfigDir: t.TempDir(), Secrets: noSecrets{},
			Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) { return tok, nil }}
	}
	a, b := beacon(), beacon()
	conn := storage.Connection{ID: storage.NewID(), Name: "Contoso", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint()}

	busy, err := a.Store.BeginRun(ctx, inventory.RunInfo{ConnectionID: conn.ID, ConnectionName: conn.Name, Trigger: inventory.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	run, err := b.Import(ctx, conn, ImportRequest{Trigger: inventory.TriggerManual, Lock: true})
	host, _ := os.Hostname()
	if run.Status != inventory.StatusSkipped || !strings.Contains(run.Error, "already running on "+host) || err == nil {
		t.Fatalf("the second beacon's import: %s %q (%v), want skipped, already running on %s", run.Status, run.Error, err, host)
	}
	if _, err := busy.Finish(ctx, inventory.Outcome{Status: inventory.StatusCancelled}); err != nil {
		t.Fatal(err)
	}
	run, err = b.Import(ctx, conn, ImportRequest{Trigger: inventory.TriggerManual, Lock: true})
	if err != nil || !run.Status.Good() {
		t.Fatalf("import after the other beacon finished: %s (%v)", run.Status, err)
	}
	for _, s := range []*Imports{a, b} {
		n, err := s.Store.CountUsers(ctx, conn.ID, inventory.Query{})
		if err != nil || n != run.Counts.Users || n == 0 {
			t.Errorf("a beacon sees %d users (%v), want the %d imported", n, err, run.Counts.Users)
		}
	}
}

// The shared store's setting (issue 21): the configuration keeps the
// address without its password, the keyring keeps the password, and the
// store opens with it; --store, then BEACON_STORE, come before the
// setting; going back to the default forgets both.
func TestInventoryStoreSettingKeepsThePasswordInTheKeyring(t *testing.T) {
	testenv.Keyring(t)
	ctx := context.Background()
	secrets := storage.NewKeyring("inventory-beacon-storetest-"+storage.NewID(), 10*time.Second)
	dir := t.TempDir()
	const pw = "Pw-of-the-store-7731"
	u, err := url.Parse(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("postgres", pw)
	if err := SetInventoryStore(dir, u.String(), secrets); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { secrets.Delete(storage.StoreSecretID, storage.SecretStorePassword) })
	file, err := os.ReadFile(storage.NewConfigStore(dir).Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(file), pw) || !strings.Contains(string(file), "postgres://postgres@") {
		t.Fatalf("the configuration file holds:\n%s", file)
	}
	if got, err := secrets.Get(storage.StoreSecretID, storage.SecretStorePassword); err != nil || got != pw {
		t.Fatalf("the keyring holds %q (%v)", got, err)
	}
	loc, from, err := InventoryLocation(dir, "")
	if err != nil || loc != inventory.RedactURL(u.String()) || from != "the configuration" {
		t.Fatalf("location %q from %q (%v)", loc, from, err)
	}
	s, err := OpenInventory(ctx, dir, "", secrets, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Postgres() || strings.Contains(s.Path(), pw) {
		t.Errorf("opened %s (PostgreSQL: %v)", s.Path(), s.Postgres())
	}
	s.Close()
	file2 := filepath.Join(t.TempDir(), "other.db")
	t.Setenv(StoreEnv, file2)
	if loc, from, _ := InventoryLocation(dir, ""); loc != file2 || from != StoreEnv {
		t.Errorf("with %s set: %q from %q", StoreEnv, loc, from)
	}
	if loc, from, _ := InventoryLocation(dir, "/flag.db"); loc != "/flag.db" || from != "--store" {
		t.Errorf("with --store: %q from %q", loc, from)
	}
	if err := SetInventoryStore(dir, "", secrets); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Get(storage.StoreSecretID, storage.SecretStorePassword); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Errorf("the password stayed in the keyring: %v", err)
	}
	t.Setenv(StoreEnv, "")
	if loc, _, err := InventoryLocation(dir, ""); loc != "" || err != nil {
		t.Errorf("back to the default: %q (%v)", loc, err)
	}
	// A damaged configuration does not keep the window from opening
	// (it asks about the file itself): the folder's inventory meanwhile.
	if err := os.WriteFile(storage.NewConfigStore(dir).Path(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if loc, _, err := InventoryLocation(dir, ""); loc != "" || err != nil {
		t.Errorf("with a damaged configuration: %q (%v)", loc, err)
	}
}
