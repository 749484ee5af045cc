// Command beaconcli is Inventory Beacon's headless commands without the
// window (no Fyne, no OpenGL), for the benchmark harness: the same
// cmd/beacon/cli code as `beacon execute`, built without compiling GLFW.
//
//	beaconcli [--config-dir DIR] COMMAND ARGS...
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/inventorybeacon/beacon/cmd/beacon/cli"
	"github.com/inventorybeacon/beacon/internal/memtrace"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func main() {
	cli.TuneMemory()
	fs := flag.NewFlagSet("beaconcli", flag.ContinueOnError)
	dir := fs.String("config-dir", os.Getenv("BEACON_CONFIG_DIR"), "folder of the configuration and database")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(cli.ExitUsage)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if *dir == "" {
		d, err := storage.DefaultConfigDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "beaconcli:", err)
			os.Exit(cli.ExitFailed)
		}
		*dir = d
	}
	if fs.NArg() == 0 || !cli.IsCommand(fs.Arg(0)) {
		cli.Usage(os.Stderr)
		os.Exit(cli.ExitUsage)
	}
	// BEACON_CPUPROFILE=file profiles the command (finding where a
	// benchmark's time goes).
	if p := os.Getenv("BEACON_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer f.Close()
			}
		}
	}
	// BEACON_HEAPPROFILE=file BEACON_HEAPPROFILE_AFTER=2s writes the live
	// heap that long into the command (what an import holds mid-way).
	if p := os.Getenv("BEACON_HEAPPROFILE"); p != "" {
		after, _ := time.ParseDuration(os.Getenv("BEACON_HEAPPROFILE_AFTER"))
		go func() {
			time.Sleep(after)
			if f, err := os.Create(p); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	// BEACON_MEMTRACE=file samples the process's memory every 100 ms
	// (Go heap, RSS, SQLite's memory; where a peak RSS comes from). Each
	// command appends its samples after a header line, so a benchmark's
	// full and incremental imports share the file.
	stopTrace := func() {}
	if p := os.Getenv("BEACON_MEMTRACE"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			defer f.Close()
			stopTrace = memtrace.Start(f, 100*time.Millisecond, memtrace.Extra{
				Names: []string{"sqlite_used", "sqlite_peak"},
				Sample: func() []int64 {
					u, h := inventory.SQLiteMemory(true)
					return []int64{u, h}
				},
			})
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.DefaultEnv(*dir), fs.Args())
	stop()
	stopTrace()
	pprof.StopCPUProfile()
	os.Exit(code)
}
