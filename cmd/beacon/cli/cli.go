// Package cli is the headless command line of the beacon binary:
// `beacon list`, `beacon execute NAME`, `beacon generate NAME`, `beacon
// optimize NAME` (the licences to reclaim), `beacon history NAME` (the
// licence history and events), `beacon catalog ...`,
// `beacon prices ...`, `beacon connection ...` (the connection dialog for
// scripts: add, set, show, remove, export, import), ...
//
// Each command lives in its own file and registers itself from init, so
// cmd/beacon stays a thin main; a command with verbs (catalog, prices,
// connection) registers them with registerVerbs. Wherever a SKU is shown, the
// licensing catalogue in use names it beside its part number. It is a driver, so it lives under
// cmd/beacon (not internal/): it calls service and the layers below, and
// only cmd/ imports it (cmd/bench/beaconcli builds it without the window). Errors go to stderr in plain words; exit
// codes are ExitOK, ExitFailed, ExitWarnings and ExitUsage.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitWarnings = 2 // the command did its work but with warnings (e.g. an import completed with warnings)
	ExitUsage    = 64
)

// Env is what a command may use. Tests build one with buffers.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ConfigDir is where the configuration, lock files and database live
	// (storage.DefaultConfigDir unless --config-dir is given).
	ConfigDir string
	// Store is --store: the inventory's location for this run (a
	// postgres:// URL or a file), before $BEACON_STORE and the
	// configuration's setting (issue 21).
	Store string
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for `beacon --help`
	Usage   string // the argument synopsis, e.g. "NAME [--device-code]"
	// Run gets the arguments after the command name. Flags are parsed by
	// the command itself (NewFlagSet gives a consistent --help).
	Run func(ctx context.Context, env *Env, args []string) int
}

var commands = map[string]Command{}

// Register adds a command; call it from init.
func Register(c Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// Lookup returns the named command.
func Lookup(name string) (Command, bool) {
	c, ok := commands[name]
	return c, ok
}

// IsCommand reports whether args[0] names a registered command or asks for
// help, so main can choose between the CLI and the window.
func IsCommand(arg string) bool {
	_, ok := commands[arg]
	return ok || arg == "help" || arg == "-h" || arg == "--help"
}

// Run dispatches args (without the program name) to a command.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.Run(ctx, env, []string{"--help"})
			}
		}
		Usage(env.Stdout)
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "beacon: unknown command %q\n\n", args[0])
		Usage(env.Stderr)
		return ExitUsage
	}
	return c.Run(ctx, env, args[1:])
}

// Usage prints the list of commands.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: beacon [--demo] [--config-dir DIR]      start the window")
	fmt.Fprintln(w, "       beacon [--config-dir DIR] COMMAND [ARGS]  run a command without a window")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-28s %s\n", strings.TrimSpace(n+" "+c.Usage), c.Summary)
	}
	fmt.Fprintln(w, "\nRun 'beacon COMMAND --help' for a command's options.")
}

// NewFlagSet returns a flag set whose errors and --help go to env.Stderr
// and name the command, so every command behaves the same.
func NewFlagSet(env *Env, c Command) *flag.FlagSet {
	fs := flag.NewFlagSet("beacon "+c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: beacon %s %s\n%s\n", c.Name, c.Usage, c.Summary)
		if hasFlags(fs) {
			fmt.Fprintln(env.Stderr, "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// ParseFlags parses args; it returns (code, false) when the command should
// stop: ExitOK after --help, ExitUsage after a bad flag.
func ParseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}

// DefaultEnv is the environment of the real process.
func DefaultEnv(configDir string) *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, ConfigDir: configDir}
}

// TuneMemory sets the garbage collector's targets for both binaries,
// unless the environment chose them (GOGC, GOMEMLIMIT). An import makes a
// lot of short-lived garbage around a live set of 50-90 MB (pages in
// flight, the reports' dates per user). Go's default (GOGC=100) lets the
// heap grow to twice the live set, which took a 100,000-user import past
// 200 MB of RSS; GOGC=50 kept it at 170-190 MB but collected twice as
// often, 17% of the import's CPU. A soft limit of 150 MiB keeps the
// default's fewer collections while the live set is small and collects
// sooner only near the limit: measured with make bench at 100,000 users,
// 171 MB of RSS and about 10% less CPU than GOGC=50 (issue 7's third
// round).
func TuneMemory() {
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// memoryLimit is TuneMemory's soft limit of the Go runtime's memory.
const memoryLimit = 150 << 20
