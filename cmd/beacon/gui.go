package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/inventorybeacon/beacon/service"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	beacon "github.com/inventorybeacon/beacon"
	"github.com/inventorybeacon/beacon/assets"
	"github.com/inventorybeacon/beacon/cmd/beacon/demo"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/schedule"
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

	b, err := buildDeps(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "beacon: %v\n", err)
		return 1
	}
	defer b.cleanup()
	// About shows the FyneApp.toml values; ui does not import the root
	// package, so they come in through Deps.
	b.deps.AppName, b.deps.AppVersion = meta.Name, meta.Version
	m := ui.NewMainWindow(a, b.deps)
	// The demo's licence history is made in the background, after the
	// window opened; the window says how far it is.
	b.followHistory(m.ShowDemoHistory)

	// Schedules run while the window is open (and, with the tray
	// preference, while it is hidden), through the same executor and run
	// locks as Execute Now and `beacon scheduler`.
	runner, err := schedule.NewRunner(schedule.Options{
		Config:   b.repo.Config,
		Executor: service.Scheduled{Imports: b.exec},
		History:  service.Scheduled{Imports: b.exec},
		Locks:    schedule.ConnectionLocks{Dir: o.configDir},
		Logger:   slog.Default(),
		OnEvent:  m.OnScheduleEvent,
		Upkeep: service.Upkeep{ConfigDir: o.configDir, Secrets: b.exec.Secrets, Logger: slog.Default(),
			Notify: m.NotifyExpiry}.Run,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "beacon: %v\n", err)
		return 1
	}
	m.SetScheduler(runner)
	ui.SetupTray(a, m, icon)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if err := runner.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("the scheduler is not running", "err", err)
		}
	}()
	m.ShowAndRun()
	// Quitting cancels imports in progress; the executor records them as
	// cancelled before Run returns.
	cancel()
	<-ran
	return 0
}

// built is what buildDeps opened.
type built struct {
	deps    ui.Deps
	repo    *storage.Repository
	exec    *service.Imports
	cleanup func()

	// demo is the running demo tenant (--demo, or "Try with a demo
	// tenant" on the welcome panel), stopped by cleanup.
	demoMu sync.Mutex
	demo   *demo.Demo
	// demoDays are the days of history a demo starts with
	// (--demo-history).
	demoDays int
	// historyMu guards onHistory and lastHistory: the window that follows
	// the making of the demo's history, and where it was before the window
	// was there to see it.
	historyMu   sync.Mutex
	onHistory   func(done, total int, err error)
	lastHistory func()
}

// followHistory has show told how far the demo's licence history is made,
// from now on and where it is already.
func (b *built) followHistory(show func(done, total int, err error)) {
	b.historyMu.Lock()
	defer b.historyMu.Unlock()
	b.onHistory = show
	if b.lastHistory != nil {
		b.lastHistory()
	}
}

// historyProgress is demo.BuildHistory's progress: to the window once
// there is one.
func (b *built) historyProgress(done, total int, err error) {
	b.historyMu.Lock()
	defer b.historyMu.Unlock()
	b.lastHistory = func() { b.onHistory(done, total, err) }
	if b.onHistory != nil {
		b.onHistory(done, total, err)
	}
	if err == nil && done == total {
		slog.Info("demo mode: the licence history is made", "imports", total)
	} else if err != nil && !errors.Is(err, context.Canceled) {
		slog.Error("demo mode: the licence history stopped; the next start finishes it", "err", err)
	}
}

// StartDemo starts the simulated tenant and commits its connection; a demo
// already running is replaced, so there is one simulator at a time. The
// window calls it off the Fyne goroutine.
func (b *built) StartDemo() ([]ui.DemoAccount, error) {
	b.demoMu.Lock()
	defer b.demoMu.Unlock()
	if b.demo != nil {
		b.demo.Close()
		b.demo = nil
	}
	d, err := demo.Start(b.repo, demo.Options{HistoryDays: b.demoDays})
	if err != nil {
		return nil, err
	}
	b.demo = d
	if n := d.HistoryLeft(); n > 0 {
		slog.Info("demo mode: making the licence history in the background, a day at a time on the simulated tenant's clock",
			"days", b.demoDays, "imports", n)
		d.BuildHistory(b.historyProgress)
	}
	slog.Info("demo mode: the simulated tenant is running", "url", d.Sim.URL(), "connection", demo.ConnectionName)
	var accounts []ui.DemoAccount
	for _, acc := range d.Accounts {
		slog.Info("demo mode: sign-in account", "upn", acc.UPN, "role", acc.Role)
		accounts = append(accounts, ui.DemoAccount{UPN: acc.UPN, Role: acc.Role})
	}
	return accounts, nil
}

func (b *built) stopDemo() {
	b.demoMu.Lock()
	defer b.demoMu.Unlock()
	if b.demo != nil {
		b.demo.Close()
		b.demo = nil
	}
}

// buildDeps connects the window to storage, sign-in and import.
func buildDeps(o options) (*built, error) {
	b := &built{demoDays: o.demoHistory}
	var closers []func()
	b.cleanup = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	b.repo = &storage.Repository{
		Config:  storage.NewConfigStore(o.configDir),
		Secrets: storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout),
	}
	closers = append(closers, b.stopDemo)
	var demoAccounts []ui.DemoAccount
	if o.demo {
		accounts, err := b.StartDemo()
		if err != nil {
			b.cleanup()
			return nil, err
		}
		demoAccounts = accounts
	}
	store, err := service.OpenInventory(context.Background(), o.configDir, o.store, b.repo.Secrets, inventory.Options{})
	if err != nil {
		b.cleanup()
		return nil, fmt.Errorf("open the database of imported data: %w", err)
	}
	closers = append(closers, func() { store.Close() })

	b.exec = &service.Imports{Store: store, ConfigDir: o.configDir, Secrets: b.repo.Secrets, Logger: slog.Default()}
	b.deps = ui.Deps{
		Repo:         b.repo,
		SignIn:       signIn{secrets: b.repo.Secrets, logger: slog.Default()},
		Tester:       tester{secrets: b.repo.Secrets, lockDir: b.repo.Config.Dir(), logger: slog.Default()},
		Importer:     importNow{b.exec},
		Inventory:    store,
		Optimizer:    &service.Optimizer{Store: store},
		Demo:         b,
		DemoAccounts: demoAccounts,
	}
	return b, nil
}

// importNow is the window's Execute Now: service.Imports under the
// connection's run lock, which `beacon execute` and the scheduler take too,
// so a connection never imports twice at once and the loser's attempt is
// in the history. Execute Now (full import) passes req.Full on.
type importNow struct{ imports *service.Imports }

func (i importNow) Import(ctx context.Context, c storage.Connection, req ui.ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
	return i.imports.Import(ctx, c, service.ImportRequest{Trigger: inventory.TriggerManual, Full: req.Full, Lock: true,
		Progress: func(s importer.Stage, done, total int) { progress(string(s), done, total) }})
}

// signIn is Generate...: the sign-in of the connection as typed in the
// dialog, through the same HTTP client (proxy, CA file) as its imports.
type signIn struct {
	secrets storage.Secrets
	logger  *slog.Logger
}

func (s signIn) Start(c storage.Connection, proxyPassword string) (*service.SignInFlow, error) {
	return service.StartSignIn(c, service.SignInOptions{Secrets: s.secrets, ProxyPassword: proxyPassword, Logger: s.logger})
}

func (signIn) OpenBrowser(url string) error { return service.OpenBrowser(url) }

// tester is Test Connection: service.TestConnection with the token lock
// file next to the configuration, shared with imports and the scheduler.
type tester struct {
	secrets storage.Secrets
	lockDir string
	logger  *slog.Logger
}

func (t tester) TestConnection(ctx context.Context, c storage.Connection) *service.TestReport {
	return service.TestConnection(ctx, c, service.TestOptions{Secrets: t.secrets, ConfigDir: t.lockDir, Logger: t.logger})
}
