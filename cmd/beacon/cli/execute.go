package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/service"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "execute",
		Summary: "import users, licenses, applications and usage of a connection now",
		Usage:   "NAME [--sequential | --full] [--concurrency N] [--quiet]",
		Run:     runExecute,
	})
}

// executeKeyring is the keyring the command reads secrets from; tests may
// replace it.
var executeKeyring = func() storage.Secrets {
	return storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
}

// executeTokenSource builds the token source of a connection: auth's, which
// redeems (and rotates) the refresh token in the keyring or signs in with
// the client secret. Tests replace it with tokens minted by the simulator.
var executeTokenSource = func(env *Env, conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
	ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: conn, Secrets: secrets, LockDir: env.ConfigDir, HTTPClient: hc,
		OnToken: service.TokenUseRecorder(env.ConfigDir, conn, nil)})
	if err != nil {
		return nil, err
	}
	return service.AuthTokens(ts), nil
}

// loadConnection finds a connection by name (case-insensitive).
func loadConnection(env *Env, name string) (storage.Connection, error) {
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		return storage.Connection{}, err
	}
	for _, c := range cfg.Connections {
		if strings.EqualFold(strings.TrimSpace(c.Name), strings.TrimSpace(name)) {
			return c, nil
		}
	}
	return storage.Connection{}, fmt.Errorf("no connection named %q; `beacon list` shows the connections", name)
}

func runExecute(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("execute")
	fs := NewFlagSet(env, c)
	sequential := fs.Bool("sequential", false, "fetch one request after another (the reference mode)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	full := fs.Bool("full", false, "read all users even when only the changes since the last import could be read")
	concurrency := fs.Int("concurrency", 0, fmt.Sprintf("user shards read at once (default %d)", importer.DefaultConcurrency))
	name, code, ok := parseOneName(env, fs, "execute", args)
	if !ok {
		return code
	}
	conn, err := loadConnection(env, name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon execute: %v\n", err)
		return ExitFailed
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	printer := newProgressPrinter(env.Stderr, time.Now)
	onRetry := func(graph.Retry) {}
	if !*quiet {
		onRetry = printer.retry
	}
	store, err := openInventory(ctx, env, inventory.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon execute: %v\n", err)
		return ExitFailed
	}
	defer store.Close()
	progress := func(importer.Stage, int, int) {}
	if !*quiet {
		progress = printer.update
	}
	// The same import as Execute Now and the scheduler, under the
	// connection's run lock: a connection never imports twice at once.
	imports := &service.Imports{Store: store, ConfigDir: env.ConfigDir, Secrets: executeKeyring(), Logger: logger,
		Tokens: func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
			return executeTokenSource(env, conn, secrets, hc)
		}}
	run, err := imports.Import(ctx, conn, service.ImportRequest{Trigger: inventory.TriggerCLI, Lock: true, OnRetry: onRetry,
		Progress: progress, Sequential: *sequential, Full: *full, Concurrency: *concurrency})
	if run.ID == 0 {
		fmt.Fprintf(env.Stderr, "beacon execute: %v\n", guidance(conn, err))
		return ExitFailed
	}
	printSummary(env.Stdout, run)
	switch {
	case err != nil:
		fmt.Fprintf(env.Stderr, "beacon execute: %v\n", guidance(conn, err))
		return ExitFailed
	case run.Status == inventory.StatusWarnings:
		return ExitWarnings
	}
	return ExitOK
}

// guidance adds what to do to errors whose text does not say it: a
// sign-in that no longer works is explained as the window and the
// scheduler explain it (service.ExplainImportError).
func guidance(conn storage.Connection, err error) string {
	if errors.Is(err, context.Canceled) {
		return "the import was cancelled; the previous data was kept"
	}
	// A full disk or a database that cannot be written says all there is
	// to say itself; the stage it happened in would only hide it.
	var full *inventory.DiskFullError
	if errors.As(err, &full) {
		return full.Error()
	}
	var ro *inventory.ReadOnlyError
	if errors.As(err, &ro) {
		return ro.Error()
	}
	return service.ExplainImportError(conn, err).Error()
}

// parseWithName accepts flags before and after the positional arguments,
// as people type them.
func parseWithName(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var names []string
	for {
		if code, ok := ParseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return names, 0, true
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseOneName parses the flags of a command that takes one connection
// name, and stops it with ExitUsage when there is not exactly one.
func parseOneName(env *Env, fs *flag.FlagSet, cmd string, args []string) (string, int, bool) {
	names, code, ok := parseWithName(fs, args)
	if !ok {
		return "", code, false
	}
	if len(names) != 1 {
		fmt.Fprintf(env.Stderr, "beacon %s: give exactly one connection name (quote a name with spaces)\n", cmd)
		fs.Usage()
		return "", ExitUsage, false
	}
	return names[0], 0, true
}

// progressPrinter writes one line per stage start, every tenth of a known
// total, and the stage's end — readable in a log file, unlike a
// carriage-return bar.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  map[importer.Stage]int // last printed tenth (-1 = started)
}

func newProgressPrinter(w io.Writer, now func() time.Time) *progressPrinter {
	return &progressPrinter{w: w, now: now, start: now(), last: map[importer.Stage]int{}}
}

func (p *progressPrinter) update(stage importer.Stage, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := p.now().Sub(p.start).Round(100 * time.Millisecond)
	prev, seen := p.last[stage]
	switch {
	case !seen:
		p.last[stage] = -1
		fmt.Fprintf(p.w, "[%6s] %s: started\n", el, stage)
	case total > 0 && done == total && prev != 10:
		p.last[stage] = 10
		fmt.Fprintf(p.w, "[%6s] %s: %d done\n", el, stage, done)
	case total > 0 && done*10/total > prev && done < total:
		p.last[stage] = done * 10 / total
		fmt.Fprintf(p.w, "[%6s] %s: %d of %d (%d%%)\n", el, stage, done, total, done*100/total)
	}
}

// retry tells about waits long enough to look like a hang (throttling).
func (p *progressPrinter) retry(r graph.Retry) {
	if r.Delay < 2*time.Second {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%6s] waiting %s before trying %s again (attempt %d): %s\n",
		p.now().Sub(p.start).Round(100*time.Millisecond), r.Delay.Round(100*time.Millisecond), r.Path, r.Attempt+1, r.Reason)
}

func printSummary(w io.Writer, r inventory.Run) {
	fmt.Fprintf(w, "Import of %q: %s in %s\n", r.ConnectionName, r.Status, r.Duration().Round(time.Millisecond))
	if r.Mode != "" {
		fmt.Fprintf(w, "Mode: %s\n", r.Mode)
	}
	c := r.Counts
	fmt.Fprintf(w, "Users: %d\nLicense assignments: %d\nSubscribed SKUs: %d\nApplications: %d\n", c.Users, c.Assignments, c.SKUs, c.ServicePrincipals)
	fmt.Fprintf(w, "Usage rows: %d active users, %d Office activations, %d Microsoft 365 apps\n", c.ActiveUserRows, c.ActivationRows, c.AppUsageRows)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "Error: %s\n", r.Error)
	}
}
