package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/service"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
	"github.com/inventorybeacon/beacon/ui"
)

type minted string

func (m minted) Token(context.Context) (string, error) { return string(m), nil }
func (minted) Invalidate()                             {}

type noSecrets struct{}

func (noSecrets) Get(string, storage.SecretKind) (string, error) {
	return "", storage.ErrSecretNotFound
}
func (noSecrets) Set(string, storage.SecretKind, string) error { return errors.New("read-only") }
func (noSecrets) Delete(string, storage.SecretKind) error      { return nil }

// Execute Now takes the connection's run lock: while another process (here
// the test, as a scheduler would) holds it, the window refuses, says why
// and records the skipped attempt; once free, it imports.
func TestExecuteNowHonoursTheRunLock(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 40, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { go sim.Close() }()
	dir := t.TempDir()
	store, err := inventory.OpenDir(context.Background(), dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	conn := storage.Connection{ID: storage.NewID(), Name: "Contoso", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint()}
	tok := minted(sim.MintAccessToken(tenant.AdminLocalPart + "@" + sim.Tenant().Domain))
	exec := &service.Imports{Store: store, ConfigDir: dir, Secrets: noSecrets{},
		Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) { return tok, nil }}
	run := importNow{exec}.Import

	release, err := schedule.LockConnection(dir, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(context.Background(), conn, ui.ImportRequest{}, func(string, int, int) {})
	if !errors.Is(err, schedule.ErrAlreadyRunning) {
		t.Fatalf("Execute Now while the connection is importing elsewhere: %v, want ErrAlreadyRunning", err)
	}
	history, err := store.History(context.Background(), conn.ID, 5)
	if err != nil || len(history) != 1 || history[0].Status != inventory.StatusSkipped || history[0].Trigger != inventory.TriggerManual {
		t.Fatalf("history after the refused run: %+v, %v", history, err)
	}
	release()

	var progressed bool
	got, err := run(context.Background(), conn, ui.ImportRequest{}, func(string, int, int) { progressed = true })
	if err != nil || got.Status != inventory.StatusSucceeded || !progressed {
		t.Fatalf("Execute Now with the lock free: %+v, %v (progress %v)", got, err, progressed)
	}
	// The lock is released afterwards: the scheduler may run next.
	again, err := schedule.LockConnection(dir, conn.ID)
	if err != nil {
		t.Fatalf("run lock still held after Execute Now: %v", err)
	}
	again()

	// The first import was full; the next reads only the changes, unless
	// Execute Now (full import) asks for a full one.
	for _, c := range []struct {
		full bool
		mode string
	}{{false, importer.ModeDelta}, {true, importer.ModeSharded}} {
		got, err := run(context.Background(), conn, ui.ImportRequest{Full: c.full}, func(string, int, int) {})
		if err != nil || got.Status != inventory.StatusSucceeded || got.Mode != c.mode {
			t.Fatalf("Execute Now (full %v): %+v, %v; want users read as %q", c.full, got, err, c.mode)
		}
	}
}

// "Try with a demo tenant" may be clicked again: the first simulator stops,
// one Demo tenant connection remains, pointing at the running one, and
// cleanup stops it.
func TestStartDemoReplacesTheRunningOne(t *testing.T) {
	testenv.Keyring(t)
	b := &built{repo: &storage.Repository{
		Config:  storage.NewConfigStore(t.TempDir()),
		Secrets: storage.NewKeyring("Inventory Beacon gui test "+storage.NewID(), 10*time.Second),
	}}
	accounts, err := b.StartDemo()
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 4 {
		t.Fatalf("accounts %+v", accounts)
	}
	first := b.demo.Sim.URL()
	if _, err := b.StartDemo(); err != nil {
		t.Fatal(err)
	}
	second := b.demo.Sim.URL()
	if resp, err := http.Get(first + "/v1.0/users"); err == nil && first != second {
		resp.Body.Close()
		t.Fatalf("the first simulator at %s still answers", first)
	}
	cfg, err := b.repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Connections) != 1 || cfg.Connections[0].GraphEndpoint != second {
		t.Fatalf("connections after two starts: %+v (running at %s)", cfg.Connections, second)
	}
	b.stopDemo()
	if resp, err := http.Get(second + "/v1.0/users"); err == nil {
		resp.Body.Close()
		t.Fatal("the simulator still answers after stopDemo")
	}
}
