package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/inventorybeacon/beacon/service"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/filelock"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "scheduler",
		Summary: "run the scheduled imports without a window until stopped (Ctrl+C or the service manager)",
		Usage:   "[--once]",
		Run:     runScheduler,
	})
}

// schedulerClockEnv names a test clock for `beacon scheduler`:
// "2026-11-25T05:59:00Z*60" starts the scheduler's clock (and the import
// history's) at that time, running 60 times faster than real time. It
// exists so an end-to-end test can run a real scheduler process through
// an hour of schedules in a minute; it is not for production use.
const schedulerClockEnv = "BEACON_SCHEDULER_CLOCK"

// schedulerLockName is the lock of the one headless scheduler per
// configuration, in the lock folder.
const schedulerLockName = "scheduler.lock"

func runScheduler(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("scheduler")
	fs := NewFlagSet(env, c)
	once := fs.Bool("once", false, "run the imports that are due or were missed, then exit (for cron or Task Scheduler starting it every few minutes)")
	if code, ok := ParseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "beacon scheduler: unexpected argument %q; it takes only --once\n", fs.Arg(0))
		fs.Usage()
		return ExitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "beacon scheduler: %v\n", err)
		return ExitFailed
	}

	var clk clock.Clock = clock.System{}
	if spec := os.Getenv(schedulerClockEnv); spec != "" {
		scaled, err := clock.ParseScaled(spec)
		if err != nil {
			return fail(err)
		}
		clk = scaled
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// One headless scheduler per configuration: a second one (a service
	// and a manual start) would only add noise. The window's runner may
	// run beside it; the per-connection locks keep them apart.
	lockDir := filepath.Join(env.ConfigDir, "locks")
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return fail(fmt.Errorf("create the lock folder %s (check that you may write there): %w", lockDir, err))
	}
	release, err := filelock.TryLock(filepath.Join(lockDir, schedulerLockName))
	if errors.Is(err, filelock.ErrLocked) {
		return fail(fmt.Errorf("another `beacon scheduler` is already running for the configuration in %s (%v); stop it first, or let it do the work", env.ConfigDir, err))
	}
	if err != nil {
		return fail(err)
	}
	defer release()

	// Opening is not cut short by a signal: the runner then stops at once,
	// cleanly, instead of failing half-way through opening the database.
	store, err := openInventory(context.WithoutCancel(ctx), env, inventory.Options{Now: clk.Now})
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	imports := &service.Imports{
		Store: store, ConfigDir: env.ConfigDir, Secrets: executeKeyring(), Logger: logger, Now: clk.Now,
		Tokens: func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
			return executeTokenSource(env, conn, secrets, hc)
		},
	}
	runner, err := schedule.NewRunner(schedule.Options{
		Config:   storage.NewConfigStore(env.ConfigDir),
		Executor: service.Scheduled{Imports: imports},
		History:  service.Scheduled{Imports: imports},
		Locks:    schedule.ConnectionLocks{Dir: env.ConfigDir},
		Clock:    clk,
		Logger:   logger,
		// Without a window the expiry warnings go to the log, which
		// Upkeep writes itself.
		Upkeep: service.Upkeep{ConfigDir: env.ConfigDir, Secrets: imports.Secrets, Logger: logger}.Run,
	})
	if err != nil {
		return fail(err)
	}

	if *once {
		tally, err := runner.RunOnce(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "Scheduled imports: %d succeeded, %d completed with warnings, %d failed, %d cancelled, %d skipped\n",
			tally.Succeeded, tally.Warnings, tally.Failed, tally.Cancelled, tally.Skipped)
		switch {
		case tally.Failed > 0 || tally.Cancelled > 0:
			return ExitFailed
		case tally.Warnings > 0:
			return ExitWarnings
		}
		return ExitOK
	}
	if err := runner.Run(ctx); err != nil {
		return fail(err)
	}
	return ExitOK
}
