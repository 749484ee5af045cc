package cli

import (
	"context"
	"fmt"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// The installation-wide settings of the configuration that are not a
// connection, a schedule, a price or the catalogue: today the licence
// history's retention (issue 18), which the window sets in File →
// Preferences.

func init() {
	registerVerbs("settings", "the installation's settings: how long the licence history is kept (history-months)", []verb{
		{"show", "", "show the settings", runSettingsShow},
		{"set", "history-months MONTHS|forever [--yes]", "keep the licence history for MONTHS months, or forever (the default); " +
			"a shorter retention deletes the older days of every connection's history at once, so without --yes it only says what it would delete",
			runSettingsSet},
	})
}

// settingHistoryMonths names the retention in `beacon settings`.
const settingHistoryMonths = "history-months"

func runSettingsShow(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	if code, ok := fs.parse(args, 0, 0); !ok {
		return code
	}
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		return failWith(env, "settings show")(err)
	}
	fmt.Fprintf(env.Stdout, "%s\t%s\t(the licence history is kept %s)\n", settingHistoryMonths, historyMonthsValue(cfg.HistoryMonths),
		service.KeepFor(cfg.HistoryMonths))
	return ExitOK
}

// historyMonthsValue is the retention as `settings set` takes it.
func historyMonthsValue(months int) string {
	if months == 0 {
		return service.RetentionForever
	}
	return fmt.Sprint(months)
}

func runSettingsSet(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	yes := fs.Bool("yes", false, "delete the history older than the new retention without asking")
	if code, ok := fs.parse(args, 2, 2); !ok {
		return code
	}
	if fs.Arg(0) != settingHistoryMonths {
		fmt.Fprintf(env.Stderr, "beacon settings set: no setting %q; the settings are: %s\n", fs.Arg(0), settingHistoryMonths)
		return ExitUsage
	}
	months, err := service.ParseHistoryMonths(fs.Arg(1))
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon settings set: %v\n", err)
		return ExitUsage
	}
	fail := failWith(env, "settings set")
	cs := storage.NewConfigStore(env.ConfigDir)
	cfg, err := cs.Load()
	if err != nil {
		return fail(err)
	}
	store, err := openStoreIfAny(ctx, env)
	if err != nil {
		return fail(err)
	}
	if store != nil {
		defer store.Close()
	}
	plan, err := service.PlanRetention(ctx, store, cfg, months, clock.Now())
	if err != nil {
		return fail(err)
	}
	if plan.Days() > 0 && !*yes {
		fmt.Fprintln(env.Stdout, plan.Describe())
		fmt.Fprintf(env.Stderr, "beacon settings set: nothing was changed; run it again with --yes to keep the licence history %s and delete those days\n",
			service.KeepFor(months))
		return ExitFailed
	}
	if err := service.SetRetention(ctx, cs, store, plan); err != nil {
		return fail(err)
	}
	fmt.Fprintf(env.Stdout, "Keeping the licence history %s", service.KeepFor(months))
	if plan.Days() > 0 {
		fmt.Fprintf(env.Stdout, "; deleted %d days older than %s", plan.Days(), plan.Before.Format("2006-01-02"))
	}
	fmt.Fprintln(env.Stdout, ".")
	return ExitOK
}
