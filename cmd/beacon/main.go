// Command beacon is Inventory Beacon: the window by default, or a headless
// command (`beacon list`, `beacon execute NAME`, ...) for servers and
// schedulers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	beacon "github.com/inventorybeacon/beacon"
	"github.com/inventorybeacon/beacon/cmd/beacon/cli"
	"github.com/inventorybeacon/beacon/cmd/beacon/demo"
	"github.com/inventorybeacon/beacon/storage"
)

// options are the global flags, given before any command.
type options struct {
	configDir string
	store     string // --store: the inventory's location (issue 21)
	demo      bool
	// demoHistory is --demo-history: the days of licence history a demo
	// tenant starts with.
	demoHistory int
	version     bool
	args        []string // the command and its arguments, if any
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("beacon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configDir, "config-dir", "", "folder of the configuration and database (default: the user's config folder, or $BEACON_CONFIG_DIR)")
	fs.StringVar(&o.store, "store", "", "where the imported data lives: a postgres:// address shared by several beacons (default: $BEACON_STORE, else the configured store, else the database in the configuration folder)")
	fs.BoolVar(&o.demo, "demo", false, "start with a built-in simulated Microsoft 365 tenant, no Microsoft account needed")
	fs.IntVar(&o.demoHistory, "demo-history", demo.HistoryDefault, "with --demo: the days of licence history the demo tenant comes with, made in the background after the window opens at its first start (0: none)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() { cli.Usage(stderr); fmt.Fprintln(stderr, "\nGlobal options:"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.demoHistory < 0 || o.demoHistory > 3660 {
		fmt.Fprintln(stderr, "beacon: --demo-history takes whole days, from 0 (none) to 3660")
		return o, fmt.Errorf("--demo-history %d out of range", o.demoHistory)
	}
	o.args = fs.Args()
	return o, nil
}

func main() {
	cli.TuneMemory()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseOptions(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err != nil {
		return cli.ExitUsage
	}
	meta := beacon.AppMetadata()
	if o.version {
		fmt.Printf("%s %s (build %d)\n", meta.Name, meta.Version, meta.Build)
		return cli.ExitOK
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))

	if o.configDir == "" {
		if o.configDir, err = storage.DefaultConfigDir(); err != nil {
			fmt.Fprintf(os.Stderr, "beacon: %v\n", err)
			return cli.ExitFailed
		}
	}

	if len(o.args) > 0 {
		if !cli.IsCommand(o.args[0]) {
			fmt.Fprintf(os.Stderr, "beacon: unknown command %q; run 'beacon --help'\n", o.args[0])
			return cli.ExitUsage
		}
		// Commands stop cleanly on Ctrl+C or a service manager's SIGTERM:
		// an import in progress is cancelled and keeps the last good data.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		env := cli.DefaultEnv(o.configDir)
		env.Store = o.store
		return cli.Run(ctx, env, o.args)
	}
	return runGUI(o, meta)
}
