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

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// historyDepth is how many of a connection's latest runs LastScheduledRun
// looks through for one started by a schedule.
// TODO(inventory): replace the scan by a store query for the latest run of
// a connection with a given trigger.
const historyDepth = 500

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
	logger := e.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if note != "" {
		// TODO(inventory, importer): record the note with the run
		// (inventory.RunInfo.Note, importer.Options.Note) so the import
		// history shows it; until then it is only in the log.
		logger.Info("import note", "connection", conn.Name, "note", note)
	}
	client, err := e.client(conn, logger)
	if err != nil {
		return e.recordFailure(ctx, conn, trigger, err)
	}
	res, err := importer.Run(ctx, importer.Options{Conn: conn, Client: client, Store: e.Store,
		Trigger: inventory.Trigger(trigger), Logger: logger})
	if res.Run.ID == 0 {
		return schedule.Outcome{Status: schedule.StatusFailed, Err: err}, fmt.Errorf("record the import of %q in the import history: %w", conn.Name, err)
	}
	return schedule.Outcome{Status: schedule.Status(res.Run.Status), Warnings: res.Run.Warnings, Err: err}, nil
}

// client builds the Graph client of a connection, as `beacon execute` does.
func (e *Executor) client(conn storage.Connection, logger *slog.Logger) (*graph.Client, error) {
	secrets := e.Secrets
	if secrets == nil {
		secrets = storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
	}
	proxyPassword := ""
	if conn.Proxy.Enabled && conn.Proxy.HasPassword {
		var err error
		if proxyPassword, err = secrets.Get(conn.ID, storage.SecretProxyPassword); err != nil {
			return nil, fmt.Errorf("the proxy password is not readable from the keyring: %w", err)
		}
	}
	hc, err := auth.HTTPClient(conn, proxyPassword)
	if err != nil {
		return nil, err
	}
	tokens := e.Tokens
	if tokens == nil {
		tokens = func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
			ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: conn, Secrets: secrets, LockDir: e.ConfigDir, HTTPClient: hc, Logger: logger, Now: e.Now})
			if err != nil {
				return nil, err
			}
			return authTokens{ts}, nil
		}
	}
	ts, err := tokens(conn, secrets, hc)
	if err != nil {
		return nil, err
	}
	return graph.New(hc, conn.GraphEndpoint, ts, graph.Options{Logger: logger})
}

// recordFailure records a run that failed before the import could start.
func (e *Executor) recordFailure(ctx context.Context, conn storage.Connection, trigger schedule.Trigger, cause error) (schedule.Outcome, error) {
	out := schedule.Outcome{Status: schedule.StatusFailed, Err: cause}
	if errors.Is(cause, context.Canceled) {
		out.Status = schedule.StatusCancelled
	}
	w, err := e.Store.BeginRun(context.WithoutCancel(ctx), inventory.RunInfo{ConnectionID: conn.ID, ConnectionName: conn.Name, Trigger: inventory.Trigger(trigger)})
	if err != nil {
		return out, fmt.Errorf("record the failed import of %q (%v): %w", conn.Name, cause, err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.Status(out.Status), Err: cause}); err != nil {
		return out, fmt.Errorf("record the failed import of %q (%v): %w", conn.Name, cause, err)
	}
	return out, nil
}

// authTokens adapts auth's TokenSource to the Graph client's.
type authTokens struct{ ts *auth.TokenSource }

func (a authTokens) Token(ctx context.Context) (string, error) {
	t, err := a.ts.TokenContext(ctx)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

func (a authTokens) Invalidate() { a.ts.Invalidate() }

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
	runs, err := h.Store.History(context.Background(), connID, historyDepth)
	if err != nil {
		return time.Time{}, false, err
	}
	for _, r := range runs { // newest first
		if r.Trigger == inventory.TriggerSchedule && r.Status != inventory.StatusCancelled {
			return r.Started, true, nil
		}
	}
	return time.Time{}, false, nil
}

// Compile-time checks that the bindings fit the runner.
var (
	_ schedule.Executor = (*Executor)(nil)
	_ schedule.History  = History{}
)
