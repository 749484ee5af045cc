// Package importexec binds the schedule runner to the real import: it runs
// a connection's import through the importer (keyring, sign-in, Graph,
// inventory store) and reads and writes the import history in the
// inventory store. The window and `beacon scheduler` both use it, so a
// scheduled import is the same wherever it runs.
package importexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/inventorybeacon/beacon/connector/connect"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Executor runs imports for the schedule runner. Store and ConfigDir are
// required.
type Executor struct {
	Store     *inventory.Store
	ConfigDir string // where the sign-in's lock files live
	// Secrets is the keyring (default: the OS keyring).
	Secrets storage.Secrets
	// Tokens builds a connection's token source (default: auth's, which
	// redeems and rotates the stored refresh token or signs in with the
	// client secret). Tests replace it.
	Tokens func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error)
	Logger *slog.Logger
	// Now replaces time.Now (a test clock).
	Now func() time.Time
}

// Execute runs one import of conn and records it in the import history,
// also when it cannot start (no sign-in, no keyring): a scheduled import
// that silently did nothing would look like a healthy one.
func (e *Executor) Execute(ctx context.Context, conn storage.Connection, trigger schedule.Trigger, note string) (schedule.Outcome, error) {
	run, err := e.Import(ctx, conn, trigger, note, nil)
	if run.ID == 0 {
		return schedule.Outcome{Status: schedule.StatusFailed, Err: err}, fmt.Errorf("record the import of %q in the import history: %w", conn.Name, err)
	}
	return schedule.Outcome{Status: schedule.Status(run.Status), Warnings: run.Warnings, Err: err}, nil
}

// Import is Execute with progress: ImportWith with the default (automatic)
// mode, incremental when it can be.
func (e *Executor) Import(ctx context.Context, conn storage.Connection, trigger schedule.Trigger, note string,
	progress func(importer.Stage, int, int)) (inventory.Run, error) {
	return e.ImportWith(ctx, conn, ImportOptions{Trigger: trigger, Note: note, Progress: progress})
}

// ImportOptions say how ImportWith runs one import.
type ImportOptions struct {
	Trigger schedule.Trigger
	// Note is recorded with the run (e.g. which missed run a catch-up
	// makes up for).
	Note string
	// Full reads every user again (importer.Options.Full), as `beacon
	// execute --full` does. By default a run reads only the users' changes
	// since the last import when it can (incremental), and falls back to
	// a full import when the delta link expired or the last full import is
	// too old.
	Full bool
	// Progress, when set, is told how far each stage is (see
	// importer.Options.Progress).
	Progress func(importer.Stage, int, int)
}

// ImportWith is the window's Execute Now: one import of conn as o says,
// recorded in the import history also when it cannot start. It does not
// take the connection's run lock: the caller does (the runner through its
// Locker, the window around the call), so the scheduler never skips its
// own run. A returned Run with ID 0 was not recorded.
func (e *Executor) ImportWith(ctx context.Context, conn storage.Connection, o ImportOptions) (inventory.Run, error) {
	trigger, note := o.Trigger, o.Note
	logger := e.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client, release, err := connect.Open(conn, connect.Options{Secrets: e.Secrets, ConfigDir: e.ConfigDir, Logger: logger, Now: e.Now, Tokens: e.Tokens})
	if err != nil {
		return e.recordFailure(ctx, conn, trigger, note, err)
	}
	// The scheduler and the window live long: close this import's
	// keep-alive connections now rather than 90 s later.
	defer release()
	res, err := importer.Run(ctx, importer.Options{Conn: conn, Client: client, Store: e.Store,
		Trigger: inventory.Trigger(trigger), Logger: logger, Note: note, Full: o.Full, Progress: o.Progress})
	return res.Run, err
}

// recordFailure records a run that failed before the import could start.
func (e *Executor) recordFailure(ctx context.Context, conn storage.Connection, trigger schedule.Trigger, note string, cause error) (inventory.Run, error) {
	status := inventory.StatusFailed
	if errors.Is(cause, context.Canceled) {
		status = inventory.StatusCancelled
	}
	w, err := e.Store.BeginRun(context.WithoutCancel(ctx), inventory.RunInfo{ConnectionID: conn.ID, ConnectionName: conn.Name,
		Trigger: inventory.Trigger(trigger), Note: note})
	if err != nil {
		return inventory.Run{}, fmt.Errorf("record the failed import of %q (%v): %w", conn.Name, cause, err)
	}
	run, err := w.Finish(ctx, inventory.Outcome{Status: status, Err: cause})
	if err != nil {
		return inventory.Run{}, fmt.Errorf("record the failed import of %q (%v): %w", conn.Name, cause, err)
	}
	return run, cause
}

// History is the import history in the inventory store, as the runner
// needs it.
type History struct {
	Store *inventory.Store
}

// RecordSkipped records a run that did not happen: status skipped, the
// reason as its error. The store stamps it with its own clock (give the
// store the runner's clock in tests), so at is not used.
func (h History) RecordSkipped(conn storage.Connection, trigger schedule.Trigger, reason string, at time.Time) error {
	ctx := context.Background()
	w, err := h.Store.BeginRun(ctx, inventory.RunInfo{ConnectionID: conn.ID, ConnectionName: conn.Name, Trigger: inventory.Trigger(trigger)})
	if err != nil {
		return err
	}
	_, err = w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSkipped, Err: errors.New(reason)})
	return err
}

// LastScheduledRun returns when the latest run started by a schedule
// began, in any process; cancelled runs do not count (see schedule.History).
func (h History) LastScheduledRun(connID string) (time.Time, bool, error) {
	r, ok, err := h.Store.LatestRun(context.Background(), connID, inventory.TriggerSchedule, inventory.StatusCancelled)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return r.Started, true, nil
}

// Compile-time checks that the bindings fit the runner.
var (
	_ schedule.Executor = (*Executor)(nil)
	_ schedule.History  = History{}
)
