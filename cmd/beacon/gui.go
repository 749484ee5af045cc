package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	beacon "github.com/inventorybeacon/beacon"
	"github.com/inventorybeacon/beacon/assets"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/internal/demo"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/schedule/importexec"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
	"github.com/inventorybeacon/beacon/ui"
)

// runGUI opens the window. Everything it needs is built here and handed to
// ui.NewMainWindow, so the ui package holds screens only.
func runGUI(o options, meta beacon.Metadata) int {
	icon := fyne.NewStaticResource("icon.png", assets.IconPNG)
	// go build (unlike fyne build) injects no metadata: give Fyne the
	// FyneApp.toml values so preferences and the desktop ID are stable.
	app.SetMetadata(fyne.AppMetadata{ID: meta.ID, Name: meta.Name, Version: meta.Version, Build: meta.Build, Icon: icon})
	a := app.NewWithID(meta.ID)
	a.SetIcon(icon)

	deps, cleanup, err := buildDeps(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "beacon: %v\n", err)
		return 1
	}
	defer cleanup()
	ui.NewMainWindow(a, deps).ShowAndRun()
	return 0
}

// buildDeps connects the window to storage, sign-in and import. cleanup
// closes what it opened.
func buildDeps(o options) (ui.Deps, func(), error) {
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	repo := &storage.Repository{
		Config:  storage.NewConfigStore(o.configDir),
		Secrets: storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout),
	}
	if o.demo {
		d, err := demo.Start(repo, demo.Options{})
		if err != nil {
			return ui.Deps{}, cleanup, err
		}
		closers = append(closers, func() { d.Close() })
		slog.Info("demo mode: the simulated tenant is running", "url", d.Sim.URL(), "connection", demo.ConnectionName)
		for _, acc := range d.Accounts {
			slog.Info("demo mode: sign-in account", "upn", acc.UPN, "role", acc.Role)
		}
	}
	store, err := inventory.OpenDir(context.Background(), o.configDir, inventory.Options{})
	if err != nil {
		cleanup()
		return ui.Deps{}, func() {}, fmt.Errorf("open the database of imported data: %w", err)
	}
	closers = append(closers, func() { store.Close() })

	exec := &importexec.Executor{Store: store, ConfigDir: o.configDir, Secrets: repo.Secrets, Logger: slog.Default()}
	deps := ui.Deps{
		Repo:     repo,
		Generate: ui.NewGenerate(ui.GenerateOptions{Secrets: repo.Secrets, Logger: slog.Default()}),
		TestConnection: ui.NewTestConnection(ui.TestConnectionOptions{
			Secrets: repo.Secrets, ConfigDir: repo.Config.Dir(), Logger: slog.Default(),
		}),
		Inventory: store,
		Execute:   executeNow(exec, o.configDir),
	}
	return deps, cleanup, nil
}

// executeNow runs the window's Execute Now under the connection's run lock,
// which `beacon execute` and the scheduler take too: a connection never
// imports twice at once, and the loser's attempt is in the history.
func executeNow(exec *importexec.Executor, configDir string) ui.ExecuteFunc {
	return func(ctx context.Context, c storage.Connection, progress func(string, int, int)) (inventory.Run, error) {
		release, err := schedule.LockConnection(configDir, c.ID)
		if err != nil {
			if errors.Is(err, schedule.ErrAlreadyRunning) {
				_ = importexec.History{Store: exec.Store}.RecordSkipped(c, schedule.TriggerManual, err.Error(), time.Now())
				return inventory.Run{}, fmt.Errorf("%w; wait for it to finish (see Import history), then try again", err)
			}
			return inventory.Run{}, err
		}
		defer release()
		return exec.Import(ctx, c, schedule.TriggerManual, "", func(s importer.Stage, done, total int) {
			progress(string(s), done, total)
		})
	}
}
