// Package service holds the use cases that the window, the CLI and the
// scheduler share, each written once (issue 16): running an import of a
// connection and recording in the import history what did not run
// (imports.go), the HTTP client of a connection with its proxy, proxy
// password and CA file (httpclient.go), the Graph client of a saved
// connection (graphclient.go), Test Connection (testconn.go), storing a
// sign-in with rollback (signin.go), the licence history's trends,
// events, export and back-fill (history.go), and the licences summed
// across every connection (tenants.go). The callers differ only in how they
// show progress and results; what a use case does, which lock it takes and
// what it records is decided here.
//
// Data flows one way: cmd → ui → service → connector, auth, schedule →
// storage. Only ui and cmd import service; the scheduler reaches it
// through its Executor interface (Scheduled), never by importing it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TokenFunc builds a connection's token source.
type TokenFunc func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error)

// Imports runs imports into Store. Store and ConfigDir are required.
type Imports struct {
	Store     *inventory.Store
	ConfigDir string // where the run locks and the sign-in's lock files live
	// Secrets is the keyring (default: the OS keyring).
	Secrets storage.Secrets
	// Tokens builds a connection's token source (default: auth's, which
	// redeems and rotates the stored refresh token or signs in with the
	// client secret). Tests and the CLI's test hook replace it.
	Tokens TokenFunc
	Logger *slog.Logger
	// Now is the clock of token expiry and of the import's ages (when a
	// full import is due, how old copied reports are); default: the
	// program's clock. The scheduler's simulated day and the demo's aged
	// history pass theirs, which the Store was opened with too.
	Now func() time.Time
}

// ImportRequest says how Import runs one import.
type ImportRequest struct {
	Trigger inventory.Trigger
	// Note is recorded with the run (e.g. which missed run a catch-up
	// makes up for).
	Note string
	// Full reads every user again (importer.Options.Full), as `beacon
	// execute --full` and Execute Now (full import) do. By default a run
	// reads only the users' changes since the last import when it can.
	Full bool
	// Sequential and Concurrency are importer.Options' (benchmarks, and
	// `beacon execute --sequential`).
	Sequential  bool
	Concurrency int
	// Lock takes the connection's run lock (schedule.LockConnection) for
	// the import, so a connection never imports twice at once, in any
	// process; a run that finds it taken is recorded as skipped and
	// returns an error wrapping schedule.ErrAlreadyRunning. The scheduler
	// takes the lock itself (through its Locker) and leaves this false.
	Lock bool
	// Progress, when set, is told how far each stage is.
	Progress func(importer.Stage, int, int)
	// OnRetry, when set, is told about each retried Graph request.
	OnRetry func(graph.Retry)
}

// Import runs one import of conn as req says and records it in the import
// history, also when it cannot start (no sign-in, no keyring, a proxy
// password missing) or is skipped because the connection is already
// importing: a run that silently did nothing would look like a healthy
// one. A returned Run with ID 0 could not be recorded.
func (s *Imports) Import(ctx context.Context, conn storage.Connection, req ImportRequest) (inventory.Run, error) {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if req.Lock {
		release, err := schedule.LockConnection(s.ConfigDir, conn.ID)
		if err != nil {
			if errors.Is(err, schedule.ErrAlreadyRunning) {
				return s.notRun(ctx, conn, req, inventory.StatusSkipped,
					fmt.Errorf("%w; wait for it to finish (see Import history), then try again", err))
			}
			return s.notRun(ctx, conn, req, inventory.StatusFailed, err)
		}
		defer release()
	}
	client, release, err := OpenGraph(conn, GraphOptions{Secrets: s.Secrets, ConfigDir: s.ConfigDir, Logger: logger,
		Now: s.Now, Tokens: s.Tokens, OnRetry: req.OnRetry})
	if err != nil {
		status := inventory.StatusFailed
		if errors.Is(err, context.Canceled) {
			status = inventory.StatusCancelled
		}
		return s.notRun(ctx, conn, req, status, err)
	}
	// The scheduler and the window live long: close this import's
	// keep-alive connections now rather than 90 s later.
	defer release()
	// The history: a database from before it is seeded from its kept
	// snapshots first (once), so this run's events follow them. Neither
	// stops the import: without the configuration the day still gets
	// the figures the store counts itself.
	hist, herr := historyOptions(s.ConfigDir)
	if herr == nil {
		herr = History{Store: s.Store, ConfigDir: s.ConfigDir}.Backfill(ctx)
	}
	if herr != nil {
		logger.Warn("licence history: prices and retention not applied", "connection", conn.Name, "error", herr)
	}
	res, err := importer.Run(ctx, importer.Options{Conn: conn, Client: client, Store: s.Store, Trigger: req.Trigger,
		Logger: logger, Note: req.Note, Full: req.Full, Sequential: req.Sequential, Concurrency: req.Concurrency,
		Progress: req.Progress, History: hist, Now: s.Now,
		ConsentURL: auth.AdminConsentURL(conn, tokenTenant(conn))})
	if res.Run.ID == 0 && errors.Is(err, inventory.ErrAlreadyRunning) {
		// A shared store (PostgreSQL): another beacon imports the
		// connection now, maybe on another computer (issue 21).
		return s.notRun(ctx, conn, req, inventory.StatusSkipped,
			fmt.Errorf("%w; wait for it to finish (see Import history), then try again", err))
	}
	if err == nil && conn.AuthFlow == storage.FlowClientCredentials {
		s.readAppCredentials(ctx, client, conn, logger)
	}
	return res.Run, err
}

// readAppCredentials records the end dates of the app registration's
// secrets and certificates for the expiry warnings, where the app may read
// its own registration (Application.Read.All): otherwise Graph answers 403
// and the connection simply has no such dates. It never fails an import.
func (s *Imports) readAppCredentials(ctx context.Context, client *graph.Client, conn storage.Connection, logger *slog.Logger) {
	creds, err := client.ApplicationCredentials(ctx, strings.TrimSpace(conn.ClientID))
	var ge *graph.GraphError
	switch {
	case errors.As(err, &ge) && (ge.Status == 403 || ge.Status == 404):
		creds = nil // not allowed to read it: no dates to show
	case err != nil:
		logger.Debug("could not read the app registration's credentials", "connection", conn.Name, "error", err.Error())
		return
	}
	out := make([]storage.AppCredential, 0, len(creds))
	for _, c := range creds {
		kind := "secret"
		if c.Certificate {
			kind = "certificate"
		}
		out = append(out, storage.AppCredential{Kind: kind, Name: c.Name, End: c.End.UTC()})
	}
	err = storage.NewConfigStore(s.ConfigDir).UpdateState(func(st *storage.State) error {
		st.For(conn.ID).AppCredentials = out
		return nil
	})
	if err != nil {
		logger.Warn("could not record the app registration's credentials", "connection", conn.Name, "error", err.Error())
	}
}

// notRun records a run that did not import (failed or cancelled before it
// could start, or skipped) and returns it with cause, or with why it could
// not be recorded.
func (s *Imports) notRun(ctx context.Context, conn storage.Connection, req ImportRequest, status inventory.Status, cause error) (inventory.Run, error) {
	run, err := s.record(ctx, conn, req, status, cause)
	if err != nil {
		return run, err
	}
	return run, cause
}

// record writes a run that did not import, with cause as its error.
func (s *Imports) record(ctx context.Context, conn storage.Connection, req ImportRequest, status inventory.Status, cause error) (inventory.Run, error) {
	w, err := s.Store.BeginRun(context.WithoutCancel(ctx), inventory.RunInfo{ConnectionID: conn.ID, ConnectionName: conn.Name,
		Trigger: req.Trigger, Note: req.Note, RecordOnly: true})
	if err != nil {
		return inventory.Run{}, fmt.Errorf("record the %s import of %q (%v): %w", status, conn.Name, cause, err)
	}
	run, err := w.Finish(context.WithoutCancel(ctx), inventory.Outcome{Status: status, Err: cause})
	if err != nil {
		return inventory.Run{}, fmt.Errorf("record the %s import of %q (%v): %w", status, conn.Name, cause, err)
	}
	return run, nil
}

// Scheduled binds Imports to the schedule runner: its Executor and History.
type Scheduled struct{ *Imports }

// Execute runs a scheduled (or caught-up) import; the runner holds the
// connection's run lock.
func (s Scheduled) Execute(ctx context.Context, conn storage.Connection, trigger schedule.Trigger, note string) (schedule.Outcome, error) {
	run, err := s.Import(ctx, conn, ImportRequest{Trigger: inventory.Trigger(trigger), Note: note})
	if run.ID == 0 {
		return schedule.Outcome{Status: schedule.StatusFailed, Err: err}, fmt.Errorf("record the import of %q in the import history: %w", conn.Name, err)
	}
	return schedule.Outcome{Status: schedule.Status(run.Status), Warnings: run.Warnings, Err: err}, nil
}

// RecordSkipped records a run that did not happen: status skipped, the
// reason as its error. The store stamps it with its own clock (give the
// store the runner's clock in tests), so at is not used.
func (s Scheduled) RecordSkipped(conn storage.Connection, trigger schedule.Trigger, reason string, at time.Time) error {
	_, err := s.record(context.Background(), conn, ImportRequest{Trigger: inventory.Trigger(trigger)}, inventory.StatusSkipped, errors.New(reason))
	return err
}

// LastScheduledRun returns when the latest run started by a schedule
// began, in any process; cancelled runs do not count (see schedule.History).
func (s Scheduled) LastScheduledRun(connID string) (time.Time, bool, error) {
	r, ok, err := s.Store.LatestRun(context.Background(), connID, inventory.TriggerSchedule, inventory.StatusCancelled)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return r.Started, true, nil
}

// Compile-time checks that the bindings fit the runner.
var (
	_ schedule.Executor = Scheduled{}
	_ schedule.History  = Scheduled{}
)

// ImportStages are the import's stages in the order they run: the
// window's progress dialog shows a bar for each.
func ImportStages() []string {
	s := make([]string, len(importer.Stages))
	for i, st := range importer.Stages {
		s[i] = string(st)
	}
	return s
}

// How a run read the users, as inventory.Run.Mode records it.
const (
	ModeDelta      = importer.ModeDelta
	ModeSharded    = importer.ModeSharded
	ModePlain      = importer.ModePlain
	ModeSequential = importer.ModeSequential
)

// tokenTenant is the tenant of conn's last sign-in, "" when unknown: it
// scopes the admin-consent link of a stage's warning.
func tokenTenant(conn storage.Connection) string {
	if conn.Token != nil {
		return conn.Token.TenantID
	}
	return ""
}
