package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// HistoryNote is recorded with the imports that make the demo's history.
const HistoryNote = "demo: a simulated day of the past year"

// age ages the demo tenant o.HistoryDays days on clk, its simulator's
// clock. When the demo connection has no licence history yet, each day is
// imported, and the day before the first: the same import as Execute Now
// and the scheduler (service.Imports), into the database of repo's
// configuration folder opened on clk, so each import lands on its day.
// The imports sign in as the tenant's administrator with tokens the
// simulator mints, so no sign-in is needed; the connection still has no
// token, and Generate... works as in any demo.
//
// The tenant is aged also when the history exists, so each start serves a
// tenant that has lived as long (a demo of the same seed).
func (d *Demo) age(repo *storage.Repository, o Options, clk *tenant.DayClock) error {
	ctx := context.Background()
	store, err := inventory.OpenDir(ctx, repo.Config.Dir(), inventory.Options{Now: clk.Now})
	if err != nil {
		return fmt.Errorf("demo mode: open the database of imported data: %w", err)
	}
	defer store.Close()
	have, err := store.HistoryTenants(ctx, d.Connection.ID, inventory.HistoryQuery{})
	if err != nil {
		return fmt.Errorf("demo mode: %w", err)
	}
	var each func(int) error
	if len(have) == 0 {
		admin := tenant.AdminLocalPart + "@" + d.Sim.Tenant().Domain
		imports := &service.Imports{Store: store, ConfigDir: repo.Config.Dir(), Secrets: repo.Secrets, Now: clk.Now,
			// The history is made quietly: a year of imports would
			// fill the log.
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
				return mintedTokens{sim: d.Sim, upn: admin}, nil
			}}
		each = func(int) error {
			_, err := imports.Import(ctx, d.Connection, service.ImportRequest{Trigger: inventory.TriggerSchedule, Note: HistoryNote})
			if err != nil {
				return fmt.Errorf("demo mode: make the demo's licence history: %w", err)
			}
			return nil
		}
		if err := each(0); err != nil {
			return err
		}
	}
	return d.Sim.Tenant().AgeDays(o.Seed, o.HistoryDays, tenant.HistoryFraction, clk, each)
}

// mintedTokens are access tokens the simulator mints for a user, as a
// refresh would give them.
type mintedTokens struct {
	sim *m365sim.Server
	upn string
}

func (m mintedTokens) Token(context.Context) (string, error) {
	return m.sim.MintAccessToken(m.upn), nil
}
func (mintedTokens) Invalidate() {}
