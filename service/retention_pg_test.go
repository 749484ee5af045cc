package service

import (
	"context"
	"net/http"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Setting a retention on an inventory in PostgreSQL (issues 18, 21): the
// plan finds the histories of the configuration's connection and of a
// removed one, and setting it deletes what it said.
func TestRetentionOnPostgres(t *testing.T) {
	ctx := context.Background()
	sim, err := m365sim.Start(m365sim.Options{Users: 30, Seed: 18})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() })
	store, err := inventory.OpenURL(ctx, pgtest.NewDB(t), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := t.TempDir()
	tok := minted(sim.MintAccessToken(tenant.AdminLocalPart + "@" + sim.Tenant().Domain))
	imp := &Imports{Store: store, ConfigDir: dir, Secrets: noSecrets{},
		Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) { return tok, nil }}
	var conns []storage.Connection
	for _, name := range []string{"Contoso", "Removed"} {
		conn := storage.Connection{ID: storage.NewID(), Name: name, SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
			TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
			RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint()}
		if run, err := imp.Import(ctx, conn, ImportRequest{Trigger: inventory.TriggerManual}); err != nil || !run.Status.Good() {
			t.Fatalf("import of %s: %s (%v)", name, run.Status, err)
		}
		conns = append(conns, conn)
	}
	cs := storage.NewConfigStore(dir)
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: conns[:1]}
	if err := cs.Save(cfg); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanRetention(ctx, store, cfg, 1, clock.Now().AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Cuts) != 2 || plan.Cuts[0].ConnectionID != conns[0].ID || plan.Cuts[0].Name != "Contoso" || plan.Cuts[0].Days != 1 ||
		plan.Cuts[1].ConnectionID != conns[1].ID || plan.Cuts[1].Name != "" || plan.Cuts[1].Days != 1 {
		t.Fatalf("plan %+v", plan)
	}
	if err := SetRetention(ctx, cs, store, plan); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if left, err := store.HistoryTenants(ctx, c.ID, inventory.HistoryQuery{}); err != nil || len(left) != 0 {
			t.Errorf("%s keeps %d days of history (%v) after the retention deleted them", c.Name, len(left), err)
		}
	}
	if got, err := cs.Load(); err != nil || got.HistoryMonths != 1 {
		t.Fatalf("configuration: %+v (%v)", got, err)
	}
}
